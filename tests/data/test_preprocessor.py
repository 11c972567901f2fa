"""SlicePreprocessor: one preparation for tf.data and NumPy, saved with the model, invertible."""

from __future__ import annotations

import json

import keras
import numpy as np
import pytest
import tensorflow as tf

from neuroseg.data import (
    PreparedSlice,
    Record,
    SliceDataset,
    SlicePreprocessor,
    load_figshare,
    load_lgg,
    load_preprocessor,
    preprocessor_path,
    read_image,
    tf_brain_box,
    to_tf_dataset,
)
from neuroseg.errors import ChannelError, ConfigError, DataError, ModelError


def _blob_slice() -> tuple[np.ndarray, np.ndarray]:
    """A 40x60 slice: dark border, 'brain' rows 10-30 x cols 20-50, a bright 4x4 blob."""
    img = np.zeros((40, 60), np.uint8)
    img[10:30, 20:50] = 100
    img[14:18, 40:44] = 250
    mask = np.zeros((40, 60), np.uint8)
    mask[14:18, 40:44] = 1
    return img, mask


# ---------------------------------------------------------------- options
@pytest.mark.parametrize(
    ("options", "key"),
    [
        ({"image_size": "128"}, "image_size"),
        ({"image_size": 0}, "image_size"),
        ({"image_size": (1, 2, 3)}, "image_size"),
        ({"image_size": True}, "image_size"),
        ({"channels": 0}, "channels"),
        ({"channels": "1"}, "channels"),
        ({"crop": "head"}, "crop"),
        ({"normalize": "unit"}, "normalize"),
        ({"crop_threshold": 1.5}, "crop_threshold"),
        ({"size_multiple": 0}, "size_multiple"),
        ({"channels": 3, "channel_names": ("T1", "FLAIR")}, "channel_names"),
    ],
)
def test_bad_options_raise_config_error_naming_the_option(options, key):
    with pytest.raises(ConfigError, match=key):
        SlicePreprocessor(**options)


def test_unknown_config_key_is_refused():
    with pytest.raises(ConfigError, match="size"):
        SlicePreprocessor.from_config({"channels": 1, "size": 128})


def test_four_sequences_pass_through():
    pre = SlicePreprocessor(channels=4, image_size=8)
    x = np.random.default_rng(0).random((16, 12, 4), dtype=np.float32)
    assert pre.prepare_array(x).shape == (8, 8, 4)
    assert pre.describe()["channels"] == "4, as stored"
    with pytest.raises(ChannelError):
        pre.prepare(np.zeros((16, 12, 3), np.float32))


def test_crop_none_string_means_no_crop():
    assert SlicePreprocessor(crop="none").crop is None


# ---------------------------------------------------------------- serialisation
def test_keras_serialisation_round_trip_gives_identical_outputs():
    pre = SlicePreprocessor(
        channels=3, image_size=(24, 32), crop="brain", channel_names=("a", "b", "c")
    )
    data = json.loads(json.dumps(keras.saving.serialize_keras_object(pre)))
    assert data["registered_name"] == "neuroseg>SlicePreprocessor"
    with keras.saving.custom_object_scope({}):
        clone = keras.saving.deserialize_keras_object(data, safe_mode=True)
    assert isinstance(clone, SlicePreprocessor)
    assert clone == pre
    img = np.random.default_rng(0).integers(0, 255, (50, 40, 3), dtype=np.uint8)
    np.testing.assert_array_equal(clone.prepare_array(img), pre.prepare_array(img))


def test_save_and_load_beside_a_model_file(tmp_path):
    pre = SlicePreprocessor(channels=1, image_size=64, crop="brain")
    model_file = tmp_path / "best.keras"
    pre.save(preprocessor_path(model_file))
    assert (tmp_path / "best.preprocessor.json").is_file()
    assert load_preprocessor(model_file) == pre


def test_run_directory_preprocessor_is_found_for_its_checkpoints(tmp_path):
    pre = SlicePreprocessor(channels=3, image_size=32)
    pre.save(tmp_path / "preprocessor.json")
    assert load_preprocessor(tmp_path / "last.keras") == pre
    assert load_preprocessor(tmp_path / "sub" / "x.keras") is None


def test_damaged_preprocessor_file_names_the_file(tmp_path):
    bad = tmp_path / "m.preprocessor.json"
    bad.write_text("{not json")
    with pytest.raises(ConfigError, match=r"m\.preprocessor\.json"):
        load_preprocessor(tmp_path / "m.keras")
    bad.write_text(json.dumps({"class_name": "Other", "config": {}}))
    with pytest.raises(ConfigError, match="Other"):
        load_preprocessor(tmp_path / "m.keras")


def test_describe_is_generated_from_the_config():
    words = SlicePreprocessor(channels=3, image_size=256, crop="brain").describe()
    assert words["size"].startswith("resized to 256x256")
    assert "brain" in words["crop"]
    assert words["channels"].startswith("three")


# ---------------------------------------------------------------- preparation
def test_brain_box_by_hand():
    img, _ = _blob_slice()
    assert tuple(int(v) for v in tf_brain_box(img[..., None])) == (10, 20, 30, 50)
    assert tuple(int(v) for v in tf_brain_box(np.zeros((5, 7, 1)))) == (0, 0, 5, 7)


