import pytest

from neuroseg.errors import ConfigError
from neuroseg.train import Experiment, TrainConfig, load_experiment
from neuroseg.train.toml import apply_overrides, dumps, loads


def test_trainconfig_json_and_toml_round_trip(tmp_path):
    cfg = TrainConfig(
        epochs=7, schedule="cosine", warmup_epochs=2, clipnorm=1.0, class_weight={0: 2.0}
    )
    assert TrainConfig.from_json(cfg.to_json(tmp_path / "c.json")) == cfg
    assert TrainConfig.from_json(tmp_path / "c.json") == cfg
    assert TrainConfig.from_toml(cfg.to_toml()) == cfg


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"epochs": 0}, "epochs"),
        ({"schedule": "step"}, "schedule"),
        ({"optimizer": "lion"}, "optimizer"),
        ({"warmup_epochs": 3, "epochs": 3, "schedule": "cosine"}, "warmup"),
        ({"warmup_epochs": 1}, "cosine"),
        ({"class_weight": "inverse"}, "class_weight"),
    ],
)
def test_invalid_configs(kwargs, match):
    with pytest.raises(ConfigError, match=match):
        TrainConfig(**kwargs)
    with pytest.raises(ConfigError, match="Unknown TrainConfig field"):
        TrainConfig.from_dict({"epochz": 1})


def test_toml_dump_load_and_overrides():
    data = {
        "train": {"epochs": 5, "lr": 0.1, "flags": [1, 2]},
        "data": {"path": "a b", "cache": True},
    }
    assert loads(dumps(data)) == data
    out = apply_overrides(data, ["train.epochs=3", "data.path=/x/y", 'data.val_groups=["fold-4"]'])
    assert out["train"]["epochs"] == 3 and out["data"]["path"] == "/x/y"
    assert out["data"]["val_groups"] == ["fold-4"]
    assert data["train"]["epochs"] == 5  # the input is not modified
    with pytest.raises(ConfigError, match="section.key=value"):
        apply_overrides(data, ["nonsense"])
    with pytest.raises(ConfigError, match="Invalid TOML"):
        loads("a = ")


def test_experiment_validation(tmp_path):
    good = {"data": {"format": "figshare", "path": "x"}, "model": {"name": "resunet-small"}}
    Experiment.from_dict(good)
    with pytest.raises(ConfigError, match="unknown section"):
        Experiment.from_dict({**good, "trian": {}})
    with pytest.raises(ConfigError, match=r"\[data\] needs 'path'"):
        Experiment.from_dict({"data": {"format": "figshare"}, "model": {"name": "m"}})
    with pytest.raises(ConfigError, match="unknown \\[data\\] key"):
        Experiment.from_dict({**good, "data": {"format": "f", "path": "p", "imagesize": 3}})
    with pytest.raises(ConfigError, match="Unknown TrainConfig field"):
        Experiment.from_dict({**good, "train": {"epoch": 3}})
    with pytest.raises(ConfigError, match="not found"):
        load_experiment(tmp_path / "missing.toml")


def test_example_configs_parse():
    from pathlib import Path

    configs = sorted((Path(__file__).resolve().parents[2] / "examples" / "configs").glob("*.toml"))
    assert configs
    for path in configs:
        exp = load_experiment(path)
        assert exp.train_config().epochs >= 1


def test_crop_key_reaches_the_pipeline():
    base = {"data": {"format": "figshare", "path": "p"}, "model": {"name": "resunet-small"}}
    assert Experiment.from_dict(base).pipeline_kwargs()["crop"] is None
    for value, want in (("brain", "brain"), ("none", None)):
        exp = Experiment.from_dict({**base, "data": {**base["data"], "crop": value}})
        assert exp.pipeline_kwargs()["crop"] == want
