"""The run directory's checkpoint set commits as one unit and survives a kill anywhere.

Real training subprocesses (tests/train/_fit_child.py, 12 bundled sample slices, 3 optimizer
steps per epoch) are SIGKILLed at named write points (NEUROSEG_TEST_KILL_AT) and at random
moments, then resumed; every epoch must train exactly once and best.keras must agree with
metrics.json. Damaged run directories must fail with a RunDirError naming the file.
"""

from __future__ import annotations

import csv
import hashlib
import json
import logging
import os
import random
import shutil
import signal
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from neuroseg.data import load_sample
from neuroseg.errors import NeurosegError, RunDirError
from neuroseg.models import create_model, load_model
from neuroseg.train import TrainConfig, epoch_pipeline, fit, set_seed
from neuroseg.train.rundir import (
    CHECKPOINTS,
    MANIFEST,
    SET_FILES,
    WRITE_POINTS,
    load_checkpoint,
    plot_curves,
)

CHILD = Path(__file__).with_name("_fit_child.py")
STEPS = 3  # 12 sample slices, batch size 4
COMMIT = WRITE_POINTS.index("manifest_replaced")


def _child(run: Path, epochs: int, *extra: str, kill_at: str | None = None, **kw):
    env = {k: v for k, v in os.environ.items() if k != "NEUROSEG_TEST_KILL_AT"}
    if kill_at:
        env["NEUROSEG_TEST_KILL_AT"] = kill_at
    cmd = [sys.executable, str(CHILD), str(run), str(epochs), "--sample", *extra]
    return subprocess.Popen(
        cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, **kw
    )


def _run(run: Path, epochs: int, *extra: str, kill_at: str | None = None):
    proc = _child(run, epochs, *extra, kill_at=kill_at)
    _, err = proc.communicate(timeout=600)
    return proc.returncode, err


def _committed(run: Path, epochs: int) -> int:
    checkpoint = load_checkpoint(run, epochs)  # raises RunDirError if damaged
    return 0 if checkpoint is None else checkpoint.completed_epochs


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _val():
    return load_sample()[1::4][:8].to_tf_dataset(image_size=32, batch_size=8)


def assert_sound(run: Path, epochs: int) -> None:
    """Every epoch trained once; best.keras is metrics.json's best; top level = the set."""
    with (run / "history.csv").open() as fh:
        assert [int(r["epoch"]) for r in csv.DictReader(fh)] == list(range(epochs))
    last = load_model(run / "last.keras")
    assert int(last.optimizer.iterations) == epochs * STEPS  # no epoch twice, none skipped
    metrics = json.loads((run / "metrics.json").read_text())
    state = json.loads((run / "state.json").read_text())
    assert metrics["epoch"] == epochs - 1 and state["completed_epochs"] == epochs
    assert metrics["best_epoch"] == state["best_epoch"] >= 0
    best = load_model(run / "best.keras")  # safe_mode=True
    assert int(best.optimizer.iterations) == (metrics["best_epoch"] + 1) * STEPS
    got = best.evaluate(_val(), return_dict=True, verbose=0)
    assert got["dice"] == pytest.approx(metrics["best_value"], rel=1e-4, abs=1e-6)
    assert got["dice"] == pytest.approx(state["history"][metrics["best_epoch"]]["val_dice"])
    checkpoint = load_checkpoint(run, epochs)
    assert checkpoint is not None and checkpoint.completed_epochs == epochs
    for name in SET_FILES:
        assert _sha(run / name) == checkpoint.manifest["files"][name], name
    leftovers = sorted(p.name for p in (run / CHECKPOINTS).iterdir())
    assert leftovers == sorted([MANIFEST, checkpoint.folder.name])
    assert not list(run.glob(".*-*"))


def _weights(path: Path) -> list[np.ndarray]:
    return [np.asarray(w) for w in load_model(path).weights]


@pytest.mark.slow
def test_kill_just_before_the_commit_then_resume(tmp_path):
    """Killed after epoch 1's set was written but before manifest.json switched to it."""
    run = tmp_path / "run"
    rc, err = _run(run, 2, kill_at="manifest_written@2")
    assert rc == -signal.SIGKILL, err[-2000:]
    assert _committed(run, 2) == 1  # epoch 1 is not committed: it trains again, once
    assert (run / CHECKPOINTS / "epoch-0002").is_dir()  # its set, written but uncommitted
    rc, err = _run(run, 2, "--resume")
    assert rc == 0, err[-2000:]
    assert_sound(run, 2)


