import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models.layers.decoder_stage import DecoderStage
from tests.models.layers.training import train_briefly

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(("cin", "cout"), [(4, 8), (8, 16)])
def test_small_channel_gated_decoder_stage_trains(cin, cout):
    # Same oneDNN hazard as the strided residual unit: every down-sampling path trains.
    x = RNG.random((8, 16, 16, cin), dtype=np.float32)
    g = RNG.random((8, 8, 8, cout), dtype=np.float32)
    train_briefly(lambda: DecoderStage(cin, attention="gate"), [g, x], (16, 16, cin))


def test_decoder_stage_shapes_and_options():
    x = np.zeros((1, 16, 16, 3), "float32")
    assert DecoderStage(5, interpolation="bilinear")(
        [np.zeros((1, 8, 8, 7), "float32"), x]
    ).shape == (1, 16, 16, 5)
    skip = np.zeros((1, 32, 32, 4), "float32")
    assert DecoderStage(4, attention="resunetpp")([x, skip]).shape == (1, 32, 32, 4)


def test_decoder_stage_errors_and_config():
    with pytest.raises(ConfigError, match="attention"):
        DecoderStage(4, attention="oktay")
    # configs without attention keep the foundation's keys (old .keras files reload)
    assert "attention" not in DecoderStage(4).get_config()
