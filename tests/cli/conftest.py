"""Fixtures shared by the command-line tests: a small untrained model and a Figshare copy."""

import keras
import pytest

from tests.inference.conftest import make_figshare_subset


@pytest.fixture(scope="module")
def seg_model_path(tmp_path_factory):
    from neuroseg.models import create_model

    keras.utils.set_random_seed(0)
    path = tmp_path_factory.mktemp("m") / "seg.keras"
    create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8).save(path)
    return path


@pytest.fixture(scope="module")
def figshare_small(figshare_root, tmp_path_factory):
    return make_figshare_subset(
        figshare_root, tmp_path_factory.mktemp("fs"), [1, 2, 3, 700, 1500, 2000]
    )
