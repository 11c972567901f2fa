import numpy as np
import pytest
import tensorflow as tf

from neuroseg.data import load_figshare, read_image, read_mask
from neuroseg.errors import ChannelError, ConfigError, ModelError, UnknownNameError
from neuroseg.inference import Predictor, Scan, read_scan, resolve_model

from .conftest import make_classifier, make_multitask, write_figshare_mat


def test_mask_comes_back_at_the_original_size(small_seg_model, figshare_root):
    image = read_image(figshare_root / "images" / "10.png")[:200, :150]  # 200x150, not 64x64
    pred = Predictor(small_seg_model).predict(image)[0]
    assert pred.mask.shape == (200, 150) and pred.probability.shape == (200, 150)
    assert pred.mask.dtype == np.uint8 and set(np.unique(pred.mask)) <= {0, 1}
    assert pred.area_px == int(pred.mask.sum()) and pred.area_mm2 is None
    np.testing.assert_array_equal(pred.mask, (pred.probability >= 0.5).astype(np.uint8))


def test_orientation_is_kept(small_seg_model, figshare_root):
    # Predicting on a flipped image gives the flipped mask of a TTA-symmetrised model.
    image = read_image(figshare_root / "images" / "10.png")
    p = Predictor(small_seg_model, tta=True)
    a = p.predict(image)[0].probability
    b = p.predict(np.ascontiguousarray(image[:, ::-1]))[0].probability
    np.testing.assert_allclose(b[:, ::-1], a, atol=1e-4)


def test_area_in_mm2_with_spacing(small_seg_model):
    rng = np.random.default_rng(0)
    scan = Scan(rng.random((64, 64, 1)).astype("float32"), spacing=(0.5, 0.8))
    pred = Predictor(small_seg_model, threshold=0.0).predict(scan)[0]
    assert pred.area_px == 64 * 64
    assert pred.area_mm2 == pytest.approx(64 * 64 * 0.4)


def test_volume_from_nifti(small_seg_model, shared_data):
    import nibabel as nib

    path = shared_data / "tcia-brain-tumor-progression" / "02" / "Pre_Scan_T1.nii.gz"
    img = nib.load(str(path))
    pred = Predictor(small_seg_model, batch_size=16).predict(path)[0]
    assert pred.mask.shape == img.shape[:3]
    voxel = float(np.prod(img.header.get_zooms()[:3]))
    assert pred.volume_mm3 == pytest.approx(pred.mask.sum() * voxel, rel=1e-6)


def test_many_inputs_and_batching(small_seg_model, figshare_root, tmp_path):
    files = [figshare_root / "images" / f"{i}.png" for i in (1, 2, 3)]
    image = read_image(figshare_root / "images" / "4.png")
    mask = read_mask(figshare_root / "masks" / "4.png")
    mat = write_figshare_mat(tmp_path / "4.mat", image[..., 0].astype(np.int16), mask, 2, "7")
    p = Predictor(small_seg_model, batch_size=2)
    preds = p.predict([*files, mat])
    assert [pr.source for pr in preds] == [str(f) for f in [*files, mat]]
    assert preds[-1].truth is not None and preds[-1].true_label == 2 and preds[-1].group == "7"
    stack = np.stack([read_image(f) for f in files])
    from_array = p.predict(stack)
    for a, b in zip(from_array, preds):
        np.testing.assert_allclose(a.probability, b.probability, atol=1e-5)
    ds = load_figshare(figshare_root)[:3]
    assert [pr.group for pr in p.predict(ds)] == ds.groups


def test_tf_data_input(small_seg_model, figshare_root):
    ds = load_figshare(figshare_root)[:3]
    pipe = ds.to_tf_dataset("segmentation", image_size=64, batch_size=2)
    preds = Predictor(small_seg_model).predict(pipe)
    assert len(preds) == 3 and preds[0].mask.shape == (64, 64)
    direct = Predictor(small_seg_model).predict_batch(np.concatenate([x.numpy() for x, _ in pipe]))[
        "mask"
    ]
    np.testing.assert_allclose(preds[1].probability, direct[1], atol=1e-4)
    assert isinstance(pipe, tf.data.Dataset)


def test_channel_errors(small_seg_model, shared_data):
    brats = sorted((shared_data / "brats2020-slices" / "images").glob("*.png"))[0]
    with pytest.raises(ChannelError, match="4-channel image.*4 MRI"):
        Predictor(small_seg_model).predict(brats)
    # RGB grey images (3 equal channels) convert like the training pipeline.
    rgb = np.repeat(np.random.default_rng(0).random((64, 64, 1)), 3, axis=-1)
    assert Predictor(small_seg_model).predict(rgb)[0].mask.shape == (64, 64)


