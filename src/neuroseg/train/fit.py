"""The fit helper: reproducible, resumable, distributable training with a run directory."""

from __future__ import annotations

import json
import logging
import math
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import keras
import numpy as np

from neuroseg.errors import ConfigError, DataError, RunDirError
from neuroseg.metrics import Dice, DiceBCELoss, DiceLoss, IoU, Precision, Recall
from neuroseg.train._multi_worker import MultiWorkerLoop, is_multi_worker
from neuroseg.train.averaged_weights import KeepTrainedWeights
from neuroseg.train.config import TrainConfig
from neuroseg.train.rundir import (
    CHECKPOINTS,
    STATE_FILE,
    Checkpoint,
    atomic_write,
    commit_checkpoint,
    environment,
    load_checkpoint,
    publish,
    remove_strays,
)
from neuroseg.train.seed import set_seed

__all__ = ["FitResult", "fit", "infer_task", "make_loss", "make_optimizer"]

_log = logging.getLogger("neuroseg.train")
_MAXIMISED = ("dice", "iou", "precision", "recall", "accuracy", "auc", "f1")


@dataclass
class FitResult:
    """What :func:`fit` returns.

    Attributes:
        history: Metric name -> one value per epoch (all epochs, resumed ones included).
        best_epoch: The epoch (0-based) of the best monitored value.
        best_value: The best monitored value.
        monitor: The monitored metric.
        stopped_early: Whether early stopping ended the run.
        run_dir: The run directory, if one was written.
    """

    history: dict[str, list[float]] = field(default_factory=dict)
    best_epoch: int = -1
    best_value: float = float("nan")
    monitor: str = ""
    stopped_early: bool = False
    run_dir: Path | None = None

    def to_pandas(self) -> Any:
        """The history as a ``pandas.DataFrame``, one row per epoch (``pandas`` extra).

        Columns: ``epoch`` (0-based, as :attr:`best_epoch`), then one per metric of
        :attr:`history` (e.g. ``loss``, ``dice``, ``val_loss``, ``val_dice``), as the
        run's ``history.csv`` holds them.

        Raises:
            MissingDependencyError: pandas is not installed.

        Example:
            >>> r = FitResult(history={"loss": [0.9, 0.5], "val_dice": [0.4, 0.7]})
            >>> df = r.to_pandas()
            >>> tuple(df.columns), float(df["val_dice"].iloc[-1])
            (('epoch', 'loss', 'val_dice'), 0.7)
        """
        from neuroseg._optional import require

        pd = require("pandas", extra="pandas", purpose="FitResult.to_pandas")
        n = max((len(v) for v in self.history.values()), default=0)
        columns: dict[str, list[Any]] = {"epoch": list(range(n))}
        for key, values in self.history.items():
            columns[key] = [*values, *[float("nan")] * (n - len(values))]
        return pd.DataFrame(columns)


def make_loss(name: str) -> keras.losses.Loss:
    """Return the loss called ``name``: ``dice_bce``, ``dice``, ``bce`` or ``crossentropy``."""
    if name == "dice_bce":
        return DiceBCELoss()
    if name == "dice":
        return DiceLoss()
    if name == "bce":
        return keras.losses.BinaryCrossentropy()
    if name == "crossentropy":
        return keras.losses.SparseCategoricalCrossentropy()
    raise ConfigError(f"Unknown loss {name!r}; choose dice_bce, dice, bce or crossentropy.")


def make_optimizer(
    name: str,
    learning_rate: Any,
    *,
    weight_decay: float = 1e-4,
    clipnorm: float | None = None,
    ema_momentum: float | None = None,
) -> keras.optimizers.Optimizer:
    """Return the optimiser called ``name`` (``adam``, ``adamw`` or ``sgd``).

    ``learning_rate`` is a float or a Keras learning-rate schedule. ``ema_momentum``
    turns on Keras' moving average of the weights (``use_ema=True``) with that momentum.
    """
    ema: dict[str, Any] = {}
    if ema_momentum is not None:
        ema = {"use_ema": True, "ema_momentum": float(ema_momentum)}
    if name == "adam":
        return keras.optimizers.Adam(learning_rate, clipnorm=clipnorm, **ema)
    if name == "adamw":
        return keras.optimizers.AdamW(
            learning_rate, weight_decay=weight_decay, clipnorm=clipnorm, **ema
        )
    if name == "sgd":
        return keras.optimizers.SGD(learning_rate, momentum=0.9, clipnorm=clipnorm, **ema)
    raise ConfigError(f"Unknown optimizer {name!r}; choose adam, adamw or sgd.")


