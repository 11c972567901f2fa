import os
import subprocess
import sys

import keras
import numpy as np
import pytest

from neuroseg.errors import ConfigError, UnknownNameError
from neuroseg.models import (
    AttentionResUNet,
    ResUNet,
    ResUNetPlusPlus,
    create_model,
)


@pytest.mark.parametrize("depth", [1, 2, 3, 4])
def test_shapes_for_depths(depth):
    size = 2**depth * 2
    m = ResUNet(input_shape=(size, size, 2), depth=depth, base_filters=4)
    assert m(np.zeros((1, size, size, 2), "float32")).shape == (1, size, size, 1)
    names = {layer.name for layer in m.layers}
    assert {"stem", "bridge", "head", f"decoder_{depth}"} <= names


def test_multiclass_softmax_and_logits():
    m = ResUNet(input_shape=(16, 16, 4), num_classes=4, depth=2, base_filters=4)
    out = np.asarray(m(np.random.default_rng(0).random((2, 16, 16, 4), dtype=np.float32)))
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    logits = ResUNet(input_shape=(16, 16, 1), depth=2, base_filters=4, return_logits=True)
    assert "probabilities" not in {layer.name for layer in logits.layers}


def test_none_sizes_for_inference():
    m = create_model("resunet-small", input_shape=(None, None, 1))
    assert m(np.zeros((1, 48, 40, 1), "float32")).shape == (1, 48, 40, 1)


def test_errors():
    with pytest.raises(ConfigError, match="divisible by 2\\*\\*depth = 8"):
        ResUNet(input_shape=(100, 100, 1), depth=3)
    with pytest.raises(ConfigError, match="norm"):
        ResUNet(input_shape=(16, 16, 1), depth=2, norm="layer")
    with pytest.raises(UnknownNameError, match="resunet-small"):
        create_model("resunet-huge")


@pytest.mark.parametrize("cls", [ResUNetPlusPlus, AttentionResUNet])
@pytest.mark.parametrize("depth", [1, 3])
def test_family_shapes_and_none_sizes(cls, depth):
    size = 2**depth * 4
    m = cls(input_shape=(size, size, 2), depth=depth, base_filters=4, num_classes=3)
    out = np.asarray(m(np.random.default_rng(0).random((2, size, size, 2), dtype=np.float32)))
    assert out.shape == (2, size, size, 3)
    np.testing.assert_allclose(out.sum(-1), 1.0, rtol=1e-5)
    free = cls(input_shape=(None, None, 1), depth=depth, base_filters=4)
    assert free(np.zeros((1, 2**depth * 3, 2**depth * 5, 1), "float32")).shape == (
        1,
        2**depth * 3,
        2**depth * 5,
        1,
    )


def test_family_structure():
    pp = ResUNetPlusPlus(input_shape=(32, 32, 1), depth=2, base_filters=4, return_logits=True)
    names = {layer.name for layer in pp.layers}
    assert {"stem", "encoder_1", "bridge", "decoder_2", "output_aspp", "head"} <= names
    assert "probabilities" not in names
    assert pp.get_layer("bridge").aspp and pp.get_layer("encoder_1").squeeze_excite
    assert pp.get_layer("decoder_1").attention == "resunetpp"
    att = AttentionResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4)
    assert att.get_layer("decoder_1").attention == "gate"
    assert not att.get_layer("bridge").aspp
    with pytest.raises(ConfigError, match="divisible"):
        ResUNetPlusPlus(input_shape=(36, 36, 1), depth=3)


@pytest.mark.slow
def test_family_trains_on_real_sample():
    from neuroseg.data import load_sample

    ds = load_sample().to_tf_dataset("segmentation", image_size=32, batch_size=8)
    for cls in (ResUNetPlusPlus, AttentionResUNet):
        m = cls(input_shape=(32, 32, 1), depth=2, base_filters=8)
        m.compile("adam", "binary_crossentropy")
        hist = m.fit(ds.take(2), epochs=3, verbose=0, shuffle=False)
        assert hist.history["loss"][-1] < hist.history["loss"][0]