def test_size_and_model_errors(small_seg_model, tmp_path):
    with pytest.raises(ModelError, match="expects 64x64"):
        Predictor(small_seg_model, resize=False).predict(np.zeros((80, 80)))
    with pytest.raises(ModelError, match="fixed"):
        Predictor(small_seg_model, image_size=128)
    with pytest.raises(ModelError, match="expects"):
        Predictor(small_seg_model).predict_batch(np.zeros((1, 32, 32, 1), "float32"))
    with pytest.raises(ModelError, match="no such model file"):
        Predictor(tmp_path / "missing.keras")
    with pytest.raises(ModelError, match="pretrained"):
        resolve_model("resunet-small")
    with pytest.raises(UnknownNameError, match="not a pretrained model"):
        resolve_model("no-such-model")
    with pytest.raises(ModelError, match="classification"):
        Predictor(small_seg_model).check_task("classification", command="neuroseg x")


def test_saved_model_path(small_seg_model, tmp_path):
    path = tmp_path / "m.keras"
    small_seg_model.save(path)
    x = np.random.default_rng(0).random((64, 64, 1)).astype("float32")
    a = Predictor(path).predict(x)[0].probability
    b = Predictor(small_seg_model).predict(x)[0].probability
    np.testing.assert_allclose(a, b, atol=1e-6)


def test_classifier(figshare_root):
    model = make_classifier()
    p = Predictor(model, tta=True)
    assert p.task == "classification" and p.num_classes == 4
    pred = p.predict(figshare_root / "images" / "1.png")[0]
    assert pred.mask is None and pred.class_probabilities.shape == (4,)
    assert pred.class_probabilities.sum() == pytest.approx(1.0, abs=1e-5)
    assert pred.label == int(np.argmax(pred.class_probabilities))
    # An unnamed model's classes are class_0, class_1, ... in the summary.
    s = pred.summary()
    assert list(s["class_probabilities"]) == ["class_0", "class_1", "class_2", "class_3"]
    assert s["label"] == f"class_{pred.label}" and s["label_index"] == pred.label
    assert s["confidence"] == pytest.approx(float(pred.class_probabilities.max()), abs=1e-6)
    assert "threshold" not in s and "area_px" not in s and "dice" not in s


def test_summary_is_labelled_with_the_class_names(figshare_root):
    names = ("glioma", "meningioma", "no_tumor", "pituitary")
    p = Predictor(make_classifier(), class_names=names)
    pred = p.predict(figshare_root / "images" / "1.png")[0]
    assert pred.class_names == names and pred.names == names
    s = pred.summary()
    probs = s["class_probabilities"]
    assert list(probs) == list(names)
    assert sum(probs.values()) == pytest.approx(1.0, abs=1e-5)
    assert s["label"] == pred.label_name == names[pred.label] == max(probs, key=probs.__getitem__)
    assert s["confidence"] == pytest.approx(pred.confidence, abs=1e-6)
    for name, value in zip(names, pred.class_probabilities):
        assert probs[name] == pytest.approx(float(value), abs=1e-6)
    import json

    assert json.loads(json.dumps(s)) == s  # JSON-ready
    with pytest.raises(ModelError, match="3 class names.*4 classes"):
        Predictor(make_classifier(), class_names=names[:3])


@pytest.mark.data
def test_pretrained_classifier_names_its_classes(shared_data):
    image = sorted((shared_data / "kaggle4-training" / "glioma").glob("*.jpg"))[0]
    s = Predictor("classifier-4class").predict(image)[0].summary()
    assert list(s["class_probabilities"]) == ["glioma", "meningioma", "no_tumor", "pituitary"]
    assert s["label"] in s["class_probabilities"]


def test_summary_scores_the_mask_against_the_truth(small_seg_model):
    truth = np.zeros((64, 64), np.uint8)
    truth[:16] = 1  # a quarter of the image
    scan = Scan(np.random.default_rng(0).random((64, 64, 1)).astype("float32"), truth=truth)
    pred = Predictor(small_seg_model, threshold=0.0).predict(scan)[0]  # all foreground
    s = pred.summary()
    assert s["area_px"] == 64 * 64
    assert s["dice"] == pytest.approx(2 * 1024 / (1024 + 4096), abs=1e-6)
    assert s["iou"] == pytest.approx(0.25, abs=1e-6)
    assert "class_probabilities" not in s and "label" not in s
    # Both empty scores 1 (the project's empty-mask rule).
    empty = Scan(scan.image, truth=np.zeros((64, 64), np.uint8))
    s = Predictor(small_seg_model, threshold=0.0, min_size=10**6).predict(empty)[0].summary()
    assert s["area_px"] == 0 and s["dice"] == 1.0 and s["iou"] == 1.0


