"""Benchmark: neuroseg's per-image Dice and HD95 against plain per-image Python loops.

    python benchmarks/metrics.py [--n 2400] [--n-hd95 600] [--repeats 5] [--json OUT]

Uses the real Figshare masks (../shared/data/figshare-cheng) as truth and shifted copies as
predictions, so both implementations see real tumour shapes. Prints slices/s for each and
the ratios. The Dice loop is the usual notebook code: one NumPy Dice per slice. The HD95
loop is the usual MedPy-style code: per slice, erode for the surfaces and run two full-image
distance transforms; it is also the correctness reference (results must agree to 1e-9).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from timing import best_time

from neuroseg.data import load_figshare
from neuroseg.metrics import dice, hd95

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "figshare-cheng"


def loop_dice(truth: np.ndarray, pred: np.ndarray) -> float:
    scores = []
    for t, p in zip(truth, pred):
        t, p = t.astype(bool), p.astype(bool)
        den = t.sum() + p.sum()
        scores.append(1.0 if den == 0 else 2.0 * np.logical_and(t, p).sum() / den)
    return float(np.mean(scores))


def loop_hd95(truth: np.ndarray, pred: np.ndarray) -> float:
    import scipy.ndimage as ndi

    footprint = ndi.generate_binary_structure(2, 1)
    diagonal = float(np.hypot(*truth.shape[1:]))
    scores = []
    for t, p in zip(truth, pred):
        t, p = t.astype(bool), p.astype(bool)
        if not t.any() and not p.any():
            scores.append(0.0)
            continue
        if not t.any() or not p.any():
            scores.append(diagonal)
            continue
        tb = t ^ ndi.binary_erosion(t, structure=footprint)
        pb = p ^ ndi.binary_erosion(p, structure=footprint)
        d = np.concatenate(
            [ndi.distance_transform_edt(~tb)[pb], ndi.distance_transform_edt(~pb)[tb]]
        )
        scores.append(float(np.percentile(d, 95)))
    return float(np.mean(scores))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--n", type=int, default=2400)
    ap.add_argument("--n-hd95", type=int, default=600)
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
    th, ph = truth[: args.n_hd95], pred[: args.n_hd95]
    assert abs(hd95(th, ph) - loop_hd95(th, ph)) < 1e-9
    h_ns = best_time(lambda: hd95(th, ph), args.repeats)
    h_loop = best_time(lambda: loop_hd95(th, ph), args.repeats)
    result = {
        "n_slices": len(truth),
        "neuroseg_slices_per_s": len(truth) / t_ns,
        "loop_slices_per_s": len(truth) / t_loop,
        "ratio_vs_loop": t_loop / t_ns,
        "hd95_n_slices": len(th),
        "hd95_neuroseg_slices_per_s": len(th) / h_ns,
        "hd95_loop_slices_per_s": len(th) / h_loop,
        "hd95_ratio_vs_loop": h_loop / h_ns,
    }
    print(json.dumps(result, indent=2))
    if args.json:
        args.json.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
