"""Write BraTS 2-D slices as a ``pairs`` folder of T1-CE images and one region's masks.

An external check for a Figshare segmenter (T1-CE slices, a tumour mask): the BraTS 2020
slices in ``../shared/data/brats2020-slices`` are another source (multi-centre gliomas,
skull-stripped, co-registered, 240×240) that no shipped model trained on. Each slice's
T1-CE channel becomes an 8-bit grey ``images/{n}.png`` and the chosen region (BraTS'
tumour core by default: the enhancing tumour and the necrotic core, the part of a glioma
that T1-CE shows) ``masks/{n}.png`` (0/255), which ``neuroseg evaluate --data pairs:OUT``
reads:

    python scripts/brats_t1ce_pairs.py --out brats-tc --tumour-only
    neuroseg evaluate --model resunet-figshare --data pairs:brats-tc --csv all-folds.csv
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from neuroseg.data import BRATS_REGIONS, brats_regions, load_brats_slices, write_image

T1CE = 2  # channels: FLAIR, T1, T1-CE, T2


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--brats", type=Path, default=Path("../shared/data/brats2020-slices"))
    ap.add_argument("--out", type=Path, required=True, help="the pairs folder to write")
    ap.add_argument("--region", choices=list(BRATS_REGIONS), default="tumor_core")
    ap.add_argument(
        "--tumour-only", action="store_true", help="only slices where the region is present"
    )
    args = ap.parse_args()
    channel = list(BRATS_REGIONS).index(args.region)
    for sub in ("images", "masks"):
        (args.out / sub).mkdir(parents=True, exist_ok=True)
    written = skipped = 0
    for record in load_brats_slices(args.brats):
        region = brats_regions(record.load_mask())[..., channel]
        if args.tumour_only and not region.any():
            skipped += 1
            continue
        name = f"{Path(record.source).stem}.png"
        write_image(args.out / "images" / name, record.load_image()[..., T1CE])
        write_image(args.out / "masks" / name, (region * 255).astype(np.uint8))
        written += 1
    print(f"wrote {written} T1-CE slices with {args.region} masks to {args.out}", end="")
    print(f" ({skipped} without it left out)" if args.tumour_only else "")


if __name__ == "__main__":
    main()
