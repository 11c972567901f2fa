"""download_figshare against a real HTTP server on 127.0.0.1 (with Range support)."""

import hashlib
import http.server
import io
import stat
import threading
import zipfile
from typing import ClassVar

import pytest

from neuroseg.data import ArchivePart, download_figshare, load_dataset, safe_extract
from neuroseg.errors import DataError, ReadError, UnverifiedDownloadWarning

from .test_figshare_mat import _slice, write_cheng_mat


class _Handler(http.server.BaseHTTPRequestHandler):
    files: ClassVar[dict] = {}
    ranges: ClassVar[list] = []

    def do_GET(self):
        body = self.files.get(self.path)
        if body is None:
            self.send_error(404)
            return
        start = 0
        rng = self.headers.get("Range")
        self.ranges.append(rng)
        if rng:
            start = int(rng.split("=")[1].split("-")[0])
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {start}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        self.wfile.write(body[start:])

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    _Handler.files, _Handler.ranges = {}, []
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", _Handler
    httpd.shutdown()
    httpd.server_close()


def _release(tmp_path):
    """A small multi-part release: two zips of .mat files, bundled in an outer zip."""
    parts = {}
    for name, items in (("part_1-2.zip", [(1, "A"), (2, "A")]), ("part_3-3.zip", [(3, "B")])):
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for i, pid in items:
                write_cheng_mat(tmp_path / f"{i}.mat", *_slice(seed=i), 1 + i % 3, pid)
                z.write(tmp_path / f"{i}.mat", f"{i}.mat")
                (tmp_path / f"{i}.mat").unlink()
        parts[name] = buf.getvalue()
    outer = io.BytesIO()
    with zipfile.ZipFile(outer, "w") as z:
        for name, data in parts.items():
            z.writestr(name, data)
        z.writestr("README.txt", "fixture")
    return outer.getvalue()


def test_download_resume_checksum_extract(tmp_path, server):
    url, handler = server
    body = _release(tmp_path)
    handler.files["/release.zip"] = body
    digest = hashlib.sha256(body).hexdigest()
    dest = tmp_path / "dest"
    dest.mkdir()
    # A .part nobody can vouch for (no validators recorded, and this server sends no ETag
    # or Last-Modified) is started over, never resumed: resuming could splice two files.
    # Resumption with If-Range is tested in tests/robustness/test_boundaries.py.
    (dest / "release.zip.part").write_bytes(b"bytes of some other file")
    part = ArchivePart(url=f"{url}/release.zip", filename="release.zip", sha256=digest.upper())
    download_figshare(dest, parts=[part])
    assert handler.ranges == [None]
    assert hashlib.sha256((dest / "release.zip").read_bytes()).hexdigest() == digest
    ds = load_dataset("figshare-mat", dest)
    assert len(ds) == 3 and ds.patients == ["cheng-A", "cheng-B"]
    download_figshare(dest, parts=[part])  # complete: nothing fetched again
    assert len(handler.ranges) == 1


def test_checksum_mismatch(tmp_path, server):
    url, handler = server
    handler.files["/r.zip"] = b"PK-not-what-you-expect"
    part = ArchivePart(url=f"{url}/r.zip", filename="r.zip", sha256="0" * 64)
    with pytest.raises(ReadError, match=r"r.zip: SHA-256 .* does not match"):
        download_figshare(tmp_path, parts=[part])
    with pytest.raises(ReadError, match="HTTP 404"):
        download_figshare(tmp_path, parts=[ArchivePart(url=f"{url}/nope.zip", filename="n.zip")])


def _zip(members):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for info, data in members:
            z.writestr(info, data)
    return buf.getvalue()


def test_malicious_archive_is_refused(tmp_path, server):
    url, handler = server
    handler.files["/evil.zip"] = _zip([("ok.txt", "x"), ("../../evil.txt", "pwned")])
    dest = tmp_path / "a" / "dest"
    with (
        pytest.warns(UnverifiedDownloadWarning, match="evil.zip: no SHA-256"),
        pytest.raises(DataError, match=r"evil.zip: member '../../evil.txt' escapes"),
    ):
        download_figshare(dest, parts=[ArchivePart(url=f"{url}/evil.zip", filename="evil.zip")])
    assert not (tmp_path / "evil.txt").exists() and not (dest / "ok.txt").exists()
    link = zipfile.ZipInfo("link")
    link.external_attr = (stat.S_IFLNK | 0o777) << 16
    (tmp_path / "l.zip").write_bytes(_zip([(link, "/etc/passwd")]))
    with pytest.raises(DataError, match="symbolic link"):
        safe_extract(tmp_path / "l.zip", tmp_path / "out")
    (tmp_path / "abs.zip").write_bytes(_zip([("/tmp/abs.txt", "x")]))
    with pytest.raises(DataError, match="absolute"):
        safe_extract(tmp_path / "abs.zip", tmp_path / "out")
    inner = _zip([("../x.txt", "x")])
    (tmp_path / "nested.zip").write_bytes(_zip([("inner.zip", inner)]))
    with pytest.raises(DataError, match="escapes"):
        safe_extract(tmp_path / "nested.zip", tmp_path / "out2")
