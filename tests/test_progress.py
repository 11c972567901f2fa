import io

import pytest

from neuroseg.progress import Progress, progress, progress_enabled


class Tty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_draws_count_bar_and_eta_on_a_terminal():
    out = Tty()
    bar = Progress(4, description="evaluate", stream=out, min_interval=0.0)
    bar.update()
    assert "evaluate  1/4 [#####...............]  25%" in out.getvalue()
    assert "ETA" in out.getvalue()
    bar.update(3)
    bar.close()
    last = out.getvalue().split("\r")[-1]
    assert "4/4" in last and "100%" in last and "ETA" not in last
    assert out.getvalue().endswith("\n")


def test_silent_when_not_a_terminal_or_disabled(monkeypatch):
    monkeypatch.delenv("NEUROSEG_PROGRESS", raising=False)
    pipe = io.StringIO()
    with Progress(3, stream=pipe, min_interval=0.0) as bar:
        bar.update(3)
    assert pipe.getvalue() == "" and bar.count == 3
    tty = Tty()
    with Progress(3, stream=tty, enabled=False, min_interval=0.0) as bar:
        bar.update(3)
    assert tty.getvalue() == ""


@pytest.mark.parametrize(("env", "enabled", "tty", "expected"), [
    ("0", True, True, False),
    ("1", None, False, True),
    ("", None, True, True),
    ("", None, False, False),
    ("", False, True, False),
])  # fmt: skip
def test_progress_enabled_rules(monkeypatch, env, enabled, tty, expected):
    monkeypatch.setenv("NEUROSEG_PROGRESS", env)
    stream = Tty() if tty else io.StringIO()
    assert progress_enabled(enabled, stream=stream) is expected


def test_unknown_total_shows_the_count_only():
    out = Tty()
    bar = Progress(None, stream=out, min_interval=0.0)
    bar.update(2)
    assert "2 done" in out.getvalue() and "/" not in out.getvalue()


def test_progress_wraps_an_iterable_and_takes_its_length():
    assert list(progress(iter([1, 2]), enabled=False)) == [1, 2]
    assert list(progress(range(5), enabled=False)) == list(range(5))
