"""Helpers shared by the inference subcommands (not a subcommand itself)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Literal


def load_data_spec(spec: str, options: Sequence[str] | None = None) -> Any:
    """Load ``FORMAT:PATH`` through :func:`neuroseg.data.load_dataset`.

    ``options`` are ``KEY=VALUE`` loader options (``--data-option``); a value that reads as
    JSON (a number, ``true``, a list) is taken as such, anything else as a string.
    """
    from neuroseg.data import load_dataset, parse_data_options, parse_data_spec

    fmt, path = parse_data_spec(spec)
    return load_dataset(fmt, path, **parse_data_options(options or []))


def add_data_arguments(p: Any, *, required: bool = True) -> None:
    """Add ``--data FORMAT:PATH`` and ``--data-option KEY=VALUE``."""
    p.add_argument(
        "--data",
        required=required,
        default=None,
        metavar="FORMAT:PATH",
        help="a dataset, e.g. figshare:PATH or class-folders:PATH",
    )
    p.add_argument(
        "--data-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a loader option, e.g. --data-option no_tumor_root=PATH (repeatable)",
    )


def add_model_argument(p: Any) -> None:
    """Add ``--model MODEL`` (a .keras path or a pretrained name)."""
    p.add_argument(
        "--model", required=True, metavar="MODEL", help="a .keras file or a pretrained model name"
    )


def add_preprocessing_arguments(p: Any) -> None:
    """Add ``--threshold`` and ``--crop`` (defaults: a pretrained model's own)."""
    p.add_argument(
        "--threshold",
        type=float,
        default=None,
        help="foreground threshold (default: a pretrained model's own, else 0.5)",
    )
    p.add_argument(
        "--crop",
        choices=("brain", "none"),
        default=None,
        help="crop slices to the brain before resizing, as the model was trained "
        "(default: a pretrained model's own, else none)",
    )


def add_postprocessing_arguments(p: Any) -> None:
    """Add ``--min-size``, ``--largest-component`` and ``--fill-holes`` (mask clean-up)."""
    p.add_argument(
        "--min-size",
        type=int,
        default=0,
        metavar="N",
        help="drop predicted components under N pixels (default 0: keep every component)",
    )
    p.add_argument(
        "--largest-component",
        action="store_true",
        help="keep only the largest predicted component of each mask",
    )
    p.add_argument("--fill-holes", action="store_true", help="fill holes in the predicted masks")


def postprocessing_options(args: Any) -> dict[str, Any]:
    """The ``Predictor`` keywords of :func:`add_postprocessing_arguments`'s options."""
    return {
        "min_size": args.min_size,
        "largest_component": args.largest_component,
        "fill_holes": args.fill_holes,
    }


def add_groups_argument(p: Any, *, purpose: str) -> None:
    """Add ``--groups GROUP ...``: keep only some patients/folds of ``--data``.

    ``purpose`` ends the help line, e.g. ``"a model card's split"``.
    """
    p.add_argument(
        "--groups",
        nargs="+",
        default=None,
        metavar="GROUP",
        help=f"keep only these patients/folds of --data, e.g. --groups fold-4 ({purpose})",
    )


def select_groups(dataset: Any, groups: Sequence[str], spec: str, *, flag: str = "--groups") -> Any:
    """Keep the records of ``groups`` (``--groups``, or the option named by ``flag``).

    An unknown group is an error listing the dataset's groups.
    """
    from neuroseg.errors import ConfigError

    wanted = set(groups)
    present = {r.group for r in dataset}
    unknown = sorted(wanted - present)
    if unknown:
        shown = sorted(str(g) for g in present)
        listed = ", ".join(shown[:20]) + (" ..." if len(shown) > 20 else "")
        raise ConfigError(f"{flag} {unknown} not in {spec}; its groups: {listed}.")
    return dataset.filter(lambda r: r.group in wanted)


def add_tta_argument(p: Any) -> None:
    """Add ``--tta [flip|all|none]``: ``--tta`` alone averages over the left-right mirror.

    Without the flag, ``args.tta`` is ``None``: the pretrained model's own setting (its
    card's ``tta``), else none. ``--tta none`` turns it off; use :func:`tta_option` to
    turn the value into :class:`~neuroseg.inference.Predictor`'s ``tta``.
    """
    p.add_argument(
        "--tta",
        nargs="?",
        const="flip",
        default=None,
        choices=("flip", "all", "none"),
        help="test-time augmentation: --tta (or --tta flip) averages each image with its "
        "left-right mirror; --tta all over the 8 flips and quarter turns, only for a model "
        "trained with quarter turns; --tta none turns it off. Default: a pretrained "
        "model's own setting (its card's tta, with which its figures were measured), "
        "else none",
    )


_TTA_OPTIONS: dict[str | None, bool | Literal["flip", "all"]] = {
    "none": False,
    "flip": "flip",
    "all": "all",
}


def tta_option(value: str | None) -> bool | Literal["flip", "all"] | None:
    """``--tta``'s value as :class:`~neuroseg.inference.Predictor`'s ``tta``."""
    return _TTA_OPTIONS.get(value)
