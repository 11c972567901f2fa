"""Make ``keras.saving.load_model`` find neuroseg's classes after ``import neuroseg``.

Keras finds a custom layer, model, loss or metric in a ``.keras`` file only if the class
was registered (``register_keras_serializable``) before loading, and it imports no module
outside Keras to look for one. neuroseg's subpackages load lazily so that ``import
neuroseg`` stays light (``neuroseg --version`` never imports TensorFlow); so ``import
neuroseg`` alone would leave a plain ``keras.saving.load_model(path)`` with
``Could not locate class 'ResUNet'``.

:func:`install_import_hook` closes that gap, the one import-time action of ``import
neuroseg``: if Keras is already imported, it registers neuroseg's classes at once;
otherwise it waits for Keras' own import to finish (through an entry on
``sys.meta_path`` that only watches the module ``keras``) and registers them then. Either
way the registration is :func:`register_keras_objects`, which imports
:mod:`neuroseg.models`, :mod:`neuroseg.metrics` and :mod:`neuroseg.data.preprocessor`
(the only modules that define registered classes). Under a Keras without TensorFlow
(``KERAS_BACKEND=jax`` on a machine with JAX alone) the models, layers, losses and metrics
still register; the preprocessor, which prepares slices with TensorFlow ops, is skipped
there, since it cannot run without TensorFlow.
"""

from __future__ import annotations

import importlib
import importlib.abc
import importlib.machinery
import importlib.util
import sys
from collections.abc import Sequence
from types import ModuleType

__all__ = [
    "REGISTERING_MODULES",
    "TENSORFLOW_MODULES",
    "KerasImportHook",
    "install_import_hook",
    "register_keras_objects",
]

#: The modules whose import registers every neuroseg Keras object.
REGISTERING_MODULES = ("neuroseg.models", "neuroseg.metrics", "neuroseg.data.preprocessor")
#: Of those, the ones that need TensorFlow (skipped where it is not installed).
TENSORFLOW_MODULES = frozenset({"neuroseg.data.preprocessor"})


def _initializing(name: str) -> bool:
    module = sys.modules.get(name)
    spec = getattr(module, "__spec__", None)
    return bool(getattr(spec, "_initializing", False))


def register_keras_objects() -> None:
    """Import the modules that register neuroseg's layers, models, losses and metrics.

    A module that is being imported right now (the import that led here) is left to
    finish on its own; it registers its classes as it does.

    Example:
        >>> import keras
        >>> register_keras_objects()
        >>> keras.saving.get_registered_object("neuroseg>ResUNet").__name__
        'ResUNet'
    """
    has_tensorflow = importlib.util.find_spec("tensorflow") is not None
    for name in REGISTERING_MODULES:
        if name in sys.modules and _initializing(name):
            continue
        if name in TENSORFLOW_MODULES and not has_tensorflow:
            continue
        importlib.import_module(name)


class KerasImportHook(importlib.abc.MetaPathFinder):
    """A ``sys.meta_path`` entry that calls :func:`register_keras_objects` after Keras loads.

    It answers only for the top-level module ``keras`` and defers the search to the other
    finders, so Keras is found and loaded exactly as without it.
    """

    def __init__(self) -> None:
        self._searching = False

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None = None,
        target: ModuleType | None = None,
    ) -> importlib.machinery.ModuleSpec | None:
        """Find ``keras`` with the other finders and wrap its loader; ignore other names."""
        if fullname != "keras" or self._searching:
            return None
        self._searching = True
        try:
            spec = importlib.util.find_spec(fullname)
        finally:
            self._searching = False
        if spec is None or spec.loader is None or not hasattr(spec.loader, "exec_module"):
            return spec
        loader = spec.loader
        execute = loader.exec_module

        def exec_module(module: ModuleType) -> None:
            execute(module)
            register_keras_objects()

        loader.exec_module = exec_module  # type: ignore[method-assign]
        return spec


def install_import_hook() -> None:
    """Register neuroseg's Keras objects now if Keras is loaded, else when it loads.

    Idempotent: a second call adds no second hook.
    """
    if any(isinstance(finder, KerasImportHook) for finder in sys.meta_path):
        return
    if "keras" in sys.modules and not _initializing("keras"):
        register_keras_objects()
        return
    sys.meta_path.insert(0, KerasImportHook())
