"""Training: the fit helper, its configuration, epoch-aware pipelines and seeding.

Example:
    >>> from neuroseg.train import TrainConfig
    >>> TrainConfig(epochs=3, schedule="cosine").epochs
    3
"""

# ruff: noqa: E402
# TensorFlow is imported first, quietly (see neuroseg.logs), then the modules using it.
import neuroseg.logs

neuroseg.logs.import_tensorflow()

from neuroseg.train.averaged_weights import (
    KeepTrainedWeights,
    average_pairs,
    store_trained_weights,
    swap_average,
)
from neuroseg.train.config import TrainConfig
from neuroseg.train.cv import CVResult, cross_validate, evaluate_fold
from neuroseg.train.data import epoch_pipeline
from neuroseg.train.experiment import Experiment, load_experiment
from neuroseg.train.fit import FitResult, fit, infer_task, make_loss, make_optimizer
from neuroseg.train.seed import set_seed
from neuroseg.train.tune import DEFAULT_SPACE, TuneResult, tune

__all__ = [
    "DEFAULT_SPACE",
    "CVResult",
    "Experiment",
    "FitResult",
    "KeepTrainedWeights",
    "TrainConfig",
    "TuneResult",
    "average_pairs",
    "cross_validate",
    "epoch_pipeline",
    "evaluate_fold",
    "fit",
    "infer_task",
    "load_experiment",
    "make_loss",
    "make_optimizer",
    "set_seed",
    "store_trained_weights",
    "swap_average",
    "tune",
]
