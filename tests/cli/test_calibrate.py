"""`neuroseg calibrate` on small synthetic data: saves a model that Predictor loads."""

import json

import cv2
import numpy as np
import pytest

from neuroseg.cli import main
from neuroseg.data import SlicePreprocessor, load_preprocessor
from neuroseg.inference import Predictor
from neuroseg.models import TemperatureScaling, create_model


@pytest.fixture
def pairs(tmp_path):
    """Eight image/mask pairs (a bright disc is the tumour) and a small segmenter."""
    root = tmp_path / "pairs"
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(8):
        mask = np.zeros((32, 32), np.uint8)
        cv2.circle(mask, (10 + i, 14 + i % 3), 5, 255, -1)
        img = (rng.random((32, 32)) * 60 + (mask > 0) * 150).astype(np.uint8)
        cv2.imwrite(str(root / "images" / f"p{i}_{i}.png"), img)
        cv2.imwrite(str(root / "masks" / f"p{i}_{i}.png"), mask)
    model = create_model("resunet-small", input_shape=(32, 32, 1))
    path = tmp_path / "seg.keras"
    model.save(path)
    SlicePreprocessor(channels=1, image_size=(32, 32)).save(tmp_path / "seg.preprocessor.json")
    return root, path


def test_calibrate_saves_model_preprocessor_and_figures(pairs, tmp_path, capsys):
    root, model_path = pairs
    out = tmp_path / "out" / "calibrated.keras"
    args = ["calibrate", "--model", str(model_path), "--data", f"pairs:{root}"]
    args += ["--out", str(out), "--json", str(tmp_path / "c.json"), "-q"]
    args += ["--picture", str(tmp_path / "rel.png")]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "temperature T =" in text and "expected calibration error (ECE)" in text
    assert out.is_file() and load_preprocessor(out) is not None
    assert cv2.imread(str(tmp_path / "rel.png")).shape[2] == 3
    doc = json.loads((tmp_path / "c.json").read_text())
    assert doc["activation"] == "sigmoid" and doc["temperature"] > 0
    assert {"ece", "mce", "brier", "nll"} <= set(doc["fit"]["before"])
    p = Predictor(str(out))
    assert isinstance(p.model.layers[-1], TemperatureScaling)
    assert p.predict(np.zeros((32, 32), np.uint8))[0].mask.shape == (32, 32)


def test_holdout_reports_on_images_not_fitted(pairs, tmp_path, capsys):
    root, model_path = pairs
    out = tmp_path / "c.keras"
    args = ["calibrate", "--model", str(model_path), "--data", f"pairs:{root}", "-q"]
    args += ["--out", str(out), "--holdout", "0.5", "--bootstrap", "20"]
    args += ["--json", str(tmp_path / "h.json")]
    assert main(args) == 0
    doc = json.loads((tmp_path / "h.json").read_text())
    held = doc["holdout"]
    assert held["n_fit"] + held["n_images"] == 8 and held["unit"] == "near-copy group"
    assert held["ci"]["ece_after"][0] <= held["after"]["ece"] <= held["ci"]["ece_after"][1]
    assert "held-out images" in capsys.readouterr().out


def test_bad_holdout_is_an_error(pairs, tmp_path, capsys):
    root, model_path = pairs
    args = ["calibrate", "--model", str(model_path), "--data", f"pairs:{root}"]
    assert main([*args, "--out", str(tmp_path / "x.keras"), "--holdout", "1.5"]) == 2
    assert "--holdout" in capsys.readouterr().err


@pytest.fixture
def multitask_model(tmp_path):
    """A small untrained multi-task model (mask + 4 classes) with its preprocessor."""
    model = create_model("multitask-base", input_shape=(32, 32, 1), num_classes=4)
    path = tmp_path / "mt.keras"
    model.save(path)
    SlicePreprocessor(channels=1, image_size=(32, 32)).save(tmp_path / "mt.preprocessor.json")
    return path


def test_multitask_gets_a_temperature_per_head(multitask_model, figshare_root, tmp_path, capsys):
    from tests.inference.conftest import make_figshare_subset

    fig = make_figshare_subset(
        figshare_root, tmp_path / "fig", [1, 2, 3, 1000, 1001, 1002, 2000, 2001, 2500, 3000]
    )
    out = tmp_path / "mt-cal.keras"
    args = ["calibrate", "--model", str(multitask_model), "--data", f"figshare:{fig}", "-q"]
    args += ["--out", str(out), "--holdout", "0.5", "--bootstrap", "20"]
    args += ["--json", str(tmp_path / "m.json"), "--picture", str(tmp_path / "rel.png")]
    assert main(args) == 0
    text = capsys.readouterr().out
    assert "class head" in text and "mask head" in text
    doc = json.loads((tmp_path / "m.json").read_text())
    assert set(doc["temperature"]) == {"label", "mask"}
    assert doc["heads"]["label"]["activation"] == "softmax"
    assert doc["heads"]["mask"]["activation"] == "sigmoid"
    for head in ("label", "mask"):
        held = doc["heads"][head]["holdout"]
        assert held["n_fit"] + held["n_images"] == 10
        assert doc["temperature"][head] == doc["heads"][head]["temperature"] > 0
        assert cv2.imread(str(tmp_path / f"rel-{head}.png")).shape[2] == 3
    p = Predictor(str(out))
    assert p.task == "multitask"
    names = {layer.name: layer for layer in p.model.layers}
    assert names["temperature_label"].temperature == pytest.approx(doc["temperature"]["label"])
    assert names["temperature_mask"].activation == "sigmoid"
    (pred,) = p.predict(np.zeros((32, 32), np.uint8))
    assert pred.mask.shape == (32, 32) and pred.class_probabilities.shape == (4,)


