"""``neuroseg train`` and ``neuroseg cv``: training and cross-validation from a TOML config.

Only the command line lives here (arguments, and removing a half-made run directory on
failure); the run itself is :func:`neuroseg.train.experiment.train_experiment` and
:func:`neuroseg.train.experiment.cross_validate_experiment`.
"""

from __future__ import annotations

import argparse
import shlex
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

__all__ = ["register"]

_TRAIN_DESCRIPTION = (
    "Train one model from a TOML experiment config ([data], [model], [augment], [train]; see "
    "examples/configs/ and the Training docs) into a run directory: config, history, curves, "
    "best.keras and last.keras, checkpointed every epoch. A killed run continues with "
    "--resume. A run that fails before its first epoch finishes leaves no run directory "
    "behind (a folder that existed before is kept)."
)
_TRAIN_EPILOG = """examples:
  neuroseg train --config examples/configs/resunet_lgg.toml --out runs/lgg
  neuroseg train --config examples/configs/resunet_lgg.toml --out runs/smoke \\
      --set train.epochs=1 --set data.limit=64 --set data.image_size=64
  neuroseg train --config examples/configs/resunet_lgg.toml --out runs/lgg --resume

With fewer epochs than its warm-up (--set train.epochs=1), the warm-up is lowered to
epochs - 1 and the run summary says so. data.limit keeps a seeded subset stratified by
class (or by tumour present) that keeps patients together."""
_CV_DESCRIPTION = (
    "Patient-wise cross-validation from a TOML experiment config: one run directory per fold "
    "(fold_1/, fold_2/, ...), each trained from scratch and evaluated on its held-out "
    "patients, then cv_folds.csv and cv_summary.json (mean and std over folds). --resume "
    "skips finished folds and continues the unfinished one."
)
_CV_EPILOG = """examples:
  neuroseg cv --config examples/configs/figshare_segmentation.toml --out runs/figshare-cv
  neuroseg cv --config examples/configs/lgg_segmentation.toml --out runs/lgg-cv --folds 3 \\
      --set train.epochs=5
  neuroseg cv --config examples/configs/lgg_segmentation.toml --out runs/lgg-cv --resume"""


def _common(p: argparse.ArgumentParser) -> None:
    p.add_argument("--config", required=True, help="experiment TOML (see examples/configs/)")
    p.add_argument("--out", required=True, help="run directory")
    p.add_argument("--resume", action="store_true", help="continue from the last finished epoch")
    p.add_argument(
        "--set",
        action="append",
        default=[],
        metavar="SECTION.KEY=VALUE",
        help="override a config value, e.g. --set train.epochs=3 (repeatable)",
    )


def register(sub: Any) -> None:
    """Add the ``train`` and ``cv`` subcommands."""
    p = sub.add_parser(
        "train",
        help="train a model from a TOML experiment config",
        description=_TRAIN_DESCRIPTION,
        epilog=_TRAIN_EPILOG,
    )
    _common(p)
    p.add_argument(
        "--strategy",
        choices=["none", "mirrored"],
        default="none",
        help="tf.distribute strategy: 'mirrored' uses every local GPU (see docs: Scaling out)",
    )
    p.set_defaults(handler=run_train)
    p = sub.add_parser(
        "cv",
        help="patient-wise cross-validation from a TOML experiment config",
        description=_CV_DESCRIPTION,
        epilog=_CV_EPILOG,
    )
    _common(p)
    p.add_argument("--folds", type=int, help="number of folds (overrides [cv] folds)")
    p.set_defaults(handler=run_cv)


def _load(args: argparse.Namespace) -> Any:
    from neuroseg.train.experiment import load_experiment

    return load_experiment(args.config, args.set)


def _verbose(args: argparse.Namespace) -> int:
    return 0 if getattr(args, "quiet", False) else (1 if sys.stdout.isatty() else 2)


