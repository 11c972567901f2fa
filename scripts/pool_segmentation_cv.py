"""Pool a segmentation config's held-out folds into one cross-validation.

Each fold's per-slice table comes from ``neuroseg evaluate --csv`` of the config trained
without that fold (one row per slice: ``source``, ``group``, the metrics, ``truth_px``,
``pred_px``, ``true_class``). Every slice of the data then has exactly one held-out score,
and this script reports, over all of them:

- the per-image mean of each metric, with a 95 % percentile bootstrap interval over slices
  (``neuroseg.metrics.pool_items``; Figshare's PNG release has no patient IDs, so the
  interval cannot resample patients and leans narrow);
- the pooled Dice, IoU, precision and recall (all slices' pixels counted together, e.g.
  ``sum(2 TP) / sum(|T| + |P|)``, with ``2 TP = dice * (truth_px + pred_px)`` recovered
  from each row);
- the same per tumour type;
- each fold's per-image Dice and, over the folds, the mean and sample standard deviation
  (``ddof=1``) of those fold means, as ``scripts/figshare_lever_table.py --mean`` prints;
- the slices scored near zero (Dice < 0.05), per class, and those with an empty prediction;
  per fold also the Dice without them and the Dice by terciles of the true tumour area.

Dice treats empty masks as every neuroseg evaluation does: both empty gives 1.0, only one
empty gives 0.0 (every Figshare slice has a tumour, so only the second can occur here).

    python scripts/pool_segmentation_cv.py \
        fold-1=scripts/results/figshare_cv/items/fold-1-tta-t0.4.csv \
        fold-2=scripts/results/figshare_cv/items/fold-2-tta-t0.4.csv \
        fold-3=scripts/results/figshare_cv/items/fold-3-tta-t0.4.csv \
        fold-4=scripts/results/figshare_cv/items/fold-4-tta-t0.4.csv \
        --settings "flip TTA, threshold 0.4, last epoch" \
        --json scripts/results/figshare_cv_pooled.json

``package_pretrained.py --pooled-cv`` stores the JSON in a card as
``metrics["cross_validation"]``.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
from package_pretrained import round_floats  # this script's folder is on sys.path

from neuroseg.cli.compare import read_table
from neuroseg.metrics import pool_items

METRICS = ("dice", "iou", "precision", "recall", "hd95")
NEAR_ZERO = 0.05


def read_fold(path: Path, fold: str) -> list[dict[str, Any]]:
    """The rows of one fold's ``evaluate --csv`` table, checked and converted.

    ``neuroseg.cli.compare.read_table`` reads it (as ``neuroseg compare`` does); this
    checks the columns pooling needs and that every row belongs to ``fold``.
    """
    rows = read_table(str(path))
    need = {"source", "group", "truth_px", "pred_px", "true_class", *METRICS}
    missing = need - set(rows[0])
    if missing:
        raise SystemExit(f"{path}: columns {sorted(missing)} missing")
    out = []
    for i, r in enumerate(rows, start=2):
        if r["group"] != fold:
            raise SystemExit(f"{path} line {i}: group {r['group']!r}, expected {fold!r}")
        row: dict[str, Any] = {"source": r["source"], "fold": fold, "class": r["true_class"]}
        for k in (*METRICS, "truth_px", "pred_px"):
            v = float(r[k]) if r[k] not in ("", "nan") else math.nan
            if math.isinf(v) or (math.isnan(v) and k != "hd95"):
                raise SystemExit(f"{path} line {i}: {k} is {r[k]!r}")
            row[k] = v
        out.append(row)
    return out


def metric_blocks(rows: list[dict[str, Any]], seed: int, n_bootstrap: int) -> dict[str, Any]:
    """Per metric, as ``neuroseg evaluate`` writes it: per-image mean and CI, and pooled.

    ``neuroseg.metrics.pool_items`` computes them: the pooled figures count every slice's
    pixels together, each row's overlap recovered from its Dice
    (``2 TP = dice * (truth_px + pred_px)``); HD95 has no pooled form.
    """
    pooled = pool_items(rows, n_bootstrap=n_bootstrap, seed=seed)
    return dict(pooled["segmentation"]["metrics"])


def fold_figures(rows: list[dict[str, Any]], classes: list[str]) -> dict[str, Any]:
    """One fold's per-image Dice, per class, near zero, without those, and by tumour size."""
    d = np.array([r["dice"] for r in rows])
    c = np.array([r["class"] for r in rows])
    area = np.array([r["truth_px"] for r in rows])
    empty = np.array([r["pred_px"] for r in rows]) == 0
    low = d < NEAR_ZERO
    present = [k for k in classes if (c == k).any()]
    edges = np.quantile(area, [1 / 3, 2 / 3])
    tercile = np.digitize(area, edges)  # 0: smallest third of true areas ... 2: largest
    return {
        "n": len(rows),
        "dice": float(d.mean()),
        **{k: float(d[c == k].mean()) for k in present},
        "n_by_class": {k: int((c == k).sum()) for k in present},
        "near_zero": {k: int((low & (c == k)).sum()) for k in present},
        "empty_prediction": {k: int(((c == k) & empty).sum()) for k in present},
        "without_near_zero": {
            "dice": float(d[~low].mean()),
            **{k: float(d[~low & (c == k)].mean()) for k in present},
        },
        "by_true_area_tercile": [float(d[tercile == t].mean()) for t in range(3)],
    }


