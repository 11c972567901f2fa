"""``neuroseg evaluate``: per-item metrics and a summary on a labelled dataset."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from neuroseg.cli._common import (
    add_data_arguments,
    add_groups_argument,
    add_model_argument,
    add_postprocessing_arguments,
    add_preprocessing_arguments,
    add_tta_argument,
    load_data_spec,
    postprocessing_options,
    select_groups,
    tta_option,
)
from neuroseg.errors import ConfigError

__all__ = ["format_reliability", "register", "run"]

_DESCRIPTION = """\
Run a model over a labelled dataset and print the figures as tables.

Segmentation: Dice, IoU, precision, recall and HD95, each per image (mean with a
bootstrap 95 % confidence interval), pooled over all pixels and, when the data has patient
IDs (e.g. lgg), per patient. Beside them the localisation metrics: box IoU (the IoU of the
truth's and the prediction's bounding boxes) and centroid distance (mm with a known pixel
spacing, else pixels), per image and per patient (the mean of its images). When the records
carry class labels (e.g. figshare's tumour types), Dice, IoU, precision and recall again for
each true class (summary.by_class; the CSV's true_class column). Classification:
per-class precision, recall, F1 and support, the confusion matrix, and accuracy, balanced
accuracy, macro F1 and macro ROC AUC with intervals, and the calibration: expected and
maximum calibration error (ECE, MCE), Brier score and the reliability curve (accuracy
against confidence per bin; --reliability-picture draws it). --json writes the full summary
(all digits; the curve under summary.classification.reliability); --csv one row per item
(with the class probabilities p_<class>, and HD95, box_iou and centroid_distance per
image). --min-size, --largest-component and --fill-holes clean the predicted masks before
they are scored, as neuroseg predict does."""

_EPILOG = """\
examples:
  neuroseg evaluate --model resunet-lgg --data lgg:../shared/data/lgg-kaggle3m \\
      --groups TCGA_FG_A4MU_20030903 TCGA_HT_7686_19950629 --csv items.csv
  neuroseg evaluate --model classifier-4class --data class-folders:Testing/ \\
      --train-data figshare:../shared/data/figshare-cheng --json eval.json \\
      --reliability-picture reliability.png
  neuroseg evaluate --model classifier-4class --data class-folders:Testing/ \\
      --train-data four-class-combined:../shared/data/figshare-cheng \\
      --train-data-option kaggle_root=../shared/data/kaggle4-training \\
      --train-data-option no_tumor_root=../shared/data/br35h-no-tumor
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
        "--reliability-picture",
        default=None,
        metavar="PNG",
        help="a classifier's reliability diagram (accuracy per confidence bin against the "
        "diagonal, with the ECE) as a PNG here",
    )
    add_groups_argument(p, purpose="a model card's split")
    p.add_argument(
        "--train-data",
        action="append",
        default=None,
        metavar="FORMAT:PATH",
        help="the model's training data (repeatable): every figure is reported twice, on all "
        "items and on the items with no near-copy in it ('leak_free'), with the counts",
    )
    p.add_argument(
        "--train-groups",
        nargs="+",
        default=None,
        metavar="GROUP",
        help="keep only these patients/folds of the --train-data, e.g. --train-groups fold-1 "
        "fold-2 fold-3 (a model trained with fold 4 held out)",
    )
    p.add_argument(
        "--train-data-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a loader option for every --train-data (repeatable), e.g. for "
        "four-class-combined: kaggle_root=PATH and no_tumor_root=PATH",
    )
    p.add_argument(
        "--bootstrap",
        type=int,
        default=1000,
        metavar="N",
        help="bootstrap resamples of the confidence intervals (default 1000)",
    )
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap (default 0)")
    add_tta_argument(p)
    add_preprocessing_arguments(p)
    add_postprocessing_arguments(p)
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the evaluation."""
    from neuroseg.data import SliceDataset
    from neuroseg.inference import Predictor, evaluate

    if args.bootstrap < 1:
        raise ConfigError(f"--bootstrap must be at least 1, got {args.bootstrap}.")
    for flag, value in (
        ("--train-data-option", args.train_data_option),
        ("--train-groups", args.train_groups),
    ):
        if value and not args.train_data:
            raise ConfigError(f"{flag} applies to --train-data; give --train-data too.")
    dataset = load_data_spec(args.data, args.data_option)
    if args.groups:
        dataset = select_groups(dataset, args.groups, args.data)
    predictor = Predictor(
        args.model,
        tta=tta_option(args.tta),
        threshold=args.threshold,
        crop=args.crop,
        **postprocessing_options(args),
    )
    train = None
    if args.train_data:
        parts = [load_data_spec(spec, args.train_data_option) for spec in args.train_data]
        train = SliceDataset(
            [r for part in parts for r in part], class_names=dataset.class_names, name="train"
        )
        if args.train_groups:
            train = select_groups(
                train, args.train_groups, " + ".join(args.train_data), flag="--train-groups"
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
    curve = (result.summary.get("classification") or {}).get("reliability")
    if args.reliability_picture:
        if curve is None:
            raise ConfigError(
                "--reliability-picture needs a classifier (or multi-task model) with class "
                f"probabilities; {args.model} is a {result.task} model."
            )
        from neuroseg.inference.pictures import reliability_picture, save_png

        title = f"{args.model} on {args.data} ({len(result.rows)} items)"
        save_png(
            args.reliability_picture, reliability_picture([curve], names=["model"], title=title)
        )
    if args.json == "-":
        json.dump(result.to_json(), sys.stdout, indent=2)
        print()
        return 0
    if args.json:
        result.write_json(args.json)
    where = args.data + (f" (groups {' '.join(args.groups)})" if args.groups else "")
    print(f"{args.model} on {where}: {len(result.rows)} items\n")
    print(result.format())
    if curve is not None:
        print("\n" + format_reliability(curve))
    if args.reliability_picture:
        print(f"\nwrote {args.reliability_picture}")
    return 0


def format_reliability(curve: dict[str, Any]) -> str:
    """The reliability curve's non-empty bins as a table (from its ``to_dict`` form).

    Example:
        >>> from neuroseg.metrics import reliability_curve
        >>> c = reliability_curve([0, 1, 1, 0], [0.9, 0.8, 0.6, 0.3], n_bins=5)
        >>> print(format_reliability(c.to_dict()))  # doctest: +NORMALIZE_WHITESPACE
        reliability (top-class confidence in 5 bins; empty bins left out)
        confidence  n  accuracy  mean confidence      gap
        0.4-0.6     1     1.000           0.6000   0.4000
        0.6-0.8     2     1.000           0.7500   0.2500
        0.8-1.0     1     0.000           0.9000  -0.9000
    """
    from neuroseg.tables import format_table

    edges, rows = curve["edges"], []
    # tenths where every edge is one (5 or 10 bins), else hundredths (15 bins: 0.47-0.53)
    places = 1 if all(abs(e * 10 - round(e * 10)) < 1e-6 for e in edges) else 2
    for b, n in enumerate(curve["counts"]):
        if n:
            acc, conf = curve["accuracy"][b], curve["confidence"][b]
            label = f"{edges[b]:.{places}f}-{edges[b + 1]:.{places}f}"
            rows.append([label, int(n), acc, conf, acc - conf])
    head = f"reliability (top-class confidence in {len(curve['counts'])} bins; empty bins left out)"
    table = format_table(rows, header=["confidence", "n", "accuracy", "mean confidence", "gap"])
    return head + "\n" + table
