"""Pool the 4-class classifier config's held-out folds into one cross-validation.

Every image of the deduplicated combined set (``four-class-combined``) is predicted once,
by the config trained on the other three folds and scored at its last epoch, plain (no
TTA). A fold comes from ``scripts/results/classifier_cv_fold<K>.json``
(``compare_classifiers.py --fold K``, the model labelled ``fold-K-held-out``) or, with
``--card-fold K``, from the card whose ``metrics`` are that fold's held-out estimate (the
card of ``classifier-4class``, trained on every fold, holds fold 4's).

Pooling is by counts. Each fold's confusion matrix (rows: truth) is summed, and the pooled
figures with their 95 % bootstrap intervals over images come from
``neuroseg.metrics.evaluate_classification`` on the labels that matrix holds. Per source,
a class's hits on a fold are its recall times its support, the support counted here from
the data; the script stops if a product is not a whole number. ROC-AUC and calibration
need each image's probabilities, which the fold-4 card does not keep, so they are not
pooled. Mean ± std over the folds uses the population standard deviation (``ddof=0``),
as the Results page does.

    python scripts/pool_classifier_cv.py --card-fold 4 \
        --card src/neuroseg/models/weights/classifier-4class.json \
        --json scripts/results/classifier_cv.json --write-card

``--write-card`` stores the result in the card as ``metrics["cross_validation"]``
(``package_pretrained.py --pooled-cv`` does the same when the model is packaged again).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared" / "data"
RESULTS = ROOT / "scripts" / "results"
CARD = ROOT / "src" / "neuroseg" / "models" / "weights" / "classifier-4class.json"
ORIGINALS = ["figshare", "br35h-no-tumor"]


def fold_figures(args: argparse.Namespace, fold: int) -> dict[str, Any]:
    """One fold's held-out figures: n, accuracy, recall, confusion matrix, recall by source."""
    if fold == args.card_fold:
        m = json.loads(args.card.read_text())["metrics"]
        c = m["classification"]
        return {
            "n": c["n"],
            "accuracy": c["accuracy"],
            "balanced_accuracy": c["balanced_accuracy"],
            "recall": {k: v["recall"] for k, v in c["per_class"].items()},
            "confusion_matrix": c["confusion_matrix"],
            "by_source": m["by_source"],
            "scored": f"{args.card.name}: metrics (the held-out estimate)",
        }
    path = RESULTS / f"classifier_cv_fold{fold}.json"
    if not path.is_file():
        raise SystemExit(f"{path}: missing; score fold {fold} with compare_classifiers.py first")
    m = json.loads(path.read_text())["models"][f"fold-{fold}-held-out"]
    if "confusion_matrix" not in m:
        raise SystemExit(
            f"{path}: no confusion_matrix; score the fold again with compare_classifiers.py"
        )
    keys = ("accuracy", "balanced_accuracy", "recall", "confusion_matrix", "by_source")
    return (
        {"n": int(np.sum(m["confusion_matrix"]))}
        | {k: m[k] for k in keys}
        | {"scored": f"{path.relative_to(ROOT)}: fold-{fold}-held-out"}
    )


