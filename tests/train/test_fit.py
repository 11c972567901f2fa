import csv
import json

import numpy as np
import pytest

from neuroseg.data import load_figshare
from neuroseg.errors import ConfigError
from neuroseg.models import create_model, load_model
from neuroseg.train import TrainConfig, fit


def test_config_round_trip(tmp_path):
    cfg = TrainConfig(epochs=3, learning_rate=2e-3, schedule="cosine")
    assert TrainConfig.from_json(cfg.to_json(tmp_path / "c.json")) == cfg
    assert TrainConfig.from_json(tmp_path / "c.json") == cfg
    with pytest.raises(ConfigError, match="Unknown TrainConfig field"):
        TrainConfig.from_dict({"epochz": 1})
    with pytest.raises(ConfigError):
        TrainConfig(epochs=0)


def test_loss_goes_down_on_real_figshare_slices(figshare_root, tmp_path):
    ds = load_figshare(figshare_root, folds=[1])[:16]
    train = ds.to_tf_dataset(image_size=64, batch_size=4, shuffle=True, cache=True)
    model = create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8)
    history = fit(
        model,
        train,
        train,
        config=TrainConfig(epochs=6, learning_rate=3e-3),
        out=tmp_path,
        verbose=0,
    )
    loss = history.history["loss"]
    assert loss[-1] < loss[0]
    with (tmp_path / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == list(range(6))
    assert {"dice", "iou", "precision", "recall", "val_dice"} <= set(rows[0])
    for name in ("best.keras", "last.keras", "config.json", "metrics.json"):
        assert (tmp_path / name).is_file()
    assert json.loads((tmp_path / "metrics.json").read_text())["loss"] == pytest.approx(loss[-1])
    x = np.concatenate([b[0] for b in train])
    np.testing.assert_array_equal(
        load_model(tmp_path / "last.keras").predict(x, verbose=0), model.predict(x, verbose=0)
    )
