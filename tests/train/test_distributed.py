"""fit(strategy=...) with a real MirroredStrategy over two logical CPU devices."""

import csv
import subprocess
import sys
from pathlib import Path

CHILD = Path(__file__).with_name("_mirrored_child.py")


def _run(out, epochs, data, *extra):
    return subprocess.run(
        [sys.executable, str(CHILD), str(out), str(epochs), "--data", str(data), *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_mirrored_strategy_trains_checkpoints_and_resumes(tmp_path, figshare_root):
    first = _run(tmp_path, 1, figshare_root)
    assert first.returncode == 0, first.stderr[-3000:]
    assert "replicas 2 epochs 1" in first.stdout
    again = _run(tmp_path, 2, figshare_root, "--resume")
    assert again.returncode == 0, again.stderr[-3000:]
    assert "replicas 2 epochs 2" in again.stdout
    with (tmp_path / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == [0, 1]
    assert '"replicas": 2' in (tmp_path / "environment.json").read_text()
