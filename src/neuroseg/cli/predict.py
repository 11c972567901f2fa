"""``neuroseg predict``: masks, class probabilities, areas and pictures for new scans."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.cli._common import add_model_argument, add_preprocessing_arguments

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``predict`` subcommand."""
    p = sub.add_parser(
        "predict",
        help="predict tumour masks / classes for image files, NIfTI volumes or Figshare .mat",
        description="Predict on each INPUT (PNG/JPEG/TIFF, NIfTI .nii/.nii.gz, Figshare .mat, "
        "or a folder of them). Writes masks at each input's own size, predictions.json "
        "(areas in pixels and mm², volumes, class probabilities) and optional pictures.",
    )
    add_model_argument(p)
    p.add_argument("inputs", nargs="+", metavar="INPUT", help="files or folders")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--tta", action="store_true", help="average over flips and 90° rotations")
    p.add_argument("--overlay", action="store_true", help="write overlay, side-by-side, montage")
    p.add_argument("--gradcam", action="store_true", help="write Grad-CAM overlays")
    p.add_argument(
        "--gradcam-layer",
        default=None,
        help="layer for Grad-CAM (default: last feature layer before the head)",
    )
    add_preprocessing_arguments(p)
    p.add_argument("--min-size", type=int, default=0, help="drop components under N pixels")
    p.add_argument("--largest-component", action="store_true", help="keep the largest only")
    p.add_argument("--fill-holes", action="store_true", help="fill holes in the masks")
    p.add_argument("--batch-size", type=int, default=8, help="images per model call")
    p.set_defaults(handler=run)


def _expand(inputs: list[str]) -> list[Path]:
    from neuroseg.errors import EmptyDatasetError, ReadError
    from neuroseg.inference import IMAGE_SUFFIXES, NIFTI_SUFFIXES

    files: list[Path] = []
    for item in inputs:
        p = Path(item)
        if p.is_dir():
            found = sorted(
                f
                for f in p.iterdir()
                if f.is_file()
                and (
                    f.suffix.lower() in (*IMAGE_SUFFIXES, ".mat")
                    or any(f.name.lower().endswith(s) for s in NIFTI_SUFFIXES)
                )
            )
            if not found:
                raise EmptyDatasetError(f"{p}: no image, NIfTI or .mat file in this folder.")
            files += found
        elif p.is_file():
            files.append(p)
        else:
            raise ReadError(f"{p}: no such file or folder.")
    return files


def _stem(path: Path, used: set[str]) -> str:
    name = path.name
    for suffix in (".nii.gz", ".nii"):
        if name.lower().endswith(suffix):
            name = name[: -len(suffix)]
            break
    else:
        name = path.stem
    stem, i = name, 1
    while stem in used:
        i += 1
        stem = f"{name}-{i}"
    used.add(stem)
    return stem


def run(args: argparse.Namespace) -> int:
    """Run the prediction."""
    import cv2

    from neuroseg.data import CLASS_NAMES
    from neuroseg.inference import (
        Predictor,
        grad_cam,
        heatmap_overlay,
        montage,
        overlay_contours,
        read_scan,
        save_png,
        side_by_side,
    )

    files = _expand(args.inputs)
    predictor = Predictor(
        args.model,
        threshold=args.threshold,
        crop=args.crop,
        tta=args.tta,
        batch_size=args.batch_size,
        min_size=args.min_size,
        largest_component=args.largest_component,
        fill_holes=args.fill_holes,
    )
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    names = list(CLASS_NAMES) if predictor.num_classes == len(CLASS_NAMES) else None
    used: set[str] = set()
    results: list[dict[str, Any]] = []
    overlays: list[np.ndarray] = []
    for path in files:
        scan = read_scan(path)
        pred = predictor.predict(scan)[0]
        stem = _stem(path, used)
        entry = pred.summary()
        if names is not None and pred.label is not None:
            entry["label_name"] = names[pred.label]
        # The slice shown in pictures: for a volume, the one with the largest prediction.
        k = 0
        if scan.is_volume:
            if pred.mask is not None and pred.mask.any():
                k = int(np.argmax(pred.mask.sum(axis=(0, 1))))
            else:
                k = scan.image.shape[2] // 2
            entry["picture_slice"] = k
        image = scan.slices[k]
        mask2d = None
        if pred.mask is not None:
            mask2d = pred.mask[:, :, k] if scan.is_volume else pred.mask
            if scan.is_volume:
                from neuroseg._optional import require

                nib = require("nibabel", extra="nifti", purpose="writing NIfTI masks")
                affine = scan.meta.get("affine", np.eye(4))
                mpath = out / "masks" / f"{stem}_mask.nii.gz"
                mpath.parent.mkdir(parents=True, exist_ok=True)
                nib.save(nib.Nifti1Image(pred.mask.astype(np.uint8), affine), str(mpath))
            else:
                mpath = out / "masks" / f"{stem}.png"
                mpath.parent.mkdir(parents=True, exist_ok=True)
                cv2.imwrite(str(mpath), pred.mask * np.uint8(255))
            entry["mask_file"] = str(mpath)
        truth2d = None
        if scan.truth is not None:
            truth2d = scan.truth[:, :, k] if scan.is_volume else scan.truth
        if args.overlay:
            rgb = overlay_contours(image, truth2d, mask2d)
            entry["overlay"] = str(save_png(out / "overlays" / f"{stem}.png", rgb))
            pair = side_by_side(image, truth2d, mask2d)
            entry["side_by_side"] = str(save_png(out / "side_by_side" / f"{stem}.png", pair))
            overlays.append(rgb)
        if args.gradcam:
            x = predictor.preprocess(image, source=str(path))[None]
            heat = grad_cam(predictor.model, x, layer_name=args.gradcam_layer)[0]
            cam = heatmap_overlay(image, heat)
            if mask2d is not None:
                cam = overlay_contours(cam, truth2d, mask2d)
            entry["gradcam"] = str(save_png(out / "gradcam" / f"{stem}.png", cam))
        results.append(entry)
        print(json.dumps({k: v for k, v in entry.items() if k != "class_probabilities"}))
    if overlays:
        save_png(out / "montage.png", montage(overlays, cols=4, size=256))
    doc = {
        "model": str(args.model),
        "task": predictor.task,
        "tta": args.tta,
        "threshold": predictor.threshold,
        "predictions": results,
    }
    (out / "predictions.json").write_text(json.dumps(doc, indent=2) + "\n")
    print(f"{len(results)} prediction(s) written to {out}")
    return 0
