"""Writing a run directory: environment, history, TensorBoard scalars and curve pictures."""

from __future__ import annotations

import csv
import itertools
import os
import platform
import sys
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import cv2
import numpy as np

__all__ = ["atomic_write", "environment", "plot_curves", "write_history"]


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

    from neuroseg import __version__

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


def _panel(series: dict[str, list[float]], title: str, size: tuple[int, int]) -> np.ndarray:
    h, w = size
    img = np.full((h, w, 3), 255, np.uint8)
    left, right, top, bottom = 60, 15, 28, 35
    cv2.putText(img, title, (left, 18), cv2.FONT_HERSHEY_SIMPLEX, 0.5, (0, 0, 0), 1, cv2.LINE_AA)
    values = [v for s in series.values() for v in s if np.isfinite(v)]
    if not values:
        return img
    lo, hi = min(values), max(values)
    if hi - lo < 1e-12:
        lo, hi = lo - 0.5, hi + 0.5
    n = max(len(s) for s in series.values())
    cv2.rectangle(img, (left, top), (w - right, h - bottom), (0, 0, 0), 1)

    def xy(i: int, v: float) -> tuple[int, int]:
        x = left + (w - left - right) * (i / max(n - 1, 1))
        y = top + (h - top - bottom) * (1 - (v - lo) / (hi - lo))
        return round(x), round(y)

    for k in range(3):
        v = lo + (hi - lo) * k / 2
        cv2.putText(
            img, f"{v:.3g}", (2, xy(0, v)[1] + 4), cv2.FONT_HERSHEY_SIMPLEX, 0.35, (0, 0, 0), 1
        )
    cv2.putText(img, "epoch", (w // 2 - 20, h - 8), cv2.FONT_HERSHEY_SIMPLEX, 0.4, (0, 0, 0), 1)
    for j, (name, s) in enumerate(series.items()):
        colour = _COLOURS[j % len(_COLOURS)][::-1]
        pts = [xy(i, v) for i, v in enumerate(s) if np.isfinite(v)]
        for a, b in itertools.pairwise(pts):
            cv2.line(img, a, b, colour, 2, cv2.LINE_AA)
        for p in pts if len(pts) == 1 else []:
            cv2.circle(img, p, 3, colour, -1)
        cv2.putText(
            img,
            name,
            (w - right - 150, top + 16 + 16 * j),
            cv2.FONT_HERSHEY_SIMPLEX,
            0.4,
            colour,
            1,
        )
    return img


def plot_curves(path: Path, rows: Sequence[dict[str, Any]]) -> None:
    """Draw one panel per metric (training and validation) into a PNG."""
    names = (
        [k for k in rows[0] if k not in ("epoch", "lr") and not k.startswith("val_")]
        if rows
        else []
    )
    panels = []
    for name in names + (["lr"] if rows and "lr" in rows[0] else []):
        series = {name: [float(r.get(name, np.nan)) for r in rows]}
        if f"val_{name}" in rows[0]:
            series[f"val_{name}"] = [float(r.get(f"val_{name}", np.nan)) for r in rows]
        panels.append(_panel(series, name, (240, 360)))
    if not panels:
        return
    while len(panels) % 2:
        panels.append(np.full_like(panels[0], 255))
    grid = np.vstack([np.hstack(panels[i : i + 2]) for i in range(0, len(panels), 2)])
    atomic_write(path, lambda tmp: cv2.imwrite(str(tmp), grid))
