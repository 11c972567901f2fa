import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroseg import metrics as M

PAIRS = [
    (M.Dice, M.dice),
    (M.IoU, M.iou),
    (M.Precision, M.precision),
    (M.Recall, M.recall),
    (M.Specificity, M.specificity),
]


@pytest.mark.parametrize(("cls", "fn"), PAIRS, ids=lambda x: getattr(x, "__name__", ""))
def test_streaming_equals_functional_pooled_on_hand_case(cls, fn):
    rng = np.random.default_rng(1)
    t = (rng.random((6, 8, 8, 1)) > 0.6).astype("float32")
    p = rng.random((6, 8, 8, 1)).astype("float32")
    m = cls()
    for chunk in (slice(0, 1), slice(1, 4), slice(4, 6)):
        m.update_state(t[chunk], p[chunk])
    assert float(m.result()) == pytest.approx(fn(t, p, reduction="pooled"), abs=1e-6)
    m.reset_state()
    assert float(m.result()) == 1.0  # nothing seen: both empty


@settings(max_examples=25, deadline=None)
@given(st.integers(0, 2**31 - 1), st.lists(st.integers(1, 3), min_size=1, max_size=4))
def test_any_batch_split(seed, sizes):
    rng = np.random.default_rng(seed)
    n = sum(sizes)
    t = (rng.random((n, 4, 4, 1)) > 0.7).astype("float32")
    p = rng.random((n, 4, 4, 1)).astype("float32")
    for cls, fn in PAIRS:
        m = cls()
        start = 0
        for s in sizes:
            m.update_state(t[start : start + s], p[start : start + s])
            start += s
        assert float(m.result()) == pytest.approx(fn(t, p, reduction="pooled"), abs=1e-6)


def test_multiclass_streaming_equals_functional_pooled():
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 3, (7, 5, 5))
    scores = rng.random((7, 5, 5, 3)).astype("float32")
    for cls, fn in PAIRS:
        per_class = fn(labels, scores, reduction="pooled")
        mean_m = cls(num_classes=3)
        fg_m = cls(num_classes=3, include_background=False)
        one_m = cls(num_classes=3, class_id=2)
        for chunk in (slice(0, 2), slice(2, 3), slice(3, 7)):
            for m in (mean_m, fg_m, one_m):
                m.update_state(labels[chunk][..., None], scores[chunk])
        assert float(mean_m.result()) == pytest.approx(per_class.mean(), abs=1e-6)
        assert float(fg_m.result()) == pytest.approx(per_class[1:].mean(), abs=1e-6)
        assert float(one_m.result()) == pytest.approx(per_class[2], abs=1e-6)
    onehot = M.Dice(num_classes=3)
    onehot.update_state(np.eye(3)[labels], scores)
    assert float(onehot.result()) == pytest.approx(
        M.dice(labels, scores, reduction="pooled").mean()
    )


def test_bad_options():
    from neuroseg.errors import ConfigError

    with pytest.raises(ConfigError, match="class_id"):
        M.Dice(class_id=1)
    with pytest.raises(ConfigError, match="sample_weight"):
        M.Dice().update_state(np.ones((1, 2)), np.ones((1, 2)), sample_weight=np.ones(1))


DISTRIBUTED = r"""
import json, sys
import numpy as np
import tensorflow as tf
cpu = tf.config.list_physical_devices("CPU")[0]
tf.config.set_logical_device_configuration(cpu, [tf.config.LogicalDeviceConfiguration()] * 2)
from neuroseg import metrics as M
strategy = tf.distribute.MirroredStrategy(["/cpu:0", "/cpu:1"])
rng = np.random.default_rng(5)
t = (rng.random((10, 6, 6, 1)) > 0.6).astype("float32")
p = rng.random((10, 6, 6, 1)).astype("float32")
with strategy.scope():
    ms = [M.Dice(), M.IoU(), M.Precision(), M.Recall(), M.Specificity()]
ds = strategy.experimental_distribute_dataset(
    tf.data.Dataset.from_tensor_slices((t, p)).batch(4)
)

@tf.function
def step(a, b):
    def update(x, y):
        for m in ms:
            m.update_state(x, y)
    strategy.run(update, args=(a, b))

for a, b in ds:
    step(a, b)
out = {type(m).__name__: float(m.result()) for m in ms}
ref = {n: float(f(t, p, reduction="pooled")) for n, f in
       [("Dice", M.dice), ("IoU", M.iou), ("Precision", M.precision), ("Recall", M.recall),
        ("Specificity", M.specificity)]}
print(json.dumps({"got": out, "ref": ref, "replicas": strategy.num_replicas_in_sync}))
"""


@pytest.mark.slow
def test_streaming_under_mirrored_strategy_with_two_replicas():
    import json
    import subprocess
    import sys

    out = subprocess.run(
        [sys.executable, "-c", DISTRIBUTED], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr[-3000:]
    res = json.loads(out.stdout.strip().splitlines()[-1])
    assert res["replicas"] == 2
    for name, value in res["ref"].items():
        assert res["got"][name] == pytest.approx(value, abs=1e-6)


def test_specificity_edge_cases():
    m = M.Specificity()
    m.update_state(np.ones((1, 2, 2)), np.ones((1, 2, 2)))  # no background anywhere
    assert float(m.result()) == 1.0
    m.update_state(np.ones((1, 2, 2)), np.zeros((1, 2, 2)))  # only predicted background
    assert (
        float(m.result())
        == 0.0
        == M.specificity(
            np.ones((2, 2, 2)), np.r_[np.ones((1, 2, 2)), np.zeros((1, 2, 2))], reduction="pooled"
        )
    )
