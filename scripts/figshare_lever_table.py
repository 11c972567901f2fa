"""The Figshare lever table of docs/results.md, from `neuroseg evaluate --json` summaries.

Each variant is one evaluation of a model on fold 4 (patients disjoint from folds 1-3,
on which every model here trained), written with ``neuroseg evaluate ... --json``:

    python scripts/figshare_lever_table.py --out scripts/results/figshare_levers.md \\
        VARIANT=EVAL.json [VARIANT=EVAL.json ...] [--mean NAME=EVAL.json,EVAL.json,...]

``--mean`` adds a row with the mean ± sample standard deviation over folds (each fold's
per-image mean counts once), for cross-validation.

The table gives per-image Dice with its 95 % bootstrap interval, pooled Dice, HD95 and
the per-image Dice of each tumour type (``summary.by_class``), so a lever that helps
meningiomas but not gliomas shows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np

CLASSES = ("glioma", "meningioma", "pituitary")


def _row(name: str, summary: dict) -> str:
    block = summary["segmentation"]["metrics"]["dice"]["per_image"]
    hd = summary["segmentation"]["metrics"]["hd95"]["per_image"]
    cells = [
        name,
        f"{block['mean']:.3f} ({block['ci_low']:.3f}–{block['ci_high']:.3f})",
        f"{summary['pooled']['dice']:.3f}",
        f"{hd['mean']:.1f}",
    ]
    by_class = summary.get("by_class", {})
    for c in CLASSES:
        part = by_class.get(c, {}).get("metrics", {}).get("dice", {}).get("per_image")
        cells.append("—" if part is None else f"{part['mean']:.3f}")
    return "| " + " | ".join(cells) + " |"


def _mean_row(name: str, summaries: list[dict]) -> str:
    """Mean ± sample std over folds of each column (one fold: its value)."""

    def stat(values: list[float], digits: int) -> str:
        arr = np.array(values)
        std = f" ± {arr.std(ddof=1):.{digits}f}" if len(arr) > 1 else ""
        return f"{arr.mean():.{digits}f}{std}"

    dice = [s["segmentation"]["metrics"]["dice"]["per_image"]["mean"] for s in summaries]
    pooled = [s["pooled"]["dice"] for s in summaries]
    hd = [s["segmentation"]["metrics"]["hd95"]["per_image"]["mean"] for s in summaries]
    cells = [f"**{name}**", f"**{stat(dice, 3)}**", stat(pooled, 3), stat(hd, 1)]
    for c in CLASSES:
        parts = [s["by_class"][c]["metrics"]["dice"]["per_image"]["mean"] for s in summaries]
        cells.append(stat(parts, 3))
    return "| " + " | ".join(cells) + " |"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("variants", nargs="+", help="NAME=EVAL.json, in table order")
    ap.add_argument("--out", type=Path, required=True, help="the markdown table to write")
    ap.add_argument(
        "--mean",
        action="append",
        default=[],
        metavar="NAME=EVAL.json,EVAL.json,...",
        help="a row with the mean ± std over folds of these evaluations (repeatable; "
        "appended after the variants)",
    )
    args = ap.parse_args(argv)
    lines = [
        "| variant | per-image Dice (95 % CI) | pooled Dice | HD95 (px) | "
        + " | ".join(CLASSES)
        + " |",
        "|---|---|---|---|" + "---|" * len(CLASSES),
    ]
    for item in args.variants:
        name, _, path = item.partition("=")
        if not path:
            ap.error(f"{item!r}: give NAME=EVAL.json")
        summary = json.loads(Path(path).read_text())["summary"]
        lines.append(_row(name, summary))
    for item in args.mean:
        name, _, paths = item.partition("=")
        if not paths:
            ap.error(f"{item!r}: give NAME=EVAL.json,EVAL.json,...")
        summaries = [json.loads(Path(p).read_text())["summary"] for p in paths.split(",")]
        lines.append(_mean_row(name, summaries))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
