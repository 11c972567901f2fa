"""The quickstart: train a small ResUNet on the bundled sample and evaluate it patient-wise."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from neuroseg import tables

__all__ = ["DEFAULT_EPOCHS", "DEFAULT_MODEL", "HOLDOUT_GROUPS", "format_table", "run_quickstart"]

#: Default number of epochs: enough to learn something in under 3 minutes on 2 CPU cores.
DEFAULT_EPOCHS = 100
#: Default segmentation preset of the quickstart: the fastest to train on a CPU; on the
#: sample's 11 held-out slices level with ``resunet-small`` over three seeds (see
#: docs/quickstart.md) in a little over half its time.
DEFAULT_MODEL = "resunet-fast-half"
#: The held-out groups: one of Cheng's patient-wise folds and one TCIA patient.
HOLDOUT_GROUPS = ("fold-4", "tcia-06")


def format_table(rows: Sequence[tuple[str, Mapping[str, Any]]]) -> str:
    """Format ``[(row_name, {metric: value})]`` as an aligned text table.

    Example:
        >>> print(format_table([("per-image mean", dict(dice=0.5, iou=1 / 3, precision=1.0,
        ...                                              recall=0.25))]))
                          Dice     IoU  Precision  Recall
        per-image mean  0.5000  0.3333      1.000  0.2500
    """
    cols = ["Dice", "IoU", "Precision", "Recall"]
    return tables.format_table(
        [[name, *(float(values[c.lower()]) for c in cols)] for name, values in rows],
        header=["", *cols],
    )


def run_quickstart(
    *,
    epochs: int = DEFAULT_EPOCHS,
    out: str | os.PathLike[str] = "neuroseg-quickstart",
    image_size: int = 128,
    model: str = DEFAULT_MODEL,
    ema_momentum: float | None = None,
    seed: int = 0,
    verbose: int | str = "auto",
    echo: Callable[[str], Any] = print,
) -> dict[str, Any]:
    """Train a ResUNet preset on the bundled sample with a patient-wise hold-out.

    The held-out slices are Cheng's fold 4 (9 tumour slices) and TCIA patient 06 (2 empty
    slices). Writes to ``out``: ``model.keras`` (with ``model.preprocessor.json``),
    ``metrics.json``, the run directory
    ``run/`` and ``overlays/*.png`` (image with the true contour in green and the predicted
    one in red, at the original 256×256).

    Args:
        epochs: Training epochs (cosine schedule).
        out: Output folder.
        image_size: Training resolution in pixels (a multiple of the model's step).
        model: A segmentation preset of :func:`~neuroseg.models.list_models`.
        ema_momentum: Validate and save a moving average of the weights (see
            :class:`~neuroseg.train.TrainConfig`); ``None`` trains without one.
        seed: Random seed of the initial weights, the shuffling and the augmentation (the
            split is fixed).
        verbose: Keras' ``fit`` verbosity.
        echo: Where the progress lines go.

    Returns:
        The metrics dict also written to ``metrics.json``.

    Raises:
        ConfigError: ``model`` is not a segmentation preset.
        UnknownNameError: ``model`` is not a preset at all.
    """
    from neuroseg.data import (
        Compose,
        RandomFlip,
        RandomRotate90,
        SlicePreprocessor,
        check_leakage,
        load_sample,
        preprocessor_path,
        train_test_split,
    )
    from neuroseg.errors import ConfigError
    from neuroseg.inference import Predictor, save_overlay
    from neuroseg.metrics import evaluate_segmentation
    from neuroseg.models import create_model, get_spec, list_models
    from neuroseg.train import TrainConfig, fit, set_seed

    spec = get_spec(model)
    if spec.task != "segmentation":
        presets = [n for n in list_models() if get_spec(n).task == "segmentation"]
        raise ConfigError(
            f"The quickstart trains a segmentation model; {model!r} is a {spec.task} preset. "
            f"Pick one of: {', '.join(presets)}."
        )
    start = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    sample = load_sample()
    train, test = train_test_split(sample, test_groups=HOLDOUT_GROUPS)
    check_leakage(train, test, raise_on_leak=True)
    echo(
        f"neuroseg quickstart: {len(sample)} real MRI slices; patient-wise hold-out of "
        f"{', '.join(HOLDOUT_GROUPS)} -> {len(train)} train / {len(test)} test slices "
        f"(no patient or image shared)."
    )
    # one preparation for training and inference, saved beside the model
    preprocessor = SlicePreprocessor(channels=1, image_size=image_size)
    train_ds = train.to_tf_dataset(
        "segmentation",
        preprocessor=preprocessor,
        batch_size=4,
        shuffle=True,
        cache=True,
        augment=Compose([RandomFlip(horizontal=True), RandomRotate90()]),
        seed=seed,
    )
    preset = model
    set_seed(seed)  # the initial weights are drawn when the model is built
    net = create_model(preset, input_shape=(image_size, image_size, 1))
    echo(f"Training {preset} ({net.count_params():,} parameters) for {epochs} epoch(s)...")
    config = TrainConfig(epochs=epochs, schedule="cosine", seed=seed, ema_momentum=ema_momentum)
    fit(
        net,
        train_ds,
        config=config,
        out=out / "run",
        verbose=verbose,
    )
    net.save(out / "model.keras")
    preprocessor.save(preprocessor_path(out / "model.keras"))

    # The Predictor maps each mask back to its slice's own size; the figures come from
    # the evaluation core (neuroseg.metrics), as `neuroseg evaluate` computes them.
    preds = Predictor(net, threshold=0.5, preprocessor=preprocessor).predict(test)
    truths = [np.asarray(p.truth) > 0 for p in preds]
    masks = [np.asarray(p.mask) > 0 for p in preds]
    for record, p in zip(test, preds):
        save_overlay(
            out / "overlays" / f"{record.meta['id']}.png", p.image, p.truth, p.mask, scale=2
        )
    tumour = np.array([t.any() for t in truths])
    names = ("dice", "iou", "precision", "recall")

    def scores(keep: np.ndarray) -> Any:
        idx = np.flatnonzero(keep)
        return evaluate_segmentation(
            [truths[i] for i in idx], [masks[i] for i in idx], metrics=names, n_bootstrap=1
        ).summary["metrics"]

    every = scores(np.ones(len(preds), bool))
    on_tumour = scores(tumour) if tumour.any() else None
    results = {
        "per_image": {k: every[k]["per_image"]["mean"] for k in names},
        "per_image_tumour_slices": {
            k: (on_tumour[k]["per_image"]["mean"] if on_tumour else float("nan")) for k in names
        },
        "pooled": {k: every[k]["pooled"] for k in names},
    }
    summary = {
        "model": preset,
        "ema_momentum": ema_momentum,
        "epochs": epochs,
        "image_size": image_size,
        "n_train": len(train),
        "n_test": len(test),
        "n_test_tumour": int(tumour.sum()),
        "holdout_groups": list(HOLDOUT_GROUPS),
        "seconds": round(time.perf_counter() - start, 1),
        "empty_mask_rule": "both empty -> 1.0; only one empty -> 0.0",
        **results,
    }
    (out / "metrics.json").write_text(json.dumps(summary, indent=2) + "\n")
    echo("")
    echo(f"Held-out results ({len(test)} slices, scored at their own size; threshold 0.5):")
    echo(
        format_table(
            [
                ("per-image mean", results["per_image"]),
                (f"tumour slices ({int(tumour.sum())})", results["per_image_tumour_slices"]),
                ("pooled pixels", results["pooled"]),
            ]
        )
    )
    echo("Empty-mask rule: truth and prediction both empty count as 1.0 (see docs/metrics.md).")
    echo(f"Model: {out / 'model.keras'}   overlays: {out / 'overlays'}   ({summary['seconds']} s)")
    return summary
