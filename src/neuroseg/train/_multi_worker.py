"""The training loop :func:`neuroseg.train.fit` uses under a multi-worker strategy.

Keras 3.15's TensorFlow trainer cannot run ``model.fit`` under a
``MultiWorkerMirroredStrategy`` that spans several workers: it reduces each scalar log with
``strategy.reduce("MEAN", value, axis=0)``, which fails on a scalar. This loop does what
``fit`` does for one epoch (the model's own ``train_step`` and ``test_step`` under
``strategy.run``, gradients all-reduced by the Keras optimiser) and reduces the logs over
the workers with ``axis=None``.

Each worker updates the batch-normalisation moving statistics from its own shard, so they
drift apart; after each epoch's training the loop replaces them on every worker with their
mean over the workers, so that validation, checkpoints and the final weights agree.
"""

from __future__ import annotations

from typing import Any

import keras


def is_multi_worker(strategy: Any) -> bool:
    """Whether ``strategy`` is a ``MultiWorkerMirroredStrategy`` over more than one task."""
    if strategy is None:
        return False
    import tensorflow as tf

    if not isinstance(strategy, tf.distribute.MultiWorkerMirroredStrategy):
        return False
    resolver = getattr(strategy, "cluster_resolver", None)
    if resolver is None:
        return False
    spec = resolver.cluster_spec().as_dict()
    return sum(len(tasks) for tasks in spec.values()) > 1


class MultiWorkerLoop:
    """One-epoch training and evaluation of a compiled Keras model across workers.

    Logs are the mean over replicas of each replica's running metric values, which is what
    Keras reports under ``MirroredStrategy``.

    Args:
        model: A model compiled under ``strategy.scope()``.
        strategy: The ``MultiWorkerMirroredStrategy``.
        class_weight: Optional ``{class: weight}``, applied as sample weights.
    """

    def __init__(
        self, model: keras.Model, strategy: Any, class_weight: dict[int, float] | None = None
    ) -> None:
        self.model = model
        self.strategy = strategy
        self.class_weight = class_weight
        self._train_fn: Any = None
        self._test_fn: Any = None
        self._sync_fn: Any = None

    def _weighted(self, data: Any) -> Any:
        if not self.class_weight:
            return data
        import tensorflow as tf

        size = max(int(k) for k in self.class_weight) + 1
        table = tf.constant([float(self.class_weight.get(i, 1.0)) for i in range(size)])

        def add_weights(x: Any, y: Any) -> Any:
            return x, y, tf.gather(table, tf.cast(tf.reshape(y, [-1]), tf.int32))

        return data.map(add_weights)

    def _step_fn(self, step: Any) -> Any:
        import tensorflow as tf

        strategy = self.strategy

        @tf.function
        def run(batch: Any) -> dict[str, Any]:
            logs = strategy.run(step, args=(batch,))
            return {k: strategy.reduce("MEAN", v, axis=None) for k, v in logs.items()}

        return run

    def _make_sync(self) -> Any:
        import tensorflow as tf

        strategy = self.strategy
        local = [
            v
            for v in self.model.non_trainable_variables
            if "float" in str(v.dtype) and not v.path.endswith("seed_generator_state")
        ]
        if not local:
            return lambda: None

        @tf.function
        def sync() -> None:
            def mean_over_replicas() -> Any:
                context = tf.distribute.get_replica_context()
                return context.all_reduce("MEAN", [tf.identity(v.value) for v in local])

            means = strategy.run(mean_over_replicas)
            for v, m in zip(local, means):
                v.assign(strategy.experimental_local_results(m)[0])

        return sync

    def _build(self, data: Any) -> None:
        # Metrics, losses and optimiser variables must exist before the first replica step
        # (variables cannot be created in a replica context). Keras builds them from one
        # symbolic batch before its own first step; do the same.
        with self.strategy.scope():
            self.model._symbolic_build(data_batch=next(iter(data)))

    def _run(self, data: Any, fn: Any, callbacks: Any, train: bool) -> dict[str, float]:
        self.model.reset_metrics()
        logs: dict[str, Any] = {}
        for step, batch in enumerate(self.strategy.experimental_distribute_dataset(data)):
            if train:
                callbacks.on_train_batch_begin(step)
            logs = fn(batch)
            if train:
                callbacks.on_train_batch_end(step, {k: float(v) for k, v in logs.items()})
        return {k: float(v) for k, v in logs.items()}

    def epoch(self, data: Any, val: Any, *, epoch: int, callbacks: Any) -> dict[str, float]:
        """Train one epoch on ``data``, then evaluate ``val``; return the epoch's logs."""
        data = self._weighted(data)
        if self._train_fn is None:
            self._build(data)
            self._train_fn = self._step_fn(self.model.train_step)
            self._test_fn = self._step_fn(self.model.test_step)
            self._sync_fn = self._make_sync()
        callbacks.on_epoch_begin(epoch)
        logs = self._run(data, self._train_fn, callbacks, train=True)
        self._sync_fn()
        if val is not None:
            val_logs = self._run(val, self._test_fn, callbacks, train=False)
            logs.update({f"val_{k}": v for k, v in val_logs.items()})
        callbacks.on_epoch_end(epoch, logs)
        return logs
