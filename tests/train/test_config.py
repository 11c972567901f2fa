import pytest

from neuroseg.errors import ConfigError
from neuroseg.train import Experiment, TrainConfig, load_experiment
from neuroseg.train.config import DataConfig
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
    with pytest.raises(ConfigError, match="invalid TOML"):
        loads("a = ")
    with pytest.raises(ConfigError, match=r"^run\.toml: invalid TOML"):
        loads("a = ", source="run.toml")


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
    with pytest.raises(ConfigError, match="ungrouped"):  # refused when the config is read
        Experiment.from_dict(
            {"data": {**data, "ungrouped": "yes"}, "model": {"name": "classifier-cnn"}}
        )


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


# --- typed, validated [data] and [train] sections ---------------------------------------

GOOD_TOML = """
[data]
format = "figshare"
path = "data/figshare"
image_size = 64
batch_size = 4
val_groups = ["fold-4"]

[model]
name = "resunet-small"

[train]
epochs = 2
"""


def _toml(tmp_path, text):
    path = tmp_path / "exp.toml"
    path.write_text(text)
    return path


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
def test_bad_data_values_name_the_key_and_the_file(tmp_path, data, key, wanted):
    base = {"format": "figshare", "path": "x"}
    with pytest.raises(ConfigError, match=key) as info:
        DataConfig.from_dict({**base, **data})
    assert wanted in str(info.value)
    # read from a file: the message starts with the file's name
    lines = "\n".join(f"{k} = {_toml_value(v)}" for k, v in {**base, **data}.items())
    path = _toml(tmp_path, f"[data]\n{lines}\n[model]\nname = 'resunet-small'\n")
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


def test_unknown_data_key_lists_the_valid_keys(tmp_path):
    path = _toml(tmp_path, GOOD_TOML.replace("batch_size = 4", "batchsize = 4"))
    with pytest.raises(ConfigError, match=r"unknown \[data\] key\(s\) \['batchsize'\]") as info:
        load_experiment(path)
    message = str(info.value)
    assert message.startswith(str(path)) and "'batch_size'" in message and "'val_groups'" in message


def test_set_overrides_are_checked_and_named(tmp_path):
    path = _toml(tmp_path, GOOD_TOML)
    exp = load_experiment(path, ["data.image_size=32", "data.batch_size=2"])
    assert exp.data_config.image_size == 32 and exp.pipeline_kwargs()["batch_size"] == 2
    for override, key in (
        ("data.image_size=abc", "data.image_size"),
        ("train.epochs=abc", "train.epochs"),
        ("data.batch_size=0", "data.batch_size"),
        ("train.learning_rate=-1", "train.learning_rate"),
    ):
        with pytest.raises(ConfigError, match=key) as info:
            load_experiment(path, [override])
        message = str(info.value)
        assert message.startswith(f"{path}: ") and f"--set {override}" in message
    with pytest.raises(ConfigError, match="'abc' \\(a string\\)"):
        load_experiment(path, ["train.epochs=abc"])


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


def test_bad_augment_and_cv_values():
    base = {"data": {"format": "figshare", "path": "p"}, "model": {"name": "resunet-small"}}
    for section, match in (
        ({"augment": {"flip": "yes"}}, "augment.flip"),
        ({"augment": {"gamma": 2}}, r"\[augment\] gamma"),
        ({"augment": {"zoom": 0.5}}, r"unknown \[augment\] key"),
        ({"cv": {"folds": 1}}, "cv.folds"),
        ({"cv": {"fold": 3}}, r"unknown \[cv\] key"),
        ({"model": {}}, r"\[model\] needs 'name'"),
        ({"train": "fast"}, r"\[train\] must be a table"),
    ):
        with pytest.raises(ConfigError, match=match):
            Experiment.from_dict({**base, **section})


