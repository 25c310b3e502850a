"""A real HTTP server on 127.0.0.1 for the tests, serving files from a folder.

It answers GET and HEAD with Content-Length, ETag (the file's SHA-256),
Last-Modified and Accept-Ranges, and honours ``Range: bytes=N-`` (with
``If-Range``). For failure tests it can cut a file's first transfer off halfway
(``drop_first``), answer a path with given error statuses before serving it
(``fail_with``), and emulate Zenodo's record API (``zenodo_records``). It
records every request.
"""

from __future__ import annotations

import email.utils
import hashlib
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class FileServer:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.drop_first: set[str] = set()
        self.fail_with: dict[str, list[int]] = {}
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
                wanted = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range", ""))
                if_range = self.headers.get("If-Range")
                if wanted and not head_only and (if_range is None or if_range == etag):
                    start = int(wanted[1])
                    headers["Content-Range"] = f"bytes {start}-{len(body) - 1}/{len(body)}"
                    return self._send(206, body[start:], headers, head_only)
                if name in server.drop_first and not head_only:
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
                return self._send(200, body, headers, head_only)

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
