"""The boundary corpus: bad model files, archives, downloads, configs and predictor inputs.

Every case is built from real files (the shipped pretrained ``.keras`` files, the bundled
sample's MRI PNGs, a real HTTP server on 127.0.0.1) and goes through the public entry
points: the Python API must raise the named :class:`~neuroseg.errors.NeurosegError`
naming the file or value, and ``neuroseg`` (``neuroseg.cli.main``) must print one line
``neuroseg: error: ...`` naming it, exit with 2 and show no traceback.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import os
import tarfile
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest

from neuroseg.cli import main
from neuroseg.data import ArchivePart, download_figshare, safe_extract
from neuroseg.errors import (
    ChannelError,
    ConfigError,
    DataError,
    EmptyDatasetError,
    ModelError,
    NeurosegError,
    ReadError,
    UnknownNameError,
    UnverifiedDownloadWarning,
)
from neuroseg.inference import Predictor, Scan, resolve_model
from neuroseg.models import load_model

from . import boundary_cases as bc


def cli_error(argv: list[str], capsys: pytest.CaptureFixture[str], *fragments: str) -> str:
    """Run ``neuroseg`` and check: exit 2, one error line naming ``fragments``, no traceback."""
    rc = main(argv)
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if line.startswith("neuroseg: error:")]
    assert rc == 2, err
    assert "Traceback" not in err, err
    assert len(lines) == 1, err
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    return lines[0]


# ================================================================== model files
def _truncated(offset: int) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        data = bc.keras_bytes()
        cut = offset if offset >= 0 else len(data) + offset
        path = tmp / f"cut-{cut}.keras"
        path.write_bytes(data[:cut])
        return path

    return build


def _write(name: str, data: Callable[[], bytes]) -> Callable[[Path], Path]:
    def build(tmp: Path) -> Path:
        path = tmp / name
        path.write_bytes(data())
        return path

    return build


def _without(member: str) -> bytes:
    return bc.zip_bytes({k: v for k, v in bc.keras_members().items() if k != member})


def _with(member: str, data: bytes) -> bytes:
    return bc.zip_bytes({**bc.keras_members(), member: data})


def _unknown_class() -> bytes:
    return bc.keras_config(class_name="NoSuch", module="nowhere", registered_name="x>NoSuch")


def _crc_flip() -> bytes:
    data = bc.keras_bytes()
    start, size = bc.member_data_offset(data, "model.weights.h5")
    return bc.flip_byte(data, start + size // 2)


def _savedmodel(tmp: Path) -> Path:
    folder = tmp / "exported"
    (folder / "variables").mkdir(parents=True)
    (folder / "saved_model.pb").write_bytes(bc.keras_members()["model.weights.h5"][:512])
    return folder


def _folder(tmp: Path) -> Path:
    (tmp / "models.keras").mkdir()
    return tmp / "models.keras"


def _h5(suffix: str) -> Callable[[Path], Path]:
    return _write(f"weights{suffix}", lambda: bc.keras_members()["model.weights.h5"])


MODEL_CASES: dict[str, tuple[Callable[[Path], Path], str]] = {
    "zero-byte": (_truncated(0), "empty (0 bytes)"),
    "cut-at-1": (_truncated(1), "truncated or corrupt"),
    "cut-at-22": (_truncated(22), "truncated or corrupt"),
    "cut-at-4096": (_truncated(4096), "truncated or corrupt"),
    "cut-at-quarter": (_truncated(len(bc.keras_bytes()) // 4), "truncated or corrupt"),
    "cut-at-half": (_truncated(len(bc.keras_bytes()) // 2), "truncated or corrupt"),
    "cut-last-22": (_truncated(-22), "truncated or corrupt"),
    "cut-last-byte": (_truncated(-1), "truncated or corrupt"),
    "text-file": (_write("notes.keras", lambda: b"this is not a model\n"), "truncated or corrupt"),
    "png-renamed": (_write("scan.keras", lambda: bc.sample_pngs(1)[0].read_bytes()), "corrupt"),
    "zip-without-config": (_write("nc.keras", lambda: _without("config.json")), "config.json"),
    "zip-without-weights": (
        _write("nw.keras", lambda: _without("model.weights.h5")),
        "model.weights.h5",
    ),
    "zip-of-pngs": (_write("pngs.keras", lambda: bc.real_zip(2)), "not a Keras model"),
    "config-not-json": (
        _write("cj.keras", lambda: _with("config.json", b"{not json")),
        "cannot be loaded",
    ),
    "config-unknown-class": (
        _write("uc.keras", lambda: _with("config.json", _unknown_class())),
        "cannot be loaded",
    ),
    "weights-crc-mismatch": (_write("crc.keras", _crc_flip), "corrupt"),
    "weights-not-hdf5": (
        _write("wh.keras", lambda: _with("model.weights.h5", b"\x00" * 4096)),
        "cannot be loaded",
    ),
    "lambda-layer": (lambda tmp: bc.lambda_model(tmp / "lambda.keras"), "safe_mode"),
    "hdf5-file": (_h5(".h5"), "HDF5"),
    "hdf5-renamed-keras": (_h5(".keras"), "HDF5"),
    "savedmodel-folder": (_savedmodel, "SavedModel"),
    "plain-folder": (_folder, "a folder"),
    "missing-file": (lambda tmp: tmp / "missing.keras", "no such model file"),
    "zip-suffix": (_write("model.zip", bc.keras_bytes), "not a .keras archive"),
}


@pytest.fixture(scope="module")
def model_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    tmp = tmp_path_factory.mktemp("models")
    return {name: build(tmp) for name, (build, _) in MODEL_CASES.items()}


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_model_file_load_model(case: str, model_files: dict[str, Path]) -> None:
    path = model_files[case]
    with pytest.raises(ModelError) as info:
        load_model(path)
    assert str(path) in str(info.value) and MODEL_CASES[case][1] in str(info.value)


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_model_file_resolve_model(case: str, model_files: dict[str, Path]) -> None:
    with pytest.raises(ModelError, match="keras|HDF5|SavedModel|folder|safe_mode"):
        resolve_model(str(model_files[case]))


@pytest.mark.parametrize("case", list(MODEL_CASES))
def test_model_file_cli_predict(
    case: str, model_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    png = str(bc.sample_pngs(1)[0])
    path = model_files[case]
    argv = ["predict", "--model", str(path), png, "--out", str(tmp_path / "out")]
    cli_error(argv, capsys, str(path), MODEL_CASES[case][1])


def test_model_file_predictor_and_debug_traceback(
    model_files: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(ModelError, match="safe_mode"):
        Predictor(model_files["lambda-layer"])
    png = str(bc.sample_pngs(1)[0])
    argv = ["predict", "--model", str(model_files["lambda-layer"]), png, "--out", str(tmp_path)]
    assert main(["--debug", *argv]) == 2
    err = capsys.readouterr().err
    assert "Traceback" in err and "neuroseg.errors.ModelError" in err
    assert err.rstrip().splitlines()[-1].startswith("neuroseg: error:")


@pytest.fixture
def weights_copy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    from neuroseg.models import pretrained

    folder = tmp_path / "weights"
    folder.mkdir()
    for f in ("resunet-figshare.json", "resunet-figshare.keras"):
        (folder / f).write_bytes((pretrained._weights_dir() / f).read_bytes())
    monkeypatch.setattr(pretrained, "_weights_dir", lambda: folder)
    return folder


def test_pretrained_truncated_file(weights_copy: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = weights_copy / "resunet-figshare.keras"
    path.write_bytes(path.read_bytes()[:1000])
    with pytest.raises(ModelError, match="does not match the model card"):
        resolve_model("resunet-figshare")
    cli_error(
        ["predict", "--model", "resunet-figshare", str(bc.sample_pngs(1)[0]), "--out", "x"],
        capsys,
        "resunet-figshare.keras",
    )


def test_pretrained_damaged_card(weights_copy: Path) -> None:
    (weights_copy / "resunet-figshare.json").write_text('{"name": "resunet-figshare"')
    with pytest.raises(ModelError, match=r"resunet-figshare.json: unreadable model card"):
        resolve_model("resunet-figshare")


def test_pretrained_missing_file(weights_copy: Path) -> None:
    (weights_copy / "resunet-figshare.keras").unlink()
    with pytest.raises(UnknownNameError, match="resunet-figshare"):
        resolve_model("resunet-figshare")


@pytest.mark.parametrize("name", ["model.h5", "weights.hdf5", "saved_model.pb"])
def test_missing_model_named_like_a_file(name: str) -> None:
    with pytest.raises(ModelError, match=f"{name}: no such model file"):
        resolve_model(name)


# ================================================================== archives
def _quiet_zip(members: list[tuple[object, bytes]]) -> bytes:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns about duplicate names
        return bc.zip_bytes(members)  # type: ignore[arg-type]


def _stored_crc_flip() -> bytes:
    data = bc.real_zip(2, compression=zipfile.ZIP_STORED)
    name = f"images/{bc.sample_pngs(1)[0].name}"
    start, size = bc.member_data_offset(data, name)
    return bc.flip_byte(data, start + size // 2)


def _deflate_flip() -> bytes:
    data = bc.real_zip(2)
    name = f"images/{bc.sample_pngs(1)[0].name}"
    start, _ = bc.member_data_offset(data, name)
    return bc.flip_byte(data, start + 10)


def _bad_local_header() -> bytes:
    data = bytearray(bc.real_zip(2))
    data[0:4] = b"PK\x09\x09"
    return bytes(data)


def _special(mode: int) -> bytes:
    info = zipfile.ZipInfo("dev")
    info.external_attr = mode << 16
    return bc.zip_bytes([(info, b"")])


def _tar(members: list[tuple[str, bytes | None, bytes]], mode: str = "w") -> bytes:
    """A tar of (name, kind, data); kind: None file, b"sym:<target>", b"lnk:<target>", b"fifo"."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode=mode) as t:
        for name, kind, data in members:
            info = tarfile.TarInfo(name)
            if kind is None:
                info.size = len(data)
                t.addfile(info, io.BytesIO(data))
                continue
            if kind.startswith(b"sym:"):
                info.type, info.linkname = tarfile.SYMTYPE, kind[4:].decode()
            elif kind.startswith(b"lnk:"):
                info.type, info.linkname = tarfile.LNKTYPE, kind[4:].decode()
            else:
                info.type = tarfile.FIFOTYPE
            t.addfile(info)
    return buf.getvalue()


