import keras
import numpy as np

from neuroseg.models.config_model import ConfigModel


class Scaled(ConfigModel):
    """A 1x1 convolution of ``filters`` outputs; the config is the constructor arguments."""

    def __init__(self, size: int = 4, filters: int = 2, *, name: str = "scaled", **kwargs):
        inputs = keras.Input((size, size, 1), name="image")
        outputs = keras.layers.Conv2D(filters, 1, name="conv")(inputs)
        super().__init__(inputs=inputs, outputs=outputs, name=name, **kwargs)
        self._config = {"size": size, "filters": filters}


def test_config_is_name_trainable_and_the_constructor_arguments():
    m = Scaled(size=6, filters=3, name="s")
    assert m.get_config() == {"name": "s", "trainable": True, "size": 6, "filters": 3}
    m.trainable = False
    assert m.get_config()["trainable"] is False


def test_from_config_rebuilds_the_same_architecture():
    m = Scaled(size=6, filters=3, name="s", trainable=False)
    twin = Scaled.from_config(m.get_config())
    assert type(twin) is Scaled and twin is not m
    assert twin.get_config() == m.get_config()
    assert twin.input_shape == (None, 6, 6, 1) and twin.output_shape == (None, 6, 6, 3)
    assert not twin.trainable


def test_a_keras_file_restores_config_and_weights(tmp_path):
    m = Scaled(size=4, filters=2)
    path = tmp_path / "s.keras"
    m.save(path)
    back = keras.saving.load_model(path, custom_objects={"Scaled": Scaled})
    assert type(back) is Scaled and back.get_config() == m.get_config()
    x = np.random.default_rng(0).random((1, 4, 4, 1), dtype=np.float32)
    np.testing.assert_allclose(np.asarray(back(x)), np.asarray(m(x)), atol=1e-6)
