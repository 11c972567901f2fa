import csv

import pytest

from neuroseg.data import load_sample, train_test_split
from neuroseg.errors import ConfigError
from neuroseg.train import tune

pytest.importorskip("keras_tuner")


@pytest.mark.slow
def test_two_tiny_trials_on_the_sample(tmp_path):
    train, val = train_test_split(load_sample()[::2], test_groups=["fold-4", "tcia-06"])
    space = {"base_filters": [4], "depth": [2], "loss": ["dice_bce", "dice"]}
    result = tune(
        train, val, max_trials=2, epochs=1, image_size=32, space=space, out=tmp_path, seed=1
    )
    assert len(result.trials) == 2
    assert {"learning_rate", "loss", "augment", "base_filters", "depth"} <= set(result.best)
    scores = [t["score"] for t in result.trials]
    assert scores == sorted(scores, reverse=True) and all(0.0 <= s <= 1.0 for s in scores)
    with result.results_csv.open() as fh:
        assert len(list(csv.DictReader(fh))) == 2


def test_tune_refuses_leaky_split_and_unknown_options(tmp_path):
    ds = load_sample()
    with pytest.raises(ConfigError, match="share patients"):
        tune(ds[:10], ds[5:15], out=tmp_path)
    train, val = train_test_split(ds, test_groups=["fold-4"])
    with pytest.raises(ConfigError, match="search"):
        tune(train, val, search="grid", out=tmp_path)
    with pytest.raises(ConfigError, match="search-space"):
        tune(train, val, space={"width": [1]}, out=tmp_path)
