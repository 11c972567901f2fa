"""Make docs/images/data_augmentation.png: real Figshare slices and augmented copies.

    python scripts/make_data_figures.py [--root ../shared/data/figshare-cheng]

Each row is one real slice; the first column is the original, the others are draws of
``default_augmentation()`` through the tf.data pipeline. The mask is drawn as a green
contour, so you can see it move exactly with the image.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import cv2
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data" / "figshare-cheng"


def _tile(image: np.ndarray, mask: np.ndarray) -> np.ndarray:
    x = image[..., 0]
    x = (255 * (x - x.min()) / max(float(x.max() - x.min()), 1e-6)).astype(np.uint8)
    rgb = cv2.cvtColor(x, cv2.COLOR_GRAY2BGR)
    contours, _ = cv2.findContours(
        (mask[..., 0] > 0).astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE
    )
    cv2.drawContours(rgb, contours, -1, (0, 255, 0), 1)
    return rgb


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--root", default=str(DATA))
    ap.add_argument("--out", default=str(ROOT / "docs" / "images" / "data_augmentation.png"))
    args = ap.parse_args()

    from neuroseg.data import default_augmentation, load_figshare

    ds = load_figshare(args.root, folds=[1])
    picks = ds[[0, 700 % len(ds), 400 % len(ds)]]
    rows = []
    base = next(iter(picks.to_tf_dataset(image_size=192, batch_size=3)))
    columns = [(base[0].numpy(), base[1].numpy())]
    for seed in (1, 2, 3, 4):
        x, y = next(
            iter(
                picks.to_tf_dataset(
                    image_size=192, batch_size=3, augment=default_augmentation(), seed=seed
                )
            )
        )
        columns.append((x.numpy(), y.numpy()))
    for i in range(3):
        rows.append(np.concatenate([_tile(x[i], y[i]) for x, y in columns], axis=1))
    grid = np.concatenate(rows, axis=0)
    header = np.zeros((28, grid.shape[1], 3), np.uint8)
    for j, text in enumerate(["original", "seed 1", "seed 2", "seed 3", "seed 4"]):
        cv2.putText(
            header, text, (j * 192 + 8, 20), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (255, 255, 255), 1
        )
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    cv2.imwrite(args.out, np.concatenate([header, grid], axis=0), [cv2.IMWRITE_PNG_COMPRESSION, 9])
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
