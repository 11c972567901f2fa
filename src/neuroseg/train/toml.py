"""Minimal TOML support: reading via ``tomllib``/``tomli``, writing for plain config values."""

from __future__ import annotations

import copy
import importlib
import json
import math
import re
import sys
from typing import Any

from neuroseg.errors import ConfigError

__all__ = ["apply_overrides", "dumps", "loads"]


def loads(text: str, *, source: str | None = None) -> dict[str, Any]:
    """Parse TOML text.

    Args:
        text: The TOML.
        source: Where it came from (a file name) for error messages.

    Raises:
        ConfigError: The text is not valid TOML (the message names ``source`` and gives
            the position).

    Example:
        >>> loads("train = {epochs = 3}")
        {'train': {'epochs': 3}}
    """
    # tomllib is in the standard library from Python 3.11; tomli is its 3.10 backport.
    tomllib = importlib.import_module("tomllib" if sys.version_info >= (3, 11) else "tomli")
    try:
        return dict(tomllib.loads(text))
    except tomllib.TOMLDecodeError as exc:
        where = f"{source}: " if source else ""
        raise ConfigError(
            f"{where}invalid TOML ({exc}); fix the syntax (strings need quotes, "
            "tables are [section])."
        ) from exc


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(k: Any) -> str:
    """A key as TOML writes it: bare when it can be, else quoted."""
    k = str(k)
    return k if _BARE_KEY.fullmatch(k) else json.dumps(k)


def _value(v: Any) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        if isinstance(v, float) and not math.isfinite(v):
            raise ConfigError(f"cannot write {v} to TOML")
        return repr(v)
    if isinstance(v, str):
        return json.dumps(v)
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(_value(x) for x in v) + "]"
    if isinstance(v, dict):
        items = (f"{_key(k)} = {_value(x)}" for k, x in v.items() if x is not None)
        return "{ " + ", ".join(items) + " }"
    raise ConfigError(f"cannot write {type(v).__name__} to TOML")


def dumps(data: dict[str, Any]) -> str:
    """Write a dict of scalars, lists and (one level of) tables as TOML.

    TOML has no null: keys whose value is ``None`` are left out, in tables and inline
    tables alike. Keys that are not bare words (``a b``, ``x.y``) are quoted.

    Example:
        >>> print(dumps({"a": 1, "t": {"b": "x"}}))
        a = 1
        <BLANKLINE>
        [t]
        b = "x"
        <BLANKLINE>
    """
    lines = [
        f"{_key(k)} = {_value(v)}"
        for k, v in data.items()
        if v is not None and not isinstance(v, dict)
    ]
    for k, v in data.items():
        if isinstance(v, dict):
            lines += ["", f"[{_key(k)}]"] + [
                f"{_key(kk)} = {_value(vv)}" for kk, vv in v.items() if vv is not None
            ]
    return "\n".join(lines) + "\n"


def apply_overrides(config: dict[str, Any], overrides: list[str]) -> dict[str, Any]:
    """Apply ``section.key=value`` overrides (values parsed as TOML, else as strings).

    Returns a new dict; ``config`` is left as it was, nested tables included.

    Example:
        >>> apply_overrides({"train": {"epochs": 5}}, ["train.epochs=3", "data.path=/x"])
        {'train': {'epochs': 3}, 'data': {'path': '/x'}}
    """
    out = copy.deepcopy(config)
    for item in overrides:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"--set expects section.key=value, got {item!r}")
        parts = key.strip().split(".")
        try:
            value = loads(f"v = {raw}")["v"]
        except ConfigError:
            value = raw
        node = out
        for p in parts[:-1]:
            node = node.setdefault(p, {})
            if not isinstance(node, dict):
                raise ConfigError(f"--set {item!r}: {p!r} is not a table")
        node[parts[-1]] = value
    return out