def test_prepare_crops_resizes_and_normalises():
    img, _ = _blob_slice()
    p = SlicePreprocessor(channels=1, image_size=(20, 30), crop="brain").prepare(img)
    assert isinstance(p, PreparedSlice)
    assert p.box == (10, 20, 30, 50) and p.shape == (40, 60) and p.cropped
    # the box is exactly 20x30: no resize; min-max over the crop: 100 -> 0, 250 -> 1
    assert p.array.shape == (20, 30, 1) and p.array.dtype == np.float32
    assert p.array.min() == 0.0 and p.array.max() == 1.0
    assert p.array[4:8, 20:24].min() == 1.0 and p.array[0, 0, 0] == 0.0


def test_invert_puts_outputs_back_where_they_came_from():
    img, mask = _blob_slice()
    pre = SlicePreprocessor(channels=1, image_size=(40, 60), crop="brain")
    p = pre.prepare(img)
    # a "model" that returns the bright blob of its input: it is found at the box's scale
    blob = (p.array[..., 0] > 0.5).astype(np.uint8)
    back = pre.invert(blob, p, interpolation="nearest")
    assert back.shape == (40, 60) and back.dtype == np.uint8
    np.testing.assert_array_equal(back, mask)
    heat = pre.invert(p.array[..., 0], p)
    assert heat.shape == (40, 60) and heat.dtype == np.float32
    assert heat[:10].max() == 0.0 and heat[:, :20].max() == 0.0  # nothing outside the box
    assert heat[15, 41] > 0.9


def test_invert_multichannel_and_bad_shapes():
    pre = SlicePreprocessor(channels=1, image_size=8)
    p = pre.prepare(np.arange(16 * 12, dtype=np.float32).reshape(16, 12))
    assert pre.invert(np.ones((8, 8, 3)), p).shape == (16, 12, 3)
    with pytest.raises(ModelError, match="output"):
        pre.invert(np.ones((1, 8, 8, 1)), p)


def test_size_agnostic_rounds_up_to_the_multiple():
    pre = SlicePreprocessor(channels=1, size_multiple=32)
    assert pre.prepare_array(np.ones((70, 90), np.uint8)).shape == (96, 96, 1)


@pytest.mark.parametrize(
    ("image", "error"),
    [
        (np.zeros((0, 5)), DataError),
        (np.full((4, 4), np.nan, np.float32), DataError),
        (np.zeros((4, 4, 2), np.uint8), ChannelError),
        (np.zeros((2, 4, 4, 1)), ModelError),
    ],
)
def test_bad_arrays_give_named_errors(image, error):
    with pytest.raises(error, match="slice-7"):
        SlicePreprocessor(channels=1, image_size=8).prepare(image, source="slice-7")


def test_dict_transform_fits_in_a_tf_graph():
    pre = SlicePreprocessor(channels=1, image_size=(16, 16), crop="brain")
    img, mask = _blob_slice()

    @tf.function
    def run(x, m):
        return pre({"image": x, "mask": m})

    out = run(tf.constant(img[..., None], tf.float32), tf.constant(mask[..., None]))
    assert out["image"].shape == (16, 16, 1) and out["mask"].shape == (16, 16, 1)
    np.testing.assert_array_equal(out["image"].numpy(), pre.prepare_array(img))


# ---------------------------------------------------------------- real data
@pytest.mark.data
@pytest.mark.parametrize("crop", [None, "brain"])
def test_tf_data_batch_equals_numpy_on_real_figshare_slices(figshare_root, crop):
    full = load_figshare(figshare_root)
    ds = SliceDataset(full.records[:6], name=full.name)
    pre = SlicePreprocessor(channels=1, image_size=(96, 96), crop=crop)
    batch, masks = next(iter(to_tf_dataset(ds, preprocessor=pre, batch_size=6)))
    for k, record in enumerate(ds):
        want = pre.prepare_array(read_image(record.image))
        np.testing.assert_array_equal(batch[k].numpy(), want)
    assert set(np.unique(masks.numpy())) <= {0.0, 1.0}


@pytest.mark.data
def test_tf_data_equals_numpy_on_real_lgg_tiffs(shared_data):
    full = load_lgg(shared_data / "lgg-kaggle3m")
    ds = SliceDataset(full.records[:4], name=full.name)
    pre = SlicePreprocessor(channels=3, image_size=(128, 128), crop="brain")
    batch, _ = next(iter(to_tf_dataset(ds, preprocessor=pre, batch_size=4, decode="python")))
    for k, record in enumerate(ds):
        np.testing.assert_array_equal(batch[k].numpy(), pre.prepare_array(record.load_image()))


def test_pipeline_refuses_options_that_disagree_with_the_preprocessor():
    ds = SliceDataset([Record(image=np.zeros((8, 8, 1), np.float32), label=0)], name="t")
    pre = SlicePreprocessor(channels=1, image_size=8)
    with pytest.raises(ConfigError, match="image_size"):
        to_tf_dataset(ds, "classification", preprocessor=pre, image_size=16)
