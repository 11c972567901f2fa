"""Score the cross-validation folds trained on the device (scripts/train_zoo_device.sh).

Each validation fold's probability maps (at the training resolution, on the brain crop) are
mapped back onto the slice's own frame exactly as ``Predictor(crop="brain")`` does (the
brain box of the raw slice, resized into it, zero outside) and scored at the slice's own
resolution against its own mask file, with neuroseg's evaluation core (bootstrap 95 %
intervals; per-image Dice counts an empty truth with an empty prediction as 1).

Variants: plain, left-right flip TTA, and post-processing (components below ``min_size``
pixels removed; largest component). For classifiers: accuracy, balanced accuracy, each
class's recall, recall per source, plain and TTA.

    python scripts/score_device_cv.py --zoo /tmp/zoo --out scripts/results/device_cv.json
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg.data import SlicePreprocessor, load_figshare, load_lgg, repeats_one_image
from neuroseg.data.classes import CLASS_NAMES
from neuroseg.inference.postprocess import postprocess_mask
from neuroseg.metrics import dice, evaluate_classification, evaluate_segmentation, precision, recall

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def to_frame(prob: np.ndarray, image: np.ndarray) -> np.ndarray:
    """A crop-resolution probability map (0-255) back onto ``image``'s frame.

    Through the same SlicePreprocessor (brain crop) that packed the slices, so the box is
    the pipeline's own.
    """
    pre = SlicePreprocessor(
        channels=image.shape[-1] if image.ndim == 3 else 1, image_size=prob.shape[:2], crop="brain"
    )
    prepared = pre.prepare(image)
    return pre.invert(prob.astype(np.float32) / 255.0, prepared)


def _seg_variants(
    probs: list[np.ndarray], truths: list[np.ndarray], groups: list[str] | None, ids: list[str]
) -> dict[str, Any]:
    out = {}
    variants = {
        "plain": {},
        "min_size_50": {"min_size": 50},
        "largest_component": {"largest_component": True},
    }
    for name, opts in variants.items():
        preds = np.stack([postprocess_mask(p, threshold=0.5, **opts) for p in probs])
        res = evaluate_segmentation(
            np.stack(truths),
            preds,
            groups=groups,
            ids=ids,
            metrics=("dice", "iou"),
            n_bootstrap=1000,
        )
        out[name] = res.summary
    return out


def _records(cache: Path, dataset: str) -> Any:
    """The dataset's records in the packed order (the pack stores each row's file name)."""
    if dataset == "figshare":
        ds = load_figshare(SHARED / "figshare-cheng")
        key = [Path(str(r.image)).stem for r in ds]
    else:
        ds = load_lgg(SHARED / "lgg-kaggle3m")
        key = [Path(str(r.image)).name for r in ds]
    pos = {k: i for i, k in enumerate(key)}
    rows = np.load(cache / f"{dataset}_index.npy").tolist()
    return ds[[pos[str(k)] for k in rows]]


def score_segmentation(zoo: Path, cache: Path, recipe: str, dataset: str) -> dict[str, Any]:
    ds = _records(cache, dataset)
    images = [r.load_image() for r in ds]
    masks = [r.load_mask() for r in ds]
    result: dict[str, Any] = {"folds": {}}
    pooled: dict[str, list[Any]] = {"plain": [], "tta": []}
    all_idx: list[int] = []
    for fold_dir in sorted((zoo / recipe).glob("fold*")):
        z = np.load(fold_dir / "val.npz")
        idx = z["index"].tolist()
        hist = json.loads((fold_dir / "history.json").read_text())
        fold = {"epochs": hist["epochs_run"], "truncated": hist["truncated"]}
        for key, name in (("prob", "plain"), ("prob_tta", "tta")):
            probs = [to_frame(z[key][k], images[i]) for k, i in enumerate(idx)]
            pooled[name] += probs
            groups = [ds[i].patient_id for i in idx] if dataset == "lgg" else None
            ids = [str(ds[i].image) for i in idx]
            fold[name] = _seg_variants(probs, [masks[i] for i in idx], groups, ids)
        result["folds"][fold_dir.name] = fold
        all_idx += idx
    groups = [ds[i].patient_id for i in all_idx] if dataset == "lgg" else None
    ids = [str(ds[i].image) for i in all_idx]
    if dataset == "lgg":  # each patient's volume Dice, recall and precision, to name failures
        result["patients"] = {}
        patients = sorted({str(ds[i].patient_id) for i in all_idx})
        for name, p in pooled.items():
            result["patients"][name] = {}
            for pid in patients:
                rows = [j for j, i in enumerate(all_idx) if str(ds[i].patient_id) == pid]
                truth = np.stack([masks[all_idx[j]] > 0 for j in rows])
                pred = np.stack([postprocess_mask(p[j]).astype(bool) for j in rows])
                result["patients"][name][pid] = {
                    "dice": float(dice(truth, pred, reduction="pooled")),
                    "recall": float(recall(truth, pred, reduction="pooled")),
                    "precision": float(precision(truth, pred, reduction="pooled")),
                    "slices": len(rows),
                    "tumour_slices": int(truth.any(axis=(1, 2)).sum()),
                    "tumour_pixels": int(truth.sum()),
                    "false_positive_slices": int(
                        (pred.any(axis=(1, 2)) & ~truth.any(axis=(1, 2))).sum()
                    ),
                    # slices whose three sequences are one image (a missing sequence copied)
                    "identical_channel_slices": sum(
                        repeats_one_image(images[all_idx[j]]) for j in rows
                    ),
                }
    result["all_folds"] = {
        name: _seg_variants(p, [masks[i] for i in all_idx], groups, ids)
        for name, p in pooled.items()
    }
    if dataset == "figshare":
        labels = np.array([ds[i].label for i in all_idx])
        per_class = {}
        for name, p in pooled.items():
            per_class[name] = {}
            for c in sorted(set(labels.tolist())):
                sel = np.flatnonzero(labels == c)
                res = evaluate_segmentation(
                    np.stack([masks[all_idx[j]] for j in sel]),
                    np.stack([postprocess_mask(p[j]) for j in sel]),
                    metrics=("dice",),
                    n_bootstrap=500,
                )
                per_class[name][CLASS_NAMES[c]] = res.summary["metrics"]["dice"]
        result["per_class"] = per_class
    return result


def score_classification(
    zoo: Path, cache: Path, recipe: str, key: str = "class_prob"
) -> dict[str, Any]:
    four_class = recipe.startswith("cls")  # the 4-class set; else Figshare's (multi-task)
    labels_all = np.load(cache / "cls_labels.npy") if four_class else None
    origin_all = np.load(cache / "cls_origin.npy") if four_class else None
    if not four_class:
        fig = np.load(cache / "figshare_labels.npy")
        labels_all = fig.astype(int)
        origin_all = np.array(["figshare"] * len(fig))
    ys, ps, ptta, origins = [], [], [], []
    for fold_dir in sorted((zoo / recipe).glob("fold*")):
        z = np.load(fold_dir / "val.npz")
        idx = z["index"]
        ys.append(labels_all[idx])
        ps.append(z[key])
        ptta.append(z[key + "_tta"])
        origins.append(origin_all[idx])
    y = np.concatenate(ys)
    origin = np.concatenate(origins)
    out: dict[str, Any] = {}
    for name, p in (("plain", np.concatenate(ps)), ("tta", np.concatenate(ptta))):
        res = evaluate_classification(y, p, class_names=CLASS_NAMES, n_bootstrap=1000)
        pred = p.argmax(1)
        by_source = {}
        for o in sorted(set(origin.tolist())):
            sel = origin == o
            by_source[o] = {
                "n": int(sel.sum()),
                "accuracy": float((pred[sel] == y[sel]).mean()),
                "recall": {
                    CLASS_NAMES[c]: float((pred[sel & (y == c)] == c).mean())
                    for c in range(4)
                    if (sel & (y == c)).any()
                },
            }
        out[name] = {"summary": res.summary, "by_source": by_source}
    return out


def compare_shipped_classifier(zoo: Path, cache: Path, fold: int = 4) -> dict[str, Any]:
    """The shipped ``classifier-4class`` and the device's fold model on the same fold items.

    Caveat printed with the figures: the shipped model trained on Figshare folds 1-3 and on
    Br35H images hashed into folds 1-3, so some of this fold's Br35H images (dealt by
    near-copy group, not by that hash) were in its training data; its SARTAJ ("kaggle/other")
    images it never saw.
    """
    from neuroseg.data.io import read_image
    from neuroseg.inference import Predictor
    from neuroseg.models import load_pretrained

    index = np.load(cache / "cls_index.npy")
    origin = np.load(cache / "cls_origin.npy")
    labels = np.load(cache / "cls_labels.npy")
    z = np.load(zoo / "cls-cnn" / f"fold{fold}" / "val.npz")
    rows = z["index"]
    new_pred = z["class_prob"].argmax(1)

    def path(i: int) -> Path:
        source = Path(str(index[i]))
        if origin[i] == "figshare":
            return SHARED / "figshare-cheng" / "images" / f"{source.name}.png"
        if str(origin[i]).startswith("kaggle"):
            return SHARED / "kaggle4-training" / source.parent.name / source.name
        return SHARED / "br35h-no-tumor" / source.name

    predictor = Predictor(load_pretrained("classifier-4class"), crop="brain")
    old_pred = []
    for start in range(0, len(rows), 64):
        batch = [read_image(path(int(i))) for i in rows[start : start + 64]]
        old_pred += [int(np.argmax(p.class_probabilities)) for p in predictor.predict(batch)]
    old = np.array(old_pred)
    y = labels[rows]
    o = origin[rows]
    out: dict[str, Any] = {"fold": fold, "n": len(rows), "by_origin": {}, "recall": {}}
    out["accuracy"] = {"shipped": float((old == y).mean()), "device": float((new_pred == y).mean())}
    for name in sorted(set(o.tolist())):
        sel = o == name
        out["by_origin"][name] = {
            "n": int(sel.sum()),
            "shipped": float((old[sel] == y[sel]).mean()),
            "device": float((new_pred[sel] == y[sel]).mean()),
        }
    for c, name in enumerate(CLASS_NAMES):
        sel = y == c
        out["recall"][name] = {
            "shipped": float((old[sel] == c).mean()),
            "device": float((new_pred[sel] == c).mean()),
        }
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--zoo", type=Path, required=True)
    ap.add_argument("--out", type=Path, required=True)
    ap.add_argument("--cache", type=Path, default=Path("/tmp/zoo-cache"), help="the unpacked data")
    ap.add_argument("--recipes", nargs="*", default=None)
    ap.add_argument(
        "--compare-shipped",
        action="store_true",
        help="also score the shipped classifier-4class on the classifier's fold-4 items",
    )
    args = ap.parse_args()
    summary = json.loads((args.zoo / "summary.json").read_text())
    out: dict[str, Any] = {"device_summary": summary}
    for recipe in sorted({k.split("/")[0] for k in summary if "/" in k}):
        if args.recipes and recipe not in args.recipes:
            continue
        if recipe.startswith("fig") or recipe.startswith("mt"):
            out[recipe] = {
                "segmentation": score_segmentation(args.zoo, args.cache, recipe, "figshare")
            }
        elif recipe.startswith("lgg"):
            out[recipe] = {"segmentation": score_segmentation(args.zoo, args.cache, recipe, "lgg")}
        if recipe.startswith("cls") or recipe.startswith("mt"):
            out.setdefault(recipe, {})["classification"] = score_classification(
                args.zoo, args.cache, recipe
            )
        print(recipe, "scored", flush=True)
    if "cls-cnn" in out and args.compare_shipped:
        out["cls-cnn"]["vs_shipped"] = compare_shipped_classifier(args.zoo, args.cache)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(out, indent=1, default=float))


if __name__ == "__main__":
    main()
