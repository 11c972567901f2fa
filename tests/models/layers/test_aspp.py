import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models.layers.aspp import ASPP

RNG = np.random.default_rng(0)


def test_aspp_is_sum_of_dilated_branches():
    x = RNG.random((1, 12, 12, 3), dtype=np.float32)
    aspp = ASPP(4, rates=(1, 3), norm="none")
    y = np.asarray(aspp(x))
    summed = sum(np.asarray(b(x)) for b in aspp.branches)
    np.testing.assert_allclose(y, np.asarray(aspp.project(summed)), rtol=1e-5, atol=1e-5)


def test_aspp_errors():
    with pytest.raises(ConfigError, match="norm"):
        ASPP(4, norm="layer")
    with pytest.raises(ConfigError, match="dilation rate"):
        ASPP(4, rates=())