@pytest.mark.slow
def test_forward_pass_under_jax_backend():
    pytest.importorskip("jax")
    code = (
        "import keras, numpy as np\n"
        "assert keras.backend.backend() == 'jax'\n"
        "from neuroseg import models\n"
        "x = np.random.default_rng(0).random((2, 32, 32, 1), dtype=np.float32)\n"
        "for cls in (models.ResUNet, models.ResUNetPlusPlus, models.AttentionResUNet):\n"
        "    m = cls(input_shape=(None, None, 1), depth=2, base_filters=4)\n"
        "    assert m(x).shape == (2, 32, 32, 1), cls\n"
        "mt = models.MultiTaskResUNet(input_shape=(32, 32, 1), depth=2, base_filters=4,\n"
        "                             consistency_weight=0.1)\n"
        "mt.compile('adam', {'mask': 'binary_crossentropy',\n"
        "                    'label': 'sparse_categorical_crossentropy'})\n"
        "h = mt.fit(x, {'mask': (x > 0.5).astype('float32'), 'label': np.array([0, 2])},\n"
        "           epochs=1, verbose=0)\n"
        "assert np.isfinite(h.history['loss'][0])\n"
        "c = models.build_classifier('cnn', input_shape=(32, 32, 1), filters=(8,))\n"
        "assert c(x).shape == (2, 4)\n"
        "print('jax-ok')\n"
    )
    env = {**os.environ, "KERAS_BACKEND": "jax"}
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=600
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "jax-ok" in out.stdout


def test_strided_stem_keeps_the_output_size_and_cuts_the_flops():
    from neuroseg.models import count_flops

    full = ResUNet(input_shape=(64, 64, 1), depth=3, base_filters=8)
    cheap = ResUNet(input_shape=(64, 64, 1), depth=3, base_filters=8, stem_stride=2)
    x = np.random.default_rng(0).random((2, 64, 64, 1), dtype=np.float32)
    assert tuple(cheap(x).shape) == (2, 64, 64, 1)
    # Every residual unit runs at half resolution or below: well under half the FLOPs.
    assert count_flops(cheap) < 0.4 * count_flops(full)
    # The refinement sees the image at full resolution (a skip from the input).
    names = [layer.name for layer in cheap.layers]
    assert {"refine_up", "refine_concat", "refine_conv", "head"} <= set(names)
    assert cheap.get_config()["stem_stride"] == 2


def test_half_resolution_refinement_keeps_the_output_size_and_cuts_the_flops():
    from neuroseg.models import count_flops

    full = ResUNet(input_shape=(64, 64, 2), depth=3, base_filters=8, stem_stride=2)
    half = ResUNet(input_shape=(64, 64, 2), depth=3, base_filters=8, stem_stride=2, refine="half")
    x = np.random.default_rng(0).random((2, 64, 64, 2), dtype=np.float32)
    assert tuple(half(x).shape) == (2, 64, 64, 1)
    # The image reaches the refinement folded 2x2 into 4 x 2 channels at half resolution,
    # and the head is a 2x2 stride-2 transposed convolution back to full resolution.
    assert tuple(half.get_layer("refine_fold").output.shape) == (None, 32, 32, 8)
    assert tuple(half.get_layer("refine_concat").output.shape) == (None, 32, 32, 16)
    assert isinstance(half.get_layer("head"), keras.layers.Conv2DTranspose)
    assert "refine_up" not in {layer.name for layer in half.layers}
    # Same backbone; the refinement at a quarter of the pixels costs less.
    assert count_flops(half) < count_flops(full)
    assert half.get_config()["refine"] == "half"
    assert full.get_config()["refine"] == "full"


def test_half_resolution_refinement_gives_every_output_pixel_its_own_value():
    # A sub-pixel head must not repeat one value over each 2x2 block: with random weights
    # the four outputs of a block differ. (A block whose features are all zero after the
    # last ReLU gets the bias four times, so the weights are seeded and a few such blocks
    # are allowed; an upsampling head would repeat the value in every block.)
    keras.utils.set_random_seed(0)
    model = ResUNet(
        input_shape=(32, 32, 1),
        depth=2,
        base_filters=4,
        stem_stride=2,
        refine="half",
        return_logits=True,
    )
    x = np.random.default_rng(1).random((1, 32, 32, 1), dtype=np.float32)
    y = np.asarray(model(x))[0, :, :, 0]
    blocks = y.reshape(16, 2, 16, 2).transpose(0, 2, 1, 3).reshape(-1, 4)
    assert np.mean(blocks.std(axis=1) > 1e-7) > 0.9


def test_strided_stem_options_are_checked():
    with pytest.raises(ConfigError, match="stem_stride must be 1 or 2"):
        ResUNet(input_shape=(64, 64, 1), stem_stride=4)
    with pytest.raises(ConfigError, match="2\\*\\*depth \\* stem_stride = 16"):
        ResUNet(input_shape=(72, 72, 1), depth=3, stem_stride=2)
    with pytest.raises(ConfigError, match="refine_filters"):
        ResUNet(input_shape=(64, 64, 1), stem_stride=2, refine_filters=0)
    with pytest.raises(ConfigError, match="refine must be 'full' or 'half'"):
        ResUNet(input_shape=(64, 64, 1), stem_stride=2, refine="quarter")
