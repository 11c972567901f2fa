"""Quiet TensorFlow's start-up logs.

TensorFlow's C++ runtime writes a handful of lines to standard error when it is imported
(oneDNN, CUDA drivers, CPU instructions) and again when it first looks for devices. They
are written before TensorFlow reads its log settings, so ``TF_CPP_MIN_LOG_LEVEL`` cannot
hide them. neuroseg's subpackages import TensorFlow through :func:`import_tensorflow`,
which sends those lines to a temporary file instead, and writes them back to standard
error if the import fails, so a real error is never hidden.

The environment variable ``NEUROSEG_LOG_LEVEL`` chooses what you see:

- ``quiet`` (the default): no start-up lines; ``TF_CPP_MIN_LOG_LEVEL`` defaults to ``2``
  (TensorFlow's C++ errors still show) and the ``tensorflow`` and ``absl`` Python
  loggers to ``ERROR``;
- ``info``: TensorFlow's own behaviour, every line shown;
- ``debug``: as ``info``, with the ``tensorflow`` and ``absl`` Python loggers at
  ``DEBUG``.

The command line's ``--verbose`` sets ``NEUROSEG_LOG_LEVEL=info``. Nothing happens when
TensorFlow was imported before neuroseg: its lines have already been printed then.

Example:
    >>> from neuroseg.logs import import_tensorflow, log_level
    >>> log_level() in LOG_LEVELS
    True
    >>> import_tensorflow().__name__
    'tensorflow'
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import os
import sys
import warnings
from collections.abc import Iterator
from types import ModuleType
from typing import Any

from neuroseg.errors import ConfigError

__all__ = ["LOG_LEVELS", "LOG_LEVEL_VARIABLE", "import_tensorflow", "log_level", "quiet_stderr"]

LOG_LEVELS = ("quiet", "info", "debug")
"""The values ``NEUROSEG_LOG_LEVEL`` accepts, from the quietest."""

LOG_LEVEL_VARIABLE = "NEUROSEG_LOG_LEVEL"
"""The environment variable read by :func:`log_level`."""

_PYTHON_LOGGERS = ("tensorflow", "absl")  # set to ERROR when quiet


def log_level() -> str:
    """Return ``NEUROSEG_LOG_LEVEL`` in lower case, ``"quiet"`` when it is unset or empty.

    Raises:
        ConfigError: The variable holds something else than one of :data:`LOG_LEVELS`.

    Example:
        >>> import os
        >>> os.environ["NEUROSEG_LOG_LEVEL"] = "Info"
        >>> log_level()
        'info'
        >>> del os.environ["NEUROSEG_LOG_LEVEL"]
        >>> log_level()
        'quiet'
    """
    value = os.environ.get(LOG_LEVEL_VARIABLE, "").strip().lower()
    if not value:
        return "quiet"
    if value not in LOG_LEVELS:
        raise ConfigError(
            f"{LOG_LEVEL_VARIABLE}={os.environ[LOG_LEVEL_VARIABLE]!r} is not a log level; "
            f"set it to one of {', '.join(LOG_LEVELS)} (or unset it for quiet)."
        )
    return value


@contextlib.contextmanager
def quiet_stderr() -> Iterator[None]:
    """Send what is written to file descriptor 2 during the block to a temporary file.

    This catches what C and C++ libraries print, which ``sys.stderr`` cannot redirect. If
    the block raises, the captured text is written back to standard error before the
    exception propagates. Python warnings issued in the block are shown after it as usual
    (they would otherwise land in the temporary file). Where file descriptor 2 cannot be
    duplicated (no standard error at all), the block runs unchanged.

    Example:
        >>> import os
        >>> with quiet_stderr():
        ...     _ = os.write(2, b"not shown")
    """
    import tempfile  # here, not at the top: the command line imports this module at start-up

    if sys.stderr is not None:
        sys.stderr.flush()
    try:
        saved = os.dup(2)
    except OSError:
        yield
        return
    shown: list[tuple[Any, ...]] = []
    show = warnings.showwarning

    def record(*args: Any, **kwargs: Any) -> None:
        shown.append((args, kwargs))

    failed = False
    with tempfile.TemporaryFile() as sink:
        os.dup2(sink.fileno(), 2)
        warnings.showwarning = record
        try:
            yield
        except BaseException:
            failed = True
            raise
        finally:
            warnings.showwarning = show
            if sys.stderr is not None:
                sys.stderr.flush()
            os.dup2(saved, 2)
            os.close(saved)
            if failed:
                sink.seek(0)
                text = sink.read().decode("utf-8", errors="replace")
                if sys.stderr is not None:
                    sys.stderr.write(text)
                    sys.stderr.flush()
            for args, kwargs in shown:
                show(*args, **kwargs)


def import_tensorflow() -> ModuleType | None:
    """Import TensorFlow and initialise its devices, quietly unless asked otherwise.

    With ``NEUROSEG_LOG_LEVEL`` unset or ``quiet``, the lines TensorFlow prints when it is
    imported and when it first lists its devices go to a temporary file (see
    :func:`quiet_stderr`), ``TF_CPP_MIN_LOG_LEVEL`` defaults to ``2`` and the
    ``tensorflow`` and ``absl`` Python loggers to ``ERROR``; a value you set yourself is
    kept. Listing the devices does not create TensorFlow's runtime, so
    ``tf.config.set_visible_devices`` and memory growth can still be set afterwards.

    Calling it again, or after TensorFlow was imported some other way, only returns the
    module.

    Returns:
        The ``tensorflow`` module, or ``None`` when TensorFlow is not installed (Keras on
        JAX: :mod:`neuroseg.models` and :mod:`neuroseg.metrics` work without it).

    Raises:
        ConfigError: ``NEUROSEG_LOG_LEVEL`` is not one of :data:`LOG_LEVELS`.
    """
    imported = sys.modules.get("tensorflow")
    if imported is not None:
        return imported
    try:
        missing = importlib.util.find_spec("tensorflow") is None
    except (ImportError, ValueError):
        missing = True
    if missing:
        # Keras on another backend (JAX) without TensorFlow: models, layers, losses and
        # metrics use keras.ops only and need no TensorFlow.
        return None
    import logging  # here, not at the top: the command line imports this module at start-up

    level = log_level()
    unset = [n for n in _PYTHON_LOGGERS if logging.getLogger(n).level == logging.NOTSET]
    if level == "quiet":
        os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
        with quiet_stderr():
            tf = importlib.import_module("tensorflow")
            tf.config.list_physical_devices()
    else:
        tf = importlib.import_module("tensorflow")
    python_level = {"quiet": logging.ERROR, "info": None, "debug": logging.DEBUG}[level]
    if python_level is not None:
        tf.get_logger()  # TensorFlow configures its logger on first use; do that first
        for name in unset:
            logging.getLogger(name).setLevel(python_level)
    return tf
