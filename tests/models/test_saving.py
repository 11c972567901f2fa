import zipfile

import keras
import numpy as np
import pytest

from neuroseg.errors import ModelError
from neuroseg.models import ResUNet
from neuroseg.models.saving import load_model


@pytest.fixture(scope="module")
def saved(tmp_path_factory):
    """A small ResUNet (a neuroseg class) saved as a .keras file."""
    model = ResUNet(input_shape=(16, 16, 1), depth=2, base_filters=4, name="small")
    path = tmp_path_factory.mktemp("saving") / "small.keras"
    model.save(path)
    return model, path


def test_round_trip_of_a_neuroseg_model(saved):
    model, path = saved
    back = load_model(str(path))
    assert type(back) is ResUNet and back.name == "small"
    assert back.get_config() == model.get_config()
    x = np.random.default_rng(0).random((1, 16, 16, 1), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(back(x)), np.asarray(model(x)), atol=1e-6)
    assert load_model(path, compile=False).get_config() == model.get_config()


def test_a_folder_is_not_a_model(tmp_path):
    with pytest.raises(ModelError, match="a folder, not a model file"):
        load_model(tmp_path)
    (tmp_path / "saved_model.pb").write_bytes(b"\x08\x01")
    with pytest.raises(ModelError, match="TensorFlow SavedModel folder"):
        load_model(tmp_path)


@pytest.mark.parametrize(
    ("name", "content", "match"),
    [
        ("empty.keras", b"", "empty \\(0 bytes\\)"),
        ("old.keras", b"\x89HDF\r\n\x1a\n" + b"\x00" * 64, "HDF5 \\(.h5\\) model"),
        ("old.h5", b"anything", "HDF5"),
        ("model.zip", b"PK anything", "not a .keras archive"),
        ("cut.keras", b"PK\x03\x04 cut short", "truncated or corrupt"),
    ],
)
def test_files_that_are_not_keras_archives(tmp_path, name, content, match):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ModelError, match=match) as err:
        load_model(path)
    assert str(path) in str(err.value)


def test_missing_file(tmp_path):
    with pytest.raises(ModelError, match="no such model file"):
        load_model(tmp_path / "missing.keras")


def test_a_zip_without_the_keras_members(tmp_path, saved):
    _, good = saved
    path = tmp_path / "no-weights.keras"
    with zipfile.ZipFile(good) as src, zipfile.ZipFile(path, "w") as dst:
        for name in src.namelist():
            if name != "model.weights.h5":
                dst.writestr(name, src.read(name))
    with pytest.raises(ModelError, match="no model.weights.h5 inside"):
        load_model(path)


def test_safe_mode_refuses_a_lambda_layer(tmp_path):
    inp = keras.Input((4,))
    model = keras.Model(inp, keras.layers.Lambda(lambda t: t * 2)(inp))
    path = tmp_path / "lambda.keras"
    model.save(path)
    with pytest.raises(ModelError, match="refused by Keras safe_mode"):
        load_model(path)
