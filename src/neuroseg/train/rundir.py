"""Writing a run directory: the checkpoint set, environment, history and curve pictures.

The checkpoint set (``last.keras``, ``best.keras``, ``state.json``, ``history.csv``,
``metrics.json``) is committed as one unit, see :func:`commit_checkpoint`.
"""

from __future__ import annotations

import csv
import hashlib
import itertools
import json
import math
import os
import platform
import shutil
import signal
import sys
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from neuroseg.data.io import write_image
from neuroseg.errors import RunDirError
from neuroseg.version import __version__

__all__ = [
    "CHECKPOINTS",
    "MANIFEST",
    "SET_FILES",
    "WRITE_POINTS",
    "Checkpoint",
    "atomic_write",
    "commit_checkpoint",
    "environment",
    "load_checkpoint",
    "plot_curves",
    "publish",
    "remove_strays",
    "write_history",
]


def atomic_write(path: Path, write: Callable[[Path], Any]) -> None:
    """Write ``path`` through a temporary file in the same folder, then rename it.

    A process killed mid-write leaves the previous file intact.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=path.suffix, dir=path.parent)
    os.close(fd)
    try:
        write(Path(tmp))
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; give the usual permissions
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)


def environment(strategy: Any = None) -> dict[str, Any]:
    """Library versions, platform and devices, for ``environment.json``."""
    import keras
    import tensorflow as tf

    return {
        "neuroseg": __version__,
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "keras": keras.__version__,
        "keras_backend": keras.backend.backend(),
        "tensorflow": tf.__version__,
        "numpy": np.__version__,
        "opencv": cv2.__version__,
        "cpu_count": os.cpu_count(),
        "devices": [d.name for d in tf.config.list_logical_devices()],
        "strategy": type(strategy).__name__ if strategy is not None else None,
        "replicas": int(strategy.num_replicas_in_sync) if strategy is not None else 1,
    }


def write_history(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Write the per-epoch rows as CSV (atomically), columns in first-seen order."""
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]

    def write(tmp: Path) -> None:
        with tmp.open("w", newline="") as fh:
            w = csv.DictWriter(fh, fieldnames=keys, lineterminator="\n")
            w.writeheader()
            w.writerows(rows)

    atomic_write(path, write)


_COLOURS = [(31, 119, 180), (255, 127, 14), (44, 160, 44), (214, 39, 40), (148, 103, 189)]
_FONT = cv2.FONT_HERSHEY_SIMPLEX
#: Panel margins (pixels): left for the value labels, top for the title and legend,
#: bottom for the epoch labels and the axis name.
_LEFT, _RIGHT, _TOP, _BOTTOM = 60, 15, 34, 42


def _epoch_ticks(n: int, most: int = 6) -> list[int]:
    """Indices 0..n-1 to label on the epoch axis: the first, the last and round steps between."""
    if n <= most:
        return list(range(n))
    rounds = (2, 5, 10, 20, 25, 50, 100, 200, 250, 500, 1000)
    # beyond 6000 epochs no round step fits: an even split
    step = next((s for s in rounds if n / s <= most), math.ceil(n / most))
    ticks = [0, *range(step - 1, n - 1, step)]
    if n - 1 - ticks[-1] < step / 2 and len(ticks) > 1:
        ticks.pop()  # too close to the last epoch's label
    return [*ticks, n - 1]


