"""Copy the lowest-scoring items of a ``neuroseg evaluate --csv`` table, for looking at them.

Each selected image is copied with its truth mask (as ``NAME_seg.png``, which
``neuroseg predict`` reads as the truth beside ``NAME.png``) into ``--out``, so that

    python scripts/worst_items.py scripts/results/figshare_cv/items/fold-4-tta-t0.4.csv \\
        --true-class glioma --below 0.05 --limit 12 --out misses
    neuroseg predict --model runs/fig-fold4/last.keras --tta flip --threshold 0.4 \\
        misses --out misses-pred --overlay

draws the misses of the fold-4 model (the config trained without fold 4) with truth
(green) and prediction (red): docs/images/figshare_glioma_misses.png
is that ``montage.png``. Items are taken in ascending Dice, ties in table order.
"""

from __future__ import annotations

import argparse
import csv
import shutil
from pathlib import Path


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("table", type=Path, help="a per-item CSV of neuroseg evaluate (segmentation)")
    ap.add_argument("--out", type=Path, required=True, help="folder for the copies")
    ap.add_argument("--metric", default="dice")
    ap.add_argument("--true-class", default=None, help="only items of this true class")
    ap.add_argument("--below", type=float, default=None, help="only items scoring below this")
    ap.add_argument("--limit", type=int, default=12, help="at most this many items")
    ap.add_argument(
        "--masks",
        default="masks",
        help="the truth masks' folder beside the images' (figshare: masks)",
    )
    args = ap.parse_args()

    with args.table.open(newline="") as fh:
        rows = list(csv.DictReader(fh))
    if args.true_class is not None:
        rows = [r for r in rows if r.get("true_class") == args.true_class]
    scored = [r for r in rows if r[args.metric] != ""]
    scored.sort(key=lambda r: float(r[args.metric]))  # stable: ties keep table order
    if args.below is not None:
        scored = [r for r in scored if float(r[args.metric]) < args.below]
    chosen = scored[: args.limit]
    if not chosen:
        raise SystemExit(f"{args.table}: no item matches")
    args.out.mkdir(parents=True, exist_ok=True)
    for r in chosen:
        image = Path(r["source"])
        mask = image.parent.parent / args.masks / image.name
        if not mask.is_file():
            raise SystemExit(f"{image}: no truth mask at {mask}; pass --masks FOLDER")
        shutil.copy(image, args.out / image.name)
        shutil.copy(mask, args.out / f"{image.stem}_seg{image.suffix}")
        print(f"{image.name}\t{args.metric} {float(r[args.metric]):.3f}\ttruth {r['truth_px']} px")
    print(f"{len(chosen)} of {len(rows)} items copied to {args.out}")


if __name__ == "__main__":
    main()