def _png_bytes() -> bytes:
    return bc.sample_pngs(1)[0].read_bytes()


ARCHIVE_CASES: dict[str, tuple[str, Callable[[], bytes], type[NeurosegError], str]] = {
    "empty-file": ("empty.zip", lambda: b"", ReadError, "neither a zip nor a tar"),
    "png-not-archive": ("scan.zip", _png_bytes, ReadError, "neither a zip nor a tar"),
    "zip-cut-half": (
        "half.zip",
        lambda: bc.real_zip()[: len(bc.real_zip()) // 2],
        ReadError,
        "neither",
    ),
    "zip-cut-end": ("end.zip", lambda: bc.real_zip()[:-10], ReadError, "neither a zip"),
    "zip-crc-stored": ("crc.zip", _stored_crc_flip, ReadError, "is corrupt"),
    "zip-deflate-broken": ("defl.zip", _deflate_flip, ReadError, "corrupt"),
    "zip-bad-local-header": ("hdr.zip", _bad_local_header, ReadError, "cannot be read"),
    "zip-encrypted": (
        "enc.zip",
        lambda: bc.patch_zip_headers(bc.real_zip(2), flag_bits=0x1),
        DataError,
        "encrypted",
    ),
    "zip-method-99": (
        "aes.zip",
        lambda: bc.patch_zip_headers(bc.real_zip(2), method=99),
        DataError,
        "compression method 99",
    ),
    "zip-method-deflate64": (
        "d64.zip",
        lambda: bc.patch_zip_headers(bc.real_zip(2), method=9),
        DataError,
        "compression method 9",
    ),
    "zip-file-and-folder": (
        "clash.zip",
        lambda: bc.zip_bytes({"a": b"1", "a/b.png": _png_bytes()}),
        DataError,
        "both a file and a folder",
    ),
    "zip-dir-member-and-file": (
        "clash2.zip",
        lambda: bc.zip_bytes({"d/": b"", "d": _png_bytes()}),
        DataError,
        "both a file and a folder",
    ),
    "zip-duplicate": (
        "dup.zip",
        lambda: _quiet_zip([("x.png", _png_bytes()), ("x.png", b"other")]),
        DataError,
        "appears twice",
    ),
    "zip-traversal": (
        "tr.zip",
        lambda: bc.zip_bytes({"../../evil.png": b"x"}),
        DataError,
        "escapes",
    ),
    "zip-backslash-traversal": (
        "bs.zip",
        lambda: bc.zip_bytes({"..\\..\\evil.png": b"x"}),
        DataError,
        "escapes",
    ),
    "zip-absolute": (
        "abs.zip",
        lambda: bc.zip_bytes({"/tmp/abs.png": b"x"}),
        DataError,
        "absolute",
    ),
    "zip-drive": ("drv.zip", lambda: bc.zip_bytes({"C:/x.png": b"x"}), DataError, "absolute"),
    "zip-symlink": ("ln.zip", lambda: _special(0o120777), DataError, "symbolic link"),
    "zip-char-device": ("chr.zip", lambda: _special(0o020666), DataError, "device"),
    "zip-nested-traversal": (
        "nest.zip",
        lambda: bc.zip_bytes({"inner.zip": bc.zip_bytes({"../x.png": b"x"})}),
        DataError,
        "escapes",
    ),
    "zip-nested-corrupt": (
        "nestc.zip",
        lambda: bc.zip_bytes({"inner.zip": bc.real_zip()[:100]}),
        ReadError,
        "inner.zip",
    ),
    "tar-traversal": ("tr.tar", lambda: _tar([("../evil.png", None, b"x")]), DataError, "escapes"),
    "tar-absolute": ("abs.tar", lambda: _tar([("/etc/x.png", None, b"x")]), DataError, "absolute"),
    "tar-symlink": ("sl.tar", lambda: _tar([("l", b"sym:/etc/passwd", b"")]), DataError, "link"),
    "tar-hardlink": ("hl.tar", lambda: _tar([("l", b"lnk:/etc/passwd", b"")]), DataError, "link"),
    "tar-fifo": ("ff.tar", lambda: _tar([("pipe", b"fifo", b"")]), DataError, "special file"),
    "tar-duplicate": (
        "dup.tar",
        lambda: _tar([("x.png", None, _png_bytes()), ("x.png", None, b"y")]),
        DataError,
        "appears twice",
    ),
    "targz-cut": (
        "cut.tar.gz",
        lambda: _tar([("x.png", None, _png_bytes())], "w:gz")[:-200],
        ReadError,
        "cut.tar.gz",
    ),
}


@pytest.mark.parametrize("case", list(ARCHIVE_CASES))
def test_archive(case: str, tmp_path: Path) -> None:
    name, build, cls, fragment = ARCHIVE_CASES[case]
    archive = tmp_path / name
    archive.write_bytes(build())
    dest = tmp_path / "a" / "dest"
    with pytest.raises(cls) as info:
        safe_extract(archive, dest)
    assert name in str(info.value) and fragment in str(info.value), str(info.value)
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "a" / "evil.png").exists()
    left = [p for p in dest.rglob("*") if p.is_file()] if dest.exists() else []
    assert left == [], left  # nothing half-extracted stays behind