def _panel(
    series: dict[str, list[float]],
    title: str,
    size: tuple[int, int],
    *,
    epochs: Sequence[int],
) -> np.ndarray:
    """One metric's panel: title and legend above the plot box, epochs (1-based) below it."""
    h, w = size
    left, right, top, bottom = _LEFT, _RIGHT, _TOP, _BOTTOM
    img = np.full((h, w, 3), 255, np.uint8)
    cv2.putText(img, title, (left, 18), _FONT, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    # The legend sits in the header band, right-aligned, so it never covers a curve.
    x = w - right
    for j, name in reversed(list(enumerate(series))):
        colour = _COLOURS[j % len(_COLOURS)][::-1]
        (tw, _), _ = cv2.getTextSize(name, _FONT, 0.4, 1)
        x -= tw
        cv2.putText(img, name, (x, 18), _FONT, 0.4, colour, 1, cv2.LINE_AA)
        x -= 22
        cv2.line(img, (x, 14), (x + 16, 14), colour, 2, cv2.LINE_AA)
        x -= 12
    values = [v for s in series.values() for v in s if np.isfinite(v)]
    n = max((len(s) for s in series.values()), default=0)
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (0, 0, 0), 1)
    (tw, _), _ = cv2.getTextSize("epoch", _FONT, 0.4, 1)
    cv2.putText(img, "epoch", ((left + w - right - tw) // 2, h - 6), _FONT, 0.4, (0, 0, 0), 1)
    if not values:
        return img
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5

    def xy(i: int, v: float) -> tuple[int, int]:
        x = left + (w - left - right) * (i / (n - 1) if n > 1 else 0.5)  # 1 epoch: centred
        y = top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))
        return round(x), round(y)

    for k in range(3):
        v = lo + (hi - lo) * k / 2
        y = xy(0, v)[1]
        cv2.line(img, (left - 4, y), (left, y), (0, 0, 0), 1)
        cv2.putText(img, f"{v:.3g}", (2, y + 4), _FONT, 0.35, (0, 0, 0), 1)
    for i in _epoch_ticks(n):
        x = xy(i, lo)[0]
        label = str(epochs[i])
        (tw, _), _ = cv2.getTextSize(label, _FONT, 0.35, 1)
        cv2.line(img, (x, h - bottom), (x, h - bottom + 4), (0, 0, 0), 1)
        cv2.putText(img, label, (x - tw // 2, h - bottom + 16), _FONT, 0.35, (0, 0, 0), 1)
    for j, s in enumerate(series.values()):
        colour = _COLOURS[j % len(_COLOURS)][::-1]
        pts = [xy(i, v) for i, v in enumerate(s) if np.isfinite(v)]
        for a, b in itertools.pairwise(pts):
            cv2.line(img, a, b, colour, 2, cv2.LINE_AA)
        for p in pts if len(pts) == 1 else []:
            cv2.circle(img, p, 3, colour, -1)
    return img


def plot_curves(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Draw one panel per metric (training and validation) into a PNG.

    Each panel is titled with the metric's name, names its curves ("training",
    "validation") above the plot box and labels the epoch axis with the
    1-based epoch numbers that training prints (``history.csv`` counts from 0).
    """
    names = (
        [k for k in rows[0] if k not in ("epoch", "lr") and not k.startswith("val_")]
        if rows
        else []
    )
    epochs = [int(r["epoch"]) + 1 if "epoch" in r else i + 1 for i, r in enumerate(rows)]

    def column(key: str) -> list[float]:
        return [float(r.get(key, np.nan)) for r in rows]

    panels = []
    for name in names:
        series = {"training": column(name)}
        if f"val_{name}" in rows[0]:
            series["validation"] = column(f"val_{name}")
        panels.append(_panel(series, name, (240, 360), epochs=epochs))
    if rows and "lr" in rows[0]:
        panels.append(_panel({"learning rate": column("lr")}, "lr", (240, 360), epochs=epochs))
    if not panels:
        return
    while len(panels) % 2:
        panels.append(np.full_like(panels[0], 255))
    grid = np.vstack([np.hstack(panels[i : i + 2]) for i in range(0, len(panels), 2)])
    write_image(path, cv2.cvtColor(grid, cv2.COLOR_BGR2RGB))  # drawn in OpenCV's BGR


# --------------------------------------------------------------------------------------
# The checkpoint set, committed as one unit.
#
#   RUN/checkpoints/manifest.json         {"format", "completed_epochs", "folder", "files"}
#   RUN/checkpoints/epoch-0007/           last.keras best.keras state.json history.csv
#                                         metrics.json (the set after 7 finished epochs)
#   RUN/last.keras, best.keras, ...       copies of the committed set, re-made on resume
#
# An epoch's set is written into ``epoch-NNNN.tmp/``, synced, renamed to ``epoch-NNNN/``;
# replacing ``manifest.json`` (temporary file + os.replace) is the commit. Resuming reads
# only the folder the manifest names, after checking every file's SHA-256.
# --------------------------------------------------------------------------------------

CHECKPOINTS = "checkpoints"
MANIFEST = "manifest.json"
STATE_FILE = "state.json"
FORMAT = 2  # 1: an older neuroseg's run directory (top-level state.json, no manifest)
SET_FILES = ("last.keras", "best.keras", "history.csv", "metrics.json", "state.json")
_DERIVED = ("config.json", "environment.json", "curves.png")
_STATE_KEYS = {"completed_epochs": int, "history": list, "best_epoch": int, "wait": int,
               "plateau_wait": int}  # fmt: skip

#: Every point between two writes of an epoch's commit, in order. The test hook
#: ``NEUROSEG_TEST_KILL_AT=<point>[@<completed epochs>]`` SIGKILLs the process there.
WRITE_POINTS = (
    "set_folder_made",
    "last_saved",
    "best_saved",
    "history_written",
    "metrics_written",
    "state_written",
    "set_synced",
    "set_renamed",
    "manifest_written",
    "manifest_replaced",
    "old_sets_removed",
    *(f"published_{Path(name).stem}" for name in SET_FILES),
    "published_curves",
)
KILL_ENV = "NEUROSEG_TEST_KILL_AT"


def _write_point(name: str, completed: int) -> None:
    """Test hook: SIGKILL this process at write point ``name`` if the environment asks."""
    spec = os.environ.get(KILL_ENV)
    if not spec:
        return
    point, _, at = spec.partition("@")
    if point == name and (not at or int(at) == completed):
        os.kill(os.getpid(), getattr(signal, "SIGKILL", signal.SIGTERM))


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _fsync(path: Path) -> None:
    """Flush ``path`` (a file or, where the OS allows, a folder) to disk."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:  # folders cannot be opened on Windows
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def _link_or_copy(src: Path, dst: Path) -> None:
    try:
        os.link(src, dst)
    except OSError:
        shutil.copyfile(src, dst)


def _json_text(obj: Any) -> str:
    return json.dumps(obj, indent=2) + "\n"


@dataclass
class Checkpoint:
    """A committed checkpoint set: its folder, the manifest and the parsed state."""

    folder: Path
    manifest: dict[str, Any]
    state: dict[str, Any]

    @property
    def completed_epochs(self) -> int:
        return int(self.state["completed_epochs"])


def commit_checkpoint(
    run: Path,
    *,
    save_model: Callable[[Path], Any],
    improved: bool,
    previous: Checkpoint | None,
    rows: Sequence[dict[str, Any]],
    state: dict[str, Any],
    metrics: dict[str, Any],
) -> Checkpoint:
    """Write one epoch's checkpoint set and commit it as one unit.

    ``save_model`` writes the current model (``last.keras``); ``improved`` says it is also
    the best one, otherwise ``best.keras`` is taken over from ``previous`` (if any). The
    set is written to ``checkpoints/epoch-NNNN.tmp/``, synced and renamed; replacing
    ``checkpoints/manifest.json`` commits it; older sets are removed afterwards.
    """
    completed = int(state["completed_epochs"])
    ck = run / CHECKPOINTS
    ck.mkdir(parents=True, exist_ok=True)
    name = f"epoch-{completed:04d}"
    tmp = ck / f"{name}.tmp"
    if tmp.exists():
        shutil.rmtree(tmp)
    tmp.mkdir()
    _write_point("set_folder_made", completed)
    save_model(tmp / "last.keras")
    _write_point("last_saved", completed)
    sums: dict[str, str] = {"last.keras": _sha256(tmp / "last.keras")}
    if improved:
        _link_or_copy(tmp / "last.keras", tmp / "best.keras")
        sums["best.keras"] = sums["last.keras"]
    elif previous is not None and "best.keras" in previous.manifest["files"]:
        _link_or_copy(previous.folder / "best.keras", tmp / "best.keras")
        sums["best.keras"] = previous.manifest["files"]["best.keras"]
    _write_point("best_saved", completed)
    write_history(tmp / "history.csv", rows)
    _write_point("history_written", completed)
    (tmp / "metrics.json").write_text(_json_text(metrics))
    _write_point("metrics_written", completed)
    (tmp / STATE_FILE).write_text(_json_text({"format": FORMAT, **state}))
    _write_point("state_written", completed)
    for f in ("history.csv", "metrics.json", STATE_FILE):
        sums[f] = _sha256(tmp / f)
    for f in sums:
        _fsync(tmp / f)
    _fsync(tmp)
    _write_point("set_synced", completed)
    final = ck / name
    if final.exists():  # an uncommitted set of an earlier, killed attempt
        shutil.rmtree(final)
    os.rename(tmp, final)
    _fsync(ck)
    _write_point("set_renamed", completed)
    manifest = {"format": FORMAT, "completed_epochs": completed, "folder": name,
                "files": {f: sums[f] for f in SET_FILES if f in sums}}  # fmt: skip
    fd, mtmp = tempfile.mkstemp(prefix=".manifest-", suffix=".json", dir=ck)
    try:
        with os.fdopen(fd, "w") as fh:
            fh.write(_json_text(manifest))
            fh.flush()
            os.fsync(fh.fileno())
        _write_point("manifest_written", completed)
        os.replace(mtmp, ck / MANIFEST)  # the commit
    finally:
        if os.path.exists(mtmp):
            os.remove(mtmp)
    _fsync(ck)
    _write_point("manifest_replaced", completed)
    for old in ck.glob("epoch-*"):
        if old.name != name:
            shutil.rmtree(old, ignore_errors=True)
    _write_point("old_sets_removed", completed)
    return Checkpoint(final, manifest, {"format": FORMAT, **state})


def _copier(src: Path) -> Callable[[Path], Any]:
    return lambda tmp: shutil.copyfile(src, tmp)


def publish(run: Path, checkpoint: Checkpoint) -> None:
    """Make the run directory's top-level files copies of the committed set.

    ``best.keras`` is a copy of ``last.keras`` while no epoch has been best yet (the
    monitored value was never finite). Files that already match are left untouched.
    """
    if checkpoint.folder == run:  # an older neuroseg's run directory: nothing to copy
        return
    completed = checkpoint.completed_epochs
    files = checkpoint.manifest["files"]
    for name in SET_FILES:
        src_name = name if name in files else "last.keras"
        target = run / name
        if not (target.is_file() and _sha256(target) == files[src_name]):
            atomic_write(target, _copier(checkpoint.folder / src_name))
        _write_point(f"published_{Path(name).stem}", completed)
    rows = checkpoint.state["history"]
    if rows:
        plot_curves(run / "curves.png", rows)
    _write_point("published_curves", completed)


def remove_strays(run: Path, keep: Checkpoint | None) -> None:
    """Remove what a killed process may have left: temporary files and uncommitted sets.

    Removes ``.<name>-*<suffix>`` temporary files of the run directory's own files,
    ``checkpoints/*.tmp`` and ``checkpoints/.manifest-*.json``, and every
    ``checkpoints/epoch-*`` folder but the committed one (``keep``).
    """
    for name in (*SET_FILES, *_DERIVED):
        stem, suffix = Path(name).stem, Path(name).suffix
        for stray in run.glob(f".{stem}-*{suffix}"):
            stray.unlink(missing_ok=True)
    ck = run / CHECKPOINTS
    if not ck.is_dir():
        return
    for stray in ck.glob(".manifest-*.json"):
        stray.unlink(missing_ok=True)
    for entry in ck.iterdir():
        if entry.name.endswith(".tmp") or (
            entry.name.startswith("epoch-") and (keep is None or entry != keep.folder)
        ):
            if entry.is_dir():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)


def _damaged(run: Path, path: Path, why: str) -> RunDirError:
    return RunDirError(
        f"{path}: {why}. The run directory {run} cannot be resumed: start afresh with a new "
        "run directory (--out), or without resume in this one (which overwrites it)."
    )


def _read_json(run: Path, path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
    except FileNotFoundError:
        raise _damaged(run, path, "missing") from None
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        raise _damaged(run, path, f"unreadable or not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise _damaged(run, path, "not a JSON object")
    return data


def _check_state(run: Path, path: Path, state: dict[str, Any], epochs: int) -> None:
    for key, kind in _STATE_KEYS.items():
        if not isinstance(state.get(key), kind) or isinstance(state.get(key), bool):
            raise _damaged(run, path, f"{key!r} is missing or not of type {kind.__name__}")
    done, best = state["completed_epochs"], state["best_epoch"]
    if done < 0:
        raise _damaged(run, path, f"completed_epochs is negative ({done})")
    if done > epochs:
        raise RunDirError(
            f"{path}: the run has finished {done} epochs, more than the {epochs} the config "
            f"asks for. Resume with epochs >= {done} (neuroseg train: --set train.epochs={done}"
            " or more), or start afresh with a new run directory (--out)."
        )
    rows = state["history"]
    if [r.get("epoch") if isinstance(r, dict) else None for r in rows] != list(range(done)):
        raise _damaged(
            run, path, f"its history does not list epochs 0..{done - 1} once each in order"
        )
    if not -1 <= best < done:
        raise _damaged(run, path, f"best_epoch {best} is not a finished epoch")
    value = state.get("best_value")
    if value is not None and (not isinstance(value, int | float) or not math.isfinite(value)):
        raise _damaged(run, path, f"best_value {value!r} is not a finite number or null")


def _history_epochs(run: Path, path: Path) -> list[int]:
    try:
        with path.open(newline="") as fh:
            return [int(r["epoch"]) for r in csv.DictReader(fh)]
    except (OSError, KeyError, TypeError, ValueError) as exc:
        raise _damaged(run, path, f"unreadable ({exc})") from None


def load_checkpoint(run: Path, epochs: int) -> Checkpoint | None:
    """The committed checkpoint set of ``run``, checked; ``None`` if nothing is committed.

    Every file the manifest lists must be present with its SHA-256; ``state.json`` must
    agree with the manifest, with ``history.csv`` and with ``epochs`` (the configured
    number of epochs, which must be >= the finished ones). A run directory written by
    an older neuroseg (top-level ``state.json``, no manifest) is read from its top-level
    files.

    Raises:
        RunDirError: A file is missing, corrupt or inconsistent (the message names it).
    """
    ck = run / CHECKPOINTS
    mpath = ck / MANIFEST
    if not mpath.exists():
        top = run / STATE_FILE
        if not top.exists():
            return None  # no epoch was ever committed: a fresh start
        state = _read_json(run, top)
        if "format" in state:
            raise _damaged(run, mpath, f"missing, though {top} records finished epochs")
        _check_state(run, top, state, epochs)  # an older neuroseg's run directory
        if not (run / "last.keras").is_file():
            raise _damaged(run, run / "last.keras", "missing")
        sums = {"last.keras": _sha256(run / "last.keras")}
        if state["best_epoch"] >= 0 and (run / "best.keras").is_file():
            sums["best.keras"] = _sha256(run / "best.keras")
        return Checkpoint(run, {"format": 1, "files": sums}, state)
    manifest = _read_json(run, mpath)
    folder, files = manifest.get("folder"), manifest.get("files")
    if (
        not isinstance(folder, str)
        or not folder.startswith("epoch-")
        or "/" in folder
        or "\\" in folder
        or not isinstance(files, dict)
        or not {"last.keras", STATE_FILE, "history.csv", "metrics.json"} <= set(files)
    ):
        raise _damaged(run, mpath, "lacks the set's folder or file list")
    for name, digest in files.items():
        path = ck / folder / name
        if name not in SET_FILES:
            raise _damaged(run, mpath, f"lists an unknown file {name!r}")
        if not path.is_file():
            raise _damaged(run, path, "missing")
        if _sha256(path) != digest:
            raise _damaged(run, path, "its SHA-256 checksum does not match manifest.json")
    spath = ck / folder / STATE_FILE
    state = _read_json(run, spath)
    _check_state(run, spath, state, epochs)
    if state["completed_epochs"] != manifest.get("completed_epochs"):
        raise _damaged(run, spath, "its completed_epochs differs from manifest.json's")
    if (state["best_epoch"] >= 0) != ("best.keras" in files):
        raise _damaged(run, mpath, "best.keras and state.json's best_epoch disagree")
    hpath = ck / folder / "history.csv"
    if _history_epochs(run, hpath) != list(range(state["completed_epochs"])):
        raise _damaged(run, hpath, "its epochs differ from state.json's")
    return Checkpoint(ck / folder, manifest, state)
