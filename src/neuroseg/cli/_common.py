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


def add_preprocessing_arguments(p: Any) -> None:
    """Add ``--threshold`` and ``--crop`` (defaults: a pretrained model's own)."""
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="foreground threshold (default: a pretrained model's own, else 0.5)",
    )
    p.add_argument(
        "--crop",
        choices=("brain", "none"),
        default=None,
        help="crop slices to the brain before resizing, as the model was trained "
        "(default: a pretrained model's own, else none)",
    )