@pytest.mark.slow
def test_kill_between_every_pair_of_writes(tmp_path):
    """One process per write point, each killed there; the next one resumes.

    A kill before the commit loses the epoch in progress (it trains again); a kill after
    it keeps the epoch. Either way the finished run equals an uninterrupted one.
    """
    epochs = 1 + sum(1 for i, _ in enumerate(WRITE_POINTS) if i >= COMMIT)
    run = tmp_path / "run"
    done = 0
    for i, point in enumerate(WRITE_POINTS):
        # @N: at the commit of N finished epochs (not at a resume's re-publishing)
        rc, err = _run(run, epochs, "--resume", kill_at=f"{point}@{done + 1}")
        assert rc == -signal.SIGKILL, f"{point}: {err[-2000:]}"
        done += i >= COMMIT
        assert _committed(run, epochs) == done, point
    rc, err = _run(run, epochs, "--resume")
    assert rc == 0, err[-2000:]
    assert_sound(run, epochs)
    straight = tmp_path / "straight"
    rc, err = _run(straight, epochs)
    assert rc == 0, err[-2000:]
    for got, want in zip(_weights(run / "last.keras"), _weights(straight / "last.keras")):
        np.testing.assert_array_equal(got, want)
    with (run / "history.csv").open() as fa, (straight / "history.csv").open() as fb:
        assert list(csv.DictReader(fa)) == list(csv.DictReader(fb))


@pytest.mark.slow
def test_kill_at_random_moments(tmp_path):
    rng = random.Random(20240517)
    run, epochs = tmp_path / "run", 6
    for _ in range(6):
        proc = _child(run, epochs, "--resume")
        try:
            proc.wait(timeout=rng.uniform(6.0, 20.0))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
            proc.wait()
        proc.stderr.close()
        if proc.returncode == 0:
            break
        _committed(run, epochs)  # whatever was killed, the committed set is sound
    else:
        rc, err = _run(run, epochs, "--resume")
        assert rc == 0, err[-2000:]
    assert_sound(run, epochs)


# ------------------------------------------------------------------ in-process checks


def _tiny_fit(run: Path, epochs: int, resume: bool = False, **config):
    set_seed(1)
    model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
    make = epoch_pipeline(load_sample()[::4], image_size=32, batch_size=4, seed=1)
    cfg = TrainConfig(epochs=epochs, seed=1, **config)
    return fit(model, make, _val(), config=cfg, out=run, resume=resume, verbose=0)


@pytest.fixture(scope="module")
def finished(tmp_path_factory) -> Path:
    run = tmp_path_factory.mktemp("finished") / "run"
    _tiny_fit(run, 2)
    return run


def _copy(finished: Path, tmp_path: Path) -> Path:
    run = tmp_path / "run"
    shutil.copytree(finished, run)
    return run


def _set(run: Path) -> Path:
    return run / CHECKPOINTS / json.loads((run / CHECKPOINTS / MANIFEST).read_text())["folder"]


def _tamper_state(run: Path, **changes) -> Path:
    """Change the committed state.json and re-sign it, so only the state check can object."""
    path = _set(run) / "state.json"
    state = json.loads(path.read_text())
    state.update(changes)
    path.write_text(json.dumps(state))
    manifest = json.loads((run / CHECKPOINTS / MANIFEST).read_text())
    manifest["files"]["state.json"] = _sha(path)
    (run / CHECKPOINTS / MANIFEST).write_text(json.dumps(manifest))
    return path


def _damage_manifest_missing(run):
    (run / CHECKPOINTS / MANIFEST).unlink()
    return MANIFEST, "missing"


def _damage_manifest_corrupt(run):
    (run / CHECKPOINTS / MANIFEST).write_text('{"folder": "epoch-00')
    return MANIFEST, "not JSON"


def _damage_checksum(run):
    with (_set(run) / "last.keras").open("ab") as fh:
        fh.write(b"x")
    return "last.keras", "checksum"


def _damage_set_file_missing(run):
    (_set(run) / "history.csv").unlink()
    return "history.csv", "missing"


