import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models.layers.squeeze_excitation import SqueezeExcitation

RNG = np.random.default_rng(0)


def test_squeeze_excitation_rescales_channels():
    x = RNG.random((2, 8, 8, 4), dtype=np.float32)
    se = SqueezeExcitation(ratio=2)
    y = np.asarray(se(x))
    w = y / x  # one weight per (image, channel), in (0, 1)
    assert np.allclose(w, w[:, :1, :1, :], atol=1e-5)
    assert ((w > 0) & (w < 1)).all()


def test_ratio_must_be_positive():
    with pytest.raises(ConfigError, match="ratio"):
        SqueezeExcitation(ratio=0)
