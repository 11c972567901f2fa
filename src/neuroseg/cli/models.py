"""``neuroseg models list``: the model registry as a table."""

from __future__ import annotations

import argparse
import fnmatch
import inspect
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from neuroseg.models.registry import ModelSpec

__all__ = ["register", "run"]

MODELS_EPILOG = """\
examples:
  neuroseg models list                 every preset, then the pretrained models
  neuroseg models list 'resunet*'      only the ResUNet presets
  neuroseg models list --measure       build each preset and count its FLOPs (slow)
"""

LIST_EPILOG = """\
examples:
  neuroseg models list
  neuroseg models list 'classifier-*'
  neuroseg models list resunet-small --measure

The figures are recorded in the registry (ModelSpec.params and ModelSpec.gflops) and
checked against freshly built models by the test suite; --measure builds every preset
(about 40 s for all of them on a 2-core CPU) and counts them again.
"""


def register(sub: Any) -> None:
    """Add the ``models`` subcommand."""
    p = sub.add_parser(
        "models",
        help="list the registered model presets and the pretrained models",
        description="Inspect neuroseg's model registry: the presets create_model() builds "
        "and the pretrained models shipped with the package.",
        epilog=MODELS_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    msub = p.add_subparsers(dest="models_command", metavar="ACTION")
    lp = msub.add_parser(
        "list",
        help="print name, task, parameters and GFLOPs at the default input size",
        description="Print every registered preset with its task, default input size, "
        "parameter count and forward GFLOPs per image (as recorded in the registry; no "
        "model is built), then the pretrained models.",
        epilog=LIST_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    lp.add_argument("pattern", nargs="?", default=None, help="glob filter, e.g. 'resunet*'")
    lp.add_argument(
        "--measure",
        action="store_true",
        help="build each preset and count its parameters and FLOPs instead of printing "
        "the recorded figures (slow)",
    )
    lp.add_argument("--no-flops", action="store_true", help="leave the GFLOPs column out")
    p.set_defaults(handler=run)


def _input_size(spec: ModelSpec) -> str:
    """The preset's default input shape as ``HxWxC``, or ``-`` when it has none."""
    shape = spec.kwargs.get("input_shape")
    if shape is None:
        try:
            param = inspect.signature(spec.builder).parameters.get("input_shape")
        except (TypeError, ValueError):
            param = None
        if param is not None and isinstance(param.default, tuple):
            shape = param.default
    if shape is None:
        return "-"
    return "x".join(str(s) for s in shape)


def run(args: argparse.Namespace) -> int:
    """List the presets (the only action); return 0."""
    from neuroseg.models import get_spec, list_models, list_pretrained, pretrained_info

    if getattr(args, "models_command", None) != "list":
        print("usage: neuroseg models list [PATTERN] [--measure] [--no-flops]")
        return 2
    names = list_models(args.pattern)
    rows = [("name", "task", "input", "params", "GFLOPs")]
    drifted = []
    for name in names:
        spec = get_spec(name)
        params, gflops = spec.params, spec.gflops
        shape = _input_size(spec)
        if args.measure:
            from neuroseg.models import count_flops, create_model

            model = create_model(name)
            shape = "x".join(str(s) for s in model.input_shape[1:])
            measured = model.count_params()
            if params is not None and measured != params:
                drifted.append(name)
            params = measured
            if not args.no_flops:
                counted = count_flops(model) / 1e9
                if gflops is not None and abs(counted - gflops) > 0.01 * gflops:
                    drifted.append(name)
                gflops = counted
        rows.append(
            (
                name,
                spec.task,
                shape,
                "-" if params is None else f"{params:,}",
                "-" if gflops is None or args.no_flops else f"{gflops:.2f}",
            )
        )
    _print_table(rows)
    if drifted:
        print(
            "\nmeasured figures differ from the recorded ones for "
            f"{', '.join(sorted(set(drifted)))}: update neuroseg/models/registry.py"
        )
    pretrained = [
        n for n in list_pretrained() if args.pattern is None or fnmatch.fnmatch(n, args.pattern)
    ]
    if pretrained:
        print("\npretrained (shipped with neuroseg, offline; see pretrained_info(name)):")
        table = [("name", "architecture", "task", "input", "status", "validation")]
        for name in pretrained:
            info = pretrained_info(name)
            table.append(
                (name, info.architecture, info.task, "x".join(map(str, info.input_shape)),
                 info.status, info.headline)
            )  # fmt: skip
        _print_table(table, right=())
    return 0


def _print_table(rows: Sequence[tuple[str, ...]], *, right: Sequence[int] | None = None) -> None:
    """Columns padded to their widest cell; ``right`` (default: from the 4th on) right-aligned."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    flush_right = set(range(3, len(widths)) if right is None else right)
    for r in rows:
        cells = (
            c.rjust(w) if i in flush_right else c.ljust(w)
            for i, (c, w) in enumerate(zip(r, widths))
        )
        print("  ".join(cells).rstrip())
