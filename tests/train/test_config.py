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


def test_class_folders_split_by_near_copy_groups(tmp_path, shared_data):
    import shutil

    from neuroseg.data import train_test_split
    from neuroseg.errors import DataError

    kaggle = shared_data / "kaggle4-training"
    for cls in ("glioma", "meningioma", "notumor", "pituitary"):
        (tmp_path / "data" / cls).mkdir(parents=True)
        for f in sorted((kaggle / cls).iterdir())[:6]:
            shutil.copy(f, tmp_path / "data" / cls / f.name)
    # two more copies of one meningioma image: a group of three
    src = sorted((kaggle / "meningioma").iterdir())[0]
    for k in range(2):
        shutil.copy(src, tmp_path / "data" / "meningioma" / f"copy{k}.jpg")
    data = {"format": "class-folders", "path": str(tmp_path / "data"), "val_fraction": 0.25}
    exp = Experiment.from_dict({"data": data, "model": {"name": "classifier-cnn"}})
    with pytest.raises(DataError, match="ungrouped = 'near-copies'"):
        train_test_split(exp.load_data(), test_size=0.25)
    exp = Experiment.from_dict(
        {"data": {**data, "ungrouped": "near-copies"}, "model": {"name": "classifier-cnn"}}
    )
    with pytest.warns(UserWarning, match="over-estimate"):
        ds = exp.load_data()
    copies = [r for r in ds if r.source and (r.source.endswith(src.name) or "copy" in r.source)]
    assert len(copies) == 3 and len({r.patient_id for r in copies}) == 1
    train, val = train_test_split(ds, test_size=0.25, seed=0)
    assert not set(train.patients) & set(val.patients)
    bad = Experiment.from_dict(
        {"data": {**data, "ungrouped": "yes"}, "model": {"name": "classifier-cnn"}}
    )
    with pytest.raises(ConfigError, match="ungrouped"):
        bad.load_data()
