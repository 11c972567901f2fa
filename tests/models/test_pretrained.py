"""Pretrained models shipped in the package: integrity, loading, cards and their use."""

import json
import shutil

import numpy as np
import pytest

from neuroseg.cli import main
from neuroseg.data import CLASS_NAMES, load_figshare
from neuroseg.errors import ConfigError, ModelError, UnknownNameError
from neuroseg.inference import Predictor
from neuroseg.metrics import dice
from neuroseg.models import (
    create_model,
    list_models,
    list_pretrained,
    load_pretrained,
    pretrained,
    pretrained_info,
)

NAMES = list_pretrained()


@pytest.fixture
def weights_copy(tmp_path, monkeypatch):
    """A copy of the shipped weights folder that the loader reads instead."""
    folder = tmp_path / "weights"
    shutil.copytree(pretrained._weights_dir(), folder)
    monkeypatch.setattr(pretrained, "_weights_dir", lambda: folder)
    return folder


def test_shipped_models_are_listed_and_small():
    assert "resunet-figshare" in NAMES
    folder = pretrained._weights_dir()
    total = sum(p.stat().st_size for p in folder.iterdir())
    assert total <= 40 * 2**20, f"pretrained weights take {total:,} bytes (limit 40 MB)"


@pytest.mark.parametrize("name", NAMES)
def test_card_is_complete_and_matches_the_file(name):
    info = pretrained_info(name)
    assert info.name == name and info.architecture in list_models()
    assert info.intended_use and "not a medical device" in info.intended_use
    assert info.limitations and info.training.get("data") and info.training.get("split")
    assert info.status in ("final", "preliminary")
    assert info.metrics["n_images"] > 0
    model = load_pretrained(name)
    assert tuple(model.input_shape[1:]) == info.input_shape
    assert getattr(model, "optimizer", None) is None  # shipped without optimiser state
    again = create_model(name, pretrained=True)
    x = np.random.default_rng(0).random((1, *info.input_shape), dtype=np.float32)
    a, b = model.predict(x, verbose=0), again.predict(x, verbose=0)  # arrays or dicts of them
    for key in a if isinstance(a, dict) else [None]:
        np.testing.assert_array_equal(*((a, b) if key is None else (a[key], b[key])))


def test_untrained_architecture_of_a_pretrained_name():
    info = pretrained_info("resunet-figshare")
    model = create_model("resunet-figshare")
    assert tuple(model.input_shape[1:]) == info.input_shape
    trained = load_pretrained("resunet-figshare")
    assert not all(np.array_equal(a, b) for a, b in zip(model.get_weights(), trained.get_weights()))


def test_bad_names_and_arguments():
    with pytest.raises(UnknownNameError, match="resunet-figshare"):
        load_pretrained("resunet-nowhere")
    with pytest.raises(UnknownNameError, match="No pretrained weights for 'resunet-small'"):
        create_model("resunet-small", pretrained=True)
    with pytest.raises(ConfigError, match="input_shape"):
        create_model("resunet-figshare", pretrained=True, input_shape=(128, 128, 1))
    with pytest.raises(ModelError, match="untrained architecture"):
        Predictor("resunet-small")


def test_corrupt_weights_are_refused(weights_copy):
    path = weights_copy / "resunet-figshare.keras"
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ModelError, match="SHA-256"):
        load_pretrained("resunet-figshare")
    card = weights_copy / "resunet-figshare.json"
    card.write_text("{not json")
    with pytest.raises(ModelError, match="unreadable model card"):
        pretrained_info("resunet-figshare")


def test_predictor_takes_threshold_from_the_card(weights_copy):
    card = weights_copy / "resunet-figshare.json"
    raw = json.loads(card.read_text())
    raw["threshold"] = 0.7
    card.write_text(json.dumps(raw))
    assert Predictor("resunet-figshare").threshold == 0.7
    assert Predictor("resunet-figshare", threshold=0.4).threshold == 0.4


def test_predictor_takes_tta_from_the_card(weights_copy, figshare_root):
    card = weights_copy / "resunet-figshare.json"
    raw = json.loads(card.read_text())
    for tta, expected in ((None, False), ("flip", True)):
        raw["tta"] = tta
        card.write_text(json.dumps(raw))
        assert pretrained_info("resunet-figshare").tta == tta
        assert Predictor("resunet-figshare").tta is expected
    # the caller's setting wins; with the card's flip a prediction is the mean of the two
    image = load_figshare(figshare_root, folds=[4])[:1]
    plain = Predictor("resunet-figshare", tta=False).predict(image)[0].probability
    both = Predictor("resunet-figshare").predict(image)[0].probability
    assert not np.allclose(plain, both)
    raw["tta"] = "rot90"
    card.write_text(json.dumps(raw))
    with pytest.raises(ModelError, match="tta='rot90'"):
        pretrained_info("resunet-figshare")


def test_resunet_figshare_segments_real_validation_slices(figshare_root):
    """Every 40th fold-4 slice (training data of the all-folds model), scored against its mask."""
    data = load_figshare(figshare_root, folds=[4])
    data = data[np.arange(0, len(data), 40)]
    preds = Predictor("resunet-figshare").predict(data)
    scores = [dice(p.truth.astype(bool), p.mask.astype(bool)) for p in preds]
    assert len(scores) == len(data)
    assert np.mean(scores) > 0.4, scores


def test_cli_predict_and_evaluate_by_name(tmp_path, figshare_root, capsys):
    image = figshare_root / "images" / "1.png"
    out = tmp_path / "pred"
    assert main(["predict", "--model", "resunet-figshare", str(image), "--out", str(out)]) == 0
    doc = json.loads((out / "predictions.json").read_text())
    assert doc["threshold"] == pretrained_info("resunet-figshare").threshold
    assert len(doc["predictions"]) == 1