def _damage_state_corrupt(run):
    (_set(run) / "state.json").write_text("{")
    manifest = json.loads((run / CHECKPOINTS / MANIFEST).read_text())
    manifest["files"]["state.json"] = _sha(_set(run) / "state.json")
    (run / CHECKPOINTS / MANIFEST).write_text(json.dumps(manifest))
    return "state.json", "not JSON"


def _damage_too_many_epochs(run):
    _tamper_state(run, completed_epochs=99)
    return "state.json", r"finished 99 epochs, more than the 2 .*epochs >= 99"


def _damage_negative(run):
    _tamper_state(run, completed_epochs=-1)
    return "state.json", "negative"


def _damage_history(run):
    state = json.loads((_set(run) / "state.json").read_text())
    _tamper_state(run, history=state["history"][:1])
    return "state.json", "history"


def _damage_key(run):
    _tamper_state(run, best_epoch=None)
    return "state.json", "best_epoch"


def _damage_legacy(run):  # an older neuroseg's layout: top-level state.json, no manifest
    shutil.rmtree(run / CHECKPOINTS)
    state = json.loads((run / "state.json").read_text())
    del state["format"]
    state["completed_epochs"] = 99
    (run / "state.json").write_text(json.dumps(state))
    return "state.json", "finished 99 epochs"


DAMAGES = [
    _damage_manifest_missing,
    _damage_manifest_corrupt,
    _damage_checksum,
    _damage_set_file_missing,
    _damage_state_corrupt,
    _damage_too_many_epochs,
    _damage_negative,
    _damage_history,
    _damage_key,
    _damage_legacy,
]


@pytest.mark.parametrize("damage", DAMAGES, ids=lambda f: f.__name__.removeprefix("_damage_"))
def test_damaged_run_directory_is_refused(finished, tmp_path, damage):
    run = _copy(finished, tmp_path)
    name, why = damage(run)
    with pytest.raises(RunDirError, match=why) as info:
        load_checkpoint(run, 2)
    assert isinstance(info.value, NeurosegError)
    message = str(info.value)
    assert name in message and ("--out" in message or "epochs >=" in message), message


def test_damage_found_by_fit_resume(finished, tmp_path):
    run = _copy(finished, tmp_path)
    _damage_too_many_epochs(run)
    with pytest.raises(RunDirError, match="state.json.*finished 99 epochs"):
        _tiny_fit(run, 2, resume=True)


def test_resume_of_a_finished_run_says_nothing_to_do(finished, tmp_path, caplog):
    run = _copy(finished, tmp_path)
    before = {name: (run / name).stat().st_mtime_ns for name in SET_FILES}
    with caplog.at_level(logging.WARNING, logger="neuroseg.train"):
        result = _tiny_fit(run, 2, resume=True)
    assert "nothing to do: all 2 epochs done" in caplog.text
    assert len(result.history["loss"]) == 2 and result.best_epoch >= 0
    assert {name: (run / name).stat().st_mtime_ns for name in SET_FILES} == before


def test_strays_removed_and_top_level_remade_on_resume(finished, tmp_path):
    run = _copy(finished, tmp_path)
    ck = run / CHECKPOINTS
    planted = [
        run / ".best-k3j2h1.keras",
        run / ".state-abc.json",
        run / ".history-x.csv",
        ck / ".manifest-q.json",
        ck / "epoch-0003.tmp" / "last.keras",
        ck / "epoch-0001" / "state.json",  # an old set, killed before its removal
    ]
    for path in planted:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(b"half-written")
    (run / "metrics.json").write_text("{}")  # a top-level copy killed mid-way (stale)
    (run / "best.keras").unlink()
    _tiny_fit(run, 2, resume=True)
    for path in planted:
        assert not path.exists(), path
    assert not (ck / "epoch-0003.tmp").exists() and not (ck / "epoch-0001").exists()
    committed = load_checkpoint(run, 2)
    assert committed is not None
    for name in SET_FILES:
        assert _sha(run / name) == committed.manifest["files"][name], name


@pytest.mark.slow
def test_fresh_start_discards_an_earlier_runs_checkpoints(finished, tmp_path):
    run = _copy(finished, tmp_path)
    (run / CHECKPOINTS / "epoch-0001.tmp").mkdir()
    result = _tiny_fit(run, 1)  # not resume: a new run in the same folder
    assert len(result.history["loss"]) == 1
    assert _committed(run, 1) == 1
    assert sorted(p.name for p in (run / CHECKPOINTS).iterdir()) == ["epoch-0001", MANIFEST]


