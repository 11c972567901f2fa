"""Benchmark: neuroseg's vectorised per-image Dice against a plain per-image Python loop.

    python benchmarks/metrics.py [--n 2400] [--repeats 5] [--json OUT]

Uses the real Figshare masks (../shared/data/figshare-cheng) as truth and shifted copies as
predictions, so both implementations see real tumour shapes. Prints slices/s for each and
the ratio. The loop is the usual notebook code: one NumPy Dice per slice.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import numpy as np

from neuroseg.data import load_figshare
from neuroseg.metrics import dice

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "figshare-cheng"


def loop_dice(truth: np.ndarray, pred: np.ndarray) -> float:
    scores = []
    for t, p in zip(truth, pred):
        t, p = t.astype(bool), p.astype(bool)
        den = t.sum() + p.sum()
        scores.append(1.0 if den == 0 else 2.0 * np.logical_and(t, p).sum() / den)
    return float(np.mean(scores))


def best_time(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2400)
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args()
    ds = load_figshare(args.data)[: args.n]
    truth = np.stack([r.load_mask() for r in ds])
    pred = np.roll(truth, 3, axis=2)
    assert abs(dice(truth, pred) - loop_dice(truth, pred)) < 1e-9
    t_ns = best_time(lambda: dice(truth, pred), args.repeats)
    t_loop = best_time(lambda: loop_dice(truth, pred), args.repeats)
    result = {
        "n_slices": len(truth),
        "neuroseg_slices_per_s": len(truth) / t_ns,
        "loop_slices_per_s": len(truth) / t_loop,
        "ratio_vs_loop": t_loop / t_ns,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
