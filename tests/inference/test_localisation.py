import math

import numpy as np
import pytest

from neuroseg.data import read_mask
from neuroseg.errors import ConfigError, MaskError
from neuroseg.inference import Localisation, Prediction, feret_diameter, localise


def test_box_centroid_diameter_components_by_hand():
    m = np.zeros((20, 30), np.uint8)
    m[2:5, 3:7] = 1  # 12 pixels, centre (3, 4.5)
    m[10:12, 20:22] = 1  # 4 pixels, centre (10.5, 20.5)
    loc = localise(m, spacing=(0.5, 2.0), orientation="radiological")
    assert loc.found and loc.area_px == 16 and loc.components == 2
    assert loc.bbox == (2, 3, 12, 22)
    assert loc.centroid == pytest.approx(((12 * 3 + 4 * 10.5) / 16, (12 * 4.5 + 4 * 20.5) / 16))
    assert loc.centroid_mm == pytest.approx((loc.centroid[0] * 0.5, loc.centroid[1] * 2.0))
    # the farthest corners: (1.5, 2.5) and (11.5, 21.5)
    assert loc.diameter_px == pytest.approx(math.hypot(10, 19))
    assert loc.diameter_mm == pytest.approx(math.hypot(10 * 0.5, 19 * 2.0))
    assert loc.area_mm == pytest.approx(16 * 1.0)
    # centroid col 8.5 < centre 14.5: the image's left, the patient's right (radiological)
    assert loc.side == "right"
    assert localise(m, orientation="neurological").side == "left"
    assert localise(m).side == "unknown"
    assert localise(m).centroid_mm is None and localise(m).diameter_mm is None


def test_single_pixel_and_square_diameters():
    one = np.zeros((5, 5), bool)
    one[2, 2] = True
    assert feret_diameter(one) == pytest.approx(math.sqrt(2))
    square = np.zeros((20, 20), bool)
    square[5:15, 5:15] = True
    assert feret_diameter(square) == pytest.approx(math.sqrt(200))
    assert feret_diameter(np.zeros((4, 4))) == 0.0


def test_midline_and_diagonal_components():
    m = np.zeros((5, 5), np.uint8)
    m[2, 2] = 1
    assert localise(m, orientation="radiological").side == "midline"
    d = np.eye(4, dtype=np.uint8)  # touching diagonally: one component (8-connectivity)
    assert localise(d).components == 1


def test_empty_mask_says_no_tumour():
    loc = localise(np.zeros((16, 16), np.uint8), spacing=(1.0, 1.0), orientation="radiological")
    assert isinstance(loc, Localisation) and not loc.found
    assert loc.bbox is None and loc.centroid is None and loc.diameter_px is None
    assert loc.side is None and loc.components == 0
    row = loc.as_dict()
    assert row["tumour_found"] is False and row["bbox_top"] is None and row["side"] is None


def test_volume_per_slice_and_whole():
    v = np.zeros((10, 12, 4), np.uint8)
    v[1:3, 2:4, 1] = 1
    v[5:7, 8:10, 2] = 1
    loc = localise(v, spacing=(1.0, 1.0, 3.0), orientation="radiological")
    assert loc.shape == (10, 12, 4) and len(loc.per_slice) == 4
    assert not loc.per_slice[0].found and loc.per_slice[1].bbox == (1, 2, 3, 4)
    assert loc.per_slice[2].bbox == (5, 8, 7, 10)
    assert loc.bbox == (1, 2, 7, 10) and loc.slices == (1, 3)
    assert loc.centroid == pytest.approx((3.5, 5.5)) and loc.centroid_slice == pytest.approx(1.5)
    assert loc.components == 2  # not touching in 3-D
    assert loc.diameter_px == pytest.approx(math.sqrt(8))
    assert loc.area_mm == pytest.approx(8 * 3.0)
    row = loc.as_dict()
    assert (row["slice_first"], row["slice_last"], row["centroid_slice"]) == (1, 3, 1.5)
    empty = localise(np.zeros((4, 4, 3)))
    assert not empty.found and len(empty.per_slice) == 3 and empty.slices is None


def test_bad_inputs_name_the_fix():
    with pytest.raises(MaskError, match="shape"):
        localise(np.zeros((2, 2, 2, 2)))
    with pytest.raises(ConfigError, match="radiological"):
        localise(np.zeros((4, 4)), orientation="left")
    with pytest.raises(ConfigError, match="spacing"):
        localise(np.zeros((4, 4)), spacing=(1.0, 0.0))


def test_real_figshare_mask(figshare_root):
    # Figshare slice 1 (fold 1): its mask read from disk, measured against NumPy directly.
    mask = read_mask(figshare_root / "masks" / "1.png")
    rows, cols = np.nonzero(mask)
    loc = localise(mask, orientation="radiological")
    assert loc.area_px == rows.size > 0
    assert loc.bbox == (rows.min(), cols.min(), rows.max() + 1, cols.max() + 1)
    assert loc.centroid == pytest.approx((rows.mean(), cols.mean()))
    top, left, bottom, right = loc.bbox
    assert mask[top:bottom, left:right].sum() == mask.sum()
    box_diagonal = math.hypot(bottom - top, right - left)
    assert max(bottom - top, right - left) <= loc.diameter_px <= box_diagonal + 1e-9
    expected = "left" if cols.mean() > 127.5 else "right"
    assert loc.side == expected


def test_prediction_localisation_and_summary():
    m = np.zeros((8, 8), np.uint8)
    m[1:3, 5:8] = 1
    p = Prediction("x.png", np.zeros((8, 8, 1)), mask=m, spacing=(0.5, 0.5))
    p.orientation = "radiological"
    assert p.localisation is not None and p.localisation.side == "left"
    s = p.summary()
    assert (s["bbox_top"], s["bbox_left"], s["bbox_bottom"], s["bbox_right"]) == (1, 5, 3, 8)
    assert (s["centroid_row"], s["centroid_col"]) == (1.5, 6.0)
    assert (s["centroid_row_mm"], s["centroid_col_mm"]) == (0.75, 3.0)
    assert s["components"] == 1 and s["side"] == "left" and s["tumour_found"] is True
    classifier = Prediction("y.png", np.zeros((8, 8, 1)), label=0)
    assert classifier.localisation is None and "bbox_top" not in classifier.summary()


def test_predictor_passes_orientation(small_seg_model):
    from neuroseg.inference import Predictor

    pred = Predictor(small_seg_model, orientation="radiological").predict(
        np.zeros((64, 64), np.uint8)
    )[0]
    assert pred.orientation == "radiological" and pred.localisation is not None
    with pytest.raises(ConfigError, match="orientation"):
        Predictor(small_seg_model, orientation="sideways")
