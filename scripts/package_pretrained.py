"""Package a finished training run as a pretrained model inside neuroseg.

Copies the run's ``best.keras`` weights into a fresh, uncompiled instance of the
architecture (no optimiser state), saves it as ``src/neuroseg/models/weights/NAME.keras``,
evaluates it on the validation data (per image with bootstrap intervals, pooled, HD95), and
writes the model card ``NAME.json`` with the file's SHA-256.

    python scripts/package_pretrained.py --run runs/resunet-figshare --name resunet-figshare \
        --card-template examples/configs/cards/resunet-figshare.json \
        --data figshare:../shared/data/figshare-cheng --groups fold-4
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "neuroseg" / "models" / "weights"


def _round(obj):
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: _round(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_round(v) for v in obj]
    return obj


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--run", required=True, type=Path, help="run directory with best.keras")
    ap.add_argument("--name", required=True, help="pretrained name")
    ap.add_argument("--card-template", required=True, type=Path, help="card fields (JSON)")
    ap.add_argument("--data", required=True, metavar="FORMAT:PATH")
    ap.add_argument("--groups", nargs="*", default=None, help="validation groups to keep")
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--train-seconds", type=float, default=None, help="training wall-clock")
    args = ap.parse_args()

    from neuroseg.data import load_dataset, parse_data_spec
    from neuroseg.inference import Predictor
    from neuroseg.metrics import evaluate_segmentation
    from neuroseg.models import create_model, load_model

    card = json.loads(args.card_template.read_text())
    trained = load_model(args.run / "best.keras", compile=False)
    model = create_model(card["architecture"], input_shape=tuple(card["input_shape"]))
    model.set_weights(trained.get_weights())
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.name}.keras"
    model.save(path)

    data = load_dataset(*parse_data_spec(args.data))
    if args.groups:
        data = data.filter(lambda r: r.group in set(args.groups))
    predictor = Predictor(model, threshold=card.get("threshold", 0.5))
    start = time.perf_counter()
    preds = predictor.predict(data)
    seconds = time.perf_counter() - start
    truth = np.stack([np.asarray(p.truth, bool) for p in preds])
    mask = np.stack([np.asarray(p.mask, bool) for p in preds])
    groups = [p.group for p in preds] if card.get("bootstrap_by_group") else None
    result = evaluate_segmentation(
        truth, mask, groups=groups, ids=[p.source for p in preds], n_bootstrap=1000
    )
    state = json.loads((args.run / "state.json").read_text())
    card["metrics"] = {
        "data": args.data + (f" groups {args.groups}" if args.groups else ""),
        **_round(result.summary),
        "empty_mask_rule": "both empty -> 1.0; only one empty -> 0.0",
        "hd95_units": card.pop("hd95_units", "pixels"),
    }
    card["training"] = {
        **card.get("training", {}),
        "epochs_completed": state["completed_epochs"],
        "best_epoch": state["best_epoch"],
        "best_val_dice_during_training": _round(state["best_value"]),
        "inference_seconds_cpu": round(seconds, 1),
    }
    if args.train_seconds is not None:
        card["training"]["wall_clock_seconds"] = round(args.train_seconds)
    card["name"] = args.name
    card["file"] = path.name
    card["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (args.out / f"{args.name}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card["metrics"], indent=2)[:3000])
    print(f"wrote {path} ({path.stat().st_size:,} bytes) and {args.name}.json")


if __name__ == "__main__":
    main()
