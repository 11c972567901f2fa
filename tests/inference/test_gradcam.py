import keras
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


def _blob_classifier(size: int = 64) -> keras.Model:
    """A classifier whose Grad-CAM is its (preprocessed) input: the map peaks where it is bright.

    One 3x3 convolution passing the pixel through (centre weight 1), global average pooling
    and logits ``(f, -f)``: the gradient of class 0's probability is positive everywhere,
    so Grad-CAM is the feature map, which is the input.
    """
    inp = keras.Input((size, size, 1))
    kernel = np.zeros((3, 3, 1, 1), np.float32)
    kernel[1, 1] = 1.0
    conv = keras.layers.Conv2D(1, 3, padding="same", use_bias=False, name="feat")
    x = conv(inp)
    g = keras.layers.GlobalAveragePooling2D()(x)
    dense = keras.layers.Dense(2, activation="softmax")
    out = dense(g)
    model = keras.Model(inp, out)
    conv.set_weights([kernel])
    dense.set_weights([np.array([[10.0, -10.0]], np.float32), np.zeros(2, np.float32)])
    return model


def test_cropped_grad_cam_finds_a_blob_where_it_is():
    """A brain-cropped model's map, placed back into a non-square frame, peaks on the blob."""
    from neuroseg.data import brain_bbox

    h, w = 200, 240
    yy, xx = np.mgrid[:h, :w]
    image = np.zeros((h, w, 1), np.uint8)  # a dark border around an elliptic "brain"
    image[((yy - 110) / 70) ** 2 + ((xx - 120) / 90) ** 2 <= 1] = 80
    blob = (yy - 70) ** 2 + (xx - 170) ** 2 <= 8**2  # bright, off-centre
    image[blob] = 255
    predictor = Predictor(_blob_classifier(), crop="brain")
    assert default_gradcam_layer(predictor.model) == "feat"
    heat = predictor.grad_cam(image)
    assert heat.shape == (h, w)
    peak = np.unravel_index(np.argmax(heat), heat.shape)
    assert abs(peak[0] - 70) <= 3 and abs(peak[1] - 170) <= 3, peak
    hot = heat >= 0.6
    assert hot.any() and abs(yy[hot].mean() - 70) <= 2 and abs(xx[hot].mean() - 170) <= 2
    top, left, bottom, right = brain_bbox(image)
    assert (top, left) != (0, 0)  # the model really saw a crop
    outside = np.ones((h, w), bool)
    outside[top:bottom, left:right] = False
    assert heat[outside].max() == 0.0


@pytest.mark.data
def test_pretrained_cropped_classifier_heat_lies_on_the_brain(shared_data):
    """classifier-4class on a real Kaggle slice with a wide dark border: >= 95 % of the heat
    falls inside the brain's box, found here independently of the model's own crop."""
    import cv2

    path = shared_data / "kaggle4-training" / "glioma" / "Tr-glTr_0000.jpg"
    image = read_image(path)
    grey = cv2.GaussianBlur(image.astype(np.float32).mean(axis=-1), (5, 5), 0)
    n, _, stats, _ = cv2.connectedComponentsWithStats((grey > 0.1 * grey.max()).astype(np.uint8))
    assert n > 1
    x, y, bw, bh = stats[1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])), :4]
    assert bw * bh < 0.6 * image.shape[0] * image.shape[1]  # a wide dark border
    heat = Predictor("classifier-4class").grad_cam(image, source=str(path))
    assert heat.shape == image.shape[:2] and heat.sum() > 0
    inside = heat[y : y + bh, x : x + bw].sum() / heat.sum()
    assert inside >= 0.95, inside
    # the same map stretched over the whole frame (the old bug) would put heat on the border
    from neuroseg.data import brain_bbox

    top, left, bottom, right = brain_bbox(image)
    stretched = cv2.resize(
        heat[top:bottom, left:right], image.shape[1::-1], interpolation=cv2.INTER_LINEAR
    )
    assert stretched[y : y + bh, x : x + bw].sum() / stretched.sum() < inside
