import csv
import json

import keras
import numpy as np
import pytest

from neuroseg.data import Record, SliceDataset, load_figshare, load_sample
from neuroseg.errors import ConfigError
from neuroseg.models import create_model, load_model
from neuroseg.train import (
    TrainConfig,
    average_pairs,
    epoch_pipeline,
    fit,
    infer_task,
    set_seed,
)


@pytest.mark.slow
def test_loss_goes_down_on_real_figshare_slices(figshare_root, tmp_path):
    ds = load_figshare(figshare_root, folds=[1])[:16]
    train = ds.to_tf_dataset(image_size=64, batch_size=4, shuffle=True, cache=True)
    model = create_model("resunet-small", input_shape=(64, 64, 1), base_filters=8)
    config = TrainConfig(epochs=6, learning_rate=3e-3)
    result = fit(model, train, train, config=config, out=tmp_path, verbose=0)
    loss = result.history["loss"]
    assert loss[-1] < loss[0]
    with (tmp_path / "history.csv").open() as fh:
        rows = list(csv.DictReader(fh))
    assert [int(r["epoch"]) for r in rows] == list(range(6))
    assert {"dice", "iou", "precision", "recall", "val_dice", "lr"} <= set(rows[0])
    for name in ("best.keras", "last.keras", "config.json", "environment.json", "metrics.json",
                 "state.json", "curves.png"):  # fmt: skip
        assert (tmp_path / name).is_file(), name
    assert list((tmp_path / "tensorboard").glob("events.out.tfevents.*"))
    final = json.loads((tmp_path / "metrics.json").read_text())
    assert final["loss"] == pytest.approx(loss[-1]) and final["monitor"] == "val_dice"
    assert json.loads((tmp_path / "environment.json").read_text())["tensorflow"]
    x = np.concatenate([b[0] for b in train])
    np.testing.assert_array_equal(
        load_model(tmp_path / "last.keras").predict(x, verbose=0), model.predict(x, verbose=0)
    )


def _tiny(seed=0):
    return epoch_pipeline(load_sample()[::4], image_size=32, batch_size=4, seed=seed)


@pytest.mark.slow
def test_same_seed_same_history(tmp_path):
    runs = []
    for k in range(2):
        set_seed(11)  # weights are drawn when the model is built: seed first
        model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
        cfg = TrainConfig(epochs=2, seed=11, deterministic=True)
        runs.append(fit(model, _tiny(), config=cfg, out=tmp_path / str(k), verbose=0).history)
    assert runs[0] == runs[1]


@pytest.mark.slow
def test_early_stopping_and_plateau(tmp_path):
    model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
    # the learning rate never rises, so with mode "max" it never improves after epoch 0
    cfg = TrainConfig(
        epochs=10, schedule="plateau", plateau_patience=1, early_stopping_patience=2,
        monitor="lr", monitor_mode="max", learning_rate=1e-3,
    )  # fmt: skip
    result = fit(model, _tiny(), config=cfg, out=tmp_path, verbose=0)
    assert result.stopped_early and len(result.history["loss"]) == 3
    # rows record the rate used in the epoch; plateau halves it at the end of epochs 1 and 2
    assert result.history["lr"] == pytest.approx([1e-3, 1e-3, 5e-4])
    assert result.best_epoch == 0


def test_ema_validates_and_saves_the_averaged_weights(tmp_path):
    set_seed(2)
    model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
    val = load_sample()[1::4][:8].to_tf_dataset(image_size=32, batch_size=8)
    cfg = TrainConfig(epochs=2, learning_rate=3e-3, ema_momentum=0.9, seed=2)
    result = fit(model, _tiny(), val, config=cfg, out=tmp_path, verbose=0)
    opt = model.optimizer
    assert opt.use_ema and opt.ema_momentum == pytest.approx(0.9)
    # the model holds the average, the optimizer's slots the trained weights: they differ
    pairs = average_pairs(model)
    assert pairs and any(not np.allclose(w, t) for w, t in pairs)
    # the logged validation Dice is that of the averaged weights, the ones saved
    saved = load_model(tmp_path / "last.keras")
    assert saved.optimizer.use_ema
    for a, b in zip(saved.trainable_weights, model.trainable_weights):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    got = saved.evaluate(val, verbose=0, return_dict=True)
    assert got["dice"] == pytest.approx(result.history["val_dice"][-1], abs=1e-5)


