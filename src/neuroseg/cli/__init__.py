"""The ``neuroseg`` command line.

Each subcommand lives in its own module in this package and exposes
``register(subparsers)``, which adds its parser and sets ``handler`` (a function taking the
parsed arguments and returning an exit code). Modules are discovered in alphabetical order.
"""

from __future__ import annotations

import argparse
import importlib
import pkgutil
import sys
from collections.abc import Sequence

from neuroseg._version import __version__
from neuroseg.errors import NeurosegError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``neuroseg`` command with every subcommand."""
    parser = argparse.ArgumentParser(
        prog="neuroseg",
        description="Brain-tumour MRI segmentation and classification (TensorFlow/Keras 3).",
    )
    parser.add_argument("--version", action="version", version=f"neuroseg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{__name__}.{info.name}")
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code (0 success, 1 findings, 2 errors)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return int(args.handler(args))
    except NeurosegError as exc:
        print(f"neuroseg: error: {exc}", file=sys.stderr)
        return 2
