import numpy as np

from neuroseg.models.layers.residual_stem import ResidualStem


def test_output_shape_and_options():
    x = np.zeros((1, 16, 16, 3), "float32")
    assert ResidualStem(6, norm="group", activation="elu")(x).shape == (1, 16, 16, 6)


def test_the_stem_always_projects_its_input():
    stem = ResidualStem(4, norm="none")
    stem(np.zeros((1, 8, 8, 4), "float32"))  # same shape: a unit would use the identity
    assert stem.shortcut_conv is not None
