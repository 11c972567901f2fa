"""``neuroseg evaluate``: per-item metrics and a summary on a labelled dataset."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from neuroseg.cli._common import (
    add_data_arguments,
    add_model_argument,
    add_preprocessing_arguments,
    load_data_spec,
    select_groups,
)
from neuroseg.errors import ConfigError

__all__ = ["register", "run"]

_DESCRIPTION = """\
Run a model over a labelled dataset and print the figures as tables.

Segmentation: Dice, IoU, precision, recall and HD95, each per image (mean with a
bootstrap 95 % confidence interval), pooled over all pixels and, when the data has patient
IDs (e.g. lgg), per patient. Beside them the localisation metrics: box IoU (the IoU of the
truth's and the prediction's bounding boxes) and centroid distance (mm with a known pixel
spacing, else pixels), per image and per patient (the mean of its images). Classification:
per-class precision, recall, F1 and support, the confusion matrix, and accuracy, balanced
accuracy, macro F1 and macro ROC AUC with intervals. --json writes the full summary (all
digits); --csv one row per item (with the class probabilities p_<class>, and HD95, box_iou
and centroid_distance per image)."""

_EPILOG = """\
examples:
  neuroseg evaluate --model resunet-lgg --data lgg:../shared/data/lgg-kaggle3m \\
      --groups TCGA_FG_A4MU_20030903 TCGA_HT_7686_19950629 --csv items.csv
  neuroseg evaluate --model classifier-4class --data class-folders:Testing/ \\
      --train-data figshare:../shared/data/figshare-cheng --json eval.json
  neuroseg evaluate --model model.keras --data figshare:PATH --json -   # JSON to stdout"""


def register(sub: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser(
        "evaluate",
        help="evaluate a model on a labelled dataset (tables, per-item CSV, JSON summary)",
        description=_DESCRIPTION,
        epilog=_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_model_argument(p)
    add_data_arguments(p)
    p.add_argument(
        "--json",
        default=None,
        metavar="OUT",
        help="write the full summary JSON here; '-' prints it to standard output instead of "
        "the tables",
    )
    p.add_argument("--csv", default=None, metavar="OUT", help="write per-item rows here")
    p.add_argument(
        "--groups",
        nargs="+",
        default=None,
        metavar="GROUP",
        help="keep only these patients/folds, e.g. --groups fold-4 (a model card's split)",
    )
    p.add_argument(
        "--train-data",
        action="append",
        default=None,
        metavar="FORMAT:PATH",
        help="the model's training data (repeatable): every figure is reported twice, on all "
        "items and on the items with no near-copy in it ('leak_free'), with the counts",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples of the confidence intervals (default 1000)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    p.add_argument("--tta", action="store_true", help="test-time augmentation")
    add_preprocessing_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation."""
    from neuroseg.data import SliceDataset
    from neuroseg.inference import Predictor, evaluate

    if args.bootstrap < 1:
        raise ConfigError(f"--bootstrap must be at least 1, got {args.bootstrap}.")
    dataset = load_data_spec(args.data, args.data_option)
    if args.groups:
        dataset = select_groups(dataset, args.groups, args.data)
    predictor = Predictor(args.model, tta=args.tta, threshold=args.threshold, crop=args.crop)
    train = None
    if args.train_data:
        parts = [load_data_spec(spec, []) for spec in args.train_data]
        train = SliceDataset(
            [r for part in parts for r in part], class_names=dataset.class_names, name="train"
        )
    result = evaluate(
        predictor,
        dataset,
        train_data=train,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        progress=False if getattr(args, "quiet", False) else None,
    )
    if args.csv:
        result.write_csv(args.csv)
    if args.json == "-":
        json.dump(result.to_json(), sys.stdout, indent=2)
        print()
        return 0
    if args.json:
        result.write_json(args.json)
    where = args.data + (f" (groups {' '.join(args.groups)})" if args.groups else "")
    print(f"{args.model} on {where}: {len(result.rows)} items\n")
    print(result.format())
    return 0
