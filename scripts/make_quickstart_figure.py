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

    from neuroseg.data import read_image
    from neuroseg.errors import DataError
    from neuroseg.inference import montage, save_png

    paths = sorted((args.run / "overlays").glob("*.png"))
    if not paths:
        raise DataError(
            f"No overlays in {args.run / 'overlays'}: "
            f"run `neuroseg quickstart --out {args.run}` first."
        )
    pictures = [read_image(path, channels=3) for path in paths]  # checked, RGB
    sheet = montage(pictures, cols=args.cols, pad=0, size=args.size)
    save_png(args.out, sheet)
    print(f"{args.out}: {len(paths)} overlays, {sheet.shape[1]}x{sheet.shape[0]} px")


if __name__ == "__main__":
    main()
