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


def _shipped_configs():
    from pathlib import Path

    return sorted((Path(__file__).resolve().parents[2] / "examples" / "configs").glob("*.toml"))


@pytest.mark.parametrize("path", _shipped_configs(), ids=lambda p: p.stem)
def test_every_shipped_config_runs_one_epoch(path):
    exp = load_experiment(path, ["train.epochs=1"])
    config = exp.train_config()
    assert isinstance(config, TrainConfig) and config.epochs == 1 and config.warmup_epochs == 0
    given = int(exp.train.get("warmup_epochs", 0))
    assert bool(exp.notes()) == (given > 0)  # a lowered warm-up is reported, nothing else
    for note in exp.notes():
        assert f"warmup_epochs = {given} lowered to 0" in note


def test_warmup_is_lowered_only_when_it_does_not_fit():
    base = {"data": {"format": "figshare", "path": "p"}, "model": {"name": "resunet-small"}}
    train = {"epochs": 3, "schedule": "cosine", "warmup_epochs": 5}
    exp = Experiment.from_dict({**base, "train": train})
    assert exp.train_config().warmup_epochs == 2 and "lowered to 2" in exp.notes()[0]
    exp = Experiment.from_dict({**base, "train": {**train, "warmup_epochs": 2}})
    assert exp.train_config().warmup_epochs == 2 and exp.notes() == []
    with pytest.raises(ConfigError, match="warmup"):  # the dataclass itself stays strict
        TrainConfig(epochs=3, schedule="cosine", warmup_epochs=3)
    with pytest.raises(ConfigError, match="cosine"):  # other warm-up errors stay errors
        Experiment.from_dict({**base, "train": {"epochs": 5, "warmup_epochs": 2}})


def _class_folders(root, per_class):
    """Synthetic grey PNGs in the four class folders, each image different."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    for cls, n in per_class.items():
        (root / cls).mkdir(parents=True)
        for i in range(n):
            cv2.imwrite(str(root / cls / f"{cls}{i}.png"), rng.integers(0, 255, (16, 16), "uint8"))
    return root


def test_limit_is_stratified_and_seeded(tmp_path):
    from collections import Counter

    per_class = {"glioma": 12, "meningioma": 6, "notumor": 6, "pituitary": 6}
    root = _class_folders(tmp_path / "data", per_class)
    base = {
        "data": {"format": "class-folders", "path": str(root), "limit": 8},
        "model": {"name": "classifier-cnn"},
    }

    def subset(seed, limit=8):
        data = {**base["data"], "limit": limit}
        return Experiment.from_dict({**base, "data": data, "train": {"seed": seed}}).load_data()

    first = subset(0)
    assert len(first) == 8
    # proportional: glioma has 2/5 of the images, every class at least one
    assert sorted(Counter(r.label for r in first).values()) == [1, 2, 2, 3]
    assert [r.source for r in subset(0)] == [r.source for r in first]  # the same seed
    seeds = {tuple(r.source for r in subset(s)) for s in range(1, 6)}
    assert len(seeds) > 1  # other seeds, other subsets
    even = tmp_path / "even"
    root2 = _class_folders(even, dict.fromkeys(per_class, 5))
    data = {**base["data"], "path": str(root2)}
    ds = Experiment.from_dict({**base, "data": data}).load_data()
    assert Counter(r.label for r in ds) == {0: 2, 1: 2, 2: 2, 3: 2}  # 8 over 4 classes
    assert len(subset(0, limit=100)) == 30  # a limit above the size keeps everything
    with pytest.raises(ConfigError, match="limit"):
        subset(0, limit=-1)


def test_stratified_subset_keeps_patients_together():
    import numpy as np

    from neuroseg.data import Record, SliceDataset
    from neuroseg.train.experiment import stratified_subset

    records = []
    for p in range(5):
        for s in range(6):
            mask = np.zeros((8, 8), np.uint8)
            mask[2:4, 2:4] = 1 if s < 2 else 0  # 2 tumour slices, 4 empty per patient
            records.append(Record(np.zeros((8, 8, 1), np.uint8), mask=mask, patient_id=f"p{p}"))
    ds = SliceDataset(records)
    sub = stratified_subset(ds, 12, seed=3)
    tumour = [bool(r.load_mask().any()) for r in sub]
    assert len(sub) == 12 and sum(tumour) == 4  # 1/3 of the slices hold tumour, as in ds
    counts = {p: sum(r.patient_id == p for r in sub) for p in sub.patients}
    assert sorted(counts.values()) == [6, 6]  # two whole patients, not twelve fragments
    assert [r.patient_id for r in stratified_subset(ds, 12, seed=3)] == [r.patient_id for r in sub]
