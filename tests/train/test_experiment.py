import pytest

from neuroseg.errors import ConfigError
from neuroseg.train import Experiment, TrainConfig, load_experiment
from neuroseg.train.config import DataConfig


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


def test_set_overrides_are_checked_and_named(write_toml, good_toml):
    path = write_toml(good_toml)
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


# --- the run-level helpers of neuroseg.train.experiment ------------------------------------

BASE = {"data": {"format": "figshare", "path": "p"}, "model": {"name": "resunet-small"}}


def test_prepare_run_dir_saves_the_config_and_logs_its_notes(tmp_path):
    from neuroseg.train.experiment import prepare_run_dir

    train = {"epochs": 3, "schedule": "cosine", "warmup_epochs": 5}
    exp = Experiment.from_dict({**BASE, "augment": {"flip": True}, "train": train})
    logged = []
    run = prepare_run_dir(exp, tmp_path / "runs" / "a", log=logged.append)
    assert run == tmp_path / "runs" / "a" and (run / "experiment.toml").is_file()
    assert logged == [
        "note: [train] warmup_epochs = 5 lowered to 2: the warm-up must end before the last "
        "of the 3 epoch(s)."
    ]
    again = load_experiment(run / "experiment.toml")
    assert again.to_dict() == exp.to_dict() and again.train["warmup_epochs"] == 5  # as given
    assert prepare_run_dir(again, run, log=logged.append) == run  # an existing folder is fine


def test_make_strategy_by_name():
    from neuroseg.train.experiment import make_strategy

    logged = []
    assert make_strategy(None, log=logged.append) is None
    assert make_strategy("none", log=logged.append) is None and logged == []
    with pytest.raises(ConfigError, match="Unknown strategy 'tpu'; choose 'none' or 'mirrored'"):
        make_strategy("tpu")
    strategy = make_strategy("mirrored", log=logged.append)
    n = strategy.num_replicas_in_sync
    assert n >= 1 and logged == [f"MirroredStrategy over {n} device(s)"]


def test_split_kind_says_how_the_groups_were_made():
    import numpy as np

    from neuroseg.data import Record, SliceDataset
    from neuroseg.train.experiment import split_kind

    def val(*assumed):
        return SliceDataset(
            [Record(np.zeros((2, 2, 1)), meta={"patient_id_assumed": a}) for a in assumed]
        )

    assert split_kind(val(False, False)) == "patient-wise"
    assert split_kind(val(True, True)) == "grouped by near-copies, not by patient"
    assert split_kind(val(True, False)) == "patient-wise where IDs are known, else by near-copies"


def test_task_comes_from_data_then_train():
    assert Experiment.from_dict(BASE).task() == "segmentation"
    train = {"task": "multitask"}
    assert Experiment.from_dict({**BASE, "train": train}).task() == "multitask"
    data = {**BASE["data"], "task": "classification"}
    assert Experiment.from_dict({**BASE, "data": data, "train": train}).task() == "classification"


def test_augment_section_becomes_transforms():
    from neuroseg.data import RandomFlip, RandomGamma, RandomRotate90

    assert Experiment.from_dict(BASE).augmentation() is None
    assert (
        Experiment.from_dict({**BASE, "augment": {"flip": False, "gamma": 0}}).augmentation()
        is None
    )
    augment = {"vflip": True, "rot90": True, "gamma": 0.3, "affine": 0.0}
    steps = Experiment.from_dict({**BASE, "augment": augment}).augmentation().transforms
    assert [type(t) for t in steps] == [RandomFlip, RandomRotate90, RandomGamma]
    assert (steps[0].horizontal, steps[0].vertical) == (False, True) and steps[2].p == 0.3


def test_model_pipeline_and_model_follow_the_data_section():
    data = {**BASE["data"], "image_size": [32, 48], "batch_size": 2, "crop": "brain"}
    exp = Experiment.from_dict({**BASE, "data": data, "model": {"name": "resunet-small",
                                                                "base_filters": 4}})  # fmt: skip
    pipe = exp.model_pipeline(3)
    assert set(pipe) == {"task", "batch_size", "cache", "preprocessor"} and pipe["batch_size"] == 2
    config = pipe["preprocessor"].get_config()
    assert (config["channels"], config["image_size"], config["crop"]) == (3, (32, 48), "brain")
    assert exp.build_model(1).input_shape == (None, 32, 48, 1)


def test_stratified_subset_quotas_by_hand():
    import numpy as np

    from neuroseg.data import Record, SliceDataset
    from neuroseg.train.experiment import stratified_subset

    labels = [0, 1] + [2] * 8
    ds = SliceDataset([Record(np.zeros((2, 2, 1)), label=k) for k in labels])
    # exact shares 0.2, 0.2, 1.6 of 2: the largest remainder goes to class 2
    assert [r.label for r in stratified_subset(ds, 2)] == [2, 2]
    # n = 3 >= 3 classes: each class gets one (shares 0.3, 0.3, 2.4 would give 0, 0, 3)
    assert sorted(r.label for r in stratified_subset(ds, 3, seed=5)) == [0, 1, 2]
    assert stratified_subset(ds, 10) is ds and stratified_subset(ds, 99) is ds
    with pytest.raises(ConfigError, match="a subset needs n >= 1, got 0"):
        stratified_subset(ds, 0)
    # no labels, no masks: one stratum, whole patients first
    plain = SliceDataset([Record(np.zeros((2, 2, 1)), patient_id=f"p{i // 3}") for i in range(9)])
    sub = stratified_subset(plain, 6, seed=1)
    assert len(sub) == 6
    assert sorted([r.patient_id for r in sub].count(p) for p in sub.patients) == [3, 3]
