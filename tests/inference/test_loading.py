from pathlib import Path

import keras
import numpy as np
import pytest

from neuroseg.errors import ModelError, UnknownNameError
from neuroseg.inference.loading import resolve_model


def _tiny() -> keras.Model:
    inp = keras.Input((4, 4, 1), name="image")
    out = keras.layers.Conv2D(1, 1, activation="sigmoid", name="head")(inp)
    return keras.Model(inp, out, name="tiny")


def test_a_model_is_returned_as_it_is():
    m = _tiny()
    assert resolve_model(m) is m


def test_a_saved_file_is_loaded_as_str_or_path(tmp_path):
    m = _tiny()
    path = tmp_path / "tiny.keras"
    m.save(path)
    x = np.random.default_rng(0).random((1, 4, 4, 1), dtype=np.float32)
    for arg in (path, str(path)):
        loaded = resolve_model(arg)
        assert loaded is not m and loaded.name == "tiny"
        np.testing.assert_allclose(np.asarray(loaded(x)), np.asarray(m(x)), atol=1e-6)


@pytest.mark.parametrize("bad", [3, None, np.zeros((2, 2))])
def test_other_types_are_refused(bad):
    with pytest.raises(ModelError, match="Expected a keras.Model"):
        resolve_model(bad)


@pytest.mark.parametrize("blank", ["", "   "])
def test_a_blank_name_is_refused(blank):
    with pytest.raises(ModelError, match="empty string"):
        resolve_model(blank)


@pytest.mark.parametrize("name", ["model.h5", "sub/model", Path("missing.keras")])
def test_names_that_look_like_files_are_read_as_files(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ModelError, match="no such model file"):
        resolve_model(name)


def test_an_architecture_without_weights_is_refused():
    with pytest.raises(ModelError, match="untrained architecture") as err:
        resolve_model("resunet-small")
    assert not isinstance(err.value, UnknownNameError)


def test_an_unknown_name_lists_the_pretrained_models():
    from neuroseg.models import list_pretrained

    with pytest.raises(UnknownNameError, match="not a file, and not a pretrained model") as err:
        resolve_model("no-such-model")
    for name in list_pretrained():
        assert name in str(err.value)
