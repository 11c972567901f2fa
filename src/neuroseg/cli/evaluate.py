"""``neuroseg evaluate``: per-item metrics and a summary on a labelled dataset."""

from __future__ import annotations

import argparse
import json
from typing import Any

from neuroseg.cli._common import (
    add_data_arguments,
    add_model_argument,
    add_preprocessing_arguments,
    load_data_spec,
)
from neuroseg.errors import ConfigError

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``evaluate`` subcommand."""
    p = sub.add_parser(
        "evaluate",
        help="evaluate a model on a labelled dataset (per-item CSV and a JSON summary)",
        description="Segmentation: Dice, IoU, precision, recall (per-image means, pooled, "
        "per patient). Classification: accuracy, balanced accuracy, confusion matrix.",
    )
    add_model_argument(p)
    add_data_arguments(p)
    p.add_argument("--json", default=None, metavar="OUT", help="write the summary JSON here")
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
    p.add_argument("--tta", action="store_true", help="test-time augmentation")
    add_preprocessing_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation."""
    from neuroseg.data import SliceDataset
    from neuroseg.inference import Predictor, evaluate

    dataset = load_data_spec(args.data, args.data_option)
    if args.groups:
        wanted = set(args.groups)
        present = {r.group for r in dataset}
        unknown = sorted(wanted - present)
        if unknown:
            shown = sorted(str(g) for g in present)
            listed = ", ".join(shown[:20]) + (" ..." if len(shown) > 20 else "")
            raise ConfigError(f"--groups {unknown} not in {args.data}; its groups: {listed}.")
        dataset = dataset.filter(lambda r: r.group in wanted)
    predictor = Predictor(args.model, tta=args.tta, threshold=args.threshold, crop=args.crop)
    train = None
    if args.train_data:
        parts = [load_data_spec(spec, []) for spec in args.train_data]
        train = SliceDataset(
            [r for part in parts for r in part], class_names=dataset.class_names, name="train"
        )
    result = evaluate(predictor, dataset, train_data=train)
    if args.json:
        result.write_json(args.json)
    if args.csv:
        result.write_csv(args.csv)
    summary = {k: v for k, v in result.summary.items() if k != "dice_by_patient"}
    print(
        json.dumps({"task": result.task, "n_items": len(result.rows), "summary": summary}, indent=2)
    )
    return 0
