"""``import neuroseg`` is enough for a plain ``keras.saving.load_model`` (fresh processes)."""

import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

import neuroseg.models

QUIET = {"TF_CPP_MIN_LOG_LEVEL": "3"}


def _run(code: str, *, env: dict[str, str] | None = None) -> str:
    import os

    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        timeout=300,
        env={**os.environ, **QUIET, **(env or {})},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


def test_import_neuroseg_registers_nothing_and_imports_no_tensorflow():
    out = _run(
        """
        import sys
        import neuroseg
        print(sorted(m for m in ("keras", "tensorflow") if m in sys.modules))
        """
    )
    assert out.strip() == "[]"


@pytest.mark.parametrize(
    "first",
    [
        "import keras",
        pytest.param("import tensorflow", marks=pytest.mark.slow),
        pytest.param("import keras, neuroseg  # keras before neuroseg", marks=pytest.mark.slow),
    ],
)
def test_plain_keras_load_model_after_import_neuroseg(first):
    path = Path(neuroseg.models.__file__).parent / "weights" / "resunet-figshare.keras"
    shape = neuroseg.models.pretrained_info("resunet-figshare").input_shape
    out = _run(
        f"""
        import neuroseg
        {first}
        import keras, numpy as np
        model = keras.saving.load_model({str(path)!r})  # safe_mode=True by default
        x = np.zeros((1, *{shape!r}), "float32")
        print(type(model).__module__, model.predict(x, verbose=0).shape)
        """
    )
    h, w, c = shape
    assert out.split() == ["neuroseg.models.resunet", "(1,", f"{h},", f"{w},", f"{c})"]


@pytest.mark.slow
def test_a_run_checkpoint_loads_compiled(tmp_path: Path):
    from neuroseg.data import load_sample
    from neuroseg.models import create_model
    from neuroseg.train import TrainConfig, fit

    ds = load_sample()[:8]
    model = create_model("resunet-small", input_shape=(32, 32, 1))
    fit(
        model,
        ds.to_tf_dataset("segmentation", image_size=32, batch_size=4),
        config=TrainConfig(epochs=1),
        out=tmp_path / "run",
        verbose=0,
    )
    out = _run(
        f"""
        import neuroseg, keras
        model = keras.saving.load_model({str(tmp_path / "run" / "last.keras")!r})
        print(type(model.loss).__module__, model.compiled)
        """
    )
    assert out.split() == ["neuroseg.metrics.losses", "True"]


def test_keras_without_tensorflow_still_registers_models_and_losses():
    # A machine with JAX as Keras' backend and no TensorFlow (the device machine): importing
    # Keras after neuroseg must not fail, and everything but the TF-based preprocessor
    # registers. Keras' NumPy backend imports JAX too, so this needs JAX (skipped where it
    # is missing, as in CI; the device dry run, docs/training.md, exercises the same path).
    pytest.importorskip("jax")
    out = _run(
        """
        import sys
        sys.modules["tensorflow"] = None  # import tensorflow now raises ImportError
        import neuroseg
        import keras, numpy as np
        from neuroseg.models import ResUNet
        get = keras.saving.get_registered_object
        print(keras.backend.backend(), get("neuroseg>ResUNet").__name__,
              get("neuroseg>DiceBCELoss").__name__, get("neuroseg>SlicePreprocessor"))
        model = ResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4)
        print(model.predict(np.zeros((1, 32, 32, 1), "float32"), verbose=0).shape)
        """,
        env={"KERAS_BACKEND": "jax"},
    )
    assert out.split() == ["jax", "ResUNet", "DiceBCELoss", "None", "(1,", "32,", "32,", "1)"]
