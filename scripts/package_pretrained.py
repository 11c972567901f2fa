"""Package a finished training run as a pretrained model inside neuroseg.

Copies the run's ``best.keras`` (or, with ``--checkpoint last``, ``last.keras``) weights
into a fresh, uncompiled instance of the architecture (no optimiser state), saves it as
``src/neuroseg/models/weights/NAME.keras``, evaluates it on the validation data (per image
with bootstrap intervals, pooled, HD95), and writes the model card ``NAME.json`` with the
file's SHA-256 and the run's preprocessing contract (``RUN/preprocessor.json``) as its
machine-readable ``preprocessor`` field.

    python scripts/package_pretrained.py --run runs/resunet-figshare --name resunet-figshare \
        --card-template examples/configs/cards/resunet-figshare.json \
        --data figshare:../shared/data/figshare-cheng --groups fold-4

A model trained on every fold (``--trained``, e.g. an all-data model of
``scripts/train_zoo_device.sh``) has no held-out data here, so its card's ``metrics`` are
the recipe's cross-validation (``--cv``, from ``scripts/score_device_cv.py``: every slice
predicted by the fold model that did not train on its patient), and ``--data``/``--groups``
only *check* the file: the card's ``check`` holds what ``neuroseg evaluate`` gives there, on
the model's own training data, which says the file runs as trained and nothing about its
quality.

    python scripts/package_pretrained.py --trained ZOO/lgg-small/all/model.keras \
        --cv scripts/results/device_cv.json --cv-recipe lgg-small --name resunet-lgg \
        --card-template examples/configs/cards/resunet-lgg.json \
        --data lgg:../shared/data/lgg-kaggle3m --groups TCGA_HT_7690_19960312

A run trained on every fold with ``neuroseg train ... --set 'data.val_groups=[]'`` is
packaged with ``--run RUN --checkpoint last --holdout-card CARD``: CARD is the card of the
same config trained with one fold held out (packaged before from its run), and its
``metrics`` become this card's estimate, marked as such; ``--data``/``--groups`` again only
fill the ``check``. ``--pooled-cv scripts/results/classifier_cv.json`` adds the config's
cross-validation over every fold (``scripts/pool_classifier_cv.py`` or
``scripts/pool_segmentation_cv.py``), and ``--cv-calibration DIR`` the temperature its fold
models fitted on their own held-out folds (``neuroseg calibrate --json``, one
``fold-K.json`` each), as the card's ``calibration``.

    python scripts/package_pretrained.py --run runs/cls4c-all --checkpoint last \
        --holdout-card runs/classifier-4class-fold4/card.json --name classifier-4class \
        --card-template examples/configs/cards/classifier-4class.json \
        --data four-class-combined:../shared/data/figshare-cheng --groups fold-4 \
        --option kaggle_root ../shared/data/kaggle4-training \
        --option no_tumor_root ../shared/data/br35h-no-tumor
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from pathlib import Path

import numpy as np

WEIGHTS = Path(__file__).resolve().parents[1] / "src" / "neuroseg" / "models" / "weights"
LAST_EPOCH = "the last epoch (no selection on validation data)"


def check_note(estimate: str) -> str:
    """The card's ``check`` note; ``estimate`` names where the quality figures come from."""
    return (
        "the shipped model on part of its own training data: reproduced by the card's "
        "evaluate command, it checks that the file runs as trained; it is not an estimate of "
        f"quality (see metrics, {estimate})"
    )


