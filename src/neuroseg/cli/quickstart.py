"""``neuroseg quickstart``: train and evaluate a small ResUNet on the bundled sample."""

from __future__ import annotations

import argparse
import sys
from typing import Any

__all__ = ["register"]

_EPILOG = """\
examples:
  neuroseg quickstart
  neuroseg quickstart --epochs 5 --out /tmp/qs     # a short smoke test
  neuroseg report /tmp/qs/run                      # its run directory as an HTML report

The sample is 36 real Figshare (Cheng) tumour slices and 12 TCIA no-tumour slices that
ship with the package; no download is needed."""


def register(sub: Any) -> None:
    """Add the ``quickstart`` subcommand."""
    from neuroseg.quickstart import DEFAULT_EPOCHS, DEFAULT_MODEL

    p = sub.add_parser(
        "quickstart",
        help="train a small ResUNet on the bundled real sample and evaluate it patient-wise",
        description="Train a ResUNet preset on the bundled sample with a patient-wise hold-out, "
        "print Dice, IoU, precision and recall, and write the model and overlay PNGs.",
        epilog=_EPILOG,
    )
    p.add_argument("--epochs", type=int, default=DEFAULT_EPOCHS, help="training epochs")
    p.add_argument("--out", default="neuroseg-quickstart", help="output folder")
    p.add_argument("--image-size", type=int, default=128, help="training resolution (pixels)")
    p.add_argument(
        "--model",
        default=DEFAULT_MODEL,
        help=f"segmentation preset to train (default {DEFAULT_MODEL}; see neuroseg models list)",
    )
    p.add_argument(
        "--ema",
        type=float,
        default=None,
        metavar="MOMENTUM",
        help="validate and save a moving average of the weights, e.g. --ema 0.99",
    )
    p.add_argument("--seed", type=int, default=0, help="random seed")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """Run the quickstart."""
    from neuroseg.errors import ConfigError
    from neuroseg.quickstart import run_quickstart

    if args.epochs < 1:
        raise ConfigError("--epochs must be >= 1")
    run_quickstart(
        epochs=args.epochs,
        out=args.out,
        image_size=args.image_size,
        model=args.model,
        ema_momentum=args.ema,
        seed=args.seed,
        verbose=0 if getattr(args, "quiet", False) else (1 if sys.stdout.isatty() else 2),
    )
    return 0
