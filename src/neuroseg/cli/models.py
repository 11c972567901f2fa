"""``neuroseg models list``: the model registry as a table."""

from __future__ import annotations

import argparse
import fnmatch
from collections.abc import Sequence
from typing import Any

__all__ = ["register"]


def register(sub: Any) -> None:
    """Add the ``models`` subcommand."""
    p = sub.add_parser(
        "models",
        help="list the registered model presets and the pretrained models",
        description="Inspect neuroseg's model registry.",
    )
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    lp = msub.add_parser(
        "list",
        help="print name, task, parameters and GFLOPs at the default input size",
        description="Build every registered preset at its default input size and print its "
        "task, parameter count and forward GFLOPs per image.",
    )
    lp.add_argument("pattern", nargs="?", default=None, help="glob filter, e.g. 'resunet*'")
    lp.add_argument("--no-flops", action="store_true", help="skip counting FLOPs (faster)")
    p.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """List the presets (the only action); return 0."""
    from neuroseg.models import (
        count_flops,
        create_model,
        get_spec,
        list_models,
        list_pretrained,
        pretrained_info,
    )

    if getattr(args, "models_command", None) != "list":
        print("usage: neuroseg models list [PATTERN] [--no-flops]")
        return 2
    names = list_models(args.pattern)
    rows = [("name", "task", "input", "params", "GFLOPs")]
    for name in names:
        spec = get_spec(name)
        model = create_model(name)
        shape = tuple(model.input_shape[1:])
        flops = "-" if args.no_flops else f"{count_flops(model) / 1e9:.2f}"
        rows.append(
            (name, spec.task, "x".join(str(s) for s in shape), f"{model.count_params():,}", flops)
        )
    _print_table(rows)
    pretrained = [
        n for n in list_pretrained() if args.pattern is None or fnmatch.fnmatch(n, args.pattern)
    ]
    if pretrained:
        print("\npretrained (shipped with neuroseg, offline; see pretrained_info(name)):")
        table = [("name", "architecture", "task", "input", "status", "val Dice / acc")]
        for name in pretrained:
            info = pretrained_info(name)
            metric = info.metrics.get("metrics", {}).get("dice", {}).get("per_image", {})
            score = metric.get("mean", info.metrics.get("accuracy", "-"))
            table.append(
                (name, info.architecture, info.task, "x".join(map(str, info.input_shape)),
                 info.status, str(score))
            )  # fmt: skip
        _print_table(table)
    return 0


def _print_table(rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    for r in rows:
        print(
            "  ".join(
                c.ljust(w) if i < 3 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))
            )
        )
