import pytest

from neuroseg.errors import ConfigError
from neuroseg.train import Experiment, TrainConfig, load_experiment
from neuroseg.train.config import DataConfig
from neuroseg.train.toml import apply_overrides


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


@pytest.mark.parametrize(
    ("data", "key", "wanted"),
    [
        ({"image_size": "128"}, "data.image_size", "'128' (a string)"),
        ({"image_size": 0}, "data.image_size", "an integer >= 1"),
        ({"image_size": [64]}, "data.image_size", "[height, width]"),
        ({"image_size": True}, "data.image_size", "True"),
        ({"batch_size": 0}, "data.batch_size", "an integer >= 1, got 0"),
        ({"batch_size": 2.5}, "data.batch_size", "2.5"),
        ({"channels": 0}, "data.channels", ">= 1"),
        ({"limit": -1}, "data.limit", ">= 0"),
        ({"limit": "all"}, "data.limit", "'all'"),
        ({"cache": "yes"}, "data.cache", "true or false"),
        ({"crop": "skull"}, "data.crop", "'none', 'brain'"),
        ({"task": "detection"}, "data.task", "'segmentation'"),
        ({"ungrouped": "yes"}, "data.ungrouped", "'near-copies'"),
        ({"val_groups": "fold-4"}, "data.val_groups", '["fold-4"]'),
        ({"val_groups": [""]}, "data.val_groups", "[] for none"),
        ({"val_groups": ["fold-4", 4]}, "data.val_groups", "a list of group names"),
        ({"val_fraction": 1.0}, "data.val_fraction", "[0, 1)"),
        ({"val_fraction": "0.2"}, "data.val_fraction", "a string"),
        ({"val_groups": ["a"], "val_fraction": 0.2}, "data.val_groups", "give one"),
        ({"options": "no_tumor_root=x"}, "data.options", "a table"),
        ({"path": ""}, "data.path", "non-empty"),
    ],
)
def test_bad_data_values_name_the_key_and_the_file(write_toml, data, key, wanted):
    base = {"format": "figshare", "path": "x"}
    with pytest.raises(ConfigError, match=key) as info:
        DataConfig.from_dict({**base, **data})
    assert wanted in str(info.value)
    # read from a file: the message starts with the file's name
    lines = "\n".join(f"{k} = {_toml_value(v)}" for k, v in {**base, **data}.items())
    path = write_toml(f"[data]\n{lines}\n[model]\nname = 'resunet-small'\n")
    with pytest.raises(ConfigError, match=key) as info:
        load_experiment(path)
    assert str(info.value).startswith(f"{path}: ")


def _toml_value(v):
    from neuroseg.train.toml import dumps

    return dumps({"v": v}).strip().partition("= ")[2]


def test_data_config_parses_once_and_round_trips():
    cfg = DataConfig(format="lgg", path="p", image_size=[64, 48], val_fraction=0.25)
    assert cfg.image_size == (64, 48) and cfg.val_fraction == 0.25 and cfg.has_validation
    assert cfg.to_dict() == {
        "format": "lgg", "path": "p", "image_size": [64, 48], "val_fraction": 0.25
    }  # fmt: skip
    assert DataConfig.from_dict(cfg.to_dict()) == cfg
    assert DataConfig(format="lgg", path="p", val_fraction=0).has_validation is False
    assert DataConfig(format="lgg", path="p", crop="brain").crop_mode == "brain"
    with pytest.raises(ConfigError, match=r"\[data\] needs 'format'"):
        DataConfig.from_dict({"path": "p"})


def test_unknown_data_key_lists_the_valid_keys(write_toml, good_toml):
    path = write_toml(good_toml.replace("batch_size = 4", "batchsize = 4"))
    with pytest.raises(ConfigError, match=r"unknown \[data\] key\(s\) \['batchsize'\]") as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "'batch_size'" in message and "'val_groups'" in message


@pytest.mark.parametrize(
    ("train", "key"),
    [
        ({"epochs": "10"}, "train.epochs"),
        ({"epochs": 2.0}, "train.epochs"),
        ({"learning_rate": "fast"}, "train.learning_rate"),
        ({"learning_rate": 0}, "train.learning_rate"),
        ({"seed": -1}, "train.seed"),
        ({"seed": 1.5}, "train.seed"),
        ({"deterministic": 1}, "train.deterministic"),
        ({"mixed_precision": "no"}, "train.mixed_precision"),
        ({"weight_decay": -0.1}, "train.weight_decay"),
        ({"clipnorm": 0}, "train.clipnorm"),
        ({"plateau_patience": -1}, "train.plateau_patience"),
        ({"plateau_factor": 1}, "train.plateau_factor"),
        ({"early_stopping_patience": "5"}, "train.early_stopping_patience"),
        ({"jit_compile": 1}, "train.jit_compile"),
        ({"class_weight": {"0": "heavy"}}, "train.class_weight"),
        ({"monitor": 3}, "train.monitor"),
    ],
)
def test_bad_train_values_name_the_key(train, key):
    with pytest.raises(ConfigError, match=key):
        TrainConfig.from_dict(train)
    base = {"data": {"format": "figshare", "path": "p"}, "model": {"name": "resunet-small"}}
    with pytest.raises(ConfigError, match=f"^exp.toml: {key}"):
        Experiment.from_dict({**base, "train": train}, source="exp.toml")


def test_train_numbers_are_normalised():
    cfg = TrainConfig(learning_rate=1, clipnorm=2)
    assert isinstance(cfg.learning_rate, float) and isinstance(cfg.clipnorm, float)
    assert TrainConfig(jit_compile=True).jit_compile is True


@pytest.mark.parametrize("groups", [[], None])
def test_empty_val_groups_means_no_validation_split(groups):
    # `--set data.val_groups=[]` turns a config's validation fold off, to train a
    # final model on every group
    data = DataConfig.from_dict({"format": "figshare", "path": "x", "val_groups": groups})
    assert data.has_validation is False
    out = apply_overrides({"data": {"val_groups": ["fold-4"]}}, ["data.val_groups=[]"])
    assert DataConfig.from_dict({"format": "f", "path": "x", **out["data"]}).has_validation is False
