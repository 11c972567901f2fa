"""Helpers shared by the inference subcommands (not a subcommand itself)."""

from __future__ import annotations

from typing import Any


def load_data_spec(spec: str) -> Any:
    """Load ``FORMAT:PATH`` through :func:`neuroseg.data.load_dataset`."""
    from neuroseg.data import load_dataset, parse_data_spec

    fmt, path = parse_data_spec(spec)
    return load_dataset(fmt, path)


def add_model_argument(p: Any) -> None:
    """Add ``--model MODEL`` (a .keras path or a pretrained name)."""
    p.add_argument(
        "--model", required=True, metavar="MODEL", help="a .keras file or a pretrained model name"
    )
