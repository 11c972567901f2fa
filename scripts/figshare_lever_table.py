"""The Figshare lever table of docs/results.md, from `neuroseg evaluate --json` summaries.

Each variant is one evaluation of a model on fold 4 (patients disjoint from folds 1-3,
on which every model here trained), written with ``neuroseg evaluate ... --json``:

    python scripts/figshare_lever_table.py --out scripts/results/figshare_levers.md \\
        VARIANT=EVAL.json [VARIANT=EVAL.json ...]

The table gives per-image Dice with its 95 % bootstrap interval, pooled Dice, HD95 and
the per-image Dice of each tumour type (``summary.by_class``), so a lever that helps
meningiomas but not gliomas shows.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("variants", nargs="+", help="NAME=EVAL.json, in table order")
    ap.add_argument("--out", type=Path, required=True, help="the markdown table to write")
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
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text("\n".join(lines) + "\n")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
