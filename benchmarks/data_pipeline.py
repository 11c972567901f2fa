"""Augmented 256x256 slices/s: neuroseg's tf.data pipeline vs a plain Python loop.

Both read the real Figshare PNGs (image + mask) from disk, min-max normalise, apply a
random horizontal flip and a random 90-degree rotation jointly to image and mask, and
batch 32 slices. The loop is the usual notebook code (cv2.imread, numpy, np.stack).

The headline (``slices_per_s``, ``ratio_vs_loop``) decodes every slice in every pass, as
the loop does. ``cached_*`` is the same pipeline with ``cache=True`` (what the example
configs train with) after its first pass: decoded slices come from memory and only the
augmentation and batching run.

    python benchmarks/data_pipeline.py [--root ../shared/data/figshare-cheng] [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "figshare-cheng"
BATCH = 32


def python_loop(paths: list[tuple[str, str]], seed: int = 0) -> int:
    rng = np.random.default_rng(seed)
    images, masks, n = [], [], 0
    for ip, mp in paths:
        image = cv2.imread(ip, cv2.IMREAD_GRAYSCALE).astype(np.float32)
        mask = (cv2.imread(mp, cv2.IMREAD_GRAYSCALE) > 0).astype(np.float32)
        lo, hi = image.min(), image.max()
        image = (image - lo) / max(hi - lo, 1e-12)
        if rng.random() < 0.5:
            image, mask = image[:, ::-1], mask[:, ::-1]
        k = int(rng.integers(4))
        images.append(np.rot90(image, k))
        masks.append(np.rot90(mask, k))
        if len(images) == BATCH:
            _x, _y = np.stack(images)[..., None], np.stack(masks)[..., None]
            n += BATCH
            images, masks = [], []
    return n


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--root", default=os.environ.get("NEUROSEG_FIGSHARE", str(ROOT)))
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", metavar="OUT")
    args = ap.parse_args()

    import tensorflow as tf

    from neuroseg.data import Compose, RandomFlip, RandomRotate90, load_figshare

    ds = load_figshare(args.root)
    paths = [(str(r.image), str(r.mask)) for r in ds]
    n_total = len(paths) // BATCH * BATCH

    def make(cache: bool) -> Any:
        return ds.to_tf_dataset(
            "segmentation",
            image_size=256,
            channels=1,
            batch_size=BATCH,
            drop_remainder=True,
            shuffle=True,
            augment=Compose([RandomFlip(), RandomRotate90()]),
            seed=0,
            cache=cache,
        )

    def count(tfds: Any) -> int:
        n = 0
        for x, _y in tfds:
            n += int(x.shape[0])
        return n

    uncached, cached = make(False), make(True)

    def pipeline_run() -> int:
        return count(uncached)

    # warm-up: file-system cache and graph tracing, for both; fills the pipeline's cache
    python_loop(paths[:256])
    pipeline_run()
    count(cached)
    loop_t, pipe_t, loop_cpu, pipe_cpu, cached_t = [], [], [], [], []
    for _ in range(args.repeats):
        t, c = time.perf_counter(), time.process_time()
        assert python_loop(paths) == n_total
        loop_t.append(time.perf_counter() - t)
        loop_cpu.append(time.process_time() - c)
        t, c = time.perf_counter(), time.process_time()
        assert pipeline_run() == n_total
        pipe_t.append(time.perf_counter() - t)
        pipe_cpu.append(time.process_time() - c)
        t = time.perf_counter()
        assert count(cached) == n_total
        cached_t.append(time.perf_counter() - t)
    loop_rate = n_total / min(loop_t)
    pipe_rate = n_total / min(pipe_t)
    cached_rate = n_total / min(cached_t)
    result = {
        "benchmark": "data_pipeline",
        "slices": n_total,
        "image_size": 256,
        "batch_size": BATCH,
        "slices_per_s": round(pipe_rate, 1),
        "loop_slices_per_s": round(loop_rate, 1),
        "ratio_vs_loop": round(pipe_rate / loop_rate, 2),
        "cached_slices_per_s": round(cached_rate, 1),
        "cached_ratio_vs_loop": round(cached_rate / loop_rate, 2),
        "loop_cpu_ms_per_slice": round(1e3 * min(loop_cpu) / n_total, 3),
        "pipeline_cpu_ms_per_slice": round(1e3 * min(pipe_cpu) / n_total, 3),
        "cpu_count": os.cpu_count(),
        "load_avg_1min": os.getloadavg()[0],
        "tensorflow": tf.__version__,
        "python": platform.python_version(),
    }
    print(
        f"loop: {loop_rate:,.0f} slices/s   neuroseg pipeline: {pipe_rate:,.0f} slices/s   "
        f"ratio: {pipe_rate / loop_rate:.2f}x   (best of {args.repeats}, {n_total} slices)\n"
        f"with cache=True, after the first pass: {cached_rate:,.0f} slices/s, "
        f"ratio {cached_rate / loop_rate:.2f}x\n"
        f"CPU time per slice: loop {result['loop_cpu_ms_per_slice']} ms, "
        f"pipeline {result['pipeline_cpu_ms_per_slice']} ms; "
        f"1-min load average {result['load_avg_1min']:.1f} on {os.cpu_count()} cores"
    )
    if args.json:
        Path(args.json).write_text(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
