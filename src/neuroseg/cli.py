"""The ``neuroseg`` command line."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from neuroseg._version import __version__
from neuroseg.errors import NeurosegError

__all__ = ["build_parser", "main"]


def build_parser() -> argparse.ArgumentParser:
    """Return the argument parser of the ``neuroseg`` command."""
    from neuroseg.quickstart import DEFAULT_EPOCHS

    parser = argparse.ArgumentParser(
        prog="neuroseg",
        description="Brain-tumour MRI segmentation and classification (TensorFlow/Keras 3).",
    )
    parser.add_argument("--version", action="version", version=f"neuroseg {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    qs = sub.add_parser(
        "quickstart",
        help="train a small ResUNet on the bundled real sample and evaluate it patient-wise",
    )
    qs.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="training epochs")
    qs.add_argument("--out", default="neuroseg-quickstart", help="output folder")
    qs.add_argument("--image-size", type=int, default=128, help="training resolution (pixels)")
    qs.add_argument("--seed", type=int, default=0, help="random seed")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        if args.command == "quickstart":
            from neuroseg.quickstart import run_quickstart

            if args.epochs < 1:
                parser.error("--epochs must be >= 1")
            run_quickstart(
                epochs=args.epochs,
                out=args.out,
                image_size=args.image_size,
                seed=args.seed,
                verbose=2 if not sys.stdout.isatty() else 1,
            )
    except NeurosegError as exc:
        print(f"neuroseg: error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
