"""The base of neuroseg's functional models whose config is their constructor arguments."""

from __future__ import annotations

from typing import Any

import keras

__all__ = ["ConfigModel"]


class ConfigModel(keras.Model):
    """A functional model built in ``__init__`` from keyword arguments it keeps.

    Subclasses build their graph, call ``super().__init__(inputs=..., outputs=...)`` and
    set ``self._config`` to their constructor arguments; :meth:`get_config` returns them
    and :meth:`from_config` rebuilds the model from them (the ``.keras`` file then restores
    the weights). Not registered and not exported: the ResUNet family subclasses it.
    """

    _config: dict[str, Any]

    def get_config(self) -> dict[str, Any]:
        """Return the constructor arguments."""
        return {"name": self.name, "trainable": self.trainable, **self._config}

    @classmethod
    def from_config(cls, config: dict[str, Any], custom_objects: Any = None) -> Any:
        """Rebuild the model from :meth:`get_config`."""
        return cls(**config)
