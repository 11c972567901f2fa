"""Pack the shared training data for the device machine (JAX, no TensorFlow, <= 64 MiB a call).

Every slice goes through neuroseg's own pipeline (``to_tf_dataset``: crop to the brain,
bilinear antialiased resize, per-slice min-max), so what the device trains on is exactly
what ``Predictor(crop="brain")`` feeds the model, up to the storage below. Images are
stored as 8-bit WebP (quality 95, about one grey level of mean error, a third of the size
of lossless PNG); masks as bit-packed 0/1 (lossless). Folds:

- ``figshare``: the authors' patient-wise ``cv_fold`` 1-4;
- ``lgg``: patients dealt into 5 folds by ``group_kfold`` (seed 0), balancing slices;
- ``cls-extra``: the Kaggle 4-class ``Training/`` images and Br35H, with folds from
  ``combine_deduplicated`` (near-copies of a Figshare slice join its fold; the other
  near-copy groups are dealt stratified by class), plus each image's origin.

    python scripts/pack_device_data.py --out .device/data [--limit 24]
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

import cv2
import numpy as np

from neuroseg.data import (
    SliceDataset,
    group_kfold,
    load_figshare,
    load_four_class_combined,
    load_lgg,
    near_copy_origins,
)
from neuroseg.data.classes import CLASS_NAMES

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def _arrays(ds: SliceDataset, task: str, size: int, channels: int) -> tuple[np.ndarray, np.ndarray]:
    tfds = ds.to_tf_dataset(
        task, image_size=size, crop="brain", channels=channels, batch_size=64, shuffle=False
    )
    xs, ys = [], []
    for x, y in tfds:
        xs.append(np.round(np.clip(x.numpy(), 0, 1) * 255).astype(np.uint8))
        ys.append(y.numpy())
    return np.concatenate(xs), np.concatenate(ys)


def _encode(images: np.ndarray, quality: int) -> tuple[np.ndarray, np.ndarray]:
    """WebP-encode every channel plane; return one byte buffer and the offsets."""
    chunks, offsets = [], [0]
    for im in images:
        for c in range(im.shape[-1]):
            ok, buf = cv2.imencode(".webp", im[..., c], [cv2.IMWRITE_WEBP_QUALITY, quality])
            assert ok
            chunks.append(buf.ravel())
            offsets.append(offsets[-1] + buf.size)
    return np.concatenate(chunks), np.array(offsets, dtype=np.int64)


def _save(path: Path, images: np.ndarray, quality: int, **arrays: np.ndarray) -> None:
    data, offsets = _encode(images, quality)
    np.savez_compressed(path, webp=data, offsets=offsets, shape=np.array(images.shape), **arrays)
    print(
        f"{path.name}: {len(images)} slices {images.shape[1:]}, {path.stat().st_size / 1e6:.1f} MB"
    )


def pack_figshare(out: Path, size: int, limit: int | None) -> SliceDataset:
    ds = load_figshare(SHARED / "figshare-cheng")
    if limit:
        ds = ds[np.linspace(0, len(ds) - 1, limit).astype(int)]
    x, y = _arrays(ds, "segmentation", size, 1)
    _save(
        out / "figshare.npz",
        x,
        95,
        masks=np.packbits(y[..., 0].astype(bool), axis=-1),
        labels=ds.labels.astype(np.int8),
        folds=np.array([r.fold for r in ds], np.int8),
        index=np.array([Path(str(r.image)).stem for r in ds]),
    )
    return ds


def pack_lgg(out: Path, size: int, limit: int | None) -> None:
    ds = load_lgg(SHARED / "lgg-kaggle3m")
    if limit:
        keep = [p for p in ds.patients[:6]]
        ds = ds.filter(lambda r: r.patient_id in keep)
        ds = ds[np.linspace(0, len(ds) - 1, limit).astype(int)]
    k = 5 if len(ds.patients) >= 5 else 2
    folds = np.zeros(len(ds), np.int8)
    for f, (_, test) in enumerate(group_kfold(ds, k, seed=0)):
        folds[test] = f + 1
    x, y = _arrays(ds, "segmentation", size, 3)
    _save(
        out / "lgg.npz",
        x,
        95,
        masks=np.packbits(y[..., 0].astype(bool), axis=-1),
        folds=folds,
        patients=np.array([r.patient_id for r in ds]),
        index=np.array([Path(str(r.image)).name for r in ds]),
    )


def pack_classification(out: Path, size: int, limit: int | None) -> None:
    t = time.time()
    combined = load_four_class_combined(
        SHARED / "figshare-cheng", SHARED / "kaggle4-training", SHARED / "br35h-no-tumor"
    )
    datasets = np.array([r.meta["dataset"] for r in combined])
    groups = np.array([r.meta["near_copy_group"] for r in combined])
    print(f"near-copies: {len(np.unique(groups))} groups ({time.time() - t:.0f} s)")
    # the labels of the packed data: "kaggle/figshare-copy", "kaggle/br35h-copy", ...
    origin = [
        o.replace("kaggle4-training/", "kaggle/").replace("br35h-no-tumor-copy", "br35h-copy")
        for o in near_copy_origins(combined, originals=["figshare", "br35h-no-tumor"])
    ]
    origin_arr = np.array(origin)
    folds = np.array([r.fold for r in combined], np.int8)
    extra = np.flatnonzero(datasets != "figshare")
    fig_rows = np.flatnonzero(datasets == "figshare")
    if limit:
        extra = extra[np.linspace(0, len(extra) - 1, limit).astype(int)]
        fig_rows = fig_rows[np.linspace(0, len(fig_rows) - 1, limit).astype(int)]
    ex = combined[extra]
    x, _ = _arrays(ex, "classification", size, 1)
    _save(
        out / "cls_extra.npz",
        x,
        90,
        labels=ex.labels.astype(np.int8),
        folds=folds[extra],
        groups=groups[extra],
        origin=origin_arr[extra],
        index=np.array([str(r.source or r.image) for r in ex]),
    )
    # the Figshare images at the classifier's size, so a classifier call need not carry
    # the segmentation pack (figshare.npz): the tree and the whole pack exceed 64 MiB
    figs = combined[fig_rows]
    xf, _ = _arrays(figs, "classification", size, 1)
    _save(
        out / "cls_figshare.npz",
        xf,
        90,
        labels=figs.labels.astype(np.int8),
        folds=folds[fig_rows],
        groups=groups[fig_rows],
        index=np.array([Path(str(r.image)).stem for r in figs]),
    )
    summary = {
        "groups": len(np.unique(groups)),
        "by_fold_class_origin": {},
    }
    labels = combined.labels
    for f in range(1, 5):
        for c, name in enumerate(CLASS_NAMES):
            for o in sorted(set(origin)):
                n = int(((folds == f) & (labels == c) & (origin_arr == o)).sum())
                if n:
                    summary["by_fold_class_origin"][f"{f}/{name}/{o}"] = n
    (out / "cls_summary.json").write_text(json.dumps(summary, indent=1))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--out", type=Path, default=Path(".device/data"))
    ap.add_argument("--seg-size", type=int, default=160)
    ap.add_argument("--cls-size", type=int, default=128)
    ap.add_argument("--limit", type=int, default=None, help="a small subset, for a dry run")
    ap.add_argument("--only", nargs="*", default=["figshare", "lgg", "cls"])
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    if "figshare" in args.only:
        pack_figshare(args.out, args.seg_size, args.limit)
    if "lgg" in args.only:
        pack_lgg(args.out, args.seg_size, args.limit)
    if "cls" in args.only:
        pack_classification(args.out, args.cls_size, args.limit)
    (args.out / "pack.json").write_text(
        json.dumps({"seg_size": args.seg_size, "cls_size": args.cls_size, "limit": args.limit})
    )


if __name__ == "__main__":
    main()
