"""``neuroseg models list`` (recorded figures, no model built) and ``models ensemble``."""

import os
import re
import subprocess
import sys

import pytest

from neuroseg.cli import main
from neuroseg.models import get_spec, list_models, list_pretrained, pretrained_info


def test_models_list_prints_the_recorded_figures(capsys):
    assert main(["models", "list", "resunet-small"]) == 0
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["name", "task", "input", "params", "GFLOPs"]
    name, task, shape, params, gflops = lines[1].split()
    assert (name, task, shape, params) == ("resunet-small", "segmentation", "256x256x1", "517,809")
    assert gflops == f"{get_spec('resunet-small').gflops:.2f}"


def test_models_list_measure_builds_and_counts(capsys):
    assert main(["models", "list", "resunet-small", "--measure"]) == 0
    out = capsys.readouterr().out
    name, task, shape, params, gflops = out.strip().splitlines()[1].split()
    assert (name, task, shape, params) == ("resunet-small", "segmentation", "256x256x1", "517,809")
    assert abs(float(gflops) - get_spec("resunet-small").gflops) <= 0.01
    assert "differ from the recorded" not in out


def test_models_list_without_flops(capsys):
    assert main(["models", "list", "classifier-mobilenetv3s*", "--no-flops"]) == 0
    out = capsys.readouterr().out
    assert "classifier-mobilenetv3small" in out and "classification" in out
    assert "941,428" in out
    assert "resunet" not in out and out.rstrip().endswith("-")


def test_models_without_action_is_an_error(capsys):
    assert main(["models"]) == 2


# ``models list`` must read the registry, not build models: a preset whose builder fails
# is listed with its recorded figures, and every built-in preset is listed with its own.
NO_BUILD = """\
from neuroseg.models import ModelSpec, register_model
def unbuildable(**kwargs):
    raise AssertionError("neuroseg models list built a model")
register_model(ModelSpec("zz-unbuildable", unbuildable, "segmentation",
                         {"input_shape": (8, 8, 1)}, params=123, gflops=0.5))
from neuroseg.cli import main
raise SystemExit(main(["models", "list"]))
"""


def test_models_list_builds_no_model():
    env = {k: v for k, v in os.environ.items() if k != "NEUROSEG_LOG_LEVEL"}
    out = subprocess.run(
        [sys.executable, "-c", NO_BUILD], capture_output=True, text=True, timeout=300, env=env
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert out.stderr == ""  # TensorFlow's start-up lines are hidden too
    rows = {line.split()[0]: line.split() for line in out.stdout.splitlines() if line.strip()}
    assert rows["zz-unbuildable"] == ["zz-unbuildable", "segmentation", "8x8x1", "123", "0.50"]
    for name in list_models():
        spec = get_spec(name)
        assert rows[name][1:] == [
            spec.task,
            "x".join(map(str, spec.kwargs["input_shape"])),
            f"{spec.params:,}",
            f"{spec.gflops:.2f}",
        ], name


def test_models_list_says_what_each_pretrained_figure_is(capsys):
    assert main(["models", "list", "resunet-*"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[-3].split()[-1] == "validation"  # the pretrained table's header
    lgg = next(line for line in out.splitlines() if line.startswith("resunet-lgg "))
    per_patient = pretrained_info("resunet-lgg").metrics["metrics"]["dice"]["per_patient"]
    assert lgg.endswith(f"Dice {per_patient['mean']:.3f} per patient (5-fold CV)")


def test_a_pattern_matching_nothing_prints_only_the_header(capsys):
    assert main(["models", "list", "zz-no-such-model*"]) == 0
    assert capsys.readouterr().out == "name  task  input  params  GFLOPs\n"


def test_the_pattern_filters_the_pretrained_models_too(capsys):
    name = list_pretrained()[-1]
    info = pretrained_info(name)
    assert main(["models", "list", name]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].split() == ["name", "task", "input", "params", "GFLOPs"]
    assert lines[1:3] == [
        "",
        "pretrained (shipped with neuroseg, offline; see pretrained_info(name)):",
    ]
    assert lines[3].split() == ["name", "architecture", "task", "input", "status", "validation"]
    assert len(lines) == 5
    width = len(lines[3]) - len("validation")  # the columns are left-aligned
    assert lines[4][width:] == info.headline
    assert lines[4][:width].split() == [
        name,
        info.architecture,
        info.task,
        "x".join(map(str, info.input_shape)),
        info.status,
    ]


def test_an_unknown_action_is_refused(capsys):
    with pytest.raises(SystemExit):
        main(["models", "show"])
    assert "invalid choice: 'show'" in capsys.readouterr().err


def _fold(root, k, *, image_size=64, seed=0):
    """A run directory like ``neuroseg cv``'s fold_<k>: best.keras and preprocessor.json."""
    import keras

    from neuroseg.data import SlicePreprocessor
    from neuroseg.models import create_model

    keras.utils.set_random_seed(seed)
    d = root / f"fold_{k}"
    d.mkdir(parents=True)
    shape = (image_size, image_size, 1)
    create_model("resunet-small", input_shape=shape, base_filters=4).save(d / "best.keras")
    SlicePreprocessor(image_size=image_size).save(d / "preprocessor.json")
    return d


def test_models_ensemble_averages_the_folds_of_a_cv_folder(tmp_path, figshare_small, capsys):
    import numpy as np

    from neuroseg.data import load_dataset
    from neuroseg.inference import Predictor

    cv = tmp_path / "cv"
    for k in (2, 1, 10):  # fold order is numeric, not alphabetical
        _fold(cv, k, seed=k)
    out = tmp_path / "ens" / "folds.keras"
    assert main(["models", "ensemble", str(cv), "--out", str(out), "--name", "folds"]) == 0
    text = capsys.readouterr().out
    order = [line.split()[1] for line in text.splitlines()[1:4]]
    assert order == [str(cv / f"fold_{k}" / "best.keras") for k in (1, 2, 10)]
    assert "3 members" in text and (out.parent / "folds.preprocessor.json").is_file()
    # on real slices, the saved ensemble predicts the mean of its members
    ens = Predictor(out)
    assert ens.model.name == "folds" and ens.input_size == (64, 64)
    records = list(load_dataset("figshare", figshare_small))[:3]
    x = np.stack([ens.prepare(r.load_image()).array for r in records])
    members = [
        Predictor(cv / f"fold_{k}" / "best.keras").predict_batch(x)["mask"] for k in (1, 2, 10)
    ]
    np.testing.assert_allclose(ens.predict_batch(x)["mask"], np.mean(members, axis=0), atol=1e-5)


def test_models_ensemble_refuses_mixed_preprocessing_and_missing_checkpoints(tmp_path, capsys):
    a, b = _fold(tmp_path, 1), _fold(tmp_path, 2, image_size=32)
    out = str(tmp_path / "e.keras")
    cases = [
        (
            [str(a), str(b)],
            r"fold_2/best.keras: its preprocessor differs .*image_size=\(32, 32\)",
        ),
        ([str(a), str(b), "--checkpoint", "last"], "fold_1/last.keras: no such file"),
        ([str(a)], "at least two models"),
    ]
    for members, message in cases:  # every neuroseg error exits with status 2
        assert main(["models", "ensemble", *members, "--out", out]) == 2
        assert re.search(message, capsys.readouterr().err), message
    assert main(["models", "ensemble", str(a), str(b), "--out", "e.h5"]) == 2
    assert "must end in .keras" in capsys.readouterr().err
    assert not (tmp_path / "e.keras").exists()
