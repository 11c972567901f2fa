import cv2
import numpy as np

from neuroseg.data import load_sample
from neuroseg.inference import PRED_COLOUR, TRUTH_COLOUR, overlay_contours, save_overlay


def test_overlay_draws_both_contours_on_real_slice(tmp_path):
    r = load_sample()[0]
    image, truth = r.load_image(), r.load_mask()
    pred = np.roll(truth, 5, axis=1)
    rgb = overlay_contours(image, truth, pred)
    assert rgb.shape == (256, 256, 3)
    flat = rgb.reshape(-1, 3)
    assert (flat == TRUTH_COLOUR).all(axis=1).any() and (flat == PRED_COLOUR).all(axis=1).any()
    path = save_overlay(tmp_path / "o" / "x.png", image, truth, pred, scale=2)
    assert cv2.imread(str(path)).shape == (512, 512, 3)


def test_no_picture_function_modifies_its_input(shared_data):
    from neuroseg.data import read_image
    from neuroseg.inference import heatmap_overlay, montage, side_by_side, to_rgb8

    # a real 8-bit RGB Kaggle slice: the case where the canvas used to be a view
    image = read_image(sorted((shared_data / "kaggle4-training" / "glioma").iterdir())[0])
    rgb = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    assert rgb.dtype == np.uint8 and rgb.shape[-1] == 3
    before = rgb.copy()
    mask = np.zeros(rgb.shape[:2], np.uint8)
    mask[60:120, 60:120] = 1
    out = overlay_contours(rgb, mask, mask)
    assert np.array_equal(rgb, before) and not np.array_equal(out, before)
    panels = side_by_side(rgb, mask, None)
    w = rgb.shape[1]
    first = panels[:, :w]
    assert np.array_equal(rgb, before)
    # the image panel shows no contour (only its title): no truth-green pixel in it
    assert not (first.reshape(-1, 3) == TRUTH_COLOUR).all(axis=1).any()
    assert (panels[:, w : 2 * w].reshape(-1, 3) == TRUTH_COLOUR).all(axis=1).any()
    heatmap_overlay(rgb, np.ones((8, 8)))
    montage([rgb, rgb], cols=2)
    copy = to_rgb8(rgb)
    copy[:] = 0
    assert np.array_equal(rgb, before)