def test_cli_evaluate_groups_must_exist(figshare_root, capsys):
    spec = f"figshare:{figshare_root}"
    args = ["evaluate", "--model", "resunet-figshare", "--data", spec, "--groups", "fold-9"]
    assert main(args) != 0
    err = capsys.readouterr().err
    assert "fold-9" in err and "fold-4" in err


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_evaluate_reproduces_the_card(name, shared_data, capsys):
    """`neuroseg evaluate --model NAME` with the card's own arguments gives its figures.

    A model trained on every fold reports its recipe's cross-validation as ``metrics``;
    its ``check`` (the evaluate arguments on its own training data) is reproduced instead.
    """
    info = pretrained_info(name)
    expected = info.check or info.metrics
    args = [a.replace("../shared/data", str(shared_data)) for a in info.evaluate]
    assert args, f"{name}: the card has no evaluate arguments"
    assert main(["evaluate", "--model", name, *args, "--json", "-"]) == 0
    out = capsys.readouterr().out
    summary = json.loads(out[out.index("{") :])["summary"]
    if "metrics" in expected:  # segmentation (also multi-task)
        card = expected["metrics"]["dice"]
        assert abs(summary["dice"] - card["per_image"]["mean"]) < 1e-3
        assert abs(summary["pooled"]["dice"] - card["pooled"]) < 1e-3
        if "per_patient" in card:
            assert abs(summary["dice_per_patient"] - card["per_patient"]["mean"]) < 1e-3
    if "classification" in expected:
        card_cls = expected["classification"]
        assert abs(summary["accuracy"] - card_cls["accuracy"]) < 1e-3
        assert summary["confusion_matrix"] == card_cls["confusion_matrix"]


def test_classifier_4class_crops_and_classifies_real_validation_slices(figshare_root, shared_data):
    """3 fold-4 slices per class (its training data), cropped like its training."""
    from neuroseg.data import load_four_class

    info = pretrained_info("classifier-4class")
    assert info.crop == "brain" and info.class_names == CLASS_NAMES
    predictor = Predictor("classifier-4class")
    assert predictor.crop == "brain" and predictor.class_names == CLASS_NAMES
    data = load_four_class(figshare_root, shared_data / "br35h-no-tumor", no_tumor_folds=4)
    data = data.filter(lambda r: r.group == "fold-4")
    picks = np.concatenate([np.flatnonzero(data.labels == k)[:3] for k in range(4)])
    preds = predictor.predict(data[picks])
    correct = sum(p.label == p.true_label for p in preds)
    assert correct >= 9, [(p.true_label, p.label) for p in preds]
    assert all(p.class_probabilities.shape == (4,) for p in preds)


def test_resunet_lgg_segments_a_validation_patient(shared_data):
    """A patient of the card's validation split, scored as one volume (per-patient Dice)."""
    from neuroseg.data import load_lgg

    info = pretrained_info("resunet-lgg")
    patient = info.evaluate[info.evaluate.index("--groups") + 1]
    data = load_lgg(shared_data / "lgg-kaggle3m").filter(lambda r: r.group == patient)
    preds = Predictor("resunet-lgg").predict(data)
    truth = np.stack([p.truth.astype(bool) for p in preds])
    mask = np.stack([p.mask.astype(bool) for p in preds])
    assert truth.any() and dice(truth, mask, reduction="pooled") > 0.6


def test_multitask_figshare_gives_mask_and_type(figshare_root):
    data = load_figshare(figshare_root, folds=[4])
    data = data[np.arange(0, len(data), 60)]
    predictor = Predictor("multitask-figshare")
    assert predictor.task == "multitask" and predictor.class_names == CLASS_NAMES
    preds = predictor.predict(data)
    scores = [dice(p.truth.astype(bool), p.mask.astype(bool)) for p in preds]
    correct = np.mean([p.label == p.true_label for p in preds])
    assert np.mean(scores) > 0.4 and correct > 0.5, (scores, correct)


def test_headline_names_the_figure_and_the_validation():
    from neuroseg.models import PretrainedInfo

    def card(metrics):
        return PretrainedInfo(
            name="x", architecture="resunet-small", task="segmentation",
            input_shape=(8, 8, 1), sha256="", file="x.keras", metrics=metrics,
        )  # fmt: skip

    per_image = {"metrics": {"dice": {"per_image": {"mean": 0.71234}}}}
    assert card(per_image).headline == "Dice 0.712 per image (one validation split)"
    both = {
        "metrics": {"dice": {"per_image": {"mean": 0.9}, "per_patient": {"mean": 0.7}}},
        "folds": {"fold1": {}, "fold2": {}, "fold3": {}},
    }
    assert card(both).headline == "Dice 0.700 per patient (3-fold CV)"
    mixed = {**per_image, "classification": {"accuracy": 0.8488}}
    assert card(mixed).headline == "Dice 0.712 per image, accuracy 0.849 (one validation split)"
    assert card({}).headline == "-"
    estimate = {"classification": {"accuracy": 0.9211}, "estimate": "fold model's figures"}
    assert card(estimate).headline == (
        "accuracy 0.921 (same config with the split held out; the model trained on all of it)"
    )
    pooled = {"classification": {"accuracy": 0.93}, "folds": {"fold1": {}, "fold2": {}}}
    assert card({**estimate, "cross_validation": pooled}).headline == (
        "accuracy 0.930 (2-fold CV, pooled)"
    )
