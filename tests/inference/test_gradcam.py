import numpy as np
import pytest

from neuroseg.data import read_image
from neuroseg.errors import ConfigError, ModelError
from neuroseg.inference import Predictor, default_gradcam_layer, grad_cam, heatmap_overlay

from .conftest import make_classifier, make_multitask


def test_default_layers(small_seg_model):
    assert default_gradcam_layer(small_seg_model) == "decoder_3"
    assert default_gradcam_layer(make_classifier()) == "conv2"
    assert default_gradcam_layer(make_multitask()) == "conv2"


def test_classifier_heatmap(figshare_root):
    model = make_classifier()
    x = Predictor(model).preprocess(read_image(figshare_root / "images" / "1.png"))[None]
    cam = grad_cam(model, x)
    assert cam.shape == (1, 64, 64) and cam.min() >= 0 and cam.max() <= 1
    other = grad_cam(model, x, class_index=3, layer_name="conv1")
    assert other.shape == cam.shape and not np.allclose(other, cam)
    rgb = heatmap_overlay(read_image(figshare_root / "images" / "1.png"), cam[0])
    assert rgb.shape == (256, 256, 3) and rgb.dtype == np.uint8


def test_segmentation_and_multitask_targets(small_seg_model):
    x = np.random.default_rng(0).random((2, 64, 64, 1)).astype("float32")
    cam = grad_cam(small_seg_model, x, layer_name="bridge")
    assert cam.shape == (2, 64, 64) and np.isclose(cam.reshape(2, -1).max(axis=1), 1).all()
    mt = make_multitask()
    a = grad_cam(mt, x, target="mask")
    b = grad_cam(mt, x, target="class")
    assert a.shape == b.shape == (2, 64, 64) and not np.allclose(a, b)


def test_errors(small_seg_model):
    x = np.zeros((1, 64, 64, 1), "float32")
    with pytest.raises(ModelError, match="no layer named"):
        grad_cam(small_seg_model, x, layer_name="nope")
    with pytest.raises(ModelError, match="class"):
        grad_cam(small_seg_model, x, target="class")
    with pytest.raises(ConfigError):
        grad_cam(small_seg_model, x, target="pixels")


@pytest.mark.parametrize("name", ["classifier-cnn", "multitask-base"])
def test_registry_classifier_and_multitask(name):
    # The project's own classifier (a nested backbone model) and multi-task model.
    from neuroseg.models import create_model, list_models

    if name not in list_models():
        pytest.skip(f"{name} is not registered in this version")
    model = create_model(name, input_shape=(64, 64, 1))
    p = Predictor(model)
    assert p.task in ("classification", "multitask") and p.num_classes == 4
    x = np.random.default_rng(0).random((1, 64, 64, 1)).astype("float32")
    cam = grad_cam(model, x)
    assert cam.shape == (1, 64, 64) and cam.min() >= 0 and cam.max() <= 1


@pytest.mark.data
def test_predictor_grad_cam_is_in_the_image_frame_and_the_brain_box(shared_data):
    """classifier-4class crops to the brain: its map must sit on the brain, not the frame."""
    from pathlib import Path

    from neuroseg.data import brain_bbox

    folder = Path(shared_data) / "br35h-no-tumor"
    path = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))[0]
    image = read_image(path)
    predictor = Predictor("classifier-4class")
    heat = predictor.grad_cam(image, source=str(path))
    assert heat.shape == image.shape[:2] and heat.dtype == np.float32
    top, left, bottom, right = brain_bbox(image)
    outside = np.ones(image.shape[:2], bool)
    outside[top:bottom, left:right] = False
    assert outside.any(), "pick an image with a border around the brain"
    assert float(np.abs(heat[outside]).max()) == 0.0
    assert float(heat[top:bottom, left:right].max()) > 0.0
