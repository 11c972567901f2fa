"""A real training subprocess is SIGKILLed mid-epoch and resumed; nothing is lost."""

import csv
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuroseg.models import load_model

CHILD = Path(__file__).with_name("_fit_child.py")


def _run(run, epochs, data, *extra):
    return subprocess.run(
        [sys.executable, str(CHILD), str(run), str(epochs), "--data", str(data), *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _epochs(run):
    with (run / "history.csv").open() as fh:
        return [int(r["epoch"]) for r in csv.DictReader(fh)]


def _weights(path):
    return [np.asarray(w) for w in load_model(path).weights]


@pytest.mark.slow
@pytest.mark.parametrize("options", [(), ("--ema", "0.9")], ids=["plain", "ema"])
def test_sigkill_mid_epoch_then_resume_matches_uninterrupted(tmp_path, figshare_root, options):
    killed = _run(tmp_path / "a", 3, figshare_root, "--kill-at", "1:2", *options)
    assert killed.returncode == -signal.SIGKILL, killed.stderr[-2000:]
    assert _epochs(tmp_path / "a") == [0]  # epoch 0 finished, epoch 1 died mid-way
    assert load_model(tmp_path / "a" / "last.keras") is not None  # the checkpoint is intact

    resumed = _run(tmp_path / "a", 3, figshare_root, "--resume", *options)
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert _epochs(tmp_path / "a") == [0, 1, 2]  # every epoch exactly once

    straight = _run(tmp_path / "b", 3, figshare_root, *options)
    assert straight.returncode == 0, straight.stderr[-2000:]
    for got, want in zip(
        _weights(tmp_path / "a" / "last.keras"), _weights(tmp_path / "b" / "last.keras")
    ):
        np.testing.assert_array_equal(got, want)
    with (
        (tmp_path / "a" / "history.csv").open() as fa,
        (tmp_path / "b" / "history.csv").open() as fb,
    ):
        assert list(csv.DictReader(fa)) == list(csv.DictReader(fb))
    assert load_model(tmp_path / "a" / "best.keras") is not None


@pytest.mark.slow
def test_resume_of_a_finished_run_trains_nothing(tmp_path, figshare_root):
    assert _run(tmp_path / "c", 1, figshare_root).returncode == 0
    before = (tmp_path / "c" / "last.keras").stat().st_mtime_ns
    assert _run(tmp_path / "c", 1, figshare_root, "--resume").returncode == 0
    assert (tmp_path / "c" / "last.keras").stat().st_mtime_ns == before
    assert _epochs(tmp_path / "c") == [0]
