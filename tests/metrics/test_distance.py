import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from neuroseg.errors import ConfigError
from neuroseg.metrics import assd, hd95


def _square(shape=(8, 8), rows=slice(2, 5), cols=slice(2, 5)):
    m = np.zeros(shape, np.uint8)
    m[rows, cols] = 1
    return m


def _brute_surface_distances(t, p, spacing):
    """Independent reference: explicit 4-/6-neighbour surface and all-pairs distances."""
    t, p = t.astype(bool), p.astype(bool)

    def surface(m):
        pad = np.pad(m, 1, constant_values=False)
        inner = np.ones_like(m)
        for axis in range(m.ndim):
            for shift in (-1, 1):
                inner &= np.roll(pad, shift, axis=axis)[tuple(slice(1, -1) for _ in m.shape)]
        return np.argwhere(m & ~inner) * np.asarray(spacing, float)

    st_, sp_ = surface(t), surface(p)
    d = np.sqrt(((st_[:, None, :] - sp_[None, :, :]) ** 2).sum(-1))
    return np.concatenate([d.min(axis=0), d.min(axis=1)])


def test_hand_computed_shift_and_spacing():
    t = _square()
    assert hd95(t, np.roll(t, 2, axis=1)) == 2.0
    assert hd95(t, np.roll(t, 2, axis=1), spacing=(1.0, 0.5)) == 1.0
    assert hd95(t, np.roll(t, 2, axis=0), spacing=(3.0, 0.5)) == 6.0
    assert hd95(t, t) == 0.0 and assd(t, t) == 0.0
    # shifted down by 1: per direction, the 3 pixels of the leading row and the centre of the
    # trailing row are 1 away, the other 4 surface pixels 0: 8 of 16 distances are 1.
    assert assd(t, np.roll(t, 1, axis=0)) == pytest.approx(8 / 16)


def test_single_pixel_and_percentile_interpolation():
    t = np.zeros((1, 5, 5), np.uint8)
    p = np.zeros_like(t)
    t[0, 0, 0] = 1
    p[0, 0, 0] = p[0, 4, 4] = 1
    # distances: t->p {0}; p->t {0, sqrt(32)}; union {0, 0, 5.657}: 95th percentile (linear)
    assert hd95(t, p) == pytest.approx(np.percentile([0, 0, np.sqrt(32)], 95))
    assert assd(t, p) == pytest.approx(np.sqrt(32) / 3)


def test_empty_masks_worst_value_never_nan():
    t = _square((6, 8))
    z = np.zeros_like(t)
    diag = np.hypot(6, 8)
    assert hd95(t, z) == diag and hd95(z, t) == diag and assd(z, t) == diag
    assert hd95(z, z) == 0.0 and assd(z, z) == 0.0
    assert hd95(t, z, spacing=(0.5, 2.0)) == pytest.approx(np.hypot(3.0, 16.0))
    r = hd95(np.stack([t, z, t]), np.stack([t, z, z]), empty="nan", details=True)
    assert r.values[0] == 0.0 and np.isnan(r.values[1:]).all() and r.n_excluded == 2
    assert r.value == 0.0
    assert np.isnan(hd95(z, z, empty="nan"))


def test_reductions():
    t = np.stack([_square(), _square(), np.zeros((8, 8), np.uint8)])
    p = np.stack([np.roll(_square(), 2, axis=1), _square(), np.zeros((8, 8), np.uint8)])
    assert hd95(t, p, reduction="none").tolist() == [2.0, 0.0, 0.0]
    assert hd95(t, p) == pytest.approx(2 / 3)
    # pooled: union of image 0's 16 distances and image 1's 16 zeros
    d0 = _brute_surface_distances(t[0], p[0], (1, 1))
    assert hd95(t, p, reduction="pooled") == pytest.approx(
        np.percentile(np.concatenate([d0, np.zeros(16)]), 95)
    )
    # a missed tumour joins the pool at the image's worst value
    p2 = p.copy()
    p2[1] = 0
    pooled = np.concatenate([d0, np.full(8, np.hypot(8, 8))])
    assert hd95(t, p2, reduction="pooled") == pytest.approx(np.percentile(pooled, 95))
    assert assd(t, p2, reduction="pooled") == pytest.approx(pooled.mean())


