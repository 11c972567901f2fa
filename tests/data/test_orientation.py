"""VolumeOrientation: the training frame for any voxel order, and the way back."""

import numpy as np
import pytest

from neuroseg.errors import DataError

nib = pytest.importorskip("nibabel")

from neuroseg.data.orientation import VolumeOrientation  # noqa: E402

VOL = np.arange(4 * 5 * 6, dtype=np.float32).reshape(4, 5, 6)


def test_ras_volume_slices_by_hand():
    o = VolumeOrientation.from_affine(np.eye(4), VOL.shape)
    stack = o.to_slices(VOL)
    assert stack.shape == (5, 4, 6)
    # radiological convention: slice k is volume[:, :, k] transposed, both axes reversed
    np.testing.assert_array_equal(stack[..., 2], VOL[:, :, 2].T[::-1, ::-1])
    assert stack[0, 0, 0] == VOL[3, 4, 0]


@pytest.mark.parametrize(
    "affine",
    [
        np.diag([-1.0, -1.0, 1.0, 1.0]),  # LPS
        np.array([[0, 0, 2.0, 0], [1.0, 0, 0, 0], [0, -3.0, 0, 0], [0, 0, 0, 1]]),  # permuted
        np.array([[0.9, 0.3, 0, 0], [-0.3, 0.9, 0, 0], [0, 0, -1.0, 0], [0, 0, 0, 1]]),  # oblique
    ],
)
def test_matches_nibabel_canonical_and_inverts(affine):
    o = VolumeOrientation.from_affine(affine, VOL.shape)
    canonical = np.asarray(nib.as_closest_canonical(nib.Nifti1Image(VOL, affine)).dataobj)
    np.testing.assert_array_equal(o.to_canonical(VOL), canonical)
    np.testing.assert_array_equal(o.to_source(o.to_slices(VOL)), VOL)


def test_slice_spacing_follows_the_axes():
    affine = np.array([[0, 0, 2.0, 0], [1.0, 0, 0, 0], [0, -3.0, 0, 0], [0, 0, 0, 1]])
    o = VolumeOrientation.from_affine(affine, VOL.shape)
    # voxel axes: 0 -> A (1 mm), 1 -> S (3 mm), 2 -> R (2 mm); rows are A, columns R
    assert o.slice_spacing((1.0, 3.0, 2.0)) == (1.0, 2.0, 3.0)


def test_bad_affine_and_shape():
    with pytest.raises(DataError, match="affine"):
        VolumeOrientation.from_affine(np.zeros((4, 4)), VOL.shape)
    with pytest.raises(DataError, match="affine"):
        VolumeOrientation.from_affine(np.full((4, 4), np.nan), VOL.shape)
    with pytest.raises(DataError, match="3-D"):
        VolumeOrientation.from_affine(np.eye(4), (4, 5))
    o = VolumeOrientation.from_affine(np.eye(4), VOL.shape)
    with pytest.raises(DataError, match="does not fit"):
        o.to_source(np.zeros((5, 5, 6)))
