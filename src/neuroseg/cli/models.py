"""``neuroseg models``: the registry as a table (``list``) and fold ensembles (``ensemble``)."""

from __future__ import annotations

import argparse
import fnmatch
import inspect
import re
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from neuroseg.errors import ConfigError, ModelError

if TYPE_CHECKING:
    from neuroseg.models.registry import ModelSpec

__all__ = ["register", "run"]

MODELS_EPILOG = """\
examples:
  neuroseg models list                 every preset, then the pretrained models
  neuroseg models list 'resunet*'      only the ResUNet presets
  neuroseg models list --measure       build each preset and count its FLOPs (slow)
  neuroseg models ensemble runs/cv --out folds.keras   average the fold models of neuroseg cv
"""

ENSEMBLE_DESCRIPTION = """\
Average several trained models into one .keras file: every member sees the same input and
the ensemble's output is the mean of their probabilities (mask and class heads separately).
The usual members are the fold models of a cross-validation: each was trained on all folds
but one, so their mean has learnt from every fold, at the inference cost of all of them.

Each MODEL is a .keras file, a pretrained model's name, a run directory of neuroseg train
(its --checkpoint file) or the output folder of neuroseg cv (every fold_<k>/ in it). The
members must take the same input, give the same outputs and share one preprocessor (image
size, channels, normalisation, crop); the preprocessor is saved beside the ensemble
(<out>.preprocessor.json), so neuroseg predict/evaluate --model OUT.keras prepares slices as
the members were trained. A pretrained card's threshold or TTA is not carried over: pass
--threshold/--tta when predicting."""

ENSEMBLE_EPILOG = """\
examples:
  neuroseg cv --config examples/configs/resunet_figshare.toml --out runs/fig-cv
  neuroseg models ensemble runs/fig-cv --out fig-folds.keras
  neuroseg models ensemble runs/a runs/b --checkpoint last --out ab.keras
  neuroseg evaluate --model fig-folds.keras --data figshare:new-patients/ --tta
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
    ep = msub.add_parser(
        "ensemble",
        help="average trained models (e.g. the fold models of neuroseg cv) into one .keras file",
        description=ENSEMBLE_DESCRIPTION,
        epilog=ENSEMBLE_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    ep.add_argument(
        "members",
        nargs="+",
        metavar="MODEL",
        help="a .keras file, a pretrained name, a run directory or a neuroseg cv folder",
    )
    ep.add_argument("--out", required=True, metavar="OUT.keras", help="where to save the ensemble")
    ep.add_argument(
        "--checkpoint",
        choices=("best", "last"),
        default="best",
        help="which file of a run directory: best.keras (the epoch neuroseg cv scores) or "
        "last.keras (default: best)",
    )
    ep.add_argument("--name", default="ensemble", help="the ensemble model's name")
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
    """List the presets or build an ensemble; return 0."""
    from neuroseg.models import get_spec, list_models, list_pretrained, pretrained_info

    action = getattr(args, "models_command", None)
    if action == "ensemble":
        return run_ensemble(args)
    if action != "list":
        print(
            "usage: neuroseg models list [PATTERN] [--measure] [--no-flops]\n"
            "       neuroseg models ensemble MODEL [MODEL ...] --out OUT.keras"
        )
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


def member_paths(arg: str, checkpoint: str) -> list[str]:
    """The model files one ``MODEL`` argument of ``models ensemble`` stands for.

    A ``neuroseg cv`` folder gives its ``fold_<k>/<checkpoint>.keras`` in fold order, a run
    directory its ``<checkpoint>.keras``; anything else (a file, a pretrained name) is kept.

    Raises:
        ModelError: A folder that is neither, or a fold without its checkpoint file.
    """
    path = Path(arg)
    if not path.is_dir():
        return [arg]
    folds = sorted(
        (int(m.group(1)), d)
        for d in path.iterdir()
        if d.is_dir() and (m := re.fullmatch(r"fold_(\d+)", d.name))
    )
    dirs = [d for _, d in folds] or [path]
    files = [d / f"{checkpoint}.keras" for d in dirs]
    missing = [f for f in files if not f.is_file()]
    if missing:
        what = "fold" if folds else "folder"
        raise ModelError(
            f"{missing[0]}: no such file; this {what} has no {checkpoint}.keras. Pass a run "
            "directory of neuroseg train, the folder of neuroseg cv, or .keras files "
            "(--checkpoint last takes last.keras)."
        )
    return [str(f) for f in files]


def run_ensemble(args: argparse.Namespace) -> int:
    """Average the members into one model; save it with its preprocessor; return 0."""
    from neuroseg.data import preprocessor_path
    from neuroseg.inference import Predictor
    from neuroseg.models import ensemble_models

    out = Path(args.out)
    if out.suffix != ".keras":
        raise ConfigError(f"--out must end in .keras, got {args.out}.")
    paths = [p for arg in args.members for p in member_paths(arg, args.checkpoint)]
    if len(paths) < 2:
        raise ConfigError(
            f"An ensemble needs at least two models; {' '.join(args.members)} gives "
            f"{len(paths)} ({', '.join(paths)})."
        )
    predictors = [Predictor(p, tta=False) for p in paths]
    reference = predictors[0].preprocessor.get_config()
    for path, predictor in zip(paths[1:], predictors[1:]):
        config = predictor.preprocessor.get_config()
        if config != reference:
            keys = sorted(
                k for k in set(config) | set(reference) if config.get(k) != reference.get(k)
            )
            differences = ", ".join(
                f"{k}={config.get(k)!r} (not {reference.get(k)!r})" for k in keys
            )
            raise ConfigError(
                f"{path}: its preprocessor differs from {paths[0]}'s: {differences}. The "
                "members of an ensemble must be trained on slices prepared the same way."
            )
    model = ensemble_models([p.model for p in predictors], name=args.name)
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out)
    predictors[0].preprocessor.save(preprocessor_path(out))
    rows = [("member", "model", "params")]
    rows += [
        (str(i), path, f"{p.model.count_params():,}")
        for i, (path, p) in enumerate(zip(paths, predictors))
    ]
    _print_table(rows, right=(2,))
    print(
        f"saved {out} ({len(paths)} members, {model.count_params():,} parameters; one forward "
        f"pass per member) and {preprocessor_path(out).name}"
    )
    return 0