def test_per_patient_is_a_3d_volume_with_slice_spacing():
    t = np.zeros((4, 6, 6), np.uint8)
    t[1:3, 2:4, 2:4] = 1
    p = np.zeros_like(t)
    p[2:4, 2:4, 2:4] = 1  # shifted by one slice
    groups = ["a"] * 4
    for spacing in [(1.0, 1.0, 1.0), (3.0, 0.5, 0.5)]:
        ref = np.percentile(_brute_surface_distances(t, p, spacing), 95)
        got = hd95(t, p, reduction="per_patient", groups=groups, spacing=spacing)
        assert got == pytest.approx(ref)
    assert hd95(t, p, reduction="per_patient", groups=groups, spacing=(2.0, 2.0)) == pytest.approx(
        hd95(t, p, reduction="per_patient", groups=groups, spacing=(1.0, 2.0, 2.0))
    )
    # a patient without prediction gets the volume diagonal
    z = np.zeros_like(t)
    assert hd95(t, z, reduction="per_patient", groups=groups, spacing=(3.0, 1.0, 2.0)) == (
        pytest.approx(np.sqrt(12**2 + 6**2 + 12**2))
    )


def test_multiclass():
    t = np.zeros((1, 8, 8), np.int64)
    t[0, 1:3, 1:3] = 1
    t[0, 5:7, 5:7] = 2
    p = np.roll(t, 1, axis=2)
    got = hd95(t, p, num_classes=3, include_background=False)
    for k, c in enumerate((1, 2)):
        ref = np.percentile(_brute_surface_distances(t[0] == c, p[0] == c, (1, 1)), 95)
        assert got[k] == pytest.approx(ref)
    scores = np.eye(3)[p]
    np.testing.assert_allclose(hd95(np.eye(3)[t], scores, include_background=False), got)


def test_errors():
    t = _square()
    with pytest.raises(ConfigError, match="spacing"):
        hd95(t, t, spacing=(1.0, -1.0))
    with pytest.raises(ConfigError, match="groups"):
        hd95(t, t, reduction="per_patient")


mask = arrays(np.uint8, (3, 7, 6), elements=st.integers(0, 1))


@settings(max_examples=40, deadline=None)
@given(mask, mask, st.sampled_from([(1.0, 1.0), (0.7, 1.9), (2.5, 0.4)]))
def test_agrees_with_brute_force_reference(t, p, spacing):
    got_h = hd95(t, p, reduction="none", spacing=spacing)
    got_a = assd(t, p, reduction="none", spacing=spacing)
    np.testing.assert_allclose(got_h, hd95(p, t, reduction="none", spacing=spacing))  # symmetry
    for i in range(len(t)):
        if t[i].any() and p[i].any():
            d = _brute_surface_distances(t[i], p[i], spacing)
            assert got_h[i] == pytest.approx(np.percentile(d, 95), abs=1e-9)
            assert got_a[i] == pytest.approx(d.mean(), abs=1e-9)
        elif t[i].any() or p[i].any():
            assert got_h[i] == pytest.approx(np.hypot(7 * spacing[0], 6 * spacing[1]))
        else:
            assert got_h[i] == 0.0


def test_large_stack_chunks_agree_with_per_image():
    rng = np.random.default_rng(3)
    t = rng.random((150, 12, 10)) > 0.6
    p = rng.random((150, 12, 10)) > 0.6
    got = hd95(t, p, reduction="none", spacing=(0.9, 1.1))
    each = [hd95(a, b, spacing=(0.9, 1.1)) for a, b in itertools.islice(zip(t, p), 0, 150, 37)]
    np.testing.assert_allclose(got[::37], each)
