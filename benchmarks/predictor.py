"""Benchmark: Predictor.predict against calling the model eagerly, slice by slice.

    python benchmarks/predictor.py [--model resunet-figshare] [--n 96] [--repeats 3]
        [--json OUT]

On ``--n`` real Figshare fold-4 slices (../shared/data/figshare-cheng), in one process:

- baseline: each slice prepared by the Predictor's own ``prepare``, then the model called
  eagerly on it (``model(x, training=False)``), as the Predictor did before 2026-12-03
  and as notebooks usually do; the probability is pasted back with ``invert``;
- neuroseg: ``Predictor(model, tta=False).predict(data)`` (a compiled forward pass,
  masks, post-processing and localisation included);
- the same with the flip TTA a card may ask for.

Prints slices/s for each and the ratio against the baseline. The baseline does less work
(no thresholding, post-processing or localisation), so the ratio understates the gain.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
from machine import cpu_flags, cpu_name
from timing import best_time

from neuroseg.data import load_figshare
from neuroseg.inference import Predictor

DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "figshare-cheng"


def eager_per_slice(predictor: Predictor, images: list[np.ndarray]) -> list[np.ndarray]:
    """The baseline: one eager model call per prepared slice, pasted back."""
    out = []
    for image in images:
        prepared = predictor.prepare(image)
        prob = np.asarray(predictor.model(prepared.array[None], training=False))[0, ..., 0]
        out.append(predictor.invert(prob, prepared))
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", default="resunet-figshare", help="a pretrained name or .keras")
    ap.add_argument("--n", type=int, default=96, help="slices")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args(argv)

    data = load_figshare(DATA, folds=[4])[: args.n]
    images = [r.load_image() for r in data]  # read once: time the model path, not the disk
    plain = Predictor(args.model, tta=False)
    flip = Predictor(args.model, tta="flip")
    base = best_time(lambda: eager_per_slice(plain, images), args.repeats, warmup=1)
    ours = best_time(lambda: plain.predict(images), args.repeats, warmup=1)
    tta = best_time(lambda: flip.predict(images), args.repeats, warmup=1)
    n = len(images)
    result = {
        "model": args.model,
        "n_slices": n,
        "eager_per_slice_per_s": n / base,
        "predictor_per_s": n / ours,
        "predictor_flip_tta_per_s": n / tta,
        "ratio_predictor_vs_eager": base / ours,
        "ratio_flip_tta_vs_eager": base / tta,
        "cpu": cpu_name(),
        "cpu_flags": cpu_flags(),
    }
    print(f"{args.model} on {n} Figshare fold-4 slices (best of {args.repeats}):")
    print(f"  eager model call per slice   {n / base:8.1f} slices/s  (baseline)")
    print(f"  Predictor.predict            {n / ours:8.1f} slices/s  x{base / ours:.2f}")
    print(f"  Predictor.predict, flip TTA  {n / tta:8.1f} slices/s  x{base / tta:.2f}")
    if args.json is not None:
        args.json.write_text(json.dumps(result, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