@pytest.mark.slow
def test_ema_leaves_the_training_path_unchanged(tmp_path):
    """The trained weights of a run with an average follow a run without one exactly.

    With 3 steps per epoch and momentum 0.9 the average lags by about 10 steps; a fit that
    restarted each epoch from it (Keras' finalize) would drift away from the plain run.
    """
    runs = {}
    for ema in (None, 0.9):
        set_seed(5)
        model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
        cfg = TrainConfig(epochs=3, learning_rate=3e-3, ema_momentum=ema, seed=5,
                          deterministic=True)  # fmt: skip
        fit(model, _tiny(), config=cfg, out=tmp_path / str(ema), verbose=0)
        runs[ema] = model
    plain, averaged = runs[None], runs[0.9]
    trained = {id(w): np.asarray(t) for w, t in average_pairs(averaged)}
    assert len(trained) == len(plain.trainable_weights)
    for w_plain, w_avg in zip(plain.trainable_weights, averaged.trainable_weights):
        np.testing.assert_allclose(trained[id(w_avg)], np.asarray(w_plain), rtol=1e-5, atol=1e-6)
    # the model itself holds the average, which is not the trained weights
    assert any(not np.allclose(np.asarray(w), trained[id(w)]) for w in averaged.trainable_weights)


def test_ema_momentum_is_checked():
    with pytest.raises(ConfigError, match="ema_momentum"):
        TrainConfig(ema_momentum=1.0)
    assert TrainConfig(ema_momentum=0.99).ema_momentum == 0.99


def test_classification_with_balanced_class_weights():
    ds = load_sample()[::3]
    train = ds.to_tf_dataset("classification", image_size=32, batch_size=8)
    assert infer_task(train.element_spec) == "classification"
    inp = keras.Input((32, 32, 1))
    x = keras.layers.GlobalAveragePooling2D()(keras.layers.Conv2D(4, 3)(inp))
    model = keras.Model(inp, keras.layers.Dense(4, activation="softmax")(x))
    result = fit(model, train, config=TrainConfig(epochs=2, class_weight="balanced"), verbose=0)
    assert result.monitor == "loss" and "accuracy" in result.history


def test_fit_errors(tmp_path):
    model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
    with pytest.raises(ConfigError, match="resume=True needs out"):
        fit(model, _tiny(), resume=True)
    with pytest.raises(ConfigError, match="mixed dtype policy"):
        fit(model, _tiny(), config=TrainConfig(mixed_precision=True))
    ds = SliceDataset([Record(np.zeros((32, 32, 1), np.uint8), mask=np.zeros((32, 32), np.uint8))])
    repeated = ds.to_tf_dataset(image_size=32).repeat()
    with pytest.raises(ConfigError, match="known length"):
        fit(model, repeated)


def test_bad_mask_found_while_training_names_the_file(tmp_path):
    """A mask that fails the in-graph check surfaces as a DataError naming the file."""
    import cv2

    from neuroseg.data import load_dataset
    from neuroseg.errors import DataError
    from neuroseg.models import create_model
    from neuroseg.train import TrainConfig, fit

    (tmp_path / "images").mkdir()
    (tmp_path / "masks").mkdir()
    rng = np.random.default_rng(0)
    for i in range(4):
        cv2.imwrite(
            str(tmp_path / "images" / f"s{i}.png"), rng.integers(0, 255, (32, 32), np.uint8)
        )
        mask = np.zeros((32, 32), np.uint8)
        mask[8:16, 8:16] = 255 if i != 2 else 128  # s2: not a binary mask
        cv2.imwrite(str(tmp_path / "masks" / f"s{i}.png"), mask)
    data = load_dataset("pairs", tmp_path)
    # the pipeline reads every file once when it is built, so the mask is refused there
    with pytest.raises(DataError, match=r"s2\.png: mask holds values \{128\}"):
        data.to_tf_dataset(image_size=32, batch_size=2)
    # without that check, the in-graph check stops fit with the same named error
    train = data.to_tf_dataset(image_size=32, batch_size=2, validate=False)
    model = create_model("resunet-small", input_shape=(32, 32, 1), base_filters=4)
    with pytest.raises(DataError, match=r"s2\.png.*neuroseg data check"):
        fit(model, train, config=TrainConfig(epochs=1), verbose=0)


def test_epoch_iterators_run_without_the_autotune_thread():
    # fit builds new iterators every epoch; tf.data's autotuning thread would make each
    # one's destruction wait (see _without_autotune_thread). A user's explicit choice stays.
    import tensorflow as tf

    from neuroseg.train.fit import _without_autotune_thread

    ds = tf.data.Dataset.range(4).map(lambda x: x * 2, num_parallel_calls=tf.data.AUTOTUNE)
    off = _without_autotune_thread(ds)
    assert off.options().autotune.enabled is False
    assert list(off.as_numpy_iterator()) == [0, 2, 4, 6]
    chosen = tf.data.Options()
    chosen.autotune.enabled = True
    mine = ds.with_options(chosen)
    assert _without_autotune_thread(mine).options().autotune.enabled is True
    assert _without_autotune_thread(None) is None
