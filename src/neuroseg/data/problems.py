"""Collecting or raising data problems: the ``on_error`` option of every loader.

Loaders raise by default. ``on_error="skip"`` logs each skipped file (logger
``neuroseg.data``) and goes on; passing a list collects one :class:`Problem` per skipped
file instead, which is what :func:`neuroseg.data.check` does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Literal

from neuroseg.errors import ConfigError, NeurosegError

__all__ = ["OnError", "Problem", "check_on_error", "report_problem"]

_log = logging.getLogger("neuroseg.data")


@dataclass(frozen=True)
class Problem:
    """One faulty file or folder.

    Attributes:
        path: The file or folder.
        problem: What is wrong with it, and how to fix it.
    """

    path: str
    problem: str

    def to_dict(self) -> dict[str, str]:
        """Return ``{"path": ..., "problem": ...}`` (the JSON form)."""
        return {"path": self.path, "problem": self.problem}


#: ``"raise"`` (default), ``"skip"`` (log and skip) or a list that collects :class:`Problem`.
OnError = Literal["raise", "skip"] | list[Problem]


def check_on_error(on_error: OnError) -> None:
    """Raise :class:`~neuroseg.errors.ConfigError` unless ``on_error`` is a valid option.

    Example:
        >>> check_on_error("skip")
    """
    if not isinstance(on_error, list) and on_error not in ("raise", "skip"):
        raise ConfigError(f"on_error must be 'raise', 'skip' or a list, got {on_error!r}.")


def report_problem(on_error: OnError, error: NeurosegError, path: str) -> None:
    """Raise ``error``, or log it / append it as a :class:`Problem` and return.

    Example:
        >>> from neuroseg.errors import ReadError
        >>> found: list[Problem] = []
        >>> report_problem(found, ReadError("x.png: truncated."), "x.png")
        >>> found[0].problem
        'x.png: truncated.'
    """
    if on_error == "raise":
        raise error
    message = str(error)
    if isinstance(on_error, list):
        on_error.append(Problem(path=path, problem=message))
    else:
        _log.warning("skipped %s: %s", path, message)