def test_experiment_from_typed_configs():
    data = DataConfig(format="figshare", path="p", image_size=32, batch_size=2)
    exp = Experiment(data=data, model={"name": "resunet-small"}, train=TrainConfig(epochs=2))
    assert exp.data_config == data and exp.train_config() == TrainConfig(epochs=2)
    assert exp.pipeline_kwargs() == {
        "task": "segmentation", "image_size": 32, "channels": None, "batch_size": 2,
        "cache": False, "crop": None,
    }  # fmt: skip
    assert exp.folds() == 5 and exp.folds(3) == 3
    assert Experiment.from_dict(exp.to_dict()).data_config == data


def _pairs(root, patients=4, per_patient=3, size=16):
    """Synthetic images/ + masks/ pairs named p<k>_<n>.png (a square of tumour each)."""
    import cv2
    import numpy as np

    rng = np.random.default_rng(0)
    (root / "images").mkdir(parents=True)
    (root / "masks").mkdir()
    for p in range(patients):
        for n in range(per_patient):
            image = rng.integers(0, 255, (size, size), "uint8")
            mask = np.zeros((size, size), np.uint8)
            mask[4:8, 4 + n : 8 + n] = 255
            cv2.imwrite(str(root / "images" / f"p{p}_{n}.png"), image)
            cv2.imwrite(str(root / "masks" / f"p{p}_{n}.png"), mask)
    return root


def test_split_validation_channels_and_leakage(tmp_path):
    from neuroseg.data import Record, SliceDataset
    from neuroseg.errors import DataError
    from neuroseg.train.experiment import check_split, input_channels, split_kind, split_validation

    root = _pairs(tmp_path / "d")
    data = DataConfig(
        format="pairs", path=str(root), options={"patient_pattern": r"(p\d+)_"},
        val_groups=["p3"],
    )  # fmt: skip
    exp = Experiment(data=data, model={"name": "resunet-small"})
    logged = []
    train, val = split_validation(exp, exp.load_data(), log=logged.append)
    assert len(train) == 9 and val is not None and val.patients == ["p3"] and not logged
    assert split_kind(val) == "patient-wise" and input_channels(exp, train) == 1
    exp3 = Experiment(data=DataConfig(format="pairs", path=str(root), channels=3), model=exp.model)
    assert input_channels(exp3, train) == 3
    no_val = Experiment(data=DataConfig(format="pairs", path=str(root)), model=exp.model)
    assert split_validation(no_val, train)[1] is None
    same = train[:1]
    with pytest.raises(DataError, match="Leakage"):
        check_split(same, SliceDataset([Record(same[0].image, patient_id="other")]))


@pytest.mark.slow
def test_train_experiment_runs_like_the_command_line(tmp_path):
    from neuroseg.train.experiment import train_experiment

    root = _pairs(tmp_path / "d")
    exp = Experiment(
        data=DataConfig(
            format="pairs", path=str(root), options={"patient_pattern": r"(p\d+)_"},
            val_groups=["p3"], batch_size=4,
        ),
        model={"name": "resunet-small", "base_filters": 4},
        train=TrainConfig(epochs=1),
    )  # fmt: skip
    logged = []
    result = train_experiment(exp, tmp_path / "run", verbose=0, log=logged.append)
    assert result.best_epoch == 0
    assert logged == [
        f"neuroseg train: 9 training slices, 3 validation slices (patient-wise); "
        f"model resunet-small; 1 epochs -> {tmp_path / 'run'}"
    ]
    assert (tmp_path / "run" / "experiment.toml").is_file()
    assert (tmp_path / "run" / "best.keras").is_file()
    assert load_experiment(tmp_path / "run" / "experiment.toml").data_config == exp.data_config


@pytest.mark.parametrize("groups", [[], None])
def test_empty_val_groups_means_no_validation_split(groups):
    # `--set data.val_groups=[]` turns a config's validation fold off, to train a
    # final model on every group
    data = DataConfig.from_dict({"format": "figshare", "path": "x", "val_groups": groups})
    assert data.has_validation is False
    out = apply_overrides({"data": {"val_groups": ["fold-4"]}}, ["data.val_groups=[]"])
    assert DataConfig.from_dict({"format": "f", "path": "x", **out["data"]}).has_validation is False
