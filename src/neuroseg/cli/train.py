"""``neuroseg train`` and ``neuroseg cv``: training and cross-validation from a TOML config."""

from __future__ import annotations

import argparse
from typing import Any

__all__ = ["register"]


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
    p = sub.add_parser("train", help="train a model from a TOML experiment config")
    _common(p)
    p.add_argument(
        "--strategy",
        choices=["none", "mirrored"],
        default="none",
        help="tf.distribute strategy: 'mirrored' uses every local GPU (see docs: Scaling out)",
    )
    p.set_defaults(handler=run_train)
    p = sub.add_parser("cv", help="patient-wise cross-validation from a TOML experiment config")
    _common(p)
    p.add_argument("--folds", type=int, help="number of folds (overrides [cv] folds)")
    p.set_defaults(handler=run_cv)


def _prepare(args: argparse.Namespace) -> Any:
    from pathlib import Path

    from neuroseg.train.experiment import load_experiment
    from neuroseg.train.toml import dumps

    exp = load_experiment(args.config, args.set)
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "experiment.toml").write_text(dumps(exp.to_dict()))
    return exp


def _check_split(train: Any, val: Any) -> None:
    """Refuse shared patients or identical images; report perceptual near-duplicates."""
    from neuroseg.data import check_leakage
    from neuroseg.errors import DataError

    report = check_leakage(train, val)
    if report.shared_groups or report.duplicate_pairs:
        raise DataError(
            f"Leakage between training and validation: shared patients {report.shared_groups[:5]}, "
            f"identical images {report.duplicate_pairs[:3]}. Fix the split or the data."
        )
    near = getattr(report, "near_duplicate_pairs", [])
    if near:
        print(
            f"warning: {len(near)} near-duplicate image pair(s) across training and validation "
            f"(perceptual hash), e.g. {near[0][0]} ~ {near[0][1]}. Inspect them: they may be "
            "the same patient under different IDs."
        )


def run_train(args: argparse.Namespace) -> int:
    """Train one model: patient-wise validation split from ``[data]``."""
    import sys

    from neuroseg.data import train_test_split
    from neuroseg.train import epoch_pipeline, fit, set_seed

    exp = _prepare(args)
    config = exp.train_config()
    ds = exp.load_data()
    val = None
    if exp.data.get("val_groups") or exp.data.get("val_fraction"):
        ds, val = train_test_split(
            ds,
            test_groups=exp.data.get("val_groups"),
            test_size=float(exp.data.get("val_fraction", 0.25)),
            seed=config.seed,
        )
        _check_split(ds, val)
    pipe = exp.pipeline_kwargs()
    channels = pipe["channels"] or int(ds[0].load_image().shape[-1])
    pipe["channels"] = channels
    print(
        f"neuroseg train: {len(ds)} training slices"
        + (f", {len(val)} validation slices (patient-wise)" if val is not None else "")
        + f"; model {exp.model['name']}; {config.epochs} epochs -> {args.out}"
    )
    make = epoch_pipeline(ds, seed=config.seed, augment=exp.augmentation(), **pipe)
    val_ds = val.to_tf_dataset(**pipe) if val is not None else None
    set_seed(config.seed, deterministic=config.deterministic)  # before the weights are drawn
    strategy = None
    if getattr(args, "strategy", "none") == "mirrored":
        import tensorflow as tf

        strategy = tf.distribute.MirroredStrategy()
        print(f"MirroredStrategy over {strategy.num_replicas_in_sync} device(s)")
        with strategy.scope():
            model = exp.build_model(channels)
    else:
        model = exp.build_model(channels)
    result = fit(
        model,
        make,
        val_ds,
        config=config,
        out=args.out,
        resume=args.resume,
        strategy=strategy,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    print(
        f"best {result.monitor} = {result.best_value:.4f} at epoch {result.best_epoch}"
        + (" (stopped early)" if result.stopped_early else "")
    )
    return 0


def run_cv(args: argparse.Namespace) -> int:
    """Cross-validate over patient-wise folds."""
    import sys

    from neuroseg.train.cv import cross_validate

    exp = _prepare(args)
    ds = exp.load_data()
    pipe = exp.pipeline_kwargs()
    channels = pipe["channels"] or int(ds[0].load_image().shape[-1])
    pipe["channels"] = channels
    folds = args.folds or int(exp.cv.get("folds", 5))
    result = cross_validate(
        lambda: exp.build_model(channels),
        ds,
        folds=folds,
        config=exp.train_config(),
        out=args.out,
        pipeline=pipe,
        augment=exp.augmentation(),
        resume=args.resume,
        verbose=1 if sys.stdout.isatty() else 2,
    )
    print(result.table())
    print(f"per-fold results: {args.out}/cv_folds.csv; summary: {args.out}/cv_summary.json")
    return 0
