import dataclasses

import numpy as np
import pytest

from neuroseg.metrics import dice
from neuroseg.metrics.result import MetricResult


def test_fields_and_defaults():
    r = MetricResult(
        value=0.5, values=np.array([0.25, 0.75]), n_items=2, n_excluded=0, reduction="per_image"
    )
    assert r.groups is None
    assert [f.name for f in dataclasses.fields(MetricResult)] == [
        "value",
        "values",
        "n_items",
        "n_excluded",
        "reduction",
        "groups",
    ]
    with pytest.raises(dataclasses.FrozenInstanceError):
        r.value = 1.0


def test_a_metric_fills_it_per_patient():
    # patient b: one image, Dice 1; patient a: two images pooled, 2*1 / (2 + 1) = 2/3
    truth = np.array([[[1, 1]], [[0, 0]], [[1, 0]]])
    pred = np.array([[[1, 0]], [[0, 0]], [[1, 0]]])
    r = dice(truth, pred, reduction="per_patient", groups=["a", "a", "b"], details=True)
    assert isinstance(r, MetricResult)
    assert r.reduction == "per_patient" and r.groups == ["a", "b"] and r.n_items == 2
    np.testing.assert_allclose(r.values, [2 / 3, 1.0])
    assert r.value == pytest.approx((2 / 3 + 1.0) / 2) and r.n_excluded == 0
