"""Copy a ``neuroseg cv`` run's per-fold results into scripts/results/cv/NAME.json.

The Results page (``scripts/render_model_cards.py``) shows them under the model that was
trained with the same config. Runs made before folds recorded their ``val_groups`` get
them filled in by repeating the split (same config, same seed, same code as ``neuroseg cv``).
Each fold's wall-clock training time comes from its run directory's ``state.json``.

    python scripts/package_cv.py --run runs/resunet-lgg-cv --name resunet-lgg \
        --description "4-fold patient-wise cross-validation ..." [--notes "..."]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run", type=Path, required=True, help="the `neuroseg cv --out` folder")
    ap.add_argument("--name", required=True, help="the pretrained model it belongs to")
    ap.add_argument("--description", required=True, help="one paragraph: data, folds, epochs")
    ap.add_argument("--notes", default="", help="caveats shown under the table")
    args = ap.parse_args()

    from neuroseg.data import group_kfold
    from neuroseg.train.experiment import load_experiment

    summary = json.loads((args.run / "cv_summary.json").read_text())
    folds = summary["folds"]
    if any("val_groups" not in f for f in folds):
        exp = load_experiment(args.run / "experiment.toml", [])
        ds = exp.load_data()
        if all(r.fold is not None for r in ds):
            splits = group_kfold(ds)[: len(folds)]
        else:
            splits = group_kfold(ds, len(folds), seed=exp.train_config().seed)
        for fold, (_, val_idx) in zip(folds, splits, strict=True):
            val = ds[val_idx]
            if len(val) != fold["n_val"]:
                raise SystemExit(f"fold {fold['fold']}: the repeated split does not match")
            fold["val_groups"] = val.patients
    for fold in folds:
        fold["patients"] = fold.pop("val_groups")
        state = json.loads((args.run / f"fold_{fold['fold']}" / "state.json").read_text())
        fold["epochs"] = state["completed_epochs"]
    out = {
        "description": args.description,
        "notes": args.notes,
        "command": f"neuroseg cv --config {args.run / 'experiment.toml'}",
        "folds": folds,
        "summary": summary["summary"],
    }
    path = ROOT / "scripts" / "results" / "cv" / f"{args.name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=2) + "\n")
    print(f"wrote {path}")


if __name__ == "__main__":
    main()
