"""Download and safely extract the original Figshare release of Cheng et al.

The release (doi:10.6084/m9.figshare.1512427) is published as several zip archives
(``brainTumorDataPublic_1-766.zip`` … ``_2299-3064.zip``, plus ``cvind.mat``); figshare's
"download all" bundles them into one zip of zips. :func:`download_figshare` downloads each
part with HTTP ``Range`` resumption (validated with the server's ``ETag`` /
``Last-Modified`` through ``If-Range``, so a file that changed on the server is downloaded
again instead of spliced onto an old ``.part``), checks its length and, when one is given,
its SHA-256, and extracts every zip or tar archive (zips inside zips too) with
:func:`safe_extract`, which refuses any member that would land outside ``dest``
(absolute paths, ``..``), links and device files, encrypted members, unsupported
compression methods and members that clash (a name that is both a file and a folder, or
given twice).

Without a checksum (the Figshare default: neuroseg has not pinned one) every download says
so with an :class:`~neuroseg.errors.UnverifiedDownloadWarning` naming the file and its
digest; the digest is also written to ``dest/SHA256SUMS`` so you can pin it.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import logging
import lzma
import os
import re
import shutil
import stat
import tarfile
import urllib.error
import urllib.parse
import urllib.request
import warnings
import zipfile
import zlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import IO

from neuroseg.errors import (
    ConfigError,
    DataError,
    NeurosegError,
    ReadError,
    UnverifiedDownloadWarning,
)

__all__ = ["FIGSHARE_PARTS", "ArchivePart", "download_figshare", "safe_extract"]

_log = logging.getLogger("neuroseg.data")

_SHA256 = re.compile(r"[0-9a-f]{64}")
_SCHEMES = ("http", "https")


@dataclass(frozen=True)
class ArchivePart:
    """One file of a multi-part release.

    The values are checked when the part is made: the URL must be ``http://`` or
    ``https://``, the file name a plain name (no folder, no ``..``: it is written inside
    the destination folder), and the SHA-256 64 hexadecimal digits (upper case is
    accepted and stored in lower case).

    Attributes:
        url: Where to download it.
        filename: The local file name.
        sha256: Expected SHA-256 (hex), or ``None`` to skip the check: the download then
            warns (:class:`~neuroseg.errors.UnverifiedDownloadWarning`) that its integrity
            was not verified, and its digest is written to ``SHA256SUMS`` so you can pin it.

    Raises:
        ConfigError: A URL, file name or SHA-256 that is not valid (the message names it).

    Example:
        >>> ArchivePart("https://example.org/a.zip", "a.zip", "AB" * 32).sha256[:4]
        'abab'
    """

    url: str
    filename: str
    sha256: str | None = None

    def __post_init__(self) -> None:
        url = self.url
        parsed = urllib.parse.urlsplit(url) if isinstance(url, str) else None
        if parsed is None or parsed.scheme.lower() not in _SCHEMES or not parsed.netloc:
            raise ConfigError(
                f"ArchivePart url {url!r}: not an http:// or https:// URL with a host; give "
                "the full download address."
            )
        name = self.filename
        if (
            not isinstance(name, str)
            or name in ("", ".", "..")
            or "/" in name
            or "\\" in name
            or "\x00" in name
            or (len(name) > 1 and name[1] == ":")
        ):
            raise ConfigError(
                f"ArchivePart filename {name!r}: must be a plain file name (no folder, no "
                "'..', no drive): the file is written inside the destination folder."
            )
        if self.sha256 is not None:
            digest = str(self.sha256).strip().lower()
            if not _SHA256.fullmatch(digest):
                raise ConfigError(
                    f"ArchivePart sha256 {self.sha256!r} for {name}: not a SHA-256 (64 "
                    "hexadecimal digits); give the digest, or None to skip the check."
                )
            object.__setattr__(self, "sha256", digest)


#: The public release on figshare ("download all" bundle). The checksum is not pinned
#: here: neuroseg has not verified a digest for it; each download warns
#: (:class:`~neuroseg.errors.UnverifiedDownloadWarning`) and writes the computed one to
#: ``dest/SHA256SUMS``. Tests never touch this URL.
FIGSHARE_PARTS: tuple[ArchivePart, ...] = (
    ArchivePart(
        url="https://figshare.com/ndownloader/articles/1512427/versions/8",
        filename="figshare-1512427.zip",
    ),
)

_CHUNK = 1 << 20
_ZIP_METHODS = {
    zipfile.ZIP_STORED: "stored",
    zipfile.ZIP_DEFLATED: "deflate",
    zipfile.ZIP_BZIP2: "bzip2",
    zipfile.ZIP_LZMA: "lzma",
}
_TAR_SUFFIXES = (".tar", ".tar.gz", ".tgz", ".tar.bz2", ".tbz2", ".tar.xz", ".txz")
# What a damaged archive raises while its members are read.
_CORRUPT = (
    zipfile.BadZipFile,
    tarfile.TarError,
    zlib.error,
    lzma.LZMAError,
    EOFError,
    NotImplementedError,
    RuntimeError,
    ValueError,
)


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


# ------------------------------------------------------------------ download
class _RestartError(Exception):
    """The server's answer does not continue the ``.part``: download it from the start."""


