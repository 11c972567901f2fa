"""fit(strategy=...) with a real MirroredStrategy over two logical CPU devices."""

import csv
import json
import math
import socket
import subprocess
import sys
from pathlib import Path

import pytest

CHILD = Path(__file__).with_name("_mirrored_child.py")


def _run(out, epochs, data, *extra):
    return subprocess.run(
        [sys.executable, str(CHILD), str(out), str(epochs), "--data", str(data), *extra],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.mark.slow
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


MULTI_WORKER_CHILD = Path(__file__).with_name("_multi_worker_child.py")


def _free_ports(n):
    socks = [socket.socket() for _ in range(n)]
    for s in socks:
        s.bind(("127.0.0.1", 0))
    ports = [s.getsockname()[1] for s in socks]
    for s in socks:
        s.close()
    return ports


@pytest.mark.slow
def test_multi_worker_mirrored_two_processes(tmp_path, figshare_root):
    """2 real worker processes on 127.0.0.1: identical weights, only the chief writes."""
    ports = ",".join(str(p) for p in _free_ports(2))
    out = tmp_path / "run"
    procs = [
        subprocess.Popen(
            [
                sys.executable,
                str(MULTI_WORKER_CHILD),
                str(i),
                ports,
                str(out),
                "2",
                "--data",
                str(figshare_root),
            ],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for i in range(2)
    ]
    try:
        outputs = [p.communicate(timeout=600) for p in procs]
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
    results = []
    for p, (stdout, stderr) in zip(procs, outputs):
        assert p.returncode == 0, stderr[-3000:]
        results.append(dict(line.split(" ", 1) for line in stdout.splitlines() if " " in line))
    assert [r["REPLICAS"] for r in results] == ["2", "2"]
    assert results[0]["WEIGHTS"] == results[1]["WEIGHTS"]
    history = json.loads(results[0]["HISTORY"])
    assert history == json.loads(results[1]["HISTORY"])
    assert len(history["loss"]) == 2 and len(history["val_loss"]) == 2
    assert all(math.isfinite(v) for values in history.values() for v in values)
    with (out / "history.csv").open() as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == [0, 1]
    assert (out / "best.keras").is_file() and (out / "last.keras").is_file()
    # the non-chief worker wrote nothing next to the chief's run directory
    assert sorted(p.name for p in tmp_path.iterdir()) == ["run"]
