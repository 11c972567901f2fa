import keras
import pytest

from neuroseg.errors import ConfigError
from neuroseg.models import FusedBatchNormalization
from neuroseg.models.layers.norm import NORMS, check_norm, make_norm


def test_make_norm_kinds():
    assert isinstance(make_norm("batch", name="bn"), FusedBatchNormalization)
    assert make_norm("group", groups=4).groups == 4
    assert isinstance(make_norm("none"), keras.layers.Identity)


def test_unknown_norm_is_refused():
    with pytest.raises(ConfigError, match="norm"):
        make_norm("instance")
    with pytest.raises(ConfigError, match="batch, group, none"):
        check_norm("layer")
    for norm in NORMS:
        check_norm(norm)
