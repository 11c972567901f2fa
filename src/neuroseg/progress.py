"""A dependency-free progress bar for long loops (evaluate, predict, check, export).

It draws on standard error, only when standard error is a terminal (so logs and pipes
stay clean), and never when ``enabled=False`` (the command line's ``--quiet``) or when the
environment sets ``NEUROSEG_PROGRESS=0``. A line looks like::

    evaluate  312/1311 [#####...............]  24%  0:41 elapsed, ETA 2:09
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Iterable, Iterator
from types import TracebackType
from typing import IO, TypeVar

__all__ = ["Progress", "progress", "progress_enabled"]

T = TypeVar("T")


def progress_enabled(enabled: bool | None = None, *, stream: IO[str] | None = None) -> bool:
    """Whether a bar would be drawn: ``enabled`` if given, else on a terminal.

    ``NEUROSEG_PROGRESS=0`` turns bars off everywhere; ``NEUROSEG_PROGRESS=1`` draws them
    even when standard error is not a terminal.
    """
    env = os.environ.get("NEUROSEG_PROGRESS", "").strip()
    if enabled is False or env == "0":
        return False
    if enabled is True or env == "1":
        return True
    out = sys.stderr if stream is None else stream
    isatty = getattr(out, "isatty", None)
    return bool(isatty and isatty())


def _clock(seconds: float) -> str:
    seconds = max(round(seconds), 0)
    h, rest = divmod(seconds, 3600)
    m, s = divmod(rest, 60)
    return f"{h}:{m:02d}:{s:02d}" if h else f"{m}:{s:02d}"


class Progress:
    """A progress bar with a count and an ETA.

    Args:
        total: Number of steps, or ``None`` when unknown (then only the count is shown).
        description: A word or two in front of the bar.
        enabled: ``True``/``False`` force it on/off; ``None`` draws on a terminal only.
        stream: Where to draw (default standard error).
        width: Characters of the bar.
        min_interval: Seconds between redraws.

    Example:
        >>> with Progress(3, description="demo", enabled=False) as bar:
        ...     for _ in range(3):
        ...         bar.update()
        >>> bar.count
        3
    """

    def __init__(
        self,
        total: int | None,
        *,
        description: str = "",
        enabled: bool | None = None,
        stream: IO[str] | None = None,
        width: int = 20,
        min_interval: float = 0.1,
    ) -> None:
        self.total = total
        self.description = description
        self.stream = sys.stderr if stream is None else stream
        self.enabled = progress_enabled(enabled, stream=self.stream)
        self.width = width
        self.min_interval = min_interval
        self.count = 0
        self._start = time.monotonic()
        self._last = 0.0
        self._drawn = False

    def line(self) -> str:
        """The text of the bar as it stands."""
        elapsed = time.monotonic() - self._start
        head = f"{self.description}  " if self.description else ""
        if not self.total:
            return f"{head}{self.count} done, {_clock(elapsed)} elapsed"
        frac = min(self.count / self.total, 1.0)
        filled = round(frac * self.width)
        bar = "#" * filled + "." * (self.width - filled)
        if 0 < self.count < self.total:
            eta = f", ETA {_clock(elapsed / self.count * (self.total - self.count))}"
        else:
            eta = ""
        return (
            f"{head}{self.count}/{self.total} [{bar}] {frac * 100:3.0f}%  "
            f"{_clock(elapsed)} elapsed{eta}"
        )

    def update(self, n: int = 1) -> None:
        """Advance by ``n`` steps and redraw (at most every ``min_interval`` seconds)."""
        self.count += n
        if not self.enabled:
            return
        now = time.monotonic()
        if now - self._last >= self.min_interval or (self.total and self.count >= self.total):
            self._last = now
            self.stream.write("\r" + self.line() + "\033[K")
            self.stream.flush()
            self._drawn = True

    def close(self) -> None:
        """Finish the line (the bar stays visible with its final count)."""
        if self.enabled and self._drawn:
            self.stream.write("\r" + self.line() + "\033[K\n")
            self.stream.flush()
            self._drawn = False

    def __enter__(self) -> Progress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def progress(
    iterable: Iterable[T],
    *,
    total: int | None = None,
    description: str = "",
    enabled: bool | None = None,
) -> Iterator[T]:
    """Yield from ``iterable`` while drawing a :class:`Progress` bar.

    ``total`` defaults to ``len(iterable)`` when it has one.

    Example:
        >>> list(progress(range(3), enabled=False))
        [0, 1, 2]
    """
    if total is None and hasattr(iterable, "__len__"):
        total = len(iterable)  # type: ignore[arg-type]
    with Progress(total, description=description, enabled=enabled) as bar:
        for item in iterable:
            yield item
            bar.update()