def _validators(meta: Path, url: str) -> dict[str, str] | None:
    """The ``ETag`` / ``Last-Modified`` recorded when the ``.part`` was started, if usable."""
    try:
        data = json.loads(meta.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(data, dict) or data.get("url") != url:
        return None
    found = {k: str(data[k]) for k in ("etag", "last_modified") if data.get(k)}
    # A weak ETag cannot validate a byte range (RFC 9110, If-Range).
    if found.get("etag", "").startswith("W/"):
        found.pop("etag")
    return found or None


def _content_range(value: str | None) -> tuple[int, int | None] | None:
    """``(start, total)`` of a ``Content-Range: bytes a-b/total`` header."""
    m = re.fullmatch(r"\s*bytes\s+(\d+)-(\d+)/(\d+|\*)\s*", value or "")
    if m is None:
        return None
    return int(m.group(1)), None if m.group(3) == "*" else int(m.group(3))


def _copy(resp: IO[bytes], out: IO[bytes]) -> int:
    n = 0
    for block in iter(lambda: resp.read(_CHUNK), b""):
        out.write(block)
        n += len(block)
    return n


def _download(part: ArchivePart, tmp: Path, meta: Path, timeout: float) -> None:
    """Download ``part`` into ``tmp``, resuming it only when the server proves it unchanged."""
    valid = _validators(meta, part.url) if tmp.is_file() else None
    have = tmp.stat().st_size if tmp.is_file() and valid is not None else 0
    if tmp.is_file() and not have:  # a .part nobody can vouch for: start over
        tmp.unlink()
    request = urllib.request.Request(part.url)
    if have and valid is not None:
        request.add_header("Range", f"bytes={have}-")
        request.add_header("If-Range", valid.get("etag") or valid["last_modified"])
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status = int(resp.status)
            etag, modified = resp.headers.get("ETag"), resp.headers.get("Last-Modified")
            if have and status == 206:
                span = _content_range(resp.headers.get("Content-Range"))
                same = valid is not None and (
                    (etag == valid["etag"])
                    if "etag" in valid
                    else modified == valid["last_modified"]
                )
                if span is None or span[0] != have or not same:
                    raise _RestartError
                expected = span[1]
                mode = "ab"
            elif status == 200:
                length = resp.headers.get("Content-Length")
                expected = int(length) if length and length.isdigit() else None
                mode = "wb"
                if etag or modified:
                    meta.write_text(
                        json.dumps({"url": part.url, "etag": etag, "last_modified": modified})
                    )
                else:
                    meta.unlink(missing_ok=True)
            else:
                raise ReadError(
                    f"{part.url}: unexpected HTTP {status} for {part.filename}; expected 200 "
                    "or 206. Check the URL."
                )
            with tmp.open(mode) as out:
                _copy(resp, out)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the range is past the file's end: it changed
            raise _RestartError from exc
        raise ReadError(
            f"{part.url}: download of {part.filename} failed (HTTP {exc.code} {exc.reason}). "
            "Check the URL."
        ) from exc
    except (urllib.error.URLError, http.client.HTTPException, OSError, ValueError) as exc:
        got = tmp.stat().st_size if tmp.exists() else 0
        reason = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        again = (
            f"run again to resume from {got} bytes"
            if meta.is_file()
            else "run again (the server gives no ETag/Last-Modified, so it starts over)"
        )
        raise ReadError(
            f"{part.url}: download of {part.filename} interrupted or refused "
            f"({type(exc).__name__}: {reason}); {again}."
        ) from exc
    got = tmp.stat().st_size
    if expected is not None and got != expected:
        raise ReadError(
            f"{part.url}: {tmp.name} has {got} bytes but the server announced {expected} "
            "(a short read); run again to resume."
        )


def _fetch(part: ArchivePart, dest: Path, timeout: float) -> Path:
    """Download one part into ``dest``: resumable, length- and (if given) checksum-checked."""
    final = dest / part.filename
    if final.resolve().parent != dest.resolve():
        raise ConfigError(f"{part.filename}: would be written outside {dest}; refused.")
    if final.is_file() and (part.sha256 is None or _sha256(final) == part.sha256):
        return final
    tmp = dest / (part.filename + ".part")
    meta = dest / (part.filename + ".part.json")
    complete = part.sha256 is not None and tmp.is_file() and _sha256(tmp) == part.sha256
    if not complete:
        try:
            _download(part, tmp, meta, timeout)
        except _RestartError:
            _log.info("%s: changed on the server since the .part began; starting over", part.url)
            tmp.unlink(missing_ok=True)
            meta.unlink(missing_ok=True)
            _download(part, tmp, meta, timeout)
    digest = _sha256(tmp)
    if part.sha256 is not None and digest != part.sha256:
        bad = tmp.with_name(tmp.name + ".bad")
        tmp.replace(bad)
        meta.unlink(missing_ok=True)
        raise ReadError(
            f"{part.filename}: SHA-256 {digest} does not match the expected {part.sha256}; "
            f"kept as {bad.name}. Delete it and download again."
        )
    if part.sha256 is None:
        warnings.warn(
            UnverifiedDownloadWarning(
                f"{part.filename}: no SHA-256 was given for {part.url}, so the download was "
                f"NOT verified (a truncated, swapped or spliced file would pass). Its SHA-256 "
                f"is {digest} (written to {dest / 'SHA256SUMS'}); check it against a "
                "trusted source and pin it with ArchivePart(sha256=...)."
            ),
            stacklevel=3,
        )
        with (dest / "SHA256SUMS").open("a") as fh:
            fh.write(f"{digest}  {part.filename}\n")
    tmp.replace(final)
    meta.unlink(missing_ok=True)
    return final


# ------------------------------------------------------------------ extraction
def _member_path(archive: Path, name: str, root: Path) -> PurePosixPath:
    """The member's relative path, refusing absolute paths, drives and ``..``."""
    pure = PurePosixPath(name.replace("\\", "/"))
    drive = bool(pure.parts) and ":" in pure.parts[0]
    if pure.is_absolute() or drive:
        raise DataError(f"{archive}: member {name!r} has an absolute path; refused.")
    if ".." in pure.parts:
        raise DataError(f"{archive}: member {name!r} escapes the target folder; refused.")
    if "\x00" in name or not pure.parts:
        raise DataError(f"{archive}: member {name!r} has no usable name; refused.")
    target = (root / pure).resolve()
    if target != root and root not in target.parents:
        raise DataError(f"{archive}: member {name!r} escapes the target folder; refused.")
    return pure


def _check_clashes(
    archive: Path,
    root: Path,
    files: Sequence[tuple[str, PurePosixPath]],
    dirs: Iterable[PurePosixPath],
) -> None:
    """Refuse members given twice, both a file and a folder, or clashing with ``root``."""
    seen: dict[PurePosixPath, str] = {}
    folders = set(dirs)
    for _, rel in files:
        folders.update(rel.parents)
    folders.discard(PurePosixPath("."))
    for name, rel in files:
        if rel in seen:
            raise DataError(
                f"{archive}: member {name!r} appears twice (the second would overwrite the "
                "first); refused. Re-pack the archive."
            )
        seen[rel] = name
        if rel in folders:
            raise DataError(
                f"{archive}: member {name!r} is both a file and a folder in the archive; "
                "refused. Re-pack the archive."
            )
        target = root / rel
        if target.is_dir() and not target.is_symlink():
            raise DataError(
                f"{archive}: member {name!r} would overwrite the folder {target}; refused. "
                "Extract into an empty folder."
            )
    for rel in folders:
        target = root / rel
        if target.exists() and not target.is_dir():
            raise DataError(
                f"{archive}: the folder {rel.as_posix()!r} of the archive clashes with the "
                f"file {target}; refused. Extract into an empty folder."
            )


def _write(archive: Path, name: str, src: IO[bytes], target: Path, written: list[Path]) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    written.append(target)
    try:
        with target.open("wb") as dst:
            shutil.copyfileobj(src, dst, _CHUNK)
    except _CORRUPT as exc:
        raise ReadError(
            f"{archive}: member {name!r} is corrupt ({type(exc).__name__}: {exc}); the archive "
            "is damaged or was cut short. Download it again."
        ) from exc


def _extract_zip(archive: Path, root: Path, written: list[Path]) -> None:
    try:
        zf = zipfile.ZipFile(archive)
    except (zipfile.BadZipFile, zipfile.LargeZipFile, ValueError, EOFError) as exc:
        raise ReadError(
            f"{archive}: not a readable zip archive ({exc}); it is truncated or corrupt. "
            "Download it again."
        ) from exc
    with zf:
        members = zf.infolist()
        files: list[tuple[zipfile.ZipInfo, PurePosixPath]] = []
        dirs: list[PurePosixPath] = []
        for m in members:  # check everything before writing anything
            name = m.filename
            rel = _member_path(archive, name, root)
            mode = m.external_attr >> 16
            if stat.S_ISLNK(mode):
                raise DataError(f"{archive}: member {name!r} is a symbolic link; refused.")
            if mode and stat.S_IFMT(mode) not in (0, stat.S_IFREG, stat.S_IFDIR):
                raise DataError(f"{archive}: member {name!r} is a device, pipe or socket; refused.")
            if m.flag_bits & 0x1:
                raise DataError(
                    f"{archive}: member {name!r} is encrypted (password-protected); neuroseg "
                    "does not extract encrypted archives. Extract it yourself with the "
                    "password, or get an unencrypted copy."
                )
            if m.compress_type not in _ZIP_METHODS:
                raise DataError(
                    f"{archive}: member {name!r} uses zip compression method "
                    f"{m.compress_type}, which Python's zipfile cannot read (supported: "
                    f"{', '.join(_ZIP_METHODS.values())}). Re-pack the archive with deflate."
                )
            if m.is_dir():
                dirs.append(rel)
            else:
                files.append((m, rel))
        _check_clashes(archive, root, [(m.filename, rel) for m, rel in files], dirs)
        for rel in dirs:
            (root / rel).mkdir(parents=True, exist_ok=True)
        for m, rel in files:
            try:
                src = zf.open(m)
            except _CORRUPT as exc:
                raise ReadError(
                    f"{archive}: member {m.filename!r} cannot be read ({type(exc).__name__}: "
                    f"{exc}); the archive is damaged. Download it again."
                ) from exc
            with src:
                _write(archive, m.filename, src, root / rel, written)


def _extract_tar(archive: Path, root: Path, written: list[Path]) -> None:
    try:
        tf = tarfile.open(archive, "r:*")  # noqa: SIM115 - closed below, after the checks
        members = tf.getmembers()
    except (*_CORRUPT, OSError) as exc:
        raise ReadError(
            f"{archive}: not a readable tar archive ({type(exc).__name__}: {exc}); it is "
            "truncated or corrupt. Download it again."
        ) from exc
    with tf:
        files: list[tuple[tarfile.TarInfo, PurePosixPath]] = []
        dirs: list[PurePosixPath] = []
        for m in members:
            rel = _member_path(archive, m.name, root)
            if m.issym() or m.islnk():
                raise DataError(f"{archive}: member {m.name!r} is a link; refused.")
            if m.isdir():
                dirs.append(rel)
            elif m.isfile():
                files.append((m, rel))
            else:
                raise DataError(
                    f"{archive}: member {m.name!r} is a device, pipe or other special file; "
                    "refused."
                )
        _check_clashes(archive, root, [(m.name, rel) for m, rel in files], dirs)
        for rel in dirs:
            (root / rel).mkdir(parents=True, exist_ok=True)
        for m, rel in files:
            try:
                src = tf.extractfile(m)
            except (*_CORRUPT, OSError) as exc:
                raise ReadError(
                    f"{archive}: member {m.name!r} cannot be read ({exc}); the archive is "
                    "damaged. Download it again."
                ) from exc
            if src is None:  # pragma: no cover - isfile() members always have data
                continue
            with src:
                _write(archive, m.name, src, root / rel, written)


def _is_archive(path: Path) -> bool:
    name = path.name.lower()
    return name.endswith(".zip") or name.endswith(_TAR_SUFFIXES)


def safe_extract(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[Path]:
    """Extract a zip or tar archive into ``dest``, refusing anything unsafe or damaged.

    Refused before anything is written (a :class:`~neuroseg.errors.DataError` naming the
    archive and the member): absolute member names, ``..`` components, drive letters,
    symbolic and hard links, devices and pipes, encrypted zip members, zip compression
    methods Python cannot read, members given twice or that are both a file and a folder,
    and members that would replace a folder (or a folder that would replace a file) in
    ``dest``. A member whose data turns out corrupt while it is extracted (CRC mismatch,
    cut-off stream) raises :class:`~neuroseg.errors.ReadError`, and the files this call
    wrote are removed again. Zips found inside are extracted beside themselves, with the
    same checks. The format is recognised by content: a zip, else a (possibly gzip-, bz2-
    or xz-compressed) tar.

    Args:
        archive: The zip or tar file.
        dest: The folder to extract into (created if needed).

    Returns:
        The extracted regular files (nested zips replaced by their content).

    Raises:
        DataError: An unsafe or unsupported member (the message names the archive and the
            member).
        ReadError: Missing file, neither a zip nor a tar archive, or a corrupt member.

    Example:
        >>> import zipfile, tempfile, os
        >>> d = tempfile.mkdtemp(); z = os.path.join(d, "a.zip")
        >>> with zipfile.ZipFile(z, "w") as f:
        ...     f.writestr("x/1.txt", "hi")
        >>> safe_extract(z, os.path.join(d, "out"))[0].name
        '1.txt'
    """
    archive, dest = Path(archive), Path(dest)
    if not archive.is_file():
        raise ReadError(f"{archive}: no such archive file.")
    try:
        is_zip = zipfile.is_zipfile(archive)
        is_tar = not is_zip and tarfile.is_tarfile(archive)
    except (*_CORRUPT, OSError) as exc:
        raise ReadError(f"{archive}: cannot be read ({exc}).") from exc
    if not (is_zip or is_tar):
        raise ReadError(
            f"{archive}: neither a zip nor a tar archive ({archive.stat().st_size} bytes); it "
            "is truncated, corrupt or another format. Download it again."
        )
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    written: list[Path] = []
    try:
        if is_zip:
            _extract_zip(archive, root, written)
        else:
            _extract_tar(archive, root, written)
    except OSError as exc:
        _remove(written)
        raise ReadError(f"{archive}: extraction into {dest} failed ({exc}).") from exc
    except BaseException:
        _remove(written)
        raise
    result: list[Path] = []
    try:
        for p in written:
            if p.suffix.lower() == ".zip":
                result += safe_extract(p, p.parent)
                p.unlink()
            else:
                result.append(p)
    except NeurosegError as exc:
        _remove([*written, *result])
        raise type(exc)(f"{archive}: in the nested archive {p.name}: {exc}") from exc
    return result


def _remove(paths: Iterable[Path]) -> None:
    for p in paths:
        with contextlib.suppress(OSError):
            p.unlink(missing_ok=True)


def download_figshare(
    dest: str | os.PathLike[str],
    *,
    parts: Sequence[ArchivePart] = FIGSHARE_PARTS,
    extract: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download (resumably) and extract the original Figshare release of Cheng et al.

    Each part is downloaded to ``dest/<filename>.part``; an interrupted download resumes
    from where it stopped with HTTP ``Range``, sending the ``ETag`` (or ``Last-Modified``)
    the server gave when the ``.part`` began as ``If-Range``: a file that changed on the
    server meanwhile is downloaded again from the start, never spliced onto the old bytes
    (a ``.part`` without recorded validators is started over too). The length is checked
    against the server's; the SHA-256 when the part gives one. A part without a SHA-256
    (the default :data:`FIGSHARE_PARTS`: no digest is pinned) is accepted with an
    :class:`~neuroseg.errors.UnverifiedDownloadWarning` naming its digest, which is also
    appended to ``dest/SHA256SUMS``. Archives are then extracted with
    :func:`safe_extract`; load the result with ``load_dataset("figshare-mat", dest)``.

    Args:
        dest: The target folder.
        parts: The files to fetch; the default is :data:`FIGSHARE_PARTS` (the public
            release). Pass your own (e.g. a mirror, with pinned checksums).
        extract: Extract the zip and tar parts.
        timeout: Socket timeout in seconds.

    Returns:
        ``dest``.

    Raises:
        ReadError: A failed, interrupted or short download, a checksum mismatch, or a
            corrupt archive.
        DataError: An unsafe archive.
        ConfigError: A part whose URL, file name or SHA-256 is not valid.

    Example:
        >>> from neuroseg.data import download_figshare
        >>> download_figshare("data/figshare-mat")  # doctest: +SKIP
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for part in parts:
        if not isinstance(part, ArchivePart):
            raise ConfigError(
                f"parts: {part!r} is not an ArchivePart; build one with "
                "ArchivePart(url, filename, sha256)."
            )
        path = _fetch(part, dest, timeout)
        if extract and _is_archive(path):
            done = dest / (path.name + ".extracted")
            if not done.exists():
                safe_extract(path, dest)
                done.touch()
    return dest
