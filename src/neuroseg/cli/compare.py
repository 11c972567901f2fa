"""``neuroseg compare``: the paired difference of two evaluations of the same items."""

from __future__ import annotations

import argparse
import csv
import json
import sys
from pathlib import Path
from typing import Any

from neuroseg.errors import ConfigError, EmptyDatasetError, ReadError, WriteError

__all__ = ["format_comparison", "read_table", "register", "run"]

_DESCRIPTION = """\
Compare two per-item tables written by `neuroseg evaluate --csv` on the same data (two \
models, or one model with two settings: --threshold, --tta). Items are matched by their \
source; for every metric the command prints both means, the mean difference B - A with a \
percentile bootstrap interval (items, or with --unit group the tables' group column, drawn \
once for both), and on how many items B is higher, lower or equal; then the same per \
true class. Pairs with an empty cell on either side (an HD95 where a mask is empty) are \
left out and counted.

Two separate confidence intervals overlap even when one model is better on nearly every \
image; the paired interval is the one that says whether a change helped. For HD95 and the \
centroid distance a negative difference is an improvement."""

_EPILOG = """\
examples:
  neuroseg evaluate --model resunet-figshare --data figshare:PATH --groups fold-4 \\
      --csv t05.csv
  neuroseg evaluate --model resunet-figshare --data figshare:PATH --groups fold-4 \\
      --threshold 0.4 --csv t04.csv
  neuroseg compare t05.csv t04.csv
  neuroseg compare base.csv new.csv --metric dice --metric hd95 --json diff.json
  neuroseg compare lgg-a.csv lgg-b.csv --unit group   # group = patient ID (lgg)"""


def register(sub: Any) -> None:
    """Add the ``compare`` subcommand."""
    p = sub.add_parser(
        "compare",
        help="paired difference of two evaluations of the same items (neuroseg evaluate "
        "--csv tables), with bootstrap intervals",
        description=_DESCRIPTION,
        epilog=_EPILOG,
    )
    p.add_argument("a", metavar="A.csv", help="the baseline's per-item table")
    p.add_argument("b", metavar="B.csv", help="the other evaluation's table (B - A is reported)")
    p.add_argument(
        "--metric",
        action="append",
        default=None,
        metavar="NAME",
        help="a column to compare (repeatable; default: every metric both tables have)",
    )
    p.add_argument(
        "--by",
        default="true_class",
        metavar="COLUMN",
        help="also compare within each value of this column; 'none' for overall only",
    )
    p.add_argument(
        "--unit",
        choices=("item", "group"),
        default="item",
        help="what the bootstrap resamples: items, or the tables' group column (use it "
        "when that column holds patient IDs, as for lgg; figshare's groups are folds)",
    )
    p.add_argument("--bootstrap", type=int, default=1000, metavar="N", help="bootstrap resamples")
    p.add_argument("--seed", type=int, default=0, help="seed of the bootstrap")
    p.add_argument(
        "--json", default=None, metavar="OUT", help="write the comparison as JSON ('-': stdout)"
    )
    p.set_defaults(handler=run)