def round_floats(obj):
    """Floats to 4 decimals, as the cards store them (also used by pool_classifier_cv.py)."""
    if isinstance(obj, float):
        return round(obj, 4)
    if isinstance(obj, dict):
        return {k: round_floats(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [round_floats(v) for v in obj]
    return obj


def _option(text: str):
    """A loader option value: an int when it reads as one, else the string."""
    try:
        return int(text)
    except ValueError:
        return text


def _sources(data, originals: list[str]) -> list[str]:
    """Each record's source; copies named apart in a deduplicated combination."""
    from neuroseg.data import near_copy_origins

    if all("near_copy_group" in r.meta for r in data):
        return near_copy_origins(data, originals=originals)
    return [str(r.meta.get("dataset", data.name)) for r in data]


def holdout_metrics(path: Path) -> dict:
    """The card's ``metrics`` from the card of the same config trained with a fold held out.

    The held-out figures of that model stand as the estimate for the model trained on every
    fold (which has no held-out data left), marked with the file they were measured on.
    """
    held = json.loads(path.read_text())
    out = dict(held["metrics"])
    out["estimate"] = (
        "measured on the held-out data above with the same config trained without it "
        f"(file sha256 {held['sha256'][:12]}, {held['training'].get('epochs_completed')} "
        "epochs); the shipped model trained on that data too, so it has no held-out "
        "figure of its own"
    )
    return out


def cv_metrics(cv: dict, recipe: str, *, by_group: bool) -> dict:
    """The card's ``metrics`` from a recipe's cross-validation (``score_device_cv.py``).

    The validation folds pooled (each slice predicted by the fold model that did not train
    on it): per-image, pooled and, with groups, per-patient figures with their bootstrap
    intervals; each fold's own figures and their mean and standard deviation; per tumour
    type where the scorer recorded it; and each patient's volume Dice, recall and precision.
    """
    seg = cv[recipe]["segmentation"]
    summary = seg["all_folds"]["plain"]["plain"]
    keys = ["per_image", "per_patient"] if by_group else ["per_image"]
    folds = {
        name: {k: fold["plain"]["plain"]["metrics"]["dice"][k]["mean"] for k in keys}
        | {"epochs": fold["epochs"], "truncated": fold["truncated"]}
        for name, fold in seg["folds"].items()
    }
    spread = {
        k: {
            "mean": float(np.mean([f[k] for f in folds.values()])),
            "std": float(np.std([f[k] for f in folds.values()], ddof=1)),
        }
        for k in keys
    }
    out = {
        "data": f"{len(folds)}-fold cross-validation of this recipe ({recipe}): every slice "
        "predicted by the fold model that did not train on it, plain (no TTA), at the "
        "slice's own resolution",
        **summary,
        "empty_mask_rule": "both empty -> 1.0; only one empty -> 0.0",
        "folds": folds,
        "dice_over_folds": spread,
        "with_flip_tta": seg["all_folds"]["tta"]["plain"]["metrics"]["dice"],
    }
    if "per_class" in seg:
        out["dice_per_tumour_type"] = seg["per_class"]["plain"]
    if "patients" in seg:
        out["patients"] = seg["patients"]["plain"]
    return round_floats(out)


def cv_calibration(folder: Path, name: str) -> dict:
    """The card's ``calibration`` from the config's folds (``neuroseg calibrate --json``).

    A model trained on every fold has no held-out data to fit a temperature on; each fold
    model of its config fitted one on half of its own held-out fold (``fold-K.json`` in
    ``folder``). The card carries their mean, not applied to the shipped file, with each
    fold's temperature and held-out ECE, and the command that applies it.
    """
    folds = {}
    for path in sorted(folder.glob("fold-*.json")):
        c = json.loads(path.read_text())
        h = c["holdout"]
        folds[path.stem] = {
            "temperature": c["temperature"],
            "n_fit": h["n_fit"],
            "n_eval": h["n_images"],
            "ece_before": h["before"]["ece"],
            "ece_after": h["after"]["ece"],
            "ece_before_ci": h["ci"]["ece_before"],
            "ece_after_ci": h["ci"]["ece_after"],
            "ece_difference_ci": h["ci"]["ece_difference"],
        }
    if not folds:
        raise SystemExit(f"--cv-calibration: no fold-*.json in {folder}")
    temps = [f["temperature"] for f in folds.values()]
    t = round(float(np.mean(temps)), 2)
    return round_floats(
        {
            "method": "per-pixel temperature scaling (one T for the sigmoid logit of every "
            "pixel, fitted by minimising the pixel NLL)",
            "temperature": t,
            "temperature_std": float(np.std(temps, ddof=1)),
            "applied": False,
            "source": f"the mean of the {len(folds)} fold models of this config, each fitted "
            "on half of its own held-out fold (split by near-copy group) and scored on the "
            "other half; the shipped model trained on every fold, so no held-out data is "
            "left to fit or check a temperature on it",
            "folds": folds,
            "unit": "pixel (15 confidence bins)",
            "command": f"neuroseg calibrate --model {name} --temperature {t} "
            f"--out {name}-calibrated.keras",
        }
    )


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    source = ap.add_mutually_exclusive_group(required=True)
    source.add_argument("--run", type=Path, help="run directory with best.keras and last.keras")
    source.add_argument("--trained", type=Path, help="a .keras model trained on every fold")
    ap.add_argument("--cv", type=Path, help="score_device_cv.py JSON (with --trained)")
    ap.add_argument("--cv-recipe", help="the recipe in --cv that trained --trained")
    ap.add_argument("--name", required=True, help="pretrained name")
    ap.add_argument("--card-template", required=True, type=Path, help="card fields (JSON)")
    ap.add_argument("--data", required=True, metavar="FORMAT:PATH")
    ap.add_argument("--groups", nargs="*", default=None, help="validation groups to keep")
    ap.add_argument(
        "--option",
        nargs=2,
        action="append",
        default=[],
        metavar=("KEY", "VALUE"),
        type=_option,
        help="loader option, e.g. --option no_tumor_root ../shared/data/br35h-no-tumor",
    )
    ap.add_argument(
        "--checkpoint",
        choices=["best", "last"],
        default="best",
        help="with --run: best.keras (the epoch chosen on the validation data, which leans "
        "optimistic) or last.keras (no selection on it)",
    )
    ap.add_argument(
        "--originals",
        nargs="*",
        default=["figshare", "br35h-no-tumor"],
        help="with a deduplicated combination: the datasets whose copies are reported apart",
    )
    ap.add_argument(
        "--holdout-card",
        type=Path,
        default=None,
        help="with --run of a model trained on every fold: the card of the same config "
        "trained with a fold held out; its metrics are the estimate",
    )
    ap.add_argument(
        "--pooled-cv",
        type=Path,
        default=None,
        help="with --holdout-card: the config's folds pooled (pool_classifier_cv.py JSON), "
        "stored as metrics.cross_validation",
    )
    ap.add_argument(
        "--cv-calibration",
        type=Path,
        default=None,
        help="folder of the fold models' `neuroseg calibrate --json` files (fold-K.json)",
    )
    ap.add_argument("--out", type=Path, default=WEIGHTS)
    ap.add_argument("--train-seconds", type=float, default=None, help="training wall-clock")
    args = ap.parse_args()
    if (args.trained is None) != (args.cv is None) or (args.cv is None) != (args.cv_recipe is None):
        ap.error("--trained needs --cv and --cv-recipe (and they need --trained)")
    if args.holdout_card is not None and (args.run is None or args.checkpoint != "last"):
        ap.error("--holdout-card needs --run and --checkpoint last (no fold chose an epoch)")
    if args.pooled_cv is not None and args.holdout_card is None:
        ap.error("--pooled-cv needs --holdout-card")

    import keras

    from neuroseg.data import SlicePreprocessor, load_dataset, load_preprocessor, parse_data_spec
    from neuroseg.inference import Predictor
    from neuroseg.metrics import (
        evaluate_classification,
        evaluate_segmentation,
        recall_by_group,
        segmentation_by_class,
    )
    from neuroseg.models import create_model, load_model

    card = json.loads(args.card_template.read_text())
    checkpoint = args.trained or args.run / f"{args.checkpoint}.keras"
    trained = load_model(checkpoint, compile=False)
    model = create_model(card["architecture"], input_shape=tuple(card["input_shape"]))
    model.set_weights(trained.get_weights())
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / f"{args.name}.keras"
    model.save(path)

    data = load_dataset(*parse_data_spec(args.data), **dict(args.option))
    if args.groups:
        data = data.filter(lambda r: r.group in set(args.groups))
    # the preprocessing contract the run trained with (RUN/preprocessor.json); a run from
    # before it existed gets one from the card template's input shape and crop
    preprocessor = load_preprocessor(checkpoint) if args.run else None
    if preprocessor is None:
        h, w, c = card["input_shape"]
        preprocessor = SlicePreprocessor(channels=c, image_size=(h, w), crop=card.get("crop"))
    names = card.pop("channel_names", None)  # what the channels hold, e.g. MRI sequences
    if names is not None:
        preprocessor = SlicePreprocessor.from_config(
            {**preprocessor.get_config(), "channel_names": names}
        )
    card.pop("preprocessing", None)  # prose is generated from the preprocessor
    card["preprocessor"] = keras.saving.serialize_keras_object(preprocessor)
    card["crop"] = preprocessor.crop
    predictor = Predictor(
        model,
        threshold=card.get("threshold", 0.5),
        tta=card.get("tta") or False,  # the card's default, with which its figures are measured
        preprocessor=preprocessor,
        class_names=card.get("class_names"),
    )
    start = time.perf_counter()
    preds = predictor.predict(data)
    seconds = time.perf_counter() - start
    metrics: dict = {"data": args.data + (f" groups {args.groups}" if args.groups else "")}
    if args.option:
        metrics["data_options"] = dict(args.option)
    by_group = bool(card.get("bootstrap_by_group"))
    if predictor.task in ("segmentation", "multitask"):
        # one mask per image at the image's own size (sizes may differ)
        truth = [np.asarray(p.truth) > 0 for p in preds]
        mask = [np.asarray(p.mask) > 0 for p in preds]
        groups = [p.group for p in preds] if by_group else None
        result = evaluate_segmentation(
            truth, mask, groups=groups, ids=[p.source for p in preds], n_bootstrap=1000
        )
        metrics.update(round_floats(result.summary))
        labels = [p.true_label for p in preds]
        if data.class_names and all(label is not None for label in labels):
            # Dice per tumour type (Figshare's labels): a mean can hide a weak class
            metrics["by_class"] = round_floats(
                segmentation_by_class(
                    truth,
                    mask,
                    [int(label) for label in labels if label is not None],
                    class_names=list(data.class_names),
                    groups=groups,
                    metrics=["dice", "iou", "precision", "recall"],
                    n_bootstrap=1000,
                )
            )
        metrics["empty_mask_rule"] = "both empty -> 1.0; only one empty -> 0.0"
        metrics["hd95_units"] = card.pop("hd95_units", "pixels")
    if predictor.task in ("classification", "multitask"):
        y_true = np.array([p.true_label for p in preds])
        probs = np.stack([np.asarray(p.class_probabilities) for p in preds])
        cls = evaluate_classification(
            y_true,
            probs,
            class_names=list(data.class_names),
            ids=[p.source for p in preds],
            n_bootstrap=1000,
        )
        metrics["n_images"] = len(preds)
        metrics["classification"] = round_floats(cls.summary)
        source_of = _sources(data, args.originals)
        if len(set(source_of)) > 1:  # accuracy and recall per source (e.g. Figshare, Br35H)
            metrics["by_source"] = round_floats(
                recall_by_group(y_true, probs, source_of, class_names=list(data.class_names))
            )
    if args.run:
        state = json.loads((args.run / "state.json").read_text())
        if args.holdout_card is None:
            card["metrics"] = metrics
        else:
            card["metrics"] = holdout_metrics(args.holdout_card)
            if args.pooled_cv is not None:
                card["metrics"]["cross_validation"] = json.loads(args.pooled_cv.read_text())
            card["check"] = {**metrics, "note": check_note("the held-out estimate")}
        monitor = json.loads((args.run / "metrics.json").read_text()).get("monitor", "val_dice")
        # without validation data the run monitors a training figure (the loss, or a
        # segmenter's training Dice): no "best" epoch to name
        validated = monitor.startswith("val_")
        training = {**card.get("training", {}), "epochs_completed": state["completed_epochs"]}
        if validated:
            training["best_epoch"] = state["best_epoch"]
            training[f"best_{monitor}_during_training"] = round_floats(state["best_value"])
        training["inference_seconds_cpu"] = round(seconds, 1)
        if args.checkpoint == "last":
            training["checkpoint"] = LAST_EPOCH
        if not validated:
            last = state["history"][-1]
            training["final_training_loss"] = round_floats(last["loss"])
            if monitor != "loss":
                training[f"final_training_{monitor}"] = round_floats(last[monitor])
        card["training"] = training
    else:
        cv = json.loads(args.cv.read_text())
        card["metrics"] = cv_metrics(cv, args.cv_recipe, by_group=by_group)
        card["check"] = {**metrics, "note": check_note("the cross-validation")}
        job = cv["device_summary"][f"{args.cv_recipe}/all"]
        card["training"] = {
            **card.get("training", {}),
            "epochs_completed": job["epochs_run"],
            "checkpoint": LAST_EPOCH,
            "training_images": job["n_train"],
            "train_seconds": job["train_seconds"],
            "images_per_second": job["images_per_s"],
            "backend": f"Keras {job['keras']} on {job['backend']}",
            "inference_seconds_cpu": round(seconds, 1),
        }
    if args.train_seconds is not None:
        card["training"]["wall_clock_seconds"] = round(args.train_seconds)
    if args.cv_calibration is not None:
        card["calibration"] = cv_calibration(args.cv_calibration, args.name)
    card["name"] = args.name
    # the exact `neuroseg evaluate` call that reproduces card["metrics"]
    card["evaluate"] = ["--data", args.data]
    for key, value in args.option:
        card["evaluate"] += ["--data-option", f"{key}={value}"]
    if args.groups:
        card["evaluate"] += ["--groups", *args.groups]
    card["file"] = path.name
    card["sha256"] = hashlib.sha256(path.read_bytes()).hexdigest()
    (args.out / f"{args.name}.json").write_text(json.dumps(card, indent=2) + "\n")
    print(json.dumps(card["metrics"], indent=2)[:3000])
    print(f"wrote {path} ({path.stat().st_size:,} bytes) and {args.name}.json")


if __name__ == "__main__":
    main()