def test_multitask_needs_a_head_in_python(multitask_model):
    from neuroseg.errors import ModelError
    from neuroseg.inference.calibration import calibrate_model

    x = np.zeros((2, 32, 32, 1), np.float32)
    with pytest.raises(ModelError, match="head"):
        calibrate_model(str(multitask_model), (x, np.zeros(2, np.int64)))
    _, result = calibrate_model(str(multitask_model), (x, np.array([0, 3])), head="label")
    assert result.activation == "softmax" and result.n_samples == 2


def test_a_given_temperature_is_applied_without_data(pairs, tmp_path, capsys):
    _, model_path = pairs
    out = tmp_path / "t2.keras"
    args = ["calibrate", "--model", str(model_path), "--temperature", "2", "--out", str(out)]
    assert main([*args, "--json", str(tmp_path / "t.json")]) == 0
    doc = json.loads((tmp_path / "t.json").read_text())
    assert (doc["temperature"], doc["fitted"], doc["data"]) == (2.0, False, None)
    assert "applied" not in doc and "saved" in capsys.readouterr().out
    # the saved model's probabilities are sigmoid(logit / 2) of the original's
    original = Predictor(str(model_path))
    calibrated = Predictor(str(out))
    assert isinstance(calibrated.model.layers[-1], TemperatureScaling)
    x = np.random.default_rng(1).random((2, 32, 32, 1)).astype("float32")
    p = np.asarray(original.model(x), dtype=np.float64)
    q = np.asarray(calibrated.model(x), dtype=np.float64)
    inner = (p > 0.01) & (p < 0.99)  # away from float32's saturation at 0 and 1
    assert inner.sum() >= 10  # enough pixels to check the formula (how many varies with init)
    mid = p[inner]
    expected = 1 / (1 + np.exp(-np.log(mid / (1 - mid)) / 2))
    np.testing.assert_allclose(q[inner], expected, atol=1e-4)
    assert np.all(q[p > 0.5] < p[p > 0.5] + 1e-6)  # T > 1 pulls every pixel towards 0.5


def test_a_given_temperature_is_scored_on_the_data(pairs, tmp_path, capsys):
    root, model_path = pairs
    args = ["calibrate", "--model", str(model_path), "--data", f"pairs:{root}", "-q"]
    args += ["--bootstrap", "20", "--out", str(tmp_path / "t.keras")]
    assert main([*args, "--temperature", "1", "--json", str(tmp_path / "one.json")]) == 0
    applied = json.loads((tmp_path / "one.json").read_text())["applied"]
    assert applied["n_images"] == 8
    assert applied["before"]["ece"] == pytest.approx(applied["after"]["ece"])  # T = 1: no change
    assert main([*args, "--temperature", "3", "--json", str(tmp_path / "three.json")]) == 0
    applied = json.loads((tmp_path / "three.json").read_text())["applied"]
    assert applied["before"]["nll"] != pytest.approx(applied["after"]["nll"])
    assert "given (not fitted)" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ([], "--data is needed to fit"),
        (["--temperature", "0"], "must be above 0"),
        (["--temperature", "1", "2"], "give one temperature"),
        (["--temperature", "2", "--holdout", "0.5"], "fits nothing"),
        (["--temperature", "2", "--picture", "x.png"], "--picture needs --data"),
    ],
)
def test_given_temperature_errors(pairs, tmp_path, capsys, extra, message):
    _, model_path = pairs
    args = ["calibrate", "--model", str(model_path), "--out", str(tmp_path / "x.keras"), *extra]
    assert main(args) == 2
    assert message in capsys.readouterr().err


def test_multitask_takes_two_given_temperatures(multitask_model, tmp_path, capsys):
    args = ["calibrate", "--model", str(multitask_model), "--out", str(tmp_path / "m.keras")]
    assert main([*args, "--temperature", "1.5"]) == 2
    assert "two temperatures" in capsys.readouterr().err
    assert main([*args, "--temperature", "1.2", "2.5"]) == 0
    names = {layer.name: layer for layer in Predictor(str(tmp_path / "m.keras")).model.layers}
    assert names["temperature_label"].temperature == pytest.approx(1.2)
    assert names["temperature_mask"].temperature == pytest.approx(2.5)
