import numpy as np
import pytest

from neuroseg.errors import ConfigError, UnknownNameError
from neuroseg.quickstart import (
    DEFAULT_EPOCHS,
    DEFAULT_MODEL,
    HOLDOUT_GROUPS,
    format_table,
    run_quickstart,
)


def test_format_table_by_hand():
    rows = [
        ("per-image mean", {"dice": 0.5, "iou": 1 / 3, "precision": 1.0, "recall": 0.25}),
        ("pooled pixels", {"dice": 0.123456, "iou": 0.1, "precision": 0.2, "recall": np.nan}),
    ]
    assert format_table(rows).splitlines() == [
        " " * 18 + "Dice     IoU  Precision  Recall",
        "per-image mean  0.5000  0.3333      1.000  0.2500",
        "pooled pixels   0.1235  0.1000     0.2000       -",  # NaN (no tumour slice) as "-"
    ]


def test_defaults_name_a_segmentation_preset():
    from neuroseg.models import get_spec

    assert get_spec(DEFAULT_MODEL).task == "segmentation" and DEFAULT_EPOCHS >= 1


def test_holdout_is_cheng_fold_4_and_one_tcia_patient():
    from neuroseg.data import load_sample

    sample = load_sample()
    held = [r for r in sample if r.group in HOLDOUT_GROUPS]
    by_group = {g: [r for r in held if r.group == g] for g in HOLDOUT_GROUPS}
    assert {g: len(rs) for g, rs in by_group.items()} == {"fold-4": 9, "tcia-06": 2}
    assert all(r.load_mask().any() for r in by_group["fold-4"])  # tumour slices
    assert not any(r.load_mask().any() for r in by_group["tcia-06"])  # empty slices


@pytest.mark.parametrize(
    ("model", "error", "message"),
    [
        ("classifier-cnn", ConfigError, "'classifier-cnn' is a classification preset"),
        ("no-such-preset", UnknownNameError, "no-such-preset"),
    ],
)
def test_a_model_that_cannot_segment_is_refused_before_anything_is_written(
    tmp_path, model, error, message
):
    out = tmp_path / "qs"
    lines = []
    with pytest.raises(error, match=message) as info:
        run_quickstart(model=model, out=out, epochs=1, echo=lines.append)
    if error is ConfigError:
        offered = str(info.value).split("Pick one of: ")[1].rstrip(".").split(", ")
        assert DEFAULT_MODEL in offered and not any(n.startswith("classifier") for n in offered)
    assert not out.exists() and lines == []
