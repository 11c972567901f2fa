"""Loading saved neuroseg models safely."""

from __future__ import annotations

import os
import zipfile
from pathlib import Path
from typing import Any

import keras

from neuroseg.errors import ModelError, NeurosegError

__all__ = ["load_model"]

#: The first bytes of an HDF5 file (Keras 2's ``.h5`` format).
_HDF5_MAGIC = b"\x89HDF\r\n\x1a\n"
_RESAVE = "re-save the model in Keras 3 with model.save('name.keras')"


def _check_archive(p: Path) -> None:
    """Refuse anything that is not a complete, readable ``.keras`` archive, naming why."""
    if p.is_dir():
        if (p / "saved_model.pb").is_file():
            raise ModelError(
                f"{p}: a TensorFlow SavedModel folder, not a .keras file. neuroseg loads only "
                f"the Keras 3 format with safe_mode on; {_RESAVE}."
            )
        raise ModelError(f"{p}: a folder, not a model file. Pass the path of a .keras file.")
    if not p.exists():
        raise ModelError(f"{p}: no such model file. Pass the path of a .keras file.")
    if not p.is_file():
        raise ModelError(f"{p}: not a regular file. Pass the path of a .keras file.")
    try:
        size = p.stat().st_size
        with p.open("rb") as fh:
            head = fh.read(8)
    except OSError as exc:
        raise ModelError(
            f"{p}: cannot read the model file ({exc}); check its permissions."
        ) from exc
    if size == 0:
        raise ModelError(
            f"{p}: the model file is empty (0 bytes), e.g. an interrupted copy or download; "
            "copy or save it again."
        )
    if head == _HDF5_MAGIC or p.suffix.lower() in (".h5", ".hdf5"):
        raise ModelError(
            f"{p}: an HDF5 (.h5) model, Keras 2's legacy format. neuroseg loads only .keras "
            f"archives, with safe_mode on; {_RESAVE}."
        )
    if p.suffix != ".keras":
        raise ModelError(
            f"{p}: not a .keras archive. neuroseg loads only the Keras 3 format, with "
            f"safe_mode on; {_RESAVE}."
        )
    try:
        with zipfile.ZipFile(p) as zf:
            names = set(zf.namelist())
            bad = zf.testzip()  # reads every member: catches cut or damaged data
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise ModelError(
            f"{p}: not a readable .keras (zip) archive ({size} bytes; {exc}); the file is "
            "truncated or corrupt, e.g. an interrupted copy or download. Copy or save it again."
        ) from exc
    except Exception as exc:  # zlib.error, NotImplementedError (compression), ...
        raise ModelError(
            f"{p}: the .keras archive cannot be read ({type(exc).__name__}: {exc}); it is "
            "corrupt. Copy or save it again."
        ) from exc
    if bad is not None:
        raise ModelError(
            f"{p}: member {bad!r} of the .keras archive is corrupt (CRC mismatch); copy or "
            "save the model again."
        )
    missing = [n for n in ("config.json", "model.weights.h5") if n not in names]
    if missing:
        raise ModelError(
            f"{p}: a zip file but not a Keras model: no {' or '.join(missing)} inside. "
            "Pass a file written by model.save('name.keras')."
        )


def load_model(path: str | os.PathLike[str], *, compile: bool = True, **kwargs: Any) -> keras.Model:
    """Load a ``.keras`` file with ``safe_mode=True`` after registering neuroseg's classes.

    A plain ``keras.saving.load_model`` works too once ``neuroseg.models`` and
    ``neuroseg.metrics`` are imported; this function does that for you. Legacy formats
    (HDF5, TensorFlow SavedModel folders) and models whose loading would run arbitrary
    code (pickled Lambda layers, refused by ``safe_mode``) are refused, as are empty,
    truncated and corrupt archives, each with a :class:`~neuroseg.errors.ModelError`
    naming the file and the fix.

    Args:
        path: The ``.keras`` file.
        compile: Restore the training configuration (optimizer, loss, metrics).
        **kwargs: Passed to ``keras.saving.load_model``.

    Returns:
        The ``keras.Model``.

    Raises:
        ModelError: The file is missing, empty, truncated or corrupt, is not a ``.keras``
            archive, holds layers that ``safe_mode`` refuses, or cannot be rebuilt.

    Example:
        >>> import tempfile, os
        >>> from neuroseg.errors import ModelError
        >>> path = os.path.join(tempfile.mkdtemp(), "empty.keras")
        >>> open(path, "wb").close()
        >>> try:
        ...     load_model(path)
        ... except ModelError as exc:
        ...     print("empty (0 bytes)" in str(exc))
        True
    """
    from neuroseg.registration import register_keras_objects

    register_keras_objects()  # layers, models, metrics, losses and the preprocessor

    p = Path(path)
    _check_archive(p)
    kwargs.setdefault("safe_mode", True)
    try:
        return keras.saving.load_model(p, compile=compile, **kwargs)
    except NeurosegError:
        raise
    except Exception as exc:
        text = str(exc)
        if "safe_mode" in text or "arbitrary code" in text:
            raise ModelError(
                f"{p}: refused by Keras safe_mode: the model holds code that would run on "
                f"loading (e.g. a Lambda layer with a Python function): {text.splitlines()[0]} "
                "neuroseg never loads such models; rebuild the model without it (a "
                "registered layer class instead of the Lambda) and save it again."
            ) from exc
        raise ModelError(
            f"{p}: the .keras archive cannot be loaded ({type(exc).__name__}: "
            f"{text.splitlines()[0] if text else 'no message'}). It may come from another "
            "Keras version or use layers neuroseg does not register; save it again with "
            "this installation, or load it with keras.saving.load_model after registering "
            "its custom classes."
        ) from exc