def test_write_points_are_named_once_each():
    assert len(set(WRITE_POINTS)) == len(WRITE_POINTS)
    assert WRITE_POINTS[COMMIT] == "manifest_replaced"


# ---- curves.png ---------------------------------------------------------------------

_ORANGE_BGR = (14, 127, 255)  # the second curve's colour


def _curves(tmp_path: Path, rows: list[dict[str, float]]) -> np.ndarray:
    import cv2

    plot_curves(tmp_path / "curves.png", rows)
    img = cv2.imread(str(tmp_path / "curves.png"))
    assert img is not None
    return img


def _is(img: np.ndarray, bgr: tuple[int, int, int]) -> np.ndarray:
    return np.all(np.abs(img.astype(int) - bgr) <= 10, axis=-1)


def _box(panel: np.ndarray) -> tuple[int, int, int, int]:
    """The plot box's (top, bottom, left, right): the long black lines of the panel."""
    black = panel.max(axis=-1) < 60
    rows = np.flatnonzero(black.sum(axis=1) > panel.shape[1] // 2)
    cols = np.flatnonzero(black.sum(axis=0) > panel.shape[0] // 2)
    return rows.min(), rows.max(), cols.min(), cols.max()


def test_curves_legend_sits_above_the_plot_box(tmp_path):
    # validation loss flat near the top of its panel, where the legend used to be drawn
    rows = [{"epoch": i, "loss": 1.0 - 0.1 * i, "val_loss": 0.95} for i in range(10)]
    img = _curves(tmp_path, rows)
    assert img.shape == (240, 720, 3)  # one panel and a blank one beside it
    panel = img[:, :360]
    top, bottom, left, right = _box(panel)
    orange = _is(panel, _ORANGE_BGR)
    assert orange[:top].any(), "the legend's 'validation' entry is in the header band"
    # inside the plot box the orange pixels are the flat curve only: one band of rows
    hit = np.flatnonzero(orange[top + 1 : bottom, left + 1 : right].any(axis=1))
    assert hit.size and hit.max() - hit.min() <= 3


def test_curves_label_the_epoch_axis_from_one(tmp_path):
    rows = [{"epoch": i, "dice": 0.02 * i} for i in range(30)]
    panel = _curves(tmp_path, rows)[:, :360]
    _, bottom, left, right = _box(panel)
    band = panel[bottom + 5 : bottom + 18].min(axis=-1) < 128
    columns = np.flatnonzero(band.any(axis=0))
    # labels under the first epoch (the box's left edge) and the last (its right edge)
    assert columns.min() <= left + 4 and columns.max() >= right - 4
    # and the round epochs between: 1, 5, 10, 15, 20, 25, 30
    groups = 1 + np.count_nonzero(np.diff(columns) > 8)
    assert groups == 7


def test_curves_of_a_very_long_run(tmp_path):
    # past 6000 epochs no round step fits; the labels are an even split (it raised)
    panel = _curves(tmp_path, [{"epoch": i, "loss": 1 / (i + 1)} for i in range(7000)])[:, :360]
    _, bottom, left, right = _box(panel)
    columns = np.flatnonzero((panel[bottom + 5 : bottom + 18].min(axis=-1) < 128).any(axis=0))
    assert columns.min() <= left + 4 and columns.max() >= right - 4
    assert 2 <= 1 + np.count_nonzero(np.diff(columns) > 8) <= 7


def test_curves_of_flat_nan_and_single_epoch_histories(tmp_path):
    flat = _curves(tmp_path, [{"epoch": i, "loss": 0.5, "lr": 1e-3} for i in range(4)])
    assert flat.shape == (240, 720, 3)
    nan = _curves(tmp_path, [{"epoch": 0, "loss": float("nan")}])
    assert nan.shape == (240, 360 * 2, 3)
    one = _curves(tmp_path, [{"epoch": 0, "loss": 0.3, "val_loss": 0.4}])
    top = _box(one[:, :360])[0]
    assert _is(one, _ORANGE_BGR)[top + 1 :].any()  # the single validation point is drawn
