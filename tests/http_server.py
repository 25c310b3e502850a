"""A real HTTP server on 127.0.0.1 for the tests, serving files from a folder.

It answers GET and HEAD with Content-Length, ETag (the file's SHA-256),
Last-Modified and Accept-Ranges, and honours ``Range: bytes=N-`` (with
``If-Range``). For failure tests, per file name:

- ``drop_first``: cut the first transfer off halfway (Content-Length announced, half the body sent);
- ``fail_with``: answer with these error statuses, one per GET, before serving the file;
- ``no_length``: never send Content-Length; the body ends when the connection closes (a 206 answer
  still carries Content-Range, which says the whole size);
- ``cut_at``: the next GETs send only this share of their body, then close the connection;
- ``announce_length``: announce this Content-Length (a lie) on HEAD and GET, send the body up to it, close;
- ``trickle``: the next this many GETs send the headers, then one byte every ``trickle_seconds``
  (a slowloris server) until the client gives up or ``TRICKLE_LIMIT_SECONDS`` pass.

It also emulates Zenodo's record API (``zenodo_records``) and records every request.
``dataset_zip`` builds bytes shaped like the dataset zip for the servers to serve.
"""

from __future__ import annotations

import email.utils
import hashlib
import io
import json
import re
import threading
import time
import zipfile
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

HEADER_LINE = '"user_id", "artistname", "trackname", "playlistname"'
TRICKLE_LIMIT_SECONDS = 30.0


def dataset_zip(size: int, seed: int = 0, member: str = "spotify_dataset.csv", header: str = HEADER_LINE) -> bytes:
    """A stored (uncompressed) zip of about ``size`` bytes: ``member`` holding ``header`` and data lines.

    Its bytes do not compress, so a cut at a share of the transfer is a cut at that share of the zip.
    """
    lines = [header]
    block = hashlib.sha256(str(seed).encode()).hexdigest()
    while sum(len(line) + 1 for line in lines) < size:
        block = hashlib.sha256(block.encode()).hexdigest()
        lines.append(f'"{block}","Artist {block[:6]}","Song {block[6:12]}","Mix"')
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        archive.writestr(member, "\n".join(lines) + "\n")
    return buffer.getvalue()


class FileServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.drop_first: set[str] = set()
        self.fail_with: dict[str, list[int]] = {}
        self.no_length: set[str] = set()
        self.cut_at: dict[str, list[float]] = {}
        self.announce_length: dict[str, int] = {}
        self.trickle: dict[str, int] = {}
        self.trickle_seconds = 0.05
        self.zenodo_records: dict[str, list[dict]] = {}
        self.requests: list[tuple[str, str, str | None]] = []  # (method, path, Range header)
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep test output quiet
                pass

            def _send(self, status: int, body: bytes, headers: dict[str, str], head_only: bool) -> None:
                self.send_response(status)
                for name, value in {"Content-Length": str(len(body)), **headers}.items():
                    self.send_header(name, value)
                self.end_headers()
                if not head_only:
                    self.wfile.write(body)

            def _send_faulty(self, name: str, status: int, body: bytes, headers: dict[str, str], head_only: bool):
                """The file's answer with this name's faults; the connection closes after it."""
                self.close_connection = True
                self.send_response(status)
                if name in server.announce_length:
                    headers = {"Content-Length": str(server.announce_length[name]), **headers}
                elif name not in server.no_length:
                    headers = {"Content-Length": str(len(body)), **headers}
                for header, value in {**headers, "Connection": "close"}.items():
                    self.send_header(header, value)
                self.end_headers()
                if head_only:
                    return
                if server.trickle.get(name, 0) > 0:
                    server.trickle[name] -= 1
                    return self._trickle(body)
                cuts = server.cut_at.get(name)
                if cuts:
                    body = body[: int(len(body) * cuts.pop(0))]
                # A client reads no further than the announced length: sending more only breaks the pipe.
                body = body[: server.announce_length.get(name, len(body))]
                self.wfile.write(body)
                self.wfile.flush()

            def _trickle(self, body: bytes) -> None:
                started = time.monotonic()
                try:
                    for byte in body:
                        if time.monotonic() - started > TRICKLE_LIMIT_SECONDS:
                            return
                        self.wfile.write(bytes([byte]))
                        self.wfile.flush()
                        time.sleep(server.trickle_seconds)
                except OSError:  # the client gave up
                    return

            def _is_faulty(self, name: str) -> bool:
                return (
                    name in server.no_length
                    or name in server.announce_length
                    or bool(server.cut_at.get(name))
                    or server.trickle.get(name, 0) > 0
                )

            def _serve(self, head_only: bool) -> None:
                name = self.path.split("?")[0].lstrip("/")
                server.requests.append((self.command, name, self.headers.get("Range")))
                record = re.fullmatch(r"api/records/(\d+)", name)
                if record and record[1] in server.zenodo_records:
                    body = json.dumps({"id": int(record[1]), "files": server.zenodo_records[record[1]]}).encode()
                    return self._send(200, body, {"Content-Type": "application/json"}, head_only)
                failures = server.fail_with.get(name)
                if failures and not head_only:
                    return self._send(failures.pop(0), b"failure", {}, head_only)
                path = server.root / name
                if not path.is_file():
                    return self._send(404, b"not found", {}, head_only)
                body = path.read_bytes()
                etag = '"' + hashlib.sha256(body).hexdigest() + '"'
                headers = {
                    "ETag": etag,
                    "Last-Modified": email.utils.formatdate(path.stat().st_mtime, usegmt=True),
                    "Accept-Ranges": "bytes",
                }
                status = 200
                wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                if_range = self.headers.get("If-Range")
                if wanted and not head_only and (if_range is None or if_range == etag):
                    start = int(wanted[1])
                    headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                    status, body = 206, body[start:]
                if self._is_faulty(name):
                    return self._send_faulty(name, status, body, headers, head_only)
                if status == 200 and name in server.drop_first and not head_only:
                    server.drop_first.discard(name)
                    self.send_response(200)
                    self.send_header("Content-Length", str(len(body)))
                    for header, value in headers.items():
                        self.send_header(header, value)
                    self.end_headers()
                    self.wfile.write(body[: len(body) // 2])
                    self.wfile.flush()
                    self.close_connection = True
                    return None
                return self._send(status, body, headers, head_only)

            def do_HEAD(self):
                self._serve(head_only=True)

            def do_GET(self):
                self._serve(head_only=False)

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    def gets(self, name: str) -> list[str | None]:
        """The Range header of every GET of ``name`` (None for a whole-file GET)."""
        return [range_ for method, path, range_ in self.requests if method == "GET" and path == name]

    def __enter__(self) -> FileServer:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
