import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from neuroseg import metrics as M

PAIRS = [(M.Dice, M.dice), (M.IoU, M.iou), (M.Precision, M.precision), (M.Recall, M.recall)]


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