def pool(folds: dict[str, list[dict[str, Any]]], *, n_bootstrap: int, seed: int) -> dict[str, Any]:
    """The pooled figures of every fold's rows (see the module docstring)."""
    rows = [r for fold_rows in folds.values() for r in fold_rows]
    sources = [r["source"] for r in rows]
    if len(set(sources)) != len(sources):
        twice = sorted({s for s in sources if sources.count(s) > 1})[:3]
        raise SystemExit(f"a slice is scored by two folds: {twice}")
    col = {k: np.array([r[k] for r in rows]) for k in ("dice", "pred_px")}
    classes = sorted({r["class"] for r in rows})
    cls = np.array([r["class"] for r in rows])
    per_fold = {name: fold_figures(fold_rows, classes) for name, fold_rows in folds.items()}

    def spread(key: str) -> dict[str, float]:
        v = np.array([f[key] for f in per_fold.values()])
        return {"mean": float(v.mean()), "std": float(v.std(ddof=1)) if len(v) > 1 else 0.0}

    low = col["dice"] < NEAR_ZERO
    return {
        "n_images": len(rows),
        "metrics": metric_blocks(rows, seed, n_bootstrap),
        "by_class": {
            k: {
                "n_items": int((cls == k).sum()),
                "metrics": metric_blocks([r for r in rows if r["class"] == k], seed, n_bootstrap),
            }
            for k in classes
        },
        "folds": per_fold,
        "over_folds": {
            "dice": spread("dice"),
            **{k: spread(k) for k in classes},
            "std": "the sample standard deviation of the fold means, ddof=1",
        },
        "near_zero": {
            "below": NEAR_ZERO,
            "count": int(low.sum()),
            "by_class": {k: int((low & (cls == k)).sum()) for k in classes},
            "empty_prediction": int((col["pred_px"] == 0).sum()),
        },
        "bootstrap": {
            "unit": "image",
            "n_bootstrap": n_bootstrap,
            "seed": seed,
            "note": "the tables carry no patient IDs, only the fold, so the intervals "
            "resample slices and lean narrow",
        },
        "empty_mask_rule": "both empty -> 1.0; only one empty -> 0.0",
        "hd95_units": "pixels",
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("folds", nargs="+", metavar="FOLD=CSV", help="a fold's evaluate --csv table")
    ap.add_argument("--data", default="figshare:../shared/data/figshare-cheng")
    ap.add_argument("--config", default="examples/configs/resunet_figshare.toml")
    ap.add_argument("--settings", required=True, help="how the folds were scored, in words")
    ap.add_argument("--card-fold", type=int, default=4, help="the fold the card's metrics show")
    ap.add_argument("--n-bootstrap", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", type=Path, required=True)
    args = ap.parse_args()
    folds, tables = {}, {}
    for spec in args.folds:
        name, sep, path = spec.partition("=")
        if not sep or not name.startswith("fold-"):
            ap.error(f"{spec!r}: give FOLD=CSV, e.g. fold-1=items/fold-1.csv")
        folds[name] = read_fold(Path(path), name)
        tables[name] = path
    folds = dict(sorted(folds.items()))
    result = {
        "data": f"the {len(folds)} folds of {args.data}, each held out once: every slice "
        f"predicted by the config trained on the other folds ({args.settings})",
        "config": args.config,
        "settings": args.settings,
        "card_fold": args.card_fold,
        "tables": dict(sorted(tables.items())),
        **pool(folds, n_bootstrap=args.n_bootstrap, seed=args.seed),
    }
    args.json.write_text(json.dumps(round_floats(result), indent=2) + "\n")
    dice, spread = result["metrics"]["dice"], result["over_folds"]["dice"]
    pi = dice["per_image"]
    print(
        f"{result['n_images']} slices: per-image Dice {pi['mean']:.3f} "
        f"({pi['ci_low']:.3f}-{pi['ci_high']:.3f}), pooled {dice['pooled']:.3f}; "
        f"over folds {spread['mean']:.3f} ± {spread['std']:.3f}"
    )


if __name__ == "__main__":
    main()