def test_archive_member_would_replace_a_folder(tmp_path: Path) -> None:
    archive = tmp_path / "r.zip"
    archive.write_bytes(bc.zip_bytes({"x.png": _png_bytes()}))
    (tmp_path / "dest" / "x.png").mkdir(parents=True)
    with pytest.raises(DataError, match=r"r.zip: member 'x.png' would overwrite the folder"):
        safe_extract(archive, tmp_path / "dest")
    (tmp_path / "dest2").mkdir()
    (tmp_path / "dest2" / "images").write_bytes(b"a file")
    archive.write_bytes(bc.real_zip(1))
    with pytest.raises(DataError, match="clashes with the file"):
        safe_extract(archive, tmp_path / "dest2")


def test_archive_missing(tmp_path: Path) -> None:
    with pytest.raises(ReadError, match="nope.zip: no such archive"):
        safe_extract(tmp_path / "nope.zip", tmp_path / "out")


@pytest.mark.parametrize("mode,suffix", [("w", ".tar"), ("w:gz", ".tar.gz"), ("w:xz", ".tar.xz")])
def test_tar_of_real_images_is_extracted(mode: str, suffix: str, tmp_path: Path) -> None:
    pngs = bc.sample_pngs(2)
    archive = tmp_path / f"imgs{suffix}"
    archive.write_bytes(_tar([(f"images/{p.name}", None, p.read_bytes()) for p in pngs], mode))
    out = safe_extract(archive, tmp_path / "out")
    assert sorted(p.name for p in out) == sorted(p.name for p in pngs)
    for p in pngs:
        assert (tmp_path / "out" / "images" / p.name).read_bytes() == p.read_bytes()


