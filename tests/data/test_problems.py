import dataclasses
import logging

import pytest

from neuroseg.data.problems import Problem, check_on_error, report_problem
from neuroseg.errors import ConfigError, MaskError, ReadError


def test_check_on_error_accepts_the_three_forms():
    for ok in ("raise", "skip", [], [Problem("a", "b")]):
        check_on_error(ok)
    for bad in ("ignore", None, "RAISE", ("a",)):
        with pytest.raises(ConfigError, match=r"on_error must be 'raise', 'skip' or a list"):
            check_on_error(bad)


def test_raise_reraises_the_same_error():
    error = ReadError("x.png: truncated.")
    with pytest.raises(ReadError) as info:
        report_problem("raise", error, "x.png")
    assert info.value is error


def test_a_list_collects_one_problem_per_call():
    found = [Problem("earlier.png", "kept")]
    report_problem(found, ReadError("x.png: truncated."), "x.png")
    report_problem(found, MaskError("m.png: mask holds {7}."), "m.png")
    assert found == [
        Problem("earlier.png", "kept"),
        Problem(path="x.png", problem="x.png: truncated."),
        Problem(path="m.png", problem="m.png: mask holds {7}."),
    ]
    assert found[1].to_dict() == {"path": "x.png", "problem": "x.png: truncated."}
    with pytest.raises(dataclasses.FrozenInstanceError):
        found[0].path = "other"


def test_skip_logs_a_warning_and_returns(caplog):
    with caplog.at_level(logging.WARNING, logger="neuroseg.data"):
        report_problem("skip", ReadError("x.png: truncated."), "x.png")
    assert [(r.name, r.levelno, r.getMessage()) for r in caplog.records] == [
        ("neuroseg.data", logging.WARNING, "skipped x.png: x.png: truncated.")
    ]
