import numpy as np
import pytest

from neuroseg.errors import ConfigError
from neuroseg.inference import postprocess_mask


def test_threshold_only():
    p = np.array([[0.2, 0.5], [0.7, 0.49]])
    assert postprocess_mask(p).tolist() == [[0, 1], [1, 0]]
    assert postprocess_mask(p, threshold=0.7).tolist() == [[0, 0], [1, 0]]


def test_min_size_largest_component_and_holes():
    p = np.zeros((12, 12))
    p[1:6, 1:6] = 1.0  # 25 px with a 1 px hole -> 24
    p[3, 3] = 0.0
    p[8:10, 8:10] = 1.0  # 4 px
    p[11, 0] = 1.0  # 1 px
    assert postprocess_mask(p).sum() == 24 + 4 + 1
    assert postprocess_mask(p, min_size=2).sum() == 24 + 4
    assert postprocess_mask(p, min_size=5).sum() == 24
    largest = postprocess_mask(p, largest_component=True)
    assert largest.sum() == 24 and largest[3, 3] == 0
    filled = postprocess_mask(p, largest_component=True, fill_holes=True)
    assert filled.sum() == 25 and filled[3, 3] == 1


def test_3d_components_connect_across_slices():
    p = np.zeros((3, 6, 6))
    p[0, 1:3, 1:3] = 1
    p[1, 1:3, 1:3] = 1  # touches slice 0: one 8-voxel component
    p[2, 5, 5] = 1
    out = postprocess_mask(p, largest_component=True)
    assert out.sum() == 8 and out[2].sum() == 0


def test_empty_and_bad_options():
    assert postprocess_mask(np.zeros((4, 4)), largest_component=True, fill_holes=True).sum() == 0
    with pytest.raises(ConfigError):
        postprocess_mask(np.zeros((2, 2)), threshold=1.5)
    with pytest.raises(ConfigError):
        postprocess_mask(np.zeros((2, 2)), min_size=-1)
