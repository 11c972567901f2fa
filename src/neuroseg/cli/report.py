"""``neuroseg report``: a self-contained HTML report of a training run."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

from neuroseg.cli._common import add_data_arguments, load_data_spec

__all__ = ["register", "run"]


def register(sub: Any) -> None:
    """Add the ``report`` subcommand."""
    p = sub.add_parser(
        "report",
        help="write a self-contained HTML report of a training run directory",
        description="Metrics, training curves, model card and, with --data (or the validation "
        "split recorded in the run's experiment.toml by `neuroseg train`), the evaluation "
        "with best and worst cases.",
    )
    p.add_argument(
        "run_dir",
        metavar="RUN_DIR",
        help="a run directory written by `neuroseg train` (or neuroseg.train.fit)",
    )
    add_data_arguments(p, required=False)
    p.add_argument("--out", default=None, help="the HTML file (default RUN_DIR/report.html)")
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
    from neuroseg.inference import write_report

    run_dir = Path(args.run_dir)
    data, description, training, split = None, args.data, None, None
    if args.data:
        data = load_data_spec(args.data, args.data_option)
    elif run_dir.is_dir():
        data, training, split = _recorded_validation(run_dir)
        if data is not None:
            description = f"{training}, validation split ({split})"
    path = write_report(
        run_dir,
        data=data,
        data_description=description,
        out=args.out,
        n_cases=args.cases,
        training_data=training,
        split=split,
    )
    print(f"report written to {path}")
    return 0
