import numpy as np
import pytest

from neuroseg.models import create_model, fuse_for_inference

RNG = np.random.default_rng(0)


@pytest.mark.parametrize(
    "name",
    [
        "resunet-small",
        pytest.param("resunetpp", marks=pytest.mark.slow),
        pytest.param("attention-resunet", marks=pytest.mark.slow),
        "multitask-base",
    ],
)
def test_fused_model_matches_trained_model(name):
    kwargs = {"input_shape": (32, 32, 1), "depth": 2, "base_filters": 4}
    m = create_model(name, **kwargs)
    x = RNG.random((4, 32, 32, 1), dtype=np.float32)
    y = {"mask": x > 0.5, "label": np.array([0, 1, 2, 3])} if name.startswith("multi") else x > 0.5
    loss = (
        {"mask": "binary_crossentropy", "label": "sparse_categorical_crossentropy"}
        if name.startswith("multi")
        else "binary_crossentropy"
    )
    m.compile("adam", loss)
    m.fit(x, y, epochs=2, verbose=0)  # moving statistics away from their initial values
    before = [np.asarray(w).copy() for w in m.weights]
    fused = fuse_for_inference(m)
    expected, got = m.predict(x, verbose=0), fused.predict(x, verbose=0)
    if isinstance(expected, dict):
        for k in expected:
            np.testing.assert_allclose(got[k], expected[k], rtol=1e-4, atol=1e-5)
    else:
        np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    n_bn = sum(w.path.endswith("moving_mean") for w in m.weights)
    assert sum(w.path.endswith("moving_mean") for w in fused.weights) < n_bn
    assert len(fused.weights) < len(m.weights)
    assert all(np.array_equal(b, np.asarray(w)) for b, w in zip(before, m.weights))
