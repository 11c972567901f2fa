"""The worked example of docs/metrics.md runs on real LGG patients and its figures hang
together (per-patient Dice is the pooled Dice of each patient's volume, etc.)."""

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "docs" / "examples" / "lgg_aggregation.py"


@pytest.mark.slow
@pytest.mark.data
def test_lgg_example_runs_on_two_real_patients(shared_data, tmp_path):
    root = shared_data / "lgg-kaggle3m"
    patients = sorted(p for p in root.iterdir() if p.is_dir())[:2]
    data = tmp_path / "lgg"
    data.mkdir()
    for p in patients:
        (data / p.name).symlink_to(p, target_is_directory=True)
    out = subprocess.run(
        [sys.executable, str(SCRIPT), "--data", str(data), "--json", str(tmp_path / "r.json")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    assert "per patient (3-D volumes)" in out.stdout
    r = json.loads((tmp_path / "r.json").read_text())
    n = sum(len(list(p.glob("*_mask.tif"))) for p in patients)
    assert r["patients"] == 2 and r["slices"] == n
    assert 0 < r["slices_with_tumour"] < n  # most LGG slices are empty
    figures = [r["dice_pooled"], r["dice_per_image"], r["dice_per_patient"]]
    assert all(0 <= f <= 1 for f in figures)
    assert len({round(f, 6) for f in figures}) == 3  # the three aggregations differ
    # empty slices (both empty) raise the per-image mean above the tumour-slice mean
    assert r["dice_per_image"] > r["dice_per_image_tumour_slices"]
    assert np.isfinite(r["hd95_per_patient_px"])
