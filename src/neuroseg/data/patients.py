"""Patient IDs for data whose layout has none: from file names or from a table.

Class folders and image/mask pairs carry no patient ID, so a split cannot keep a patient's
slices together. When the IDs are in the file names (``P012_slice07.png``) or in a
spreadsheet, :func:`assign_patients` puts them on the records; every loader takes the same
through the ``patient_pattern`` / ``patient_table`` options of
:func:`~neuroseg.data.load_dataset` (``--data-option patient_pattern=...`` on the command
line, ``[data] options`` in an experiment config).
"""

from __future__ import annotations

import csv
import os
import re
from dataclasses import replace
from pathlib import Path, PurePath

from neuroseg.data.records import Record, SliceDataset
from neuroseg.errors import ConfigError, DataError

__all__ = ["assign_patients", "read_patient_table"]


def read_patient_table(path: str | os.PathLike[str]) -> dict[str, str]:
    r"""Read a CSV with columns ``file`` and ``patient_id`` into ``{file: patient_id}``.

    ``file`` is an image's file name or its path relative to the dataset root (with ``/``).

    Raises:
        DataError: The file is missing, lacks a column, has an empty cell or lists one
            file twice with two patients.

    Example:
        >>> import tempfile, pathlib
        >>> p = pathlib.Path(tempfile.mkdtemp()) / "patients.csv"
        >>> _ = p.write_text("file,patient_id\na.png,P1\nb.png,P2\n")
        >>> read_patient_table(p)
        {'a.png': 'P1', 'b.png': 'P2'}
    """
    p = Path(path)
    if not p.is_file():
        raise DataError(f"{p}: patient table not found (a CSV with columns file,patient_id).")
    table: dict[str, str] = {}
    with p.open(newline="", encoding="utf-8-sig") as fh:
        reader = csv.DictReader(fh)
        missing = {"file", "patient_id"} - set(reader.fieldnames or [])
        if missing:
            raise DataError(
                f"{p}: no column {sorted(missing)}; the header must name 'file' and "
                f"'patient_id' (it has {reader.fieldnames})."
            )
        for line, row in enumerate(reader, start=2):
            name, patient = (row["file"] or "").strip(), (row["patient_id"] or "").strip()
            if not name or not patient:
                raise DataError(f"{p}, line {line}: empty 'file' or 'patient_id' cell.")
            if table.get(name, patient) != patient:
                raise DataError(
                    f"{p}, line {line}: {name} is listed for patients {table[name]!r} and "
                    f"{patient!r}; one file belongs to one patient."
                )
            table[name] = patient
    return table


def _relative(image: str, root: str | None) -> str:
    if root:
        try:
            return PurePath(image).relative_to(root).as_posix()
        except ValueError:
            pass
    return PurePath(image).as_posix()


def assign_patients(
    dataset: SliceDataset,
    *,
    pattern: str | None = None,
    table: str | os.PathLike[str] | dict[str, str] | None = None,
    root: str | os.PathLike[str] | None = None,
) -> SliceDataset:
    r"""Give every record a patient ID read from its file path or from a table.

    Args:
        dataset: The records (e.g. from ``load_class_folders`` or ``load_pairs``).
        pattern: A regular expression searched in the image's path relative to ``root``
            (with ``/`` separators); the patient is its group named ``patient``, else its
            first group, else the whole match. E.g. ``r"^[^/]+/(P\d+)_"`` for
            ``glioma/P012_slice07.png``.
        table: A CSV path (see :func:`read_patient_table`) or a ``{file: patient}`` dict,
            keyed by file name or by the path relative to ``root``.
        root: The dataset root, for relative paths.

    Returns:
        The same records with ``patient_id`` set (publisher folds are kept).

    Raises:
        ConfigError: Neither or both of ``pattern`` and ``table``, or a bad expression.
        DataError: A record whose path the pattern does not match, or that the table does
            not list; the message names the file, and how many of all the files fail.
            Nothing is left without an ID silently.

    Example:
        >>> from neuroseg.data import Record, SliceDataset
        >>> ds = SliceDataset([Record(image="scans/P01_s3.png"), Record(image="scans/P02_s1.png")])
        >>> tuple(r.patient_id for r in assign_patients(ds, pattern=r"(P\d+)_", root="scans"))
        ('P01', 'P02')
    """
    if (pattern is None) == (table is None):
        raise ConfigError("assign_patients needs exactly one of pattern= and table=.")
    base = None if root is None else PurePath(root).as_posix()
    regex = None
    if pattern is not None:
        try:
            regex = re.compile(pattern)
        except re.error as exc:
            raise ConfigError(
                f"patient pattern {pattern!r} is not a valid expression: {exc}."
            ) from exc
    mapping = (
        None
        if table is None
        else (dict(table) if isinstance(table, dict) else read_patient_table(table))
    )

    def patient_of(r: Record) -> str:
        if not isinstance(r.image, (str, os.PathLike)):
            raise DataError(
                f"{r.source or 'an in-memory record'}: an array has no file name to read a "
                "patient from; set patient_id on the record instead."
            )
        rel = _relative(os.fspath(r.image), base)
        if regex is not None:
            match = regex.search(rel)
            if match is None:
                raise DataError(
                    f"{r.image}: the patient pattern {pattern!r} does not match its path "
                    f"{rel!r}; fix the pattern (it is searched in the path relative to the "
                    "dataset root) or rename the file."
                )
            if "patient" in regex.groupindex:
                patient = match.group("patient")
            elif regex.groups:
                patient = match.group(1)
            else:
                patient = match.group(0)
        else:
            assert mapping is not None
            patient = mapping.get(rel, mapping.get(PurePath(os.fspath(r.image)).name))
            if patient is None:
                raise DataError(
                    f"{r.image}: not in the patient table (looked up as {rel!r} and "
                    f"{PurePath(os.fspath(r.image)).name!r}); add a row for it."
                )
        if not patient:
            raise DataError(f"{r.image}: the patient pattern gives an empty patient ID.")
        return str(patient)

    ids: list[str] = []
    failed: list[tuple[Record, DataError]] = []
    for r in dataset.records:
        try:
            ids.append(patient_of(r))
        except DataError as exc:
            failed.append((r, exc))
    if failed:
        # Every file that fails is counted, so a pattern that fits only some is seen at once.
        first = str(failed[0][1])
        if len(failed) > 1:
            others = ", ".join(str(r.image) for r, _ in failed[1:4])
            more = f", ... ({len(failed) - 4} more)" if len(failed) > 4 else ""
            first += (
                f" {len(failed)} of {len(dataset)} files fail the same way; the others: "
                f"{others}{more}."
            )
        raise DataError(first)
    patients = iter(ids)
    return dataset.map_records(lambda r: replace(r, patient_id=next(patients)))
