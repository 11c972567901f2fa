"""Download and safely extract the original Figshare release of Cheng et al.

The release (doi:10.6084/m9.figshare.1512427) is published as several zip archives
(``brainTumorDataPublic_1-766.zip`` … ``_2299-3064.zip``, plus ``cvind.mat``); figshare's
"download all" bundles them into one zip of zips. :func:`download_figshare` downloads each
part with HTTP ``Range`` resumption, checks its SHA-256 when one is given, and extracts
every zip (zips inside zips too) refusing any member that would land outside ``dest``
(absolute paths, ``..``) and any symbolic link.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
import stat
import urllib.error
import urllib.request
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from neuroseg.errors import DataError, ReadError

__all__ = ["FIGSHARE_PARTS", "ArchivePart", "download_figshare", "safe_extract"]

_log = logging.getLogger("neuroseg.data")


@dataclass(frozen=True)
class ArchivePart:
    """One file of a multi-part release.

    Attributes:
        url: Where to download it.
        filename: The local file name.
        sha256: Expected SHA-256 (hex), or ``None`` to skip the check (the digest is then
            logged and written to ``SHA256SUMS`` so you can pin it).
    """

    url: str
    filename: str
    sha256: str | None = None


#: The public release on figshare ("download all" bundle). The checksum is not pinned
#: here: neuroseg has not verified a digest for it; the one computed is written to
#: ``dest/SHA256SUMS``. Tests never touch this URL.
FIGSHARE_PARTS: tuple[ArchivePart, ...] = (
    ArchivePart(
        url="https://figshare.com/ndownloader/articles/1512427/versions/8",
        filename="figshare-1512427.zip",
    ),
)

_CHUNK = 1 << 20


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        for block in iter(lambda: fh.read(_CHUNK), b""):
            h.update(block)
    return h.hexdigest()


def _fetch(part: ArchivePart, dest: Path, timeout: float) -> Path:
    """Download one part into ``dest``, resuming a ``.part`` file with HTTP Range."""
    final = dest / part.filename
    if final.is_file() and (part.sha256 is None or _sha256(final) == part.sha256):
        return final
    tmp = dest / (part.filename + ".part")
    have = tmp.stat().st_size if tmp.is_file() else 0
    request = urllib.request.Request(part.url)
    if have:
        request.add_header("Range", f"bytes={have}-")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as resp:
            status = resp.status
            if have and status == 206:
                mode = "ab"
            else:
                mode, have = "wb", 0  # the server ignored Range: start over
            with tmp.open(mode) as out:
                shutil.copyfileobj(resp, out, _CHUNK)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and have:  # the .part is already complete
            pass
        else:
            raise ReadError(f"{part.url}: download failed (HTTP {exc.code}).") from exc
    except (urllib.error.URLError, OSError) as exc:
        raise ReadError(
            f"{part.url}: download interrupted ({exc}); run again to resume from "
            f"{tmp.stat().st_size if tmp.exists() else 0} bytes."
        ) from exc
    digest = _sha256(tmp)
    if part.sha256 is not None and digest != part.sha256.lower():
        bad = tmp.with_name(tmp.name + ".bad")
        tmp.replace(bad)
        raise ReadError(
            f"{part.filename}: SHA-256 {digest} does not match the expected {part.sha256}; "
            f"kept as {bad.name}. Delete it and download again."
        )
    if part.sha256 is None:
        _log.warning("%s: no checksum given; its SHA-256 is %s", part.filename, digest)
        with (dest / "SHA256SUMS").open("a") as fh:
            fh.write(f"{digest}  {part.filename}\n")
    tmp.replace(final)
    return final


def safe_extract(archive: str | os.PathLike[str], dest: str | os.PathLike[str]) -> list[Path]:
    """Extract a zip archive into ``dest``, refusing anything that would escape it.

    Refused (nothing is written then): absolute member names, ``..`` components, drive
    letters, and symbolic links. Zips found inside are extracted beside themselves,
    with the same checks.

    Args:
        archive: The zip file.
        dest: The folder to extract into (created if needed).

    Returns:
        The extracted regular files (nested zips replaced by their content).

    Raises:
        DataError: An unsafe member (the message names the archive and the member).
        ReadError: Not a zip file.

    Example:
        >>> import zipfile, tempfile, os
        >>> d = tempfile.mkdtemp(); z = os.path.join(d, "a.zip")
        >>> with zipfile.ZipFile(z, "w") as f:
        ...     f.writestr("x/1.txt", "hi")
        >>> safe_extract(z, os.path.join(d, "out"))[0].name
        '1.txt'
    """
    archive, dest = Path(archive), Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    root = dest.resolve()
    try:
        zf = zipfile.ZipFile(archive)
    except zipfile.BadZipFile as exc:
        raise ReadError(f"{archive}: not a zip archive ({exc}); download it again.") from exc
    out: list[Path] = []
    with zf:
        members = zf.infolist()
        for m in members:  # check everything before writing anything
            name = m.filename
            pure = PurePosixPath(name.replace("\\", "/"))
            mode = m.external_attr >> 16
            drive = bool(pure.parts) and ":" in pure.parts[0]
            if pure.is_absolute() or drive:
                raise DataError(f"{archive}: member {name!r} has an absolute path; refused.")
            if ".." in pure.parts:
                raise DataError(f"{archive}: member {name!r} escapes the target folder; refused.")
            if stat.S_ISLNK(mode):
                raise DataError(f"{archive}: member {name!r} is a symbolic link; refused.")
            target = (root / pure).resolve()
            if target != root and root not in target.parents:
                raise DataError(f"{archive}: member {name!r} escapes the target folder; refused.")
        for m in members:
            target = root / PurePosixPath(m.filename.replace("\\", "/"))
            if m.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            with zf.open(m) as src, target.open("wb") as dst:
                shutil.copyfileobj(src, dst, _CHUNK)
            out.append(target)
    result: list[Path] = []
    for p in out:
        if p.suffix.lower() == ".zip":
            result += safe_extract(p, p.parent)
            p.unlink()
        else:
            result.append(p)
    return result


def download_figshare(
    dest: str | os.PathLike[str],
    *,
    parts: Sequence[ArchivePart] = FIGSHARE_PARTS,
    extract: bool = True,
    timeout: float = 60.0,
) -> Path:
    """Download (resumably) and extract the original Figshare release of Cheng et al.

    Each part is downloaded to ``dest/<filename>.part``; an interrupted download resumes
    from where it stopped (HTTP ``Range``). The SHA-256 is checked when the part gives
    one. Zips are then extracted with :func:`safe_extract`; load the result with
    ``load_dataset("figshare-mat", dest)``.

    Args:
        dest: The target folder.
        parts: The files to fetch; the default is :data:`FIGSHARE_PARTS` (the public
            release). Pass your own (e.g. a mirror, with pinned checksums).
        extract: Extract the zip parts.
        timeout: Socket timeout in seconds.

    Returns:
        ``dest``.

    Raises:
        ReadError: A failed download or a checksum mismatch.
        DataError: An unsafe archive.

    Example:
        >>> from neuroseg.data import download_figshare
        >>> download_figshare("data/figshare-mat")  # doctest: +SKIP
    """
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for part in parts:
        path = _fetch(part, dest, timeout)
        if extract and path.suffix.lower() == ".zip":
            done = dest / (path.name + ".extracted")
            if not done.exists():
                safe_extract(path, dest)
                done.touch()
    return dest
