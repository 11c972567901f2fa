"""evaluate_fold: cross-validation scores folds with the evaluation core, as evaluate does."""

from dataclasses import replace

import keras
import numpy as np
import pytest

from neuroseg.data import SliceDataset, load_figshare
from neuroseg.inference import Predictor, evaluate
from neuroseg.metrics import dice
from neuroseg.train import evaluate_fold
from tests.inference.conftest import make_classifier


@pytest.fixture(scope="module")
def six(figshare_root):
    ds = load_figshare(figshare_root)
    return ds[[i for f in (1, 2, 3) for i in np.flatnonzero([r.fold == f for r in ds])[:2]]]


@pytest.mark.data
def test_segmentation_fold_is_scored_at_each_images_own_size(six):
    from neuroseg.models import create_model

    keras.utils.set_random_seed(0)
    model = create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8)
    row = evaluate_fold(model, six, {"task": "segmentation", "image_size": 64})
    # publisher folds are not patients: no per-patient figure
    assert set(row) == {"dice", "iou", "precision", "recall", "dice_pooled"}
    preds = Predictor(model, threshold=0.5).predict(six)
    assert all(p.mask.shape == (256, 256) for p in preds)  # the slices' own size
    truth = np.stack([p.truth > 0 for p in preds])
    masks = np.stack([p.mask > 0 for p in preds])
    assert row["dice"] == pytest.approx(float(dice(truth, masks)))
    assert row["dice_pooled"] == pytest.approx(float(dice(truth, masks, reduction="pooled")))
    summary = evaluate(Predictor(model), six, n_bootstrap=10, progress=False).summary
    assert row["iou"] == pytest.approx(summary["iou"])
    assert row["recall"] == pytest.approx(summary["recall"])

    # with real patient IDs (two slices each) the per-patient Dice joins them as volumes
    named = SliceDataset(
        [replace(r, patient_id=f"p{i // 2}") for i, r in enumerate(six)],
        class_names=six.class_names,
    )
    row = evaluate_fold(model, named, {"task": "segmentation", "image_size": 64})
    groups = [f"p{i // 2}" for i in range(len(six))]
    expected = dice(truth, masks, reduction="per_patient", groups=groups)
    assert row["dice_per_patient"] == pytest.approx(float(expected))


@pytest.mark.data
def test_classification_fold(six):
    keras.utils.set_random_seed(0)
    model = make_classifier(num_classes=len(six.class_names))
    row = evaluate_fold(model, six, {"task": "classification", "image_size": 64})
    assert set(row) == {"accuracy", "balanced_accuracy"}
    preds = Predictor(model).predict(six)
    right = [p.label == p.true_label for p in preds]
    assert row["accuracy"] == pytest.approx(float(np.mean(right)))


@pytest.mark.slow
@pytest.mark.data
def test_cross_validate_pools_every_held_out_slice_by_patient(shared_data, tmp_path):
    """Real LGG slices of four patients, two folds of one epoch: the pooled block is over
    all eight held-out slices once, and with real patient IDs it resamples patients and
    gives a per-patient Dice from each patient's summed counts."""
    import csv

    from neuroseg.data import load_lgg
    from neuroseg.metrics import pool_items
    from neuroseg.models import create_model
    from neuroseg.train import TrainConfig, cross_validate

    lgg = load_lgg(shared_data / "lgg-kaggle3m")
    patients = sorted(set(lgg.patients))[:4]
    picked = [i for p in patients for i in np.flatnonzero([r.patient_id == p for r in lgg])[:2]]
    data = lgg[picked]
    result = cross_validate(
        lambda: create_model("resunet-small", input_shape=(32, 32, 3), base_filters=4),
        data,
        folds=2,
        config=TrainConfig(epochs=1, learning_rate=1e-3),
        out=tmp_path / "cv",
        pipeline={"task": "segmentation", "image_size": 32, "batch_size": 4},
        verbose=0,
    )
    assert len(result.items) == 8 and {r["fold"] for r in result.items} == {1, 2}
    pooled = result.pooled["segmentation"]
    assert pooled["n_patients"] == 4 and result.pooled["bootstrap"]["unit"] == "patient"
    expected = pool_items(result.items, patients=[r["group"] for r in result.items], seed=0)[
        "segmentation"
    ]["metrics"]["dice"]
    assert pooled["metrics"]["dice"]["per_patient"]["mean"] == pytest.approx(
        expected["per_patient"]["mean"]
    )
    assert pooled["metrics"]["dice"]["per_image"]["mean"] == pytest.approx(
        np.mean([r["dice"] for r in result.items])
    )
    with (tmp_path / "cv" / "cv_items.csv").open() as fh:
        assert [r["source"] for r in csv.DictReader(fh)] == [r["source"] for r in result.items]
    assert result.pooled_line().startswith("all 8 held-out items pooled: per-image Dice ")
