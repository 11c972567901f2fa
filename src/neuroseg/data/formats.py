"""Load any supported dataset layout by name: ``load_dataset("figshare", path)``.

The command line's ``FORMAT:PATH`` arguments resolve through this registry.
"""

from __future__ import annotations

import inspect
import json
import os
from collections.abc import Callable, Sequence
from typing import Any

from neuroseg.data.brats import load_brats_slices
from neuroseg.data.dicom import load_dicom
from neuroseg.data.figshare import load_figshare
from neuroseg.data.figshare_mat import load_figshare_mat
from neuroseg.data.folders import load_class_folders
from neuroseg.data.nifti import load_nifti
from neuroseg.data.pairs import load_lgg, load_pairs
from neuroseg.data.patients import assign_patients
from neuroseg.data.records import SliceDataset
from neuroseg.errors import ConfigError, UnknownNameError

__all__ = [
    "FORMATS",
    "check_loader_options",
    "load_dataset",
    "loader_options",
    "parse_data_options",
    "parse_data_spec",
]

Loader = Callable[..., SliceDataset]


#: Format name -> loader taking ``(path, **kwargs)``.
def _load_four_class(
    path: str | os.PathLike[str],
    *,
    no_tumor_root: str | os.PathLike[str],
    folds: list[int] | None = None,
    no_tumor_folds: int | None = None,
) -> SliceDataset:
    """``four-class``: Figshare at ``path`` plus a "no tumour" folder (``no_tumor_root``)."""
    from neuroseg.data.combine import load_four_class

    return load_four_class(path, no_tumor_root, folds=folds, no_tumor_folds=no_tumor_folds)


def _load_four_class_combined(
    path: str | os.PathLike[str],
    *,
    kaggle_root: str | os.PathLike[str],
    no_tumor_root: str | os.PathLike[str],
    k: int = 4,
    seed: int = 0,
) -> SliceDataset:
    """``four-class-combined``: Figshare at ``path`` + Kaggle ``Training/`` + Br35H, deduplicated.

    Near-copies across the three sources share a fold; the groups are ``fold-1`` ...
    ``fold-k`` (see :func:`~neuroseg.data.load_four_class_combined`).
    """
    from neuroseg.data.combine import load_four_class_combined

    return load_four_class_combined(path, kaggle_root, no_tumor_root, k=k, seed=seed)


FORMATS: dict[str, Loader] = {
    "figshare": load_figshare,
    "figshare-mat": load_figshare_mat,
    "class-folders": load_class_folders,
    "lgg": load_lgg,
    "pairs": load_pairs,
    "brats-slices": load_brats_slices,
    "nifti": load_nifti,
    "dicom": load_dicom,
    "four-class": _load_four_class,
    "four-class-combined": _load_four_class_combined,
}


def load_dataset(format: str, path: str | os.PathLike[str], **kwargs: Any) -> SliceDataset:
    """Load a dataset of the named layout.

    Args:
        format: One of :data:`FORMATS` (e.g. ``"figshare"``).
        path: The dataset's root folder or file.
        **kwargs: Passed to the loader, except ``patient_pattern`` (a regular expression
            over each image's path relative to ``path``) and ``patient_table`` (a CSV of
            ``file,patient_id``), which set patient IDs on layouts that have none (see
            :func:`~neuroseg.data.assign_patients`).

    Raises:
        UnknownNameError: Unknown format; the message lists the valid ones.
        ConfigError: A loader option the format does not take, or a required one missing
            (e.g. ``four-class`` without ``no_tumor_root``); the message lists its options.

    Example:
        >>> from neuroseg.data import FORMATS
        >>> "figshare" in FORMATS
        True
    """
    if format not in FORMATS:
        raise UnknownNameError(
            f"Unknown data format {format!r}. Valid formats: {', '.join(sorted(FORMATS))}."
        )
    pattern = kwargs.pop("patient_pattern", None)
    table = kwargs.pop("patient_table", None)
    check_loader_options(format, kwargs)
    dataset = FORMATS[format](path, **kwargs)
    if pattern is None and table is None:
        return dataset
    return assign_patients(dataset, pattern=pattern, table=table, root=path)


def loader_options(format: str) -> dict[str, bool]:
    """The loader options a known format takes: name -> whether it is required.

    ``patient_pattern`` and ``patient_table`` (taken by every format) are not listed.

    Example:
        >>> loader_options("four-class")
        {'no_tumor_root': True, 'folds': False, 'no_tumor_folds': False}
    """
    params = list(inspect.signature(FORMATS[format]).parameters.values())[1:]
    return {
        p.name: p.default is inspect.Parameter.empty
        for p in params
        if p.kind in (inspect.Parameter.KEYWORD_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    }


def check_loader_options(format: str, options: dict[str, Any]) -> None:
    """Refuse loader options that ``format`` does not take, or a required one left out.

    Raises:
        ConfigError: Naming the format, the option and the options it takes.

    Example:
        >>> try:
        ...     check_loader_options("four-class", {})
        ... except ConfigError as e:
        ...     print(str(e).split(" (")[0])
        Data format 'four-class' needs the loader option no_tumor_root
    """
    taken = loader_options(format)
    listed = ", ".join(f"{k} (required)" if req else k for k, req in taken.items()) or "none"
    unknown = sorted(set(options) - set(taken))
    if unknown:
        raise ConfigError(
            f"Data format {format!r} takes no loader option {', '.join(unknown)}. "
            f"Its options: {listed} (and patient_pattern, patient_table)."
        )
    missing = [k for k, req in taken.items() if req and k not in options]
    if missing:
        names = ", ".join(missing)
        raise ConfigError(
            f"Data format {format!r} needs the loader option {names} (on the command line: "
            f"--data-option {missing[0]}=VALUE; in a config: [data] options = "
            f"{{ {missing[0]} = ... }}). Its options: {listed}."
        )


def parse_data_spec(spec: str) -> tuple[str, str]:
    """Split a command-line ``FORMAT:PATH`` into its parts.

    Example:
        >>> parse_data_spec("figshare:/data/figshare-cheng")
        ('figshare', '/data/figshare-cheng')
    """
    fmt, sep, path = spec.partition(":")
    if not sep or not fmt or not path:
        raise ConfigError(
            f"Expected FORMAT:PATH (e.g. figshare:../shared/data/figshare-cheng), got {spec!r}. "
            f"Formats: {', '.join(sorted(FORMATS))}."
        )
    return fmt, path


def parse_data_options(options: Sequence[str]) -> dict[str, Any]:
    """Parse command-line ``KEY=VALUE`` loader options.

    A value that reads as JSON (a number, ``true``, a list) is taken as such, anything else
    as a string.

    Raises:
        ConfigError: An item without ``=`` or without a key.

    Example:
        >>> parse_data_options(["no_tumor_folds=4", "no_tumor_root=data/br35h"])
        {'no_tumor_folds': 4, 'no_tumor_root': 'data/br35h'}
    """
    out: dict[str, Any] = {}
    for item in options:
        key, sep, raw = item.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"Expected a loader option as KEY=VALUE, got {item!r}.")
        try:
            value: Any = json.loads(raw)
        except json.JSONDecodeError:
            value = raw
        out[key.strip()] = value
    return out
