import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError, ModelError, UnknownNameError
from neuroseg.models import (
    BACKBONES,
    ChannelAdapter,
    ImageNetPreprocessing,
    build_classifier,
    freeze_backbone,
    imagenet_weights_info,
    unfreeze_backbone,
)

RNG = np.random.default_rng(0)
X = RNG.random((2, 64, 64, 1), dtype=np.float32)


@pytest.mark.parametrize("backbone", BACKBONES)
def test_every_backbone_takes_one_channel_input(backbone):
    m = build_classifier(backbone, input_shape=(64, 64, 1), filters=(8, 16))
    out = np.asarray(m(X))
    assert out.shape == (2, 4)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    assert m.get_layer("backbone") is not None
    if backbone != "cnn":
        assert m.get_layer("backbone").input_shape == (None, 64, 64, 3)


def test_backbone_names_are_normalised_and_unknown_ones_listed():
    assert build_classifier("EfficientNet-B0", input_shape=(32, 32, 1)).name == (
        "classifier_efficientnetb0"
    )
    with pytest.raises(UnknownNameError) as err:
        build_classifier("vgg16")
    for name in BACKBONES:
        assert name in str(err.value)
    with pytest.raises(ConfigError, match="num_classes"):
        build_classifier("cnn", num_classes=1)
    with pytest.raises(ConfigError, match="no pretrained weights"):
        build_classifier("cnn", weights="imagenet")


def test_logits_option():
    m = build_classifier("cnn", input_shape=(32, 32, 3), filters=(8,), return_logits=True)
    assert "probabilities" not in {layer.name for layer in m.layers}


def test_channel_adapter_repeat_and_learned_start_equal():
    x = RNG.random((2, 8, 8, 4), dtype=np.float32)
    rep = np.asarray(ChannelAdapter(3)(x))
    np.testing.assert_allclose(rep[..., 0], x.mean(-1), rtol=1e-6)
    np.testing.assert_array_equal(rep[..., 0], rep[..., 2])
    learned = ChannelAdapter(3, mode="learned")
    np.testing.assert_allclose(np.asarray(learned(x)), rep, rtol=1e-5, atol=1e-6)
    assert len(learned.trainable_weights) == 2
    with pytest.raises(ConfigError):
        ChannelAdapter(mode="rgb")


def test_imagenet_preprocessing_matches_keras_applications():
    x = RNG.random((2, 4, 4, 3), dtype=np.float32)
    caffe = keras.applications.resnet50.preprocess_input(x * 255.0)
    np.testing.assert_allclose(ImageNetPreprocessing("caffe")(x), caffe, rtol=1e-5, atol=1e-3)
    torch = keras.applications.densenet.preprocess_input(x * 255.0)
    np.testing.assert_allclose(ImageNetPreprocessing("torch")(x), torch, rtol=1e-5, atol=1e-5)
    with pytest.raises(ConfigError):
        ImageNetPreprocessing("tf")


def test_weights_load_from_local_file(tmp_path):
    a = build_classifier("mobilenetv3small", input_shape=(64, 64, 1))
    path = tmp_path / "backbone.weights.h5"
    a.get_layer("backbone").save_weights(path)
    b = build_classifier("mobilenetv3small", input_shape=(64, 64, 1), weights=path)
    for wa, wb in zip(a.get_layer("backbone").weights, b.get_layer("backbone").weights):
        np.testing.assert_array_equal(np.asarray(wa), np.asarray(wb))


def test_missing_weights_file_explains_how_to_get_it(tmp_path, monkeypatch):
    with pytest.raises(ModelError) as err:
        build_classifier("resnet50", weights=tmp_path / "nope.h5")
    msg = str(err.value)
    assert "nope.h5" in msg and "never downloads" in msg
    assert imagenet_weights_info("resnet50")["url"] in msg
    monkeypatch.setenv("KERAS_HOME", str(tmp_path))
    with pytest.raises(ModelError, match=str(tmp_path / "models")):
        build_classifier("densenet121", weights="imagenet")
    info = imagenet_weights_info("efficientnetb3")
    assert (
        info["url"] == "https://storage.googleapis.com/keras-applications/efficientnetb3_notop.h5"
    )
    with pytest.raises(ConfigError):
        imagenet_weights_info("cnn")


def test_two_stage_fine_tuning_freezes_and_unfreezes():
    m = build_classifier("cnn", input_shape=(32, 32, 1), filters=(8, 16))
    x = RNG.random((8, 32, 32, 1), dtype=np.float32)
    y = np.arange(8) % 4
    freeze_backbone(m)
    m.compile("adam", "sparse_categorical_crossentropy")
    before = [np.asarray(w).copy() for w in m.get_layer("backbone").weights]
    head = np.asarray(m.get_layer("logits").kernel).copy()
    m.fit(x, y, epochs=1, verbose=0)
    after = [np.asarray(w) for w in m.get_layer("backbone").weights]
    assert all(np.array_equal(b, a) for b, a in zip(before, after))  # BN stats frozen too
    assert not np.array_equal(head, np.asarray(m.get_layer("logits").kernel))
    unfreeze_backbone(m, last_n=5)  # block2: conv2, bn2, relu2, pool, dropout
    net = m.get_layer("backbone")
    assert net.get_layer("block2_conv2").trainable
    assert not net.get_layer("block1_conv1").trainable
    assert not net.get_layer("block2_bn2").trainable  # batch norm stays frozen
    unfreeze_backbone(m, train_batchnorm=True)
    assert all(layer.trainable for layer in net.layers)
    m.compile("adam", "sparse_categorical_crossentropy")
    m.fit(x, y, epochs=1, verbose=0)
    assert not np.array_equal(before[0], np.asarray(net.weights[0]))


def test_classifier_trains_on_real_sample_labels():
    from neuroseg.data import load_sample

    keras.utils.set_random_seed(0)
    ds = load_sample().to_tf_dataset("classification", image_size=32, batch_size=16)
    m = build_classifier("cnn", input_shape=(32, 32, 1), filters=(8, 16), dropout=0.0)
    m.compile(keras.optimizers.Adam(3e-3), "sparse_categorical_crossentropy")
    hist = m.fit(ds, epochs=8, verbose=0, shuffle=False)
    assert hist.history["loss"][-1] < hist.history["loss"][0]
