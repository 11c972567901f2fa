"""``neuroseg data check``: check a dataset folder and report counts and problems."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

__all__ = ["FORMAT_NAMES", "register"]

#: The names of ``neuroseg.data.FORMATS``, listed here so that building the parser (and so
#: ``neuroseg --version`` and every ``--help``) imports neither the data package nor
#: TensorFlow. A test keeps the two equal.
FORMAT_NAMES = (
    "brats-slices",
    "class-folders",
    "dicom",
    "figshare",
    "figshare-mat",
    "four-class",
    "four-class-combined",
    "lgg",
    "nifti",
    "pairs",
)


_CHECK_DESCRIPTION = """\
Read every file of a dataset folder; print counts per class and patient, image sizes,
mask values and every problem (unreadable, truncated or damaged files, NaN pixels,
multi-page TIFFs, RGBA images with transparency (not brats-slices: its 4 channels are MRI
sequences), masks of the wrong size or with unexpected values, missing pairs, bad metadata
rows, colliding or nested folders, stray files, duplicates). Exit 0 without
problems, 1 with problems, 2 when the check cannot run (no such folder, bad option)."""

_CHECK_EPILOG = """\
examples:
  neuroseg data check --format lgg ../shared/data/lgg-kaggle3m
  neuroseg data check --format class-folders ../shared/data/kaggle4-training --json report.json
  neuroseg data check --format four-class ../shared/data/figshare-cheng \\
      --data-option no_tumor_root=../shared/data/br35h-no-tumor"""


def register(sub: Any) -> None:
    """Add the ``data`` subcommand (with ``data check``)."""
    p = sub.add_parser(
        "data",
        help="dataset tools (check a folder)",
        description="Dataset tools. 'check' reads every file of a dataset folder and lists "
        "its problems before you train or evaluate on it.",
        epilog="examples:\n"
        "  neuroseg data check --format class-folders my-scans\n"
        "  neuroseg data check --format lgg ../shared/data/lgg-kaggle3m --json lgg.json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    inner = p.add_subparsers(dest="data_command", metavar="ACTION")
    c = inner.add_parser(
        "check",
        help="count a dataset and list its faulty files",
        description=_CHECK_DESCRIPTION,
        epilog=_CHECK_EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    c.add_argument("--format", required=True, choices=FORMAT_NAMES, help="dataset layout")
    c.add_argument("path", help="dataset folder")
    c.add_argument("--json", metavar="OUT", help="also write the report as JSON to OUT")
    c.add_argument(
        "--data-option",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="a loader option, e.g. --data-option no_tumor_root=PATH for --format four-class "
        "(repeatable)",
    )
    c.add_argument(
        "--recursive",
        action="store_true",
        help="class-folders: read images in sub-folders of the class folders too (by default "
        "a sub-folder is reported as a problem)",
    )
    c.set_defaults(handler=run_check)
    p.set_defaults(handler=lambda args: (p.print_help(), 2)[1])


def run_check(args: argparse.Namespace) -> int:
    """Run ``neuroseg data check``; returns 0 (clean) or 1 (problems).

    A :class:`~neuroseg.errors.NeurosegError` raised here (no such folder, a bad option)
    means the check could not run; the command line turns it into exit code 2.
    """
    from neuroseg.data import parse_data_options
    from neuroseg.data.check import check

    kwargs = parse_data_options(getattr(args, "data_option", None) or [])
    if getattr(args, "recursive", False):
        if args.format != "class-folders":
            from neuroseg.errors import ConfigError

            raise ConfigError(f"--recursive applies to --format class-folders, not {args.format}.")
        kwargs["recursive"] = True
    report = check(
        args.format,
        args.path,
        progress=False if getattr(args, "quiet", False) else None,
        **kwargs,
    )
    d = report.to_dict()
    patients = (
        str(d["n_patients"])
        if d["n_patients"] is not None
        else "unknown (no patient IDs; see near-copy grouping: neuroseg.data.group_near_copies)"
    )
    print(f"{d['format']}: {d['path']}")
    if not d["loaded"]:
        print("  items: not counted: loading stopped at the problem below; fix it and check again")
    else:
        print(f"  items: {d['n_items']}   patients: {patients}")
    if d["classes"]:
        print("  classes: " + ", ".join(f"{k}={v}" for k, v in d["classes"].items()))
    if d["image_sizes"]:
        print("  sizes: " + ", ".join(f"{k} ({v})" for k, v in list(d["image_sizes"].items())[:5]))
        print(f"  channels: {d['channels']}   dtypes: {d['dtypes']}")
    if d["empty_mask_fraction"] is not None:
        print(f"  mask values: {d['mask_values']}   empty masks: {d['empty_mask_fraction']:.1%}")
    print(f"  problems: {len(d['problems'])}")
    for p in d["problems"]:
        shown = (
            p["problem"] if p["problem"].startswith(p["path"]) else f"{p['path']}: {p['problem']}"
        )
        print(f"    {shown}")
    if args.json:
        Path(args.json).write_text(json.dumps(d, indent=2))
    return 0 if report.ok else 1