def infer_task(element_spec: Any) -> str:
    """Infer the task from a dataset's ``(x, y)`` element spec.

    ``y`` a dict -> ``"multitask"``; ``y`` of rank >= 3 (masks) -> ``"segmentation"``;
    otherwise ``"classification"``.
    """
    if not isinstance(element_spec, tuple) or len(element_spec) < 2:
        raise ConfigError("Training data must yield (inputs, targets) pairs.")
    y = element_spec[1]
    if isinstance(y, dict):
        return "multitask"
    return "segmentation" if len(y.shape) >= 3 else "classification"


def _compile_for(model: keras.Model, config: TrainConfig, task: str, steps: int) -> None:
    lr: Any = config.learning_rate
    if config.schedule == "cosine":
        warm = steps * config.warmup_epochs
        lr = keras.optimizers.schedules.CosineDecay(
            0.0 if warm else config.learning_rate,
            decay_steps=max(steps * (config.epochs - config.warmup_epochs), 1),
            warmup_target=config.learning_rate if warm else None,
            warmup_steps=warm,
        )
    optimizer = make_optimizer(
        config.optimizer,
        lr,
        weight_decay=config.weight_decay,
        clipnorm=config.clipnorm,
        ema_momentum=config.ema_momentum,
    )
    seg_metrics = [Dice(), IoU(), Precision(), Recall()]
    if task == "segmentation":
        loss: Any = make_loss("dice_bce" if config.loss == "auto" else config.loss)
        metrics: Any = seg_metrics
    elif task == "classification":
        loss = make_loss("crossentropy" if config.loss == "auto" else config.loss)
        metrics = ["accuracy"]
    else:
        loss = {
            "mask": make_loss("dice_bce" if config.loss == "auto" else config.loss),
            "label": make_loss("crossentropy"),
        }
        metrics = {"mask": seg_metrics, "label": ["accuracy"]}
    model.compile(optimizer=optimizer, loss=loss, metrics=metrics, jit_compile=config.jit_compile)


class _RunProgbar(keras.callbacks.ProgbarLogger):
    """Keras' progress bar, showing the run's total epochs instead of this call's."""

    def __init__(self, total_epochs: int) -> None:
        super().__init__()
        self.total_epochs = total_epochs

    def set_params(self, params: dict[str, Any]) -> None:
        super().set_params({**params, "epochs": self.total_epochs})


def _reseed_random_layers(model: keras.Model, seed: int) -> None:
    """Set every random layer's seed state (dropout, noise) from ``seed``.

    Keras keeps these states in ``seed_generator_state`` variables that ``.keras`` files
    do not restore; reseeding them at each epoch start makes dropout masks a function of
    the seed and the epoch, so a resumed run draws the same masks as an uninterrupted one.
    """
    states = [v for v in model.variables if v.path.endswith("seed_generator_state")]
    for i, v in enumerate(states):
        value = (int(seed) * 1_000_003 + i * 7_919) % (2**31 - 1)
        v.assign(keras.ops.convert_to_tensor([value, 0], dtype=v.dtype))


def _write_scalars(writer: Any, row: dict[str, Any], step: int) -> None:
    """Write TensorBoard scalars with TensorFlow's own summary op.

    ``tf.summary.scalar`` needs the tensorboard package; the raw ``tf.summary.write`` op
    with the "scalars" plugin metadata writes the same records without it.
    """
    import tensorflow as tf
    from tensorflow.core.framework import summary_pb2

    metadata = summary_pb2.SummaryMetadata(
        plugin_data=summary_pb2.SummaryMetadata.PluginData(plugin_name="scalars")
    )
    with writer.as_default():
        for k, v in row.items():
            if k != "epoch":
                tf.summary.write(k, tf.constant(float(v), tf.float32), step=step, metadata=metadata)