def hits(recall: float, support: int, where: str) -> int:
    """A recall's numerator, given its denominator; stops unless it is a whole number."""
    h = recall * support
    if abs(h - round(h)) > 0.05:
        raise SystemExit(f"{where}: recall {recall} of {support} images is not a whole count")
    return round(h)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--folds", type=int, nargs="+", default=[1, 2, 3, 4])
    ap.add_argument("--card-fold", type=int, default=None, help="the fold the card holds")
    ap.add_argument("--card", type=Path, default=CARD)
    ap.add_argument("--json", type=Path, default=RESULTS / "classifier_cv.json")
    ap.add_argument("--write-card", action="store_true", help="store it in --card")
    args = ap.parse_args()
    if args.write_card and sorted(args.folds) != [1, 2, 3, 4]:
        ap.error("--write-card needs all four folds: the card's figure is the whole CV")

    from package_pretrained import round_floats  # this script's folder is on sys.path

    from neuroseg.data import load_four_class_combined, near_copy_origins
    from neuroseg.metrics import evaluate_classification, jsonable

    ds = load_four_class_combined(
        SHARED / "figshare-cheng", SHARED / "kaggle4-training", SHARED / "br35h-no-tumor"
    )
    names = list(ds.class_names)
    origins = np.array(near_copy_origins(ds, originals=ORIGINALS))
    fold_of = np.array([r.fold for r in ds])
    labels = np.asarray(ds.labels)

    folds = {k: fold_figures(args, k) for k in args.folds}
    total = np.zeros((len(names), len(names)), dtype=np.int64)
    sources: dict[str, dict[str, list[int]]] = {}  # source -> class -> [hits, support]
    for k, f in folds.items():
        at = fold_of == k
        cm = np.asarray(f["confusion_matrix"], dtype=np.int64)
        if (
            int(at.sum()) != f["n"]
            or cm.sum(axis=1).tolist() != np.bincount(labels[at], minlength=len(names)).tolist()
        ):
            raise SystemExit(f"fold {k}: its figures do not count the images of fold {k} here")
        total += cm
        for src, v in f["by_source"].items():
            here = at & (origins == src)
            if int(here.sum()) != v["n"]:
                raise SystemExit(f"fold {k}: {v['n']} images of {src}, not as counted here")
            for cls, recall in v["recall"].items():
                support = int(np.sum(here & (labels == names.index(cls))))
                h = hits(recall, support, f"fold {k}, {src}, {cls}")
                pair = sources.setdefault(src, {}).setdefault(cls, [0, 0])
                pair[0] += h
                pair[1] += support

    # the pooled labels: one (truth, prediction) pair per image, as the matrix counts them
    t = np.repeat(np.arange(len(names)).repeat(len(names)), total.ravel())
    p = np.repeat(np.tile(np.arange(len(names)), len(names)), total.ravel())
    summary = evaluate_classification(t, p, class_names=names, n_bootstrap=1000).summary
    keep = ("n", "class_names", "accuracy", "balanced_accuracy", "per_class", "macro")
    pooled = {k: summary[k] for k in keep} | {
        "confusion_matrix": total.tolist(),
        "ci": summary["ci"],
        "recall_ci": summary["recall_ci"],
        "bootstrap": summary["bootstrap"],
    }
    for cls in pooled["per_class"].values():  # no scores were pooled: no ROC-AUC
        cls.pop("roc_auc", None)
    by_source = {
        src: {
            "n": sum(s for _, s in v.values()),
            "accuracy": sum(h for h, _ in v.values()) / sum(s for _, s in v.values()),
            "recall": {cls: h / s for cls, (h, s) in sorted(v.items())},
        }
        for src, v in sorted(sources.items())
    }

    def spread(values: list[float]) -> dict[str, float]:
        return {"mean": float(np.mean(values)), "std": float(np.std(values))}

    out = {
        "data": (
            "the 4 folds of the combined set, each held out once"
            if len(folds) == 4
            else "folds " + ", ".join(map(str, folds)) + " of the 4 of the combined set"
        )
        + " (four-class-combined, near-copies grouped into folds): every image predicted by "
        "the config trained on the other three folds, its last epoch, plain (no TTA)",
        "config": "examples/configs/classifier_4class_combined.toml",
        "n_images": int(total.sum()),
        "card_fold": args.card_fold,  # the fold whose figures the card's metrics hold
        "classification": pooled,
        "by_source": by_source,
        "folds": {
            f"fold{k}": {
                "n": f["n"],
                "accuracy": f["accuracy"],
                "balanced_accuracy": f["balanced_accuracy"],
                "recall": f["recall"],
                "accuracy_by_source": {s: v["accuracy"] for s, v in f["by_source"].items()},
                "scored": f["scored"],
            }
            for k, f in folds.items()
        },
        "over_folds": {
            "std": "population standard deviation over the folds, ddof=0",
            "accuracy": spread([f["accuracy"] for f in folds.values()]),
            "balanced_accuracy": spread([f["balanced_accuracy"] for f in folds.values()]),
            "recall": {c: spread([f["recall"][c] for f in folds.values()]) for c in names},
        },
        "not_pooled": "ROC-AUC and calibration: they need each image's probabilities, "
        "which the fold-4 card does not keep",
    }
    out = round_floats(jsonable(out))
    args.json.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {args.json}")
    c = out["classification"]
    lo, hi = c["ci"]["accuracy"]
    print(f"pooled accuracy {c['accuracy']:.4f} ({lo:.3f}-{hi:.3f}) over {c['n']} images")
    for name in names:
        print(f"  recall {name}: {c['per_class'][name]['recall']:.4f}")
    for src, v in out["by_source"].items():
        print(f"  {src}: {v['n']} images, accuracy {v['accuracy']:.4f}")
    if args.write_card:
        card = json.loads(args.card.read_text())
        card["metrics"]["cross_validation"] = out
        args.card.write_text(json.dumps(card, indent=2) + "\n")
        print(f"wrote {args.card} (metrics.cross_validation)")


if __name__ == "__main__":
    main()
