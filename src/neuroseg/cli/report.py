"""``neuroseg report``: a self-contained HTML report of a training run or of a model."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroseg.cli._common import (
    add_data_arguments,
    add_groups_argument,
    load_data_spec,
    select_groups,
)

__all__ = ["register", "run"]

_EPILOG = """\
examples:
  neuroseg report runs/resunet-lgg
  neuroseg report runs/resunet-lgg --data lgg:../shared/data/lgg-kaggle3m --out lgg.html
  neuroseg report --model resunet-lgg --data lgg:../shared/data/lgg-kaggle3m \\
      --groups TCGA_FG_A4MU_20030903 --out reports/
  neuroseg report --model my-model.keras --data figshare:PATH --out my-model.html

--out names a folder (report.html is written in it) or a file ending in .html."""


def register(sub: Any) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a training run directory or of a model",
        description="Model card, metrics and, with --data, the evaluation with best and worst "
        "cases, as one HTML file with every picture embedded. For a run directory "
        "(RUN_DIR, written by `neuroseg train`) the report adds the training curves and "
        "configuration, and without --data evaluates on the validation split recorded in "
        "its experiment.toml. For a model (--model: a pretrained name or a .keras file) the "
        "card is the pretrained model's own (intended use, limits, training data, metrics); "
        "a model file has no training curves.",
        epilog=_EPILOG,
    )
    p.add_argument(
        "run_dir",
        nargs="?",
        default=None,
        metavar="RUN_DIR",
        help="a run directory written by `neuroseg train` (or neuroseg.train.fit); "
        "or give --model instead",
    )
    p.add_argument(
        "--model",
        default=None,
        metavar="MODEL",
        help="a pretrained model name or a .keras file, instead of RUN_DIR (needs --out)",
    )
    add_data_arguments(p, required=False)
    add_groups_argument(p, purpose="a model card's split")
    p.add_argument(
        "--out",
        default=None,
        help="a folder for report.html, or a file ending in .html "
        "(default RUN_DIR/report.html; required with --model)",
    )
    p.add_argument("--cases", type=int, default=3, help="best and worst cases shown")
    p.set_defaults(handler=run)


def _recorded_validation(run: Path) -> tuple[Any, str | None, str | None]:
    """The validation split of a run made by ``neuroseg train`` (from experiment.toml)."""
    path = run / "experiment.toml"
    if not path.is_file():
        return None, None, None
    from neuroseg.data import train_test_split
    from neuroseg.train.experiment import load_experiment

    exp = load_experiment(path)
    spec = f"{exp.data['format']}:{exp.data['path']}"
    groups, fraction = exp.data.get("val_groups"), exp.data.get("val_fraction")
    if not (groups or fraction):
        return None, spec, "no validation split recorded"
    _, val = train_test_split(
        exp.load_data(),
        test_groups=groups,
        test_size=float(fraction or 0.25),
        seed=exp.train_config().seed,
    )
    split = (
        f"patient-wise; validation groups {groups}"
        if groups
        else (f"patient-wise; validation fraction {fraction}")
    )
    return val, spec, split


def run(args: argparse.Namespace) -> int:
    """Write the report."""
    from neuroseg.errors import ConfigError
    from neuroseg.inference import write_report

    if (args.run_dir is None) == (args.model is None):
        raise ConfigError(
            "give either RUN_DIR (a run directory) or --model NAME_OR_FILE, not both or "
            "neither; e.g. `neuroseg report runs/a` or `neuroseg report --model resunet-lgg "
            "--data lgg:PATH --out reports/`."
        )
    if args.model is not None and args.out is None:
        raise ConfigError(
            "--model needs --out: a folder for report.html or a file ending in .html."
        )
    if args.groups and not args.data:
        raise ConfigError("--groups selects patients of --data; give --data FORMAT:PATH too.")
    run_dir = Path(args.run_dir) if args.run_dir is not None else None
    data, description, training, split = None, args.data, None, None
    if args.data:
        data = load_data_spec(args.data, args.data_option)
        if args.groups:
            data = select_groups(data, args.groups, args.data)
            description = f"{args.data}, groups {' '.join(args.groups)}"
    elif run_dir is not None and run_dir.is_dir():
        data, training, split = _recorded_validation(run_dir)
        if data is not None:
            description = f"{training}, validation split ({split})"
    path = write_report(
        run_dir,
        model=args.model,
        data=data,
        data_description=description,
        out=args.out,
        n_cases=args.cases,
        training_data=training,
        split=split,
        progress=False if getattr(args, "quiet", False) else None,  # None: on a terminal
    )
    print(f"report written to {path}")
    return 0