@contextmanager
def _data_errors() -> Iterator[None]:
    """Turn TensorFlow's errors from reading the data into a :class:`DataError`.

    In-graph decoding reports a corrupt or truncated image, or a mask that fails the
    pipeline's check (its message names the mask and image files), as a TensorFlow
    ``InvalidArgumentError`` or ``DataLossError`` from deep inside ``model.fit``. Finished
    epochs are already checkpointed when it happens.
    """
    import tensorflow as tf

    try:
        yield
    except (tf.errors.InvalidArgumentError, tf.errors.DataLossError) as exc:
        message = str(exc.message if hasattr(exc, "message") else exc).strip()
        if "decode" not in message.lower() and "mask" not in message.lower():
            raise
        lines = [line.strip() for line in message.splitlines() if line.strip()]
        detail = next((line for line in lines if "assertion failed" in line), None) or next(
            (line for line in lines if "decode" in line.lower() or "mask" in line.lower()),
            lines[-1] if lines else "",
        )
        raise DataError(
            f"Reading the training data failed: {detail[:800]}. Run "
            "`neuroseg data check --format FORMAT PATH` to list every unreadable image and "
            "every mask that is not binary or not its image's size, then fix or remove those "
            "files (finished epochs are checkpointed; continue with resume=True)."
        ) from exc


def _is_chief(strategy: Any) -> bool:
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None or not getattr(resolver, "task_type", None):
        return True
    return bool(
        resolver.task_type == "chief" or (resolver.task_type == "worker" and resolver.task_id == 0)
    )


def _better(value: float, best: float, mode: str) -> bool:
    if not math.isfinite(value):
        return False
    if not math.isfinite(best):
        return True
    return value > best if mode == "max" else value < best


def _class_weights(config: TrainConfig, first_epoch: Any) -> dict[int, float] | None:
    if config.class_weight is None:
        return None
    if isinstance(config.class_weight, dict):
        return dict(config.class_weight)
    labels = np.concatenate([np.asarray(y).ravel() for _, y in first_epoch.as_numpy_iterator()])
    classes, counts = np.unique(labels, return_counts=True)
    return {int(c): float(len(labels) / (len(classes) * n)) for c, n in zip(classes, counts)}


def _without_autotune_thread(ds: Any) -> Any:
    """``ds`` with tf.data's autotuning (and its background thread) off, unless set.

    ``fit`` runs one ``model.fit`` per epoch, so every epoch creates and destroys a
    training and a validation iterator. With autotuning on, destroying an iterator waits
    for its optimisation thread to wake from a sleep that grows with the iterator's age:
    measured here, up to 18 s after a 23 s epoch (LGG, 256x256), about 40 % on top of the
    training time. ``num_parallel_calls=AUTOTUNE`` then stays at its starting value,
    min(16, CPU cores). A dataset whose ``options().autotune.enabled`` is set is left as
    it is.
    """
    import tensorflow as tf

    if not isinstance(ds, tf.data.Dataset) or ds.options().autotune.enabled is not None:
        return ds
    options = tf.data.Options()
    options.autotune.enabled = False
    return ds.with_options(options)


