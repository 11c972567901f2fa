"""Make docs/images/quickstart_overlays.png from a quickstart's overlay pictures.

    neuroseg quickstart --out qs
    python scripts/make_quickstart_figure.py qs

Tiles every ``qs/overlays/*.png`` (one per held-out slice, in file-name order: the
Figshare slices, then the TCIA tumour-free ones) into one picture, ``--cols`` per row,
each ``--size`` pixels high.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("run", type=Path, help="the quickstart's output folder (--out)")
    ap.add_argument("--cols", type=int, default=6)
    ap.add_argument("--size", type=int, default=256, help="height of each tile in pixels")
    ap.add_argument(
        "--out", type=Path, default=ROOT / "docs" / "images" / "quickstart_overlays.png"
    )
    args = ap.parse_args()

    from neuroseg.errors import DataError, ReadError
    from neuroseg.inference import montage

    paths = sorted((args.run / "overlays").glob("*.png"))
    if not paths:
        raise DataError(
            f"No overlays in {args.run / 'overlays'}: "
            f"run `neuroseg quickstart --out {args.run}` first."
        )
    # cv2 reads BGR and writes BGR, so the colours survive the round trip unchanged
    pictures = []
    for path in paths:
        picture = cv2.imread(str(path), cv2.IMREAD_COLOR)
        if picture is None:
            raise ReadError(f"{path} is not a readable PNG; rerun the quickstart.")
        pictures.append(picture)
    sheet = montage(pictures, cols=args.cols, pad=0, size=args.size)
    if not cv2.imwrite(str(args.out), sheet):
        raise DataError(f"Could not write {args.out}")
    print(f"{args.out}: {len(paths)} overlays, {sheet.shape[1]}x{sheet.shape[0]} px")


if __name__ == "__main__":
    main()
