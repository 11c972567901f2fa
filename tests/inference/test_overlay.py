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