def fit(
    model: keras.Model,
    train: Any,
    val: Any = None,
    *,
    config: TrainConfig | None = None,
    out: str | os.PathLike[str] | None = None,
    resume: bool = False,
    strategy: Any = None,
    callbacks: list[keras.callbacks.Callback] | None = None,
    verbose: int | str = "auto",
) -> FitResult:
    """Train a model, checkpointing every epoch so that a killed run can resume.

    Each epoch runs one ``model.fit`` call. ``train`` may be a ``tf.data.Dataset`` or a
    function ``epoch -> tf.data.Dataset`` (e.g. :func:`neuroseg.train.epoch_pipeline`).
    tf.data autotuning is switched off for ``train`` and ``val`` unless their options set
    it: each epoch's iterators would otherwise wait for the autotuning thread when they
    are destroyed (up to 18 s per epoch measured here); parallel maps keep
    min(16, CPU cores) calls.
    A function of the epoch makes shuffling and augmentation depend only on the seed and
    the epoch, so a resumed run sees exactly the data an uninterrupted one would: with
    ``TrainConfig(deterministic=True)`` its final weights are identical.

    With ``out``, the run directory holds ``config.json``, ``environment.json``,
    ``history.csv`` (one row per finished epoch), ``best.keras`` and ``last.keras`` (with
    optimizer state), ``state.json`` (for resuming), ``metrics.json`` (the last finished
    epoch's values and the best epoch), ``curves.png`` and TensorBoard logs in
    ``tensorboard/``. At the end of each epoch the checkpoint set (``last.keras``,
    ``best.keras``, ``history.csv``, ``metrics.json``, ``state.json``) is committed as one
    unit in ``checkpoints/`` (see :func:`neuroseg.train.rundir.commit_checkpoint`) and then
    copied to the top level, so a kill at any moment leaves the last committed epoch whole:
    a resume never trains a finished epoch again, never skips one, and ``best.keras``
    always matches ``metrics.json``.

    Weights are drawn when a model is built, so call :func:`set_seed` before building it
    for a reproducible run.

    Args:
        model: The Keras model (built under ``strategy.scope()`` when distributing).
        train: Training data yielding ``(inputs, targets)`` batches, or an epoch function.
        val: Optional validation ``tf.data.Dataset``.
        config: Training options; defaults to :class:`TrainConfig()`.
        out: Run directory. Required for ``resume``.
        resume: Continue the run in ``out`` from its last committed epoch (a fresh start
            if ``out`` holds no checkpoint yet). Stray temporary files are removed and the
            top-level files re-made from the committed set. If every epoch is done (or
            early stopping ended the run) nothing is trained and a warning "nothing to
            do" is logged on the ``neuroseg.train`` logger. Without ``resume``, an earlier
            run's checkpoints in ``out`` are removed.
        strategy: A ``tf.distribute`` strategy. Only the chief writes the run directory.
        callbacks: Extra Keras callbacks, passed to every epoch's ``model.fit``.
        verbose: Keras verbosity (``"auto"``, 0, 1 or 2).

    Returns:
        A :class:`FitResult`.

    Raises:
        ConfigError: Invalid options, e.g. ``resume`` without ``out``.
        RunDirError: ``resume`` found a damaged run directory (a missing or corrupt
            manifest or state, a checksum mismatch, inconsistent history), or one with
            more finished epochs than ``config.epochs``; the message names the file.
    """
    config = config or TrainConfig()
    if resume and out is None:
        raise ConfigError("resume=True needs out= (the run directory to resume).")
    given: Callable[[int], Any] = train if callable(train) else (lambda epoch: train)

    def make_train(epoch: int) -> Any:
        return _without_autotune_thread(given(epoch))

    first = make_train(0)
    val = _without_autotune_thread(val)
    task = infer_task(first.element_spec) if config.task == "auto" else config.task
    steps = int(first.cardinality())
    if steps <= 0:
        raise ConfigError(
            "Training data must be a finite tf.data.Dataset of known length (one epoch); "
            f"got cardinality {steps}."
        )
    if config.mixed_precision and not str(model.dtype_policy.name).startswith("mixed"):
        raise ConfigError(
            "mixed_precision=True needs a model built with a mixed dtype policy, e.g. "
            "create_model(name, dtype='mixed_bfloat16') (or 'mixed_float16' on GPUs)."
        )
    monitor = config.monitor
    if monitor == "auto":
        monitor = "dice" if task == "segmentation" else "loss"
        if task == "multitask":
            monitor = "loss"
        if val is not None:
            monitor = f"val_{monitor}"
    mode = config.monitor_mode
    if mode == "auto":
        mode = "max" if monitor.removeprefix("val_").split("_")[-1] in _MAXIMISED else "min"

    chief = _is_chief(strategy)
    run: Path | None = Path(out) if out is not None else None
    scratch: Path | None = None
    if run is not None and not chief:  # other workers save to a throw-away folder
        scratch = Path(tempfile.mkdtemp(prefix="neuroseg-worker-"))
        run = scratch

    def scope() -> Any:
        return strategy.scope() if strategy is not None else nullcontext()

    state: dict[str, Any] = {"completed_epochs": 0, "history": [], "best_value": None,
                             "best_epoch": -1, "wait": 0, "plateau_wait": 0}  # fmt: skip
    # Seed once per fit call, fresh or resumed. Per-epoch randomness comes from explicit
    # seeds (the epoch pipeline's seed + epoch, and _reseed_random_layers), not from
    # re-seeding the backend each epoch: tf.random.set_seed clears TensorFlow's kernel
    # cache, which costs about a second per epoch on CPU.
    set_seed(config.seed, deterministic=config.deterministic)
    # Resuming reads only the committed checkpoint set (checked against its manifest).
    committed: Checkpoint | None = None
    if resume and out is not None:
        committed = load_checkpoint(Path(out), config.epochs)
    if committed is not None:
        state = dict(committed.state)
        from neuroseg.models.saving import load_model

        with scope():
            model = load_model(committed.folder / "last.keras")
        done = int(keras.ops.convert_to_numpy(model.optimizer.iterations))
        if "iterations" in state and done != state["iterations"]:
            raise RunDirError(
                f"{committed.folder / 'last.keras'}: its optimizer has taken {done} steps, "
                f"state.json records {state['iterations']}. Start afresh with a new run "
                "directory (--out)."
            )
    else:
        with scope():
            _compile_for(model, config, task, steps)

    ema = bool(getattr(model.optimizer, "use_ema", False))
    if ema and is_multi_worker(strategy):  # refused before the run directory is touched
        raise ConfigError(
            "ema_momentum is not supported under a multi-worker strategy (neuroseg's own "
            "loop does not swap in the averaged weights for validation). Set "
            "ema_momentum=None, or train on one worker."
        )

    if run is not None:
        run.mkdir(parents=True, exist_ok=True)
        if committed is None and run == Path(out):  # type: ignore[arg-type]
            # a fresh start: an earlier run's checkpoints must not be resumed later
            (run / CHECKPOINTS / "manifest.json").unlink(missing_ok=True)
            (run / STATE_FILE).unlink(missing_ok=True)
            shutil.rmtree(run / CHECKPOINTS, ignore_errors=True)
        remove_strays(run, committed)
        if committed is not None:
            publish(run, committed)  # re-make the top-level copies from the committed set
        atomic_write(run / "config.json", lambda p: config.to_json(p))
        env = environment(strategy)
        atomic_write(run / "environment.json", lambda p: p.write_text(json.dumps(env, indent=2)))
    writer = None
    if run is not None:
        import tensorflow as tf

        writer = tf.summary.create_file_writer(str(run / "tensorboard"))

    class_weight = _class_weights(config, first) if task == "classification" else None
    rows: list[dict[str, Any]] = list(state["history"])
    best = float("nan") if state["best_value"] is None else float(state["best_value"])
    stopped = bool(state.get("stopped_early", False))
    if config.schedule == "plateau" and "lr" in state:
        model.optimizer.learning_rate.assign(float(state["lr"]))
    start = int(state["completed_epochs"])
    if committed is not None and (start >= config.epochs or stopped):
        if start >= config.epochs:
            _log.warning("%s: nothing to do: all %d epochs done.", out, start)
        else:
            _log.warning("%s: nothing to do: early stopping ended the run after %d epochs.",
                         out, start)  # fmt: skip
    # Keras' model.fit cannot run under a multi-worker strategy (see _multi_worker.py);
    # there, each epoch runs the model's own train_step/test_step in neuroseg's loop.
    loop = MultiWorkerLoop(model, strategy, class_weight) if is_multi_worker(strategy) else None
    # Averaged weights: SwapEMAWeights makes the validation pass score the average, and
    # after each epoch's model.fit the model holds it (saved, returned); KeepTrainedWeights
    # keeps the trained weights in the optimizer's average slots between the calls (and
    # in the checkpoints) and swaps them back in, so training continues from them exactly
    # as without an average.
    ema_callbacks: list[keras.callbacks.Callback] = []
    if ema:
        ema_callbacks = [
            KeepTrainedWeights(),
            *([keras.callbacks.SwapEMAWeights()] if val is not None else []),
        ]
    loop_callbacks = None
    if loop is not None:
        loop_callbacks = keras.callbacks.CallbackList(
            list(callbacks or []), model=model, epochs=config.epochs, steps=steps, verbose=0
        )
        loop_callbacks.on_train_begin()
    for epoch in range(start, config.epochs):
        if stopped:
            break
        _reseed_random_layers(model, config.seed + epoch)
        data = first if epoch == 0 else make_train(epoch)
        with _data_errors(), scope():  # inside the scope, Keras finds the strategy
            if loop is not None:
                logs = loop.epoch(data, val, epoch=epoch, callbacks=loop_callbacks)
            else:
                h = model.fit(
                    data,
                    validation_data=val,
                    initial_epoch=epoch,
                    epochs=epoch + 1,
                    verbose=verbose,
                    shuffle=False,  # the pipeline shuffles itself (seeded)
                    class_weight=class_weight,
                    callbacks=[*ema_callbacks, *(callbacks or []), _RunProgbar(config.epochs)],
                )
                logs = {k: float(v[-1]) for k, v in h.history.items()}
        lr = float(keras.ops.convert_to_numpy(model.optimizer.learning_rate))
        row: dict[str, Any] = {"epoch": epoch, **logs, "lr": lr}
        rows.append(row)
        if monitor not in row:
            raise ConfigError(f"monitor {monitor!r} is not among the logged values {sorted(row)}.")
        value = float(row[monitor])
        improved = _better(value, best, mode)
        if improved:
            best, state["best_epoch"], state["wait"], state["plateau_wait"] = value, epoch, 0, 0
        else:
            state["wait"] += 1
            state["plateau_wait"] += 1
        if config.schedule == "plateau" and state["plateau_wait"] >= config.plateau_patience:
            model.optimizer.learning_rate.assign(lr * config.plateau_factor)
            state["plateau_wait"] = 0
        if (
            config.early_stopping_patience is not None
            and state["wait"] >= config.early_stopping_patience
        ):
            stopped = True
        state.update(
            completed_epochs=epoch + 1,
            history=rows,
            best_value=best if math.isfinite(best) else None,
            stopped_early=stopped,
            lr=float(keras.ops.convert_to_numpy(model.optimizer.learning_rate)),
            iterations=int(keras.ops.convert_to_numpy(model.optimizer.iterations)),
        )
        if run is not None:
            final = dict(rows[-1])
            final.update(best_epoch=state["best_epoch"], best_value=state["best_value"],
                         monitor=monitor, stopped_early=stopped)  # fmt: skip
            committed = commit_checkpoint(
                run,
                save_model=model.save,
                improved=improved,
                previous=committed,
                rows=rows,
                state=state,
                metrics=final,
            )
            publish(run, committed)
            if writer is not None:
                _write_scalars(writer, row, epoch)
                writer.flush()

    if loop_callbacks is not None:
        loop_callbacks.on_train_end()
    if scratch is not None:
        shutil.rmtree(scratch, ignore_errors=True)
    history: dict[str, list[float]] = {}
    for r in rows:
        for k, v in r.items():
            if k != "epoch":
                history.setdefault(k, []).append(float(v))
    return FitResult(
        history=history,
        best_epoch=int(state["best_epoch"]),
        best_value=best,
        monitor=monitor,
        stopped_early=stopped,
        run_dir=Path(out) if out is not None else None,
    )