def read_table(path: str) -> list[dict[str, str]]:
    """The rows of a ``neuroseg evaluate --csv`` table.

    Raises:
        ReadError: The file is missing or not readable CSV text.
        EmptyDatasetError: It has a header but no rows.
    """
    p = Path(path)
    try:
        with p.open(newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
    except (OSError, UnicodeDecodeError, csv.Error) as exc:
        raise ReadError(
            f"{path}: cannot read the table ({exc}); give a CSV written by neuroseg evaluate --csv"
        ) from None
    if not rows:
        raise EmptyDatasetError(
            f"{path}: the table has no rows; give a CSV written by neuroseg evaluate --csv"
        )
    return rows


def _fixed(x: Any, scale: float, *, sign: bool = False) -> str:
    """``x`` with 4 decimals on a [0, 1] scale, else 2 (``scale``: the larger mean)."""
    if x is None:
        return "-"
    decimals = 4 if abs(scale) <= 1 else 2
    return f"{x:{'+' if sign else ''}.{decimals}f}"


def format_comparison(summary: dict[str, Any]) -> str:
    """The comparison (from :func:`~neuroseg.metrics.compare_evaluations`) as tables."""
    from neuroseg.tables import format_table

    name_a, name_b = summary["names"]
    first = next(iter(summary["overall"].values()), None)
    conf = f"{float(first['confidence']) * 100:g} % CI" if first else "CI"
    header = ["metric", "A", "B", "B - A", conf, "B higher", "B lower", "equal", "left out"]

    def _numbers(d: dict[str, Any]) -> list[str]:
        scale = max(abs(d["mean_a"]), abs(d["mean_b"]))
        lo, hi = (_fixed(d[k], scale, sign=True) for k in ("ci_low", "ci_high"))
        return [
            _fixed(d["mean_a"], scale),
            _fixed(d["mean_b"], scale),
            _fixed(d["difference"], scale, sign=True),
            f"[{lo}, {hi}]",
        ]

    def rows(block: dict[str, Any]) -> list[list[Any]]:
        out = []
        for metric, d in block.items():
            arrow = " (lower is better)" if metric in summary["lower_is_better"] else ""
            out.append(
                [
                    metric + arrow,
                    *_numbers(d),
                    d["higher"],
                    d["lower"],
                    d["equal"],
                    d["n_excluded"],
                ]
            )
        return out

    unit = (
        f"{summary['n_groups']} groups"
        if summary["unit"] == "group"
        else f"{summary['n_items']} items"
    )
    resamples = first["n_bootstrap"] if first else 0
    lines = [
        f"A = {name_a}",
        f"B = {name_b}",
        f"{summary['n_items']} paired items (matched by {summary['key']}); "
        f"percentile bootstrap over {unit}, {resamples} resamples",
        "",
        format_table(rows(summary["overall"]), header=header),
    ]
    if "by_class" in summary:
        lead = summary["metrics"][0]
        class_rows = []
        for cls, block in summary["by_class"].items():
            d = block.get(lead)
            if d is None:
                continue
            class_rows.append(
                [
                    cls,
                    d["n"],
                    *_numbers(d),
                    d["higher"],
                    d["lower"],
                    d["equal"],
                ]
            )
        lines += [
            "",
            f"{lead} by {summary['by']}",
            format_table(
                class_rows,
                header=[
                    summary["by"],
                    "items",
                    "A",
                    "B",
                    "B - A",
                    conf,
                    "higher",
                    "lower",
                    "equal",
                ],
            ),
        ]
    if summary["unit"] == "item" and summary["n_groups"] is None:
        lines += [
            "",
            "items resampled singly: slices of one patient are correlated, so with several "
            "slices per patient the intervals are too narrow (--unit group when the group "
            "column holds patient IDs)",
        ]
    return "\n".join(lines)


def run(args: argparse.Namespace) -> int:
    """Compare the two tables."""
    from neuroseg.metrics import compare_evaluations

    if args.bootstrap < 1:
        raise ConfigError(f"--bootstrap must be at least 1, got {args.bootstrap}.")
    summary = compare_evaluations(
        read_table(args.a),
        read_table(args.b),
        metrics=args.metric,
        by=None if args.by == "none" else args.by,
        unit=args.unit,
        n_bootstrap=args.bootstrap,
        seed=args.seed,
        names=(args.a, args.b),
    )
    if args.json == "-":
        json.dump(summary, sys.stdout, indent=2)
        print()
        return 0
    if args.json:
        out = Path(args.json)
        try:
            out.parent.mkdir(parents=True, exist_ok=True)
            out.write_text(json.dumps(summary, indent=2) + "\n")
        except OSError as exc:
            raise WriteError(f"{out}: cannot write the comparison ({exc})") from None
    print(format_comparison(summary))
    if args.json:
        print(f"\nwrote {args.json}")
    return 0
