"""Compare 4-class classifiers on one fold of the deduplicated combined set, by source.

Every model predicts the same items: one fold of ``four-class-combined`` (Figshare +
Kaggle ``Training/`` + Br35H, near-copies grouped into folds). Figures are overall (accuracy
with a 95 % bootstrap interval, balanced accuracy, per-class recall, the confusion matrix with
a row per true class) and per source, where a Kaggle image that is a near-copy of a Figshare
or Br35H image is counted apart from the Kaggle images with no copy
(``kaggle4-training/other``).

    python scripts/compare_classifiers.py --model previous=PREVIOUS/classifier-4class.keras \
        --model current=runs/classifier-4class-fold4/last.keras --tta flip \
        --json scripts/results/classifiers_fold4.json

A model trained on other folds of another split (the shipped ``classifier-4class`` dealt
Br35H into folds by file-name hash) may have seen some of these items in training: say so
next to its column.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--model",
        action="append",
        required=True,
        metavar="[LABEL=]MODEL",
        help="a pretrained name or .keras path, optionally labelled",
    )
    ap.add_argument("--fold", type=int, default=4)
    ap.add_argument("--tta", choices=["flip", "all"], default=None, help="also score with this TTA")
    ap.add_argument("--json", type=Path, default=None)
    args = ap.parse_args()

    from neuroseg.data import load_four_class_combined, near_copy_origins
    from neuroseg.inference import Predictor
    from neuroseg.metrics import evaluate_classification, recall_by_group

    ds = load_four_class_combined(
        SHARED / "figshare-cheng", SHARED / "kaggle4-training", SHARED / "br35h-no-tumor"
    )
    # origins over the whole set (a near-copy group is whole there), then the fold's items
    keep = np.flatnonzero([r.fold == args.fold for r in ds])
    data = ds[keep]
    origins = np.array(near_copy_origins(ds, originals=["figshare", "br35h-no-tumor"]))[keep]
    names = list(ds.class_names)
    y_true = data.labels
    out: dict = {"fold": args.fold, "n": len(data), "models": {}}
    for spec in args.model:
        label, _, model = spec.rpartition("=")
        label = label or model
        for tta in (False, args.tta) if args.tta else (False,):
            preds = Predictor(model, tta=tta).predict(data)
            probs = np.stack([np.asarray(p.class_probabilities) for p in preds])
            summary = evaluate_classification(y_true, probs, class_names=names).summary
            key = label + (f" +tta {tta}" if tta else "")
            out["models"][key] = {
                "accuracy": summary["accuracy"],
                "accuracy_ci": summary["ci"]["accuracy"],
                "balanced_accuracy": summary["balanced_accuracy"],
                "recall": {c: summary["per_class"][c]["recall"] for c in names},
                "confusion_matrix": summary["confusion_matrix"],
                "by_source": recall_by_group(y_true, probs, origins.tolist(), class_names=names),
            }
            lo, hi = summary["ci"]["accuracy"]
            print(f"{key}: accuracy {summary['accuracy']:.4f} ({lo:.3f}-{hi:.3f})")
    keys = list(out["models"])
    print(f"\n| source | images | {' | '.join(keys)} |")
    print("|---|---|" + "---|" * len(keys))
    for src, v in out["models"][keys[0]]["by_source"].items():
        cells = [f"{out['models'][k]['by_source'][src]['accuracy']:.3f}" for k in keys]
        print(f"| {src} | {v['n']} | {' | '.join(cells)} |")
    cells = [f"{out['models'][k]['accuracy']:.3f}" for k in keys]
    print(f"| all | {len(data)} | {' | '.join(cells)} |")
    for c in names:
        cells = [f"{out['models'][k]['recall'][c]:.3f}" for k in keys]
        print(f"| recall {c} | {int((y_true == names.index(c)).sum())} | {' | '.join(cells)} |")
    if args.json:
        args.json.write_text(json.dumps(out, indent=2) + "\n")
        print(f"wrote {args.json}")


if __name__ == "__main__":
    main()