# ================================================================== downloads
@pytest.fixture
def server():
    with bc.http_server() as state:
        yield state


@pytest.mark.parametrize(
    "kwargs,fragment",
    [
        ({"url": "not a url", "filename": "a.zip"}, "'not a url'"),
        ({"url": "ftp://example.org/a.zip", "filename": "a.zip"}, "ftp://example.org/a.zip"),
        ({"url": "http://", "filename": "a.zip"}, "'http://'"),
        ({"url": "file:///etc/passwd", "filename": "a.zip"}, "file:///etc/passwd"),
        ({"url": "http://h/a", "filename": "../x"}, "'../x'"),
        ({"url": "http://h/a", "filename": "sub/a.zip"}, "'sub/a.zip'"),
        ({"url": "http://h/a", "filename": "/tmp/a.zip"}, "'/tmp/a.zip'"),
        ({"url": "http://h/a", "filename": ".."}, "'..'"),
        ({"url": "http://h/a", "filename": ""}, "''"),
        ({"url": "http://h/a", "filename": "..\\x.zip"}, "x.zip"),
        ({"url": "http://h/a", "filename": "a.zip", "sha256": "xyz"}, "'xyz'"),
        ({"url": "http://h/a", "filename": "a.zip", "sha256": "a" * 63}, "a" * 63),
        ({"url": "http://h/a", "filename": "a.zip", "sha256": "g" * 64}, "g" * 64),
    ],
)
def test_archive_part_values(kwargs: dict[str, str], fragment: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        download_figshare(tmp_path / "d", parts=[ArchivePart(**kwargs)])
    assert fragment in str(info.value)
    assert not (tmp_path / "x").exists() and not (tmp_path / "x.part").exists()


def test_parts_must_be_archive_parts(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="not an ArchivePart"):
        download_figshare(tmp_path, parts=["http://127.0.0.1/x.zip"])  # type: ignore[list-item]


def test_upper_case_sha256_is_accepted_without_redownload(server, tmp_path: Path) -> None:
    body = bc.real_zip()
    url = server.serve("r.zip", body)
    part = ArchivePart(url, "r.zip", bc.sha256(body).upper())
    download_figshare(tmp_path, parts=[part], extract=False)
    download_figshare(tmp_path, parts=[part], extract=False)
    assert len(server.requests) == 1
    assert (tmp_path / "r.zip").read_bytes() == body


@pytest.mark.parametrize("status", [404, 403, 500])
def test_http_error(status: int, server, tmp_path: Path) -> None:
    url = server.serve("r.zip", b"x", status=status)
    with pytest.raises(ReadError, match=rf"r.zip failed \(HTTP {status}"):
        download_figshare(tmp_path, parts=[ArchivePart(url, "r.zip", "0" * 64)])


def test_connection_refused(tmp_path: Path) -> None:
    url = bc.closed_port_url()
    with pytest.raises(ReadError, match=r"x.zip interrupted or refused"):
        download_figshare(tmp_path, parts=[ArchivePart(url, "x.zip", "0" * 64)])


@pytest.mark.parametrize("pinned", [True, False])
def test_short_read_then_resume(pinned: bool, server, tmp_path: Path) -> None:
    body = bc.real_zip(4)
    url = server.serve("r.zip", body, short=len(body) // 3)
    part = ArchivePart(url, "r.zip", bc.sha256(body) if pinned else None)
    with pytest.raises(ReadError, match="r.zip"):
        download_figshare(tmp_path, parts=[part])
    assert not (tmp_path / "r.zip").exists()
    server.files["/r.zip"].short = None  # the network recovers
    if pinned:
        download_figshare(tmp_path, parts=[part])
    else:
        with pytest.warns(UnverifiedDownloadWarning, match="r.zip: no SHA-256"):
            download_figshare(tmp_path, parts=[part])
    assert (tmp_path / "r.zip").read_bytes() == body
    last = server.requests[-1]
    assert last["range"] == f"bytes={len(body) // 3}-" and last["if_range"]


def test_checksum_mismatch_keeps_bad_file(server, tmp_path: Path) -> None:
    url = server.serve("r.zip", bc.real_zip())
    with pytest.raises(ReadError, match=r"r.zip: SHA-256 .* does not match"):
        download_figshare(tmp_path, parts=[ArchivePart(url, "r.zip", "0" * 64)])
    assert (tmp_path / "r.zip.part.bad").is_file() and not (tmp_path / "r.zip").exists()


def _stale_part(server, tmp_path: Path, **kw: object) -> tuple[ArchivePart, bytes]:
    """A .part of version 1 left by an interrupted run; the server now has version 2."""
    old, new = bc.real_zip(2), bc.real_zip(4)
    url = server.serve("r.zip", old, short=len(old) // 2, **kw)
    part = ArchivePart(url, "r.zip", bc.sha256(new))
    with pytest.raises(ReadError):
        download_figshare(tmp_path, parts=[part])
    served = server.files["/r.zip"]
    served.short = None
    served.change(new)
    return part, new


@pytest.mark.parametrize(
    "kw", [{}, {"ignore_if_range": True}, {"wrong_range_start": True}], ids=str
)
def test_changed_file_is_never_spliced(kw: dict[str, bool], server, tmp_path: Path) -> None:
    part, new = _stale_part(server, tmp_path, **kw)
    download_figshare(tmp_path, parts=[part])
    assert (tmp_path / "r.zip").read_bytes() == new


def test_changed_file_last_modified_only(server, tmp_path: Path) -> None:
    old, new = bc.real_zip(2), bc.real_zip(4)
    url = server.serve("r.zip", old, short=len(old) // 2)
    served = server.files["/r.zip"]
    served.etag = None  # a server that gives only Last-Modified
    part = ArchivePart(url, "r.zip", bc.sha256(new))
    with pytest.raises(ReadError):
        download_figshare(tmp_path, parts=[part])
    served.short = None
    served.change(new)
    download_figshare(tmp_path, parts=[part])
    assert (tmp_path / "r.zip").read_bytes() == new
    assert server.requests[-1]["if_range"] == email.utils.formatdate(
        1_700_000_000 + len(old), usegmt=True
    )


def test_part_longer_than_the_new_file(server, tmp_path: Path) -> None:
    big, small = bc.real_zip(4), bc.real_zip(1)
    url = server.serve("r.zip", big, short=len(big) - 10)
    part = ArchivePart(url, "r.zip", bc.sha256(small))
    with pytest.raises(ReadError):
        download_figshare(tmp_path, parts=[part])
    served = server.files["/r.zip"]
    served.short, served.ignore_if_range = None, True
    served.change(small)  # the .part is now past the end: 416, then a full download
    download_figshare(tmp_path, parts=[part])
    assert (tmp_path / "r.zip").read_bytes() == small


def test_part_without_validators_starts_over(server, tmp_path: Path) -> None:
    body = bc.real_zip()
    url = server.serve("r.zip", body, validators=False)
    (tmp_path / "r.zip.part").write_bytes(b"stale bytes of some other file")
    download_figshare(tmp_path, parts=[ArchivePart(url, "r.zip", bc.sha256(body))])
    assert (tmp_path / "r.zip").read_bytes() == body
    assert server.requests[-1]["range"] is None


def test_no_checksum_warns_and_records_the_digest(server, tmp_path: Path) -> None:
    body = bc.real_zip()
    url = server.serve("r.zip", body)
    with pytest.warns(UnverifiedDownloadWarning, match=r"r.zip: no SHA-256 .* NOT verified"):
        download_figshare(tmp_path, parts=[ArchivePart(url, "r.zip")])
    assert (tmp_path / "SHA256SUMS").read_text() == f"{bc.sha256(body)}  r.zip\n"
    assert (tmp_path / "images").is_dir()


def test_no_checksum_spliced_zip_fails_extraction(server, tmp_path: Path) -> None:
    a, b = bc.real_zip(2), bc.real_zip(6, skip=3)
    spliced = a[: len(a) // 2] + b[len(a) // 2 :]
    url = server.serve("r.zip", spliced)
    with (
        pytest.warns(UnverifiedDownloadWarning),
        pytest.raises(ReadError, match=r"r.zip: member .* (corrupt|damaged)"),
    ):
        download_figshare(tmp_path, parts=[ArchivePart(url, "r.zip")])


def test_download_of_an_encrypted_archive(server, tmp_path: Path) -> None:
    body = bc.patch_zip_headers(bc.real_zip(), flag_bits=0x1)
    url = server.serve("r.zip", body)
    with pytest.raises(DataError, match="r.zip: member .* encrypted"):
        download_figshare(tmp_path, parts=[ArchivePart(url, "r.zip", bc.sha256(body))])


def test_download_of_a_tar(server, tmp_path: Path) -> None:
    png = bc.sample_pngs(1)[0]
    body = _tar([(f"images/{png.name}", None, png.read_bytes())], "w:gz")
    url = server.serve("r.tar.gz", body)
    download_figshare(tmp_path, parts=[ArchivePart(url, "r.tar.gz", bc.sha256(body))])
    assert (tmp_path / "images" / png.name).read_bytes() == png.read_bytes()


# ================================================================== configs
CONFIG = Path(__file__).resolve().parents[2] / "examples" / "configs" / "resunet_figshare.toml"


@pytest.mark.parametrize(
    "override,fragment",
    [
        ("train.epochs=abc", "train.epochs must be an integer"),
        ("train.epochs=0", "train.epochs must be an integer >= 1, got 0"),
        ("train.epochs=-1", "got -1"),
        ("train.epochs=1.5", "got 1.5"),
        ("train.epochs=1e999", "got inf"),
        ("train.learning_rate=abc", "train.learning_rate"),
        ("train.seed=abc", "train.seed"),
        ("train.nope=1", "nope"),
        ("data.image_size=abc", "data.image_size"),
        ("data.image_size=[1,2,3]", "data.image_size"),
        ("data.batch_size=0", "data.batch_size must be an integer >= 1, got 0"),
        ("data.batch_size=true", "data.batch_size"),
        ("data.val_groups=5", "data.val_groups"),
        ("data.nope=1", "nope"),
        ("epochs=3", "unknown section"),
        ("train.epochs", "--set expects section.key=value"),
    ],
)
def test_config_override(
    override: str, fragment: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["train", "--config", str(CONFIG), "--out", str(tmp_path / "run"), "--set", override]
    line = cli_error(argv, capsys, fragment)
    assert "--set" in line or "resunet_figshare.toml" in line
    assert not (tmp_path / "run").exists()


@pytest.mark.parametrize(
    "text,fragment",
    [
        (
            '[data]\nformat = "figshare"\npath = "x"\n[model]\nname = "resunet-small"\n'
            '[train]\nepochs = "ten"\n',
            "train.epochs",
        ),
        ('[data]\nformat = "figshare"\npath = "x"\n[bogus]\nx = 1\n', "bogus"),
        ("", "data.format"),
        ('[data]\nformat = "figshare"\npath = "x"\nimage_size = -4\n', "data.image_size"),
    ],
)
def test_config_file(text: str, fragment: str, tmp_path: Path, capsys) -> None:
    cfg = tmp_path / "exp.toml"
    cfg.write_text(text)
    cli_error(["train", "--config", str(cfg), "--out", str(tmp_path / "r")], capsys, fragment)


def test_config_file_missing_and_invalid_toml(tmp_path: Path, capsys) -> None:
    cli_error(["train", "--config", str(tmp_path / "no.toml"), "--out", "r"], capsys, "no.toml")
    (tmp_path / "bad.toml").write_text("[train\nepochs=")
    cli_error(["train", "--config", str(tmp_path / "bad.toml"), "--out", "r"], capsys, "TOML")


def test_config_api_names_the_key() -> None:
    from neuroseg.train.config import DataConfig, TrainConfig

    with pytest.raises(ConfigError, match="train.epochs"):
        TrainConfig.from_dict({"epochs": "abc"})
    with pytest.raises(ConfigError, match="data.batch_size"):
        DataConfig.from_dict({"format": "figshare", "path": "x", "batch_size": 0})


# ================================================================== predictor inputs
@pytest.fixture(scope="module")
def predictor() -> Predictor:
    from neuroseg.models import create_model

    return Predictor(create_model("resunet-small", input_shape=(32, 32, 1)))


def _nan(shape: tuple[int, ...], value: float, at: tuple[int, ...] = (3, 3)) -> np.ndarray:
    a = np.random.default_rng(0).random(shape).astype(np.float32)
    a[at] = value
    return a


PREDICTOR_CASES: dict[str, tuple[Callable[[], object], type[NeurosegError], str]] = {
    "empty-1d": (lambda: np.zeros((0,)), DataError, "(0,)"),
    "empty-2d": (lambda: np.zeros((0, 0)), DataError, "empty"),
    "zero-width": (lambda: np.zeros((10, 0)), DataError, "empty"),
    "zero-height-rgb": (lambda: np.zeros((0, 10, 3)), DataError, "empty"),
    "empty-batch": (lambda: np.zeros((0, 32, 32, 1)), EmptyDatasetError, "Nothing to predict"),
    "empty-list": (lambda: [], EmptyDatasetError, "Nothing to predict"),
    "one-nan": (lambda: _nan((40, 40), np.nan), DataError, "NaN/inf"),
    "one-inf": (lambda: _nan((40, 40), np.inf), DataError, "NaN/inf"),
    "one-minus-inf": (lambda: _nan((40, 40), -np.inf), DataError, "NaN/inf"),
    "all-nan": (lambda: np.full((40, 40), np.nan, np.float32), DataError, "NaN/inf"),
    "nan-in-batch": (lambda: _nan((2, 40, 40, 1), np.nan, (1, 3, 3, 0)), DataError, "array[1]"),
    "batch-2-channels": (lambda: np.zeros((2, 32, 32, 2)), ChannelError, "2 channel"),
    "batch-5-channels": (lambda: np.zeros((2, 32, 32, 5)), ChannelError, "5 channel"),
    "5-d": (lambda: np.zeros((1, 2, 32, 32, 1)), DataError, "(1, 2, 32, 32, 1)"),
    "strings": (lambda: np.array([["a", "b"], ["c", "d"]]), DataError, "not real numbers"),
    "complex": (lambda: np.zeros((40, 40), complex), DataError, "complex128"),
    "objects": (lambda: np.full((8, 8), None, object), DataError, "object"),
    "nan-spacing": (
        lambda: Scan(_nan((40, 40, 1), 0.0), spacing=(float("nan"), 1.0), source="s.png"),
        DataError,
        "s.png: pixel spacing (nan, 1.0)",
    ),
    "inf-spacing": (
        lambda: Scan(_nan((40, 40, 1), 0.0), spacing=(1.0, float("inf")), source="s.png"),
        DataError,
        "pixel spacing",
    ),
    "zero-spacing": (
        lambda: Scan(_nan((40, 40, 1), 0.0), spacing=(0.0, 1.0), source="s.png"),
        DataError,
        "(0.0, 1.0)",
    ),
    "negative-spacing": (
        lambda: Scan(_nan((40, 40, 1), 0.0), spacing=(-0.5, 0.5), source="s.png"),
        DataError,
        "(-0.5, 0.5)",
    ),
    "nan-thickness": (
        lambda: Scan(
            _nan((40, 40, 3), 0.0), is_volume=True, spacing=(1.0, 1.0), slice_thickness=np.nan
        ),
        DataError,
        "slice thickness nan",
    ),
    "not-an-input": (lambda: None, ModelError, "NoneType"),
    "missing-file": (lambda: "no/such/scan.png", ReadError, "scan.png"),
}


@pytest.mark.parametrize("case", list(PREDICTOR_CASES))
def test_predictor_input(case: str, predictor: Predictor) -> None:
    build, cls, fragment = PREDICTOR_CASES[case]
    with pytest.raises(cls) as info:
        predictor.predict(build())
    assert fragment in str(info.value), str(info.value)


def test_predictor_nan_weights(tmp_path: Path) -> None:
    from neuroseg.models import create_model

    model = create_model("resunet-small", input_shape=(32, 32, 1))
    weights = model.get_weights()
    weights[-1] = np.full_like(weights[-1], np.nan)
    model.set_weights(weights)
    with pytest.raises(ModelError, match="NaN/inf outputs"):
        Predictor(model).predict(np.ones((32, 32), np.float32))


def _nifti(path: Path, zooms: tuple[float, float, float]) -> Path:
    import nibabel as nib

    from neuroseg.data import read_image

    png = bc.sample_pngs(1)[0]
    vol = np.repeat(read_image(png)[..., :1], 3, axis=2).astype(np.float32)
    img = nib.Nifti1Image(vol, np.eye(4))
    img.header["pixdim"][1:4] = zooms  # set_zooms refuses what a damaged header holds
    nib.save(img, str(path))
    return path


@pytest.mark.parametrize(
    "zooms",
    [(float("nan"), 1.0, 1.0), (1.0, 1.0, float("nan")), (1.0, float("inf"), 2.0)],
    ids=str,
)
def test_nifti_bad_spacing_cli(zooms, tmp_path: Path, capsys) -> None:
    pytest.importorskip("nibabel")
    scan = _nifti(tmp_path / "vol.nii.gz", zooms)
    out = tmp_path / "out"
    argv = ["predict", "--model", "resunet-figshare", str(scan), "--out", str(out)]
    cli_error(argv, capsys, "vol.nii.gz")
    if (out / "predictions.json").exists():  # never NaN in the JSON
        json.loads((out / "predictions.json").read_text(), parse_constant=pytest.fail)


def test_predict_folder_names_skipped_files(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    png = bc.sample_pngs(1)[0]
    (folder / png.name).write_bytes(png.read_bytes())
    (folder / "picture.webp").write_bytes(b"RIFF" + b"\x00" * 64)
    (folder / "anim.gif").write_bytes(b"GIF89a" + b"\x00" * 32)
    (folder / "notes.txt").write_text("not an image")
    out = tmp_path / "out"
    assert (
        main(["predict", "-q", "--model", "resunet-figshare", str(folder), "--out", str(out)]) == 0
    )
    err = capsys.readouterr().err
    assert "skipped 3 file(s)" in err
    for name in ("picture.webp", "anim.gif", "notes.txt"):
        assert name in err
    doc = json.loads((out / "predictions.json").read_text())
    assert doc["n_inputs"] == 1 and len(doc["skipped_files"]) == 3


def test_predict_folder_of_only_unreadable_files(tmp_path: Path, capsys) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    (folder / "anim.gif").write_bytes(b"GIF89a" + b"\x00" * 200)
    argv = ["predict", "--model", "resunet-figshare", str(folder), "--out", str(tmp_path / "o")]
    cli_error(argv, capsys, "scans")


@pytest.mark.parametrize(
    "content",
    [b"", b"\x89PNG\r\n\x1a\n", _png_bytes()[:200]],
    ids=["zero-byte", "signature-only", "cut"],
)
def test_predict_broken_png_cli(content: bytes, tmp_path: Path, capsys) -> None:
    bad = tmp_path / "broken.png"
    bad.write_bytes(content)
    argv = ["predict", "--model", "resunet-figshare", str(bad), "--out", str(tmp_path / "o")]
    cli_error(argv, capsys, "broken.png")


def test_os_error_is_one_line(tmp_path: Path, capsys) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")  # --out below a regular file: the OS refuses
    png = str(bc.sample_pngs(1)[0])
    argv = ["predict", "--model", "resunet-figshare", png, "--out", str(blocker / "out")]
    cli_error(argv, capsys, str(blocker))


def test_sha256_helper_matches_hashlib() -> None:  # the corpus' own helper
    assert bc.sha256(b"x") == hashlib.sha256(b"x").hexdigest()
    assert os.path.basename(bc.KERAS) == "resunet-figshare.keras"
