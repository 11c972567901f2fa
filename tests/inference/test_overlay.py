import cv2
import numpy as np
import pytest

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


_PICTURE_FUNCTIONS = [
    "to_rgb8",
    "overlay_contours",
    "save_overlay",
    "side_by_side",
    "montage",
    "heatmap_overlay",
    "save_png",
    "gradcam_panels",
    "grad_cam",
]


@pytest.mark.data
@pytest.mark.parametrize("name", _PICTURE_FUNCTIONS)
@pytest.mark.parametrize("kind", ["rgb-uint8", "grey-float"])
def test_picture_function_leaves_its_inputs_unchanged(name, kind, shared_data, tmp_path):
    """One call per public picture function on a real slice: its inputs stay as they were."""
    from neuroseg.data import read_image
    from neuroseg.inference import (
        grad_cam,
        heatmap_overlay,
        montage,
        save_png,
        side_by_side,
        to_rgb8,
    )
    from neuroseg.inference.pictures import gradcam_panels

    from .conftest import make_classifier

    path = sorted((shared_data / "kaggle4-training" / "glioma").iterdir())[0]
    image = read_image(path)
    image = np.repeat(image, 3, axis=-1) if image.shape[-1] == 1 else image
    if kind == "grey-float":
        image = image[..., :1].astype(np.float32) * 3.0  # (H, W, 1), not 8-bit
    mask = np.zeros(image.shape[:2], bool)
    mask[60:120, 60:120] = True
    heat = np.linspace(0, 1, mask.size, dtype=np.float32).reshape(mask.shape)
    x = (image[None, :64, :64, :1] / 255.0).astype("float32")  # a model input batch
    calls = {
        "to_rgb8": lambda: to_rgb8(image),
        "overlay_contours": lambda: overlay_contours(image, mask, mask),
        "save_overlay": lambda: save_overlay(tmp_path / "o.png", image, mask, mask, scale=2),
        "side_by_side": lambda: side_by_side(image, mask, mask),
        "montage": lambda: montage([image, image[::2, ::2]], cols=2),
        "heatmap_overlay": lambda: heatmap_overlay(image, heat),
        "save_png": lambda: save_png(tmp_path / "p.png", image, scale=2),
        "gradcam_panels": lambda: gradcam_panels(
            image, heat, predicted="glioma", probability=0.8, truth="meningioma"
        ),
        "grad_cam": lambda: grad_cam(make_classifier(), x),
    }
    assert sorted(calls) == sorted(_PICTURE_FUNCTIONS)
    inputs = (image, mask, heat, x)
    before = [a.copy() for a in inputs]
    out = calls[name]()
    for a, b in zip(inputs, before):
        assert a.dtype == b.dtype and np.array_equal(a, b), name
    if isinstance(out, np.ndarray):  # a new array, not a view of an input
        assert not any(np.shares_memory(out, a) for a in inputs)


def test_panels_are_titled_above_the_untouched_panels():
    from neuroseg.inference import side_by_side, to_rgb8
    from neuroseg.inference.pictures import gradcam_panels

    r = load_sample()[0]
    image, truth = r.load_image(), r.load_mask()
    h, w = image.shape[:2]
    given = side_by_side(image, truth, truth)
    missing = side_by_side(image, None, truth)
    assert given.shape == missing.shape and given.shape[0] > h  # a title strip on top
    strip = given.shape[0] - h
    # below the strip: the image panel is the plain image, the truth panel has the contour
    assert np.array_equal(given[strip:, :w], to_rgb8(image))
    assert (given[strip:, w : 2 * w].reshape(-1, 3) == TRUTH_COLOUR).all(axis=1).any()
    assert not (given[strip:, 2 * w :].reshape(-1, 3) == TRUTH_COLOUR).all(axis=1).any()
    assert np.array_equal(missing[strip:, w : 2 * w], to_rgb8(image))
    # the titles differ where the truth is missing ("truth: not given"), only there
    assert not np.array_equal(given[:strip, w : 2 * w], missing[:strip, w : 2 * w])
    assert np.array_equal(given[:strip, :w], missing[:strip, :w])
    assert given[:strip].max() == 255  # white text on black

    heat = np.zeros((h, w), np.float32)
    right = gradcam_panels(image, heat, predicted="glioma", probability=0.9, truth="glioma")
    wrong = gradcam_panels(image, heat, predicted="glioma", probability=0.9, truth="pituitary")
    unknown = gradcam_panels(image, heat, predicted="glioma", probability=0.9)
    strip = right.shape[0] - h
    assert right.shape == wrong.shape == unknown.shape == (h + strip, 2 * w, 3)
    assert np.array_equal(right[strip:, w:], to_rgb8(image))  # no heat: the plain image
    titles = [p[:strip] for p in (right, wrong, unknown)]
    assert not np.array_equal(titles[0], titles[1]) and not np.array_equal(titles[0], titles[2])


def test_an_empty_mask_panel_says_so():
    from neuroseg.inference import side_by_side

    r = load_sample()[0]
    image, truth = r.load_image(), r.load_mask()
    h, w = image.shape[:2]
    empty = np.zeros_like(truth)
    strip = side_by_side(image, truth, truth).shape[0] - h
    titles = [side_by_side(image, truth, m)[:strip, 2 * w :] for m in (truth, empty, None)]
    # "prediction", "prediction: empty" and "prediction: not given" are three titles
    assert not np.array_equal(titles[0], titles[1]) and not np.array_equal(titles[1], titles[2])
