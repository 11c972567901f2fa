"""Training: the fit helper, its configuration, and seeding.

Example:
    >>> from neuroseg.train import TrainConfig
    >>> TrainConfig(epochs=3).epochs
    3
"""

from neuroseg.train.config import TrainConfig
from neuroseg.train.fit import fit, make_loss, make_optimizer
from neuroseg.train.seed import set_seed

__all__ = ["TrainConfig", "fit", "make_loss", "make_optimizer", "set_seed"]
