"""Lazy import of optional dependencies with an actionable error."""

from __future__ import annotations

import importlib
from types import ModuleType

from neuroseg.errors import MissingDependencyError

__all__ = ["require"]


def require(module: str, *, extra: str, purpose: str = "") -> ModuleType:
    """Import an optional module, or fail with a message naming the extra to install.

    Args:
        module: The importable module name, e.g. ``"nibabel"``.
        extra: The neuroseg extra that provides it, e.g. ``"nifti"``.
        purpose: What the caller wanted to do, for the message.

    Returns:
        The imported module.

    Raises:
        MissingDependencyError: The module is not installed.

    Example:
        >>> from neuroseg._optional import require
        >>> require("json", extra="none").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        what = f" for {purpose}" if purpose else ""
        raise MissingDependencyError(
            f"The optional dependency '{module}' is needed{what} but is not installed. "
            f"Install it with: pip install 'neuroseg[{extra}]'"
        ) from exc
