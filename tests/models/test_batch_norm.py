"""FusedBatchNormalization: the fused TensorFlow path equals Keras's BatchNormalization."""

import numpy as np
import pytest
import tensorflow as tf
from keras import layers

from neuroseg.models import FusedBatchNormalization, create_model

RNG = np.random.default_rng(0)


def _pair(x, **kwargs):
    ref, fused = layers.BatchNormalization(**kwargs), FusedBatchNormalization(**kwargs)
    ref.build(x.shape)
    fused.build(x.shape)
    weights = [w + 0.1 * (i + 1) for i, w in enumerate(ref.get_weights())]
    ref.set_weights(weights)
    fused.set_weights(weights)
    return ref, fused


@pytest.mark.parametrize("kwargs", [{}, {"center": False}, {"scale": False, "momentum": 0.5}])
def test_training_steps_match_keras(kwargs):
    x = RNG.normal(2.0, 3.0, (4, 8, 8, 5)).astype("float32")
    ref, fused = _pair(x, **kwargs)
    for _ in range(3):
        with tf.GradientTape(persistent=True) as tape:
            xt = tf.constant(x)
            tape.watch(xt)
            y_ref, y_fused = ref(xt, training=True), fused(xt, training=True)
            loss_ref, loss_fused = tf.reduce_sum(y_ref**3), tf.reduce_sum(y_fused**3)
        np.testing.assert_allclose(y_fused, y_ref, atol=1e-5)
        np.testing.assert_allclose(
            tape.gradient(loss_fused, xt), tape.gradient(loss_ref, xt), rtol=1e-4, atol=1e-4
        )
        for v_ref, v_fused in zip(ref.trainable_variables, fused.trainable_variables):
            g_ref, g_fused = tape.gradient(loss_ref, v_ref), tape.gradient(loss_fused, v_fused)
            np.testing.assert_allclose(g_fused, g_ref, rtol=1e-4, atol=1e-3)
    # moving statistics use the biased batch variance, as Keras does
    for w_ref, w_fused in zip(ref.get_weights(), fused.get_weights()):
        np.testing.assert_allclose(w_fused, w_ref, rtol=1e-6, atol=1e-6)
    np.testing.assert_allclose(fused(x, training=False), ref(x, training=False), atol=1e-5)


def test_moving_statistics_hand_computed():
    x = np.zeros((2, 1, 2, 1), np.float32)
    x[..., 0] = [[[1.0, 3.0]], [[5.0, 7.0]]]  # mean 4, biased variance 5
    bn = FusedBatchNormalization(momentum=0.0, epsilon=0.0)
    y = np.asarray(bn(x, training=True))
    np.testing.assert_allclose(bn.moving_mean.numpy(), [4.0])
    np.testing.assert_allclose(bn.moving_variance.numpy(), [5.0])
    np.testing.assert_allclose(y.ravel(), (np.array([1, 3, 5, 7]) - 4) / np.sqrt(5), rtol=1e-6)


def test_other_shapes_fall_back_to_keras():
    x = RNG.normal(size=(3, 7, 4)).astype("float32")  # 3-D: not fusable
    ref, fused = _pair(x)
    np.testing.assert_allclose(fused(x, training=True), ref(x, training=True), atol=1e-6)
    x4 = RNG.normal(size=(2, 4, 3, 3)).astype("float32")
    ref, fused = _pair(x4, axis=1)  # channels first: not fusable
    np.testing.assert_allclose(fused(x4, training=True), ref(x4, training=True), atol=1e-6)


def test_mixed_precision_keeps_dtype():
    bn = FusedBatchNormalization(dtype="mixed_bfloat16")
    y = bn(tf.constant(RNG.random((2, 4, 4, 3)), tf.bfloat16), training=True)
    assert y.dtype == tf.bfloat16
    assert bn.moving_mean.dtype == "float32"


def test_models_use_it_for_batch_norm():
    model = create_model("resunet-small", input_shape=(32, 32, 1))
    norms = [
        layer for layer in model._flatten_layers() if isinstance(layer, layers.BatchNormalization)
    ]
    assert norms and all(isinstance(layer, FusedBatchNormalization) for layer in norms)