def test_multitask(figshare_root, shared_data):
    p = Predictor(make_multitask())
    assert p.task == "multitask"
    pred = p.predict(figshare_root / "images" / "1.png")[0]
    assert pred.mask.shape == (256, 256) and pred.class_probabilities.shape == (4,)
    vol = p.predict(read_scan(shared_data / "tcia-brain-tumor-progression/03/Pre_Scan_T1.nii.gz"))
    assert vol[0].class_probabilities.shape[0] == vol[0].image.shape[2]
    # A volume's summary holds the mean over its slices, and its label is that mean's argmax.
    s = vol[0].summary()
    mean = vol[0].class_probabilities.mean(axis=0)
    assert list(s["class_probabilities"].values()) == pytest.approx(mean.tolist(), abs=1e-6)
    assert s["label_index"] == int(np.argmax(mean)) and "volume_mm3" in s


def test_crop_to_brain_and_paste_back(small_seg_model, figshare_root):
    # A Figshare slice framed by a wide black border: with crop="brain" the model sees the
    # same input as for the bare slice, and the mask comes back in the bordered frame.
    image = read_image(figshare_root / "images" / "10.png")
    framed = np.zeros((image.shape[0] + 60, image.shape[1] + 100, 1), image.dtype)
    framed[20:-40, 70:-30] = image
    p = Predictor(small_seg_model, crop="brain")
    inner = Predictor(small_seg_model).preprocess(image)
    from neuroseg.data import brain_bbox

    t, left, b, r = brain_bbox(image)
    np.testing.assert_allclose(
        p.preprocess(framed), Predictor(small_seg_model).preprocess(image[t:b, left:r]), atol=1e-6
    )
    assert not np.allclose(p.preprocess(framed), inner, atol=1e-3) or (t, left) == (0, 0)
    pred = p.predict(framed)[0]
    assert pred.mask.shape == framed.shape[:2]
    # the probability is positive exactly inside the crop box: outside is background
    inside = pred.probability > 0
    rows, cols = np.flatnonzero(inside.any(1)), np.flatnonzero(inside.any(0))
    assert (rows[0], cols[0], rows[-1] + 1, cols[-1] + 1) == (20 + t, 70 + left, 20 + b, 70 + r)
    with pytest.raises(ConfigError, match="crop"):
        Predictor(small_seg_model, crop="skull")


def test_multi_sequence_model_warns_when_channels_are_one_image(shared_data, tmp_path):
    """resunet-lgg on real LGG slices: FLAIR copied into all channels (a missing sequence)."""
    import cv2

    from neuroseg.data import load_lgg
    from neuroseg.errors import RepeatedChannelsWarning

    records = load_lgg(shared_data / "lgg-kaggle3m").filter(
        lambda r: r.group == "TCGA_HT_7690_19960312"
    )[14:16]
    images = [r.load_image() for r in records]
    predictor = Predictor("resunet-lgg")
    # all three sequences: no warning (filterwarnings = error would raise one)
    assert not any(p.meta.get("repeated_channels") for p in predictor.predict(images))
    flair = [np.repeat(im[..., 1:2], 3, axis=-1) for im in images]
    paths = []
    for k, im in enumerate(flair):
        paths.append(tmp_path / f"flair_{k}.tif")
        cv2.imwrite(str(paths[-1]), im[..., ::-1])
    with pytest.warns(RepeatedChannelsWarning) as caught:
        preds = predictor.predict(paths)
    assert len(caught) == 1  # one warning for the call, naming both inputs
    message = str(caught[0].message)
    assert "2 input(s)" in message and str(paths[0]) in message and "FLAIR" in message
    assert all(p.meta["repeated_channels"] for p in preds)
    with pytest.warns(RepeatedChannelsWarning):  # a grey slice converted to 3 channels
        predictor.predict(images[0][..., 1])


def test_single_channel_model_never_warns_about_repeated_channels(small_seg_model):
    grey = np.zeros((64, 64, 1), "float32")
    grey[20:40, 20:40] = 1.0
    pred = Predictor(small_seg_model).predict(grey)[0]  # no warning (filterwarnings = error)
    assert "repeated_channels" not in pred.meta


def test_negative_min_size_is_refused_when_the_predictor_is_made(small_seg_model):
    with pytest.raises(ConfigError, match="min_size must be 0 or more"):
        Predictor(small_seg_model, min_size=-1)
