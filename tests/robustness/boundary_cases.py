"""Builders for the boundary corpus: damaged model files, archives, a real HTTP server.

Everything is made from real files: the pretrained ``.keras`` files shipped with neuroseg
(cut, re-packed, altered), the bundled sample's real MRI PNGs (zipped, tarred), and a
real ``http.server`` on 127.0.0.1 that serves real bytes with ``Range``/``If-Range``,
``ETag`` and ``Last-Modified`` support, and can change a file, ignore ``If-Range``, cut a
response short or fail.
"""

from __future__ import annotations

import contextlib
import email.utils
import hashlib
import http.server
import io
import json
import struct
import threading
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar

from neuroseg.data import sample_dir
from neuroseg.models.pretrained import _weights_dir

KERAS = _weights_dir() / "resunet-figshare.keras"


def keras_bytes() -> bytes:
    """The bytes of a real pretrained ``.keras`` file."""
    return KERAS.read_bytes()


def sample_pngs(n: int = 3) -> list[Path]:
    """Real MRI slices (PNG) of the bundled sample."""
    return sorted((sample_dir() / "images").glob("*.png"))[:n]


def keras_members() -> dict[str, bytes]:
    """The members of the real ``.keras`` archive."""
    with zipfile.ZipFile(KERAS) as z:
        return {name: z.read(name) for name in z.namelist()}


def zip_bytes(members: dict[str, bytes] | list[tuple[Any, bytes]], **kw: Any) -> bytes:
    """A zip of ``members`` (names or ``ZipInfo``)."""
    buf = io.BytesIO()
    items = members.items() if isinstance(members, dict) else members
    with zipfile.ZipFile(buf, "w", **kw) as z:
        for info, data in items:
            z.writestr(info, data)
    return buf.getvalue()


def real_zip(n: int = 3, *, compression: int = zipfile.ZIP_DEFLATED, skip: int = 0) -> bytes:
    """A zip of real sample PNGs (the first ``n``, less the first ``skip``)."""
    members = {f"images/{p.name}": p.read_bytes() for p in sample_pngs(n)[skip:]}
    return zip_bytes(members, compression=compression)


def patch_zip_headers(
    data: bytes, *, flag_bits: int | None = None, method: int | None = None
) -> bytes:
    """Rewrite the flag bits / compression method of every local and central header."""
    out = bytearray(data)
    for sig, flag_at, method_at in ((b"PK\x03\x04", 6, 8), (b"PK\x01\x02", 8, 10)):
        start = 0
        while (i := out.find(sig, start)) >= 0:
            if flag_bits is not None:
                old = struct.unpack_from("<H", out, i + flag_at)[0]
                struct.pack_into("<H", out, i + flag_at, old | flag_bits)
            if method is not None:
                struct.pack_into("<H", out, i + method_at, method)
            start = i + 4
    return bytes(out)


def flip_byte(data: bytes, at: int) -> bytes:
    out = bytearray(data)
    out[at] ^= 0xFF
    return bytes(out)


def member_data_offset(data: bytes, name: str) -> tuple[int, int]:
    """Where ``name``'s (compressed) data starts in a zip, and its length."""
    with zipfile.ZipFile(io.BytesIO(data)) as z:
        info = z.getinfo(name)
    head = info.header_offset
    n_len, x_len = struct.unpack_from("<HH", data, head + 26)
    return head + 30 + n_len + x_len, info.compress_size


def lambda_model(path: Path) -> Path:
    """A real ``.keras`` file holding a Lambda layer with a Python lambda."""
    import keras

    inp = keras.Input((32, 32, 1))
    out = keras.layers.Lambda(lambda x: x * 2.0)(inp)
    keras.Model(inp, out).save(path)
    return path


def sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# ------------------------------------------------------------------ HTTP server
@dataclass
class Served:
    """One file the server serves, and how it misbehaves."""

    body: bytes
    etag: str | None = None
    modified: str | None = None
    ignore_if_range: bool = False  # always answer a Range with 206 (a broken server)
    wrong_range_start: bool = False  # 206 whose Content-Range starts elsewhere
    short: int | None = None  # send this many bytes, but announce all of them
    status: int | None = None  # fail with this status

    def change(self, body: bytes) -> None:
        """Replace the file on the server (new ETag and Last-Modified)."""
        self.body = body
        if self.etag is not None:
            self.etag = f'"{sha256(body)[:16]}"'
        if self.modified is not None:
            self.modified = email.utils.formatdate(1_700_000_000 + len(body), usegmt=True)


@dataclass
class Server:
    url: str
    files: dict[str, Served] = field(default_factory=dict)
    requests: list[dict[str, str | None]] = field(default_factory=list)

    def serve(self, name: str, body: bytes, *, validators: bool = True, **kw: Any) -> str:
        served = Served(body, **kw)
        if validators:
            served.etag, served.modified = "x", "x"
            served.change(body)
        self.files["/" + name] = served
        return f"{self.url}/{name}"


class _Handler(http.server.BaseHTTPRequestHandler):
    server_state: ClassVar[Server]

    def do_GET(self) -> None:
        state = self.server_state
        rng, if_range = self.headers.get("Range"), self.headers.get("If-Range")
        state.requests.append({"path": self.path, "range": rng, "if_range": if_range})
        f = state.files.get(self.path)
        if f is None:
            self.send_error(404)
            return
        if f.status is not None:
            self.send_error(f.status)
            return
        body, start = f.body, 0
        use_range = rng is not None and (
            f.ignore_if_range or if_range is None or if_range in (f.etag, f.modified)
        )
        if use_range:
            start = int(rng.split("=")[1].split("-")[0])
            if start >= len(body):
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{len(body)}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            shown = start - 1 if f.wrong_range_start and start else start
            self.send_response(206)
            self.send_header("Content-Range", f"bytes {shown}-{len(body) - 1}/{len(body)}")
        else:
            self.send_response(200)
        if f.etag:
            self.send_header("ETag", f.etag)
        if f.modified:
            self.send_header("Last-Modified", f.modified)
        self.send_header("Content-Length", str(len(body) - start))
        self.end_headers()
        payload = body[start:]
        if f.short is not None:
            payload = payload[: f.short]
            self.close_connection = True
        self.wfile.write(payload)

    def log_message(self, *args: Any) -> None:
        pass


@contextlib.contextmanager
def http_server() -> Iterator[Server]:
    """A real HTTP server on 127.0.0.1 in a thread."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    state = Server(f"http://127.0.0.1:{httpd.server_address[1]}")
    handler = type("Handler", (_Handler,), {"server_state": state})
    httpd.RequestHandlerClass = handler
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()


def closed_port_url() -> str:
    """A URL on 127.0.0.1 where nothing listens."""
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"http://127.0.0.1:{port}/x.zip"


def keras_config(**changes: Any) -> bytes:
    """The real model's ``config.json`` with top-level keys changed."""
    config = json.loads(keras_members()["config.json"])
    config.update(changes)
    return json.dumps(config).encode()
