"""Plain-text tables and number formatting for what the command line prints."""

from __future__ import annotations

import csv
import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

__all__ = ["format_number", "format_table", "write_rows_csv"]


def format_number(value: Any, *, digits: int = 4) -> str:
    """``value`` with ``digits`` significant digits (integers and text unchanged).

    NaN and ``None`` print as ``-``; a ``(low, high)`` pair prints as an interval.

    Example:
        >>> format_number(0.8312345), format_number(12), format_number(None)
        ('0.8312', '12', '-')
        >>> format_number((0.61234, 0.70011), digits=3)
        '[0.612, 0.700]'
    """
    if value is None:
        return "-"
    if isinstance(value, bool):
        return str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (tuple, list)) and len(value) == 2:
        lo, hi = (format_number(v, digits=digits) for v in value)
        return f"[{lo}, {hi}]"
    if isinstance(value, float) or hasattr(value, "__float__"):
        x = float(value)
        if math.isnan(x):
            return "-"
        if x == 0 or 1e-3 <= abs(x) < 1e5:
            decimals = max(digits - 1 - math.floor(math.log10(abs(x))), 0) if x else digits - 1
            return f"{x:.{decimals}f}"
        return f"{x:.{digits - 1}e}"
    return str(value)


def format_table(
    rows: Sequence[Sequence[Any]],
    *,
    header: Sequence[str] | None = None,
    digits: int = 4,
    indent: int = 0,
) -> str:
    """Align ``rows`` in columns: text left, numbers right.

    Example:
        >>> print(format_table([("dice", 0.81234), ("n", 12)], header=("metric", "value")))
        metric   value
        dice    0.8123
        n           12
    """
    cells = [[format_number(v, digits=digits) for v in row] for row in rows]
    numeric = [
        all(
            isinstance(row[i], (int, float)) or row[i] is None or isinstance(row[i], tuple)
            for row in rows
            if i < len(row)
        )
        for i in range(max((len(r) for r in rows), default=0))
    ]
    table = ([list(header)] if header else []) + cells
    if not table:
        return ""
    ncol = max(len(r) for r in table)
    table = [r + [""] * (ncol - len(r)) for r in table]
    widths = [max(len(r[i]) for r in table) for i in range(ncol)]
    pad = " " * indent
    lines = []
    for r in table:
        parts = [
            c.rjust(w) if i < len(numeric) and numeric[i] and i > 0 else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths))
        ]
        lines.append(pad + "  ".join(parts).rstrip())
    return "\n".join(lines)


def write_rows_csv(path: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]) -> Path:
    """Write dict rows to a CSV file: every key seen, in first-seen order; NaN as empty.

    The per-item tables of ``neuroseg evaluate --csv`` and ``neuroseg cv``'s
    ``cv_items.csv`` are written here, so they read back alike.

    Example:
        >>> import tempfile
        >>> p = write_rows_csv(tempfile.mkdtemp() + "/t.csv", [{"a": 1}, {"a": math.nan, "b": 2}])
        >>> p.read_text().splitlines()
        ['a,b', '1,', ',2']
    """
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    keys: list[str] = []
    for row in rows:
        keys += [k for k in row if k not in keys]
    with p.open("w", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=keys)
        writer.writeheader()
        for row in rows:
            writer.writerow(
                {k: "" if isinstance(v, float) and math.isnan(v) else v for k, v in row.items()}
            )
    return p