def _finished_epochs(out: Path) -> dict[str, int]:
    """Finished epochs per run directory in ``out`` (itself, or its ``fold_<k>/``)."""
    import json

    found: dict[str, int] = {}
    # The committed set's manifest (neuroseg.train.rundir: checkpoints/manifest.json) is the
    # commit; the top-level state.json is copied from it just after, so a stop between the
    # two must still count the epoch. Both are named here so a failure needs no TensorFlow.
    for run in [out, *sorted(p for p in out.glob("fold_*") if p.is_dir())]:
        done = 0
        for record in (run / "checkpoints" / "manifest.json", run / "state.json"):
            try:
                done = max(done, int(json.loads(record.read_text()).get("completed_epochs", 0)))
            except (OSError, ValueError, TypeError, AttributeError):
                continue
        if done > 0:
            found[run.name if run != out else str(out)] = done
    return found


def _resume_command(args: argparse.Namespace) -> str:
    parts = ["neuroseg", args.command, "--config", args.config, "--out", args.out]
    for value in args.set:
        parts += ["--set", value]
    if getattr(args, "folds", None):
        parts += ["--folds", str(args.folds)]
    if getattr(args, "strategy", "none") != "none":
        parts += ["--strategy", args.strategy]
    return shlex.join([*parts, "--resume"])


@contextmanager
def _no_half_made_run(args: argparse.Namespace) -> Iterator[None]:
    """On failure, remove what this run created in ``--out`` unless an epoch finished.

    A folder that existed before is never removed, nor anything that was in it; with a
    finished epoch nothing is removed and the message says how to resume.
    """
    out = Path(args.out)
    existed = out.exists()
    before = set(out.iterdir()) if out.is_dir() else set()
    try:
        yield
    except BaseException:
        finished = _finished_epochs(out) if out.is_dir() else {}
        if finished:
            where = ", ".join(f"{name}: {n} epoch(s)" for name, n in finished.items())
            print(
                f"neuroseg {args.command}: stopped; the finished epochs are kept ({where}). "
                f"Continue with: {_resume_command(args)}",
                file=sys.stderr,
            )
        elif not existed and out.is_dir():
            shutil.rmtree(out, ignore_errors=True)
            print(
                f"neuroseg {args.command}: no epoch finished; removed the run directory {out}.",
                file=sys.stderr,
            )
        elif out.is_dir():
            made = sorted(set(out.iterdir()) - before)
            for path in made:
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
            if made:
                print(
                    f"neuroseg {args.command}: no epoch finished; removed what this run wrote "
                    f"in {out} ({', '.join(p.name for p in made)}); the folder was there "
                    "before and is kept.",
                    file=sys.stderr,
                )
        raise


def run_train(args: argparse.Namespace) -> int:
    """Train one model: patient-wise validation split from ``[data]``."""
    with _no_half_made_run(args):
        return _train(args)


def _train(args: argparse.Namespace) -> int:
    from neuroseg.train.experiment import train_experiment

    result = train_experiment(
        _load(args),
        args.out,
        resume=args.resume,
        strategy=getattr(args, "strategy", "none"),
        verbose=_verbose(args),
    )
    print(
        f"best {result.monitor} = {result.best_value:.4f} at epoch {result.best_epoch}"
        + (" (stopped early)" if result.stopped_early else "")
    )
    return 0


def run_cv(args: argparse.Namespace) -> int:
    """Cross-validate over patient-wise folds."""
    with _no_half_made_run(args):
        return _cv(args)


def _cv(args: argparse.Namespace) -> int:
    from neuroseg.train.experiment import cross_validate_experiment

    result = cross_validate_experiment(
        _load(args), args.out, folds=args.folds, resume=args.resume, verbose=_verbose(args)
    )
    print(result.table())
    if result.pooled:
        print(result.pooled_line())
    print(
        f"per-fold results: {args.out}/cv_folds.csv; held-out items: {args.out}/cv_items.csv; "
        f"summary (with the pooled figures): {args.out}/cv_summary.json"
    )
    return 0
