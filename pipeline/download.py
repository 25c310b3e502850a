"""Fingerprint and download the dataset zip from an ``http(s)://`` or ``file://`` URL.

Fingerprint (what identifies the source's content without fetching it):
- a Zenodo file URL (``<host>/record(s)/<id>/files/<name>``): the size and the
  ``md5:`` checksum that ``<host>/api/records/<id>`` lists for the file;
- another HTTP URL: its ETag, Last-Modified and Content-Length (None when the
  server gives none of them: then every run counts as a change);
- a ``file://`` URL: its size and SHA-256.

Download: streamed to disk in chunks, never held in memory, under a
``.partial`` name renamed only when complete. An interrupted transfer resumes
with an HTTP Range request (``If-Range`` guards against a source that changed
meanwhile), retried with exponential backoff; progress (percent, MB/s) is
logged at an interval. When a checksum or size is known it is verified: a
mismatch removes the file and fails with the expected and actual values. Beside
the file a ``.source.json`` records the fingerprint, size and hashes; when the
file is already there, still matches them, and the source's fingerprint is
unchanged, the transfer is skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests
import tenacity

CHUNK_BYTES = 8 * 1024 * 1024
# Bytes of a network read are lost with it when the connection drops: keep reads small.
NETWORK_CHUNK_BYTES = 1024 * 1024
TIMEOUT_SECONDS = (30, 300)
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 2.0
PROGRESS_SECONDS = 10.0
ZENODO_FILE_URL = re.compile(r"^(?P<base>https?://[^/]+)/records?/(?P<record>\d+)/files/(?P<name>[^?#]+)")
RETRYABLE = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
log = logging.getLogger(__name__)


class ChecksumMismatch(OSError):
    """The downloaded bytes are not the ones the source announced; the file was removed."""


class TransientHTTPError(OSError):
    """A 5xx answer: worth another attempt."""


@dataclass(frozen=True)
class Downloaded:
    path: str
    bytes: int
    sha256: str
    md5: str
    transferred: bool


def target_path(url: str, downloads_dir: Path) -> Path:
    """One folder per source URL, keeping the URL's file name."""
    name = Path(unquote(urlparse(url).path)).name or "download"
    return downloads_dir / hashlib.sha256(url.encode()).hexdigest()[:16] / name


def file_hashes(path: Path) -> tuple[str, str]:
    """(sha256, md5) of a file, read once."""
    sha256, md5 = hashlib.sha256(), hashlib.md5()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            sha256.update(chunk)
            md5.update(chunk)
    return sha256.hexdigest(), md5.hexdigest()


def _local_path(url: str) -> Path:
    return Path(unquote(urlparse(url).path))


def fingerprint_source(url: str) -> dict | None:
    """What identifies the source's current content (see the module docstring); None when unknowable."""
    scheme = urlparse(url).scheme
    if scheme == "file":
        path = _local_path(url)
        return {"kind": "file", "size": path.stat().st_size, "sha256": file_hashes(path)[0]}
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme!r} in {url!r}: use http://, https:// or file://")
    zenodo = ZENODO_FILE_URL.match(url)
    if zenodo:
        fingerprint = _zenodo_fingerprint(zenodo["base"], zenodo["record"], unquote(zenodo["name"]))
        if fingerprint is not None:
            return fingerprint
    response = requests.head(url, allow_redirects=True, timeout=TIMEOUT_SECONDS)
    response.raise_for_status()
    validators = {
        "etag": response.headers.get("ETag"),
        "last_modified": response.headers.get("Last-Modified"),
        "size": int(response.headers["Content-Length"]) if "Content-Length" in response.headers else None,
    }
    return {"kind": "http", **validators} if any(validators.values()) else None


def _zenodo_fingerprint(base: str, record: str, name: str) -> dict | None:
    api_url = f"{base}/api/records/{record}"
    try:
        response = requests.get(api_url, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        files = response.json().get("files", [])
    except (requests.RequestException, ValueError) as error:
        log.warning("could not read the Zenodo record %s (%s); falling back to HTTP headers", api_url, error)
        return None
    for entry in files:
        if entry.get("key") == name and str(entry.get("checksum", "")).startswith("md5:"):
            return {"kind": "zenodo", "record": record, "file": name, "size": entry.get("size"),
                    "md5": entry["checksum"].removeprefix("md5:")}  # fmt: skip
    log.warning("the Zenodo record %s lists no md5 for %s; falling back to HTTP headers", api_url, name)
    return None


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".source.json")


def _already_there(path: Path, url: str, fingerprint: dict | None) -> Downloaded | None:
    record_path = _record_path(path)
    if fingerprint is None or not path.exists() or not record_path.exists():
        return None
    record = json.loads(record_path.read_text())
    if record.get("url") != url or record.get("fingerprint") != fingerprint:
        return None
    if path.stat().st_size != record["bytes"] or file_hashes(path)[0] != record["sha256"]:
        log.warning("%s no longer matches its record; downloading it again", path)
        return None
    return Downloaded(str(path), record["bytes"], record["sha256"], record["md5"], transferred=False)


class _Progress:
    def __init__(self, url: str, total: int | None, done: int) -> None:
        self.url, self.total, self.done = url, total, done
        self.started = self.last = time.monotonic()
        self.start_bytes = done

    def add(self, count: int) -> None:
        self.done += count
        now = time.monotonic()
        if now - self.last >= PROGRESS_SECONDS:
            self.last = now
            rate = (self.done - self.start_bytes) / max(now - self.started, 1e-9) / 1e6
            share = f" of {self.total / 1e6:.1f} MB ({100 * self.done / self.total:.1f}%)" if self.total else ""
            log.info("downloading %s: %.1f MB%s at %.1f MB/s", self.url, self.done / 1e6, share, rate)


def _fetch_http(url: str, partial: Path, fingerprint: dict | None) -> None:
    """One attempt: continue ``partial`` from its current size when the server allows, else start over."""
    offset = partial.stat().st_size if partial.exists() else 0
    headers = {}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        validator = (fingerprint or {}).get("etag") or (fingerprint or {}).get("last_modified")
        if validator:
            headers["If-Range"] = validator
    with requests.get(url, headers=headers, stream=True, timeout=TIMEOUT_SECONDS) as response:
        if response.status_code == 416 and offset and offset == (fingerprint or {}).get("size"):
            return  # already complete
        if response.status_code >= 500:
            raise TransientHTTPError(f"{url}: HTTP {response.status_code}")
        response.raise_for_status()
        if response.status_code == 206:
            log.info("resuming %s at byte %d", url, offset)
            mode, total = "ab", offset + int(response.headers.get("Content-Length", 0)) or None
        else:
            offset, mode = 0, "wb"
            total = int(response.headers["Content-Length"]) if "Content-Length" in response.headers else None
        progress = _Progress(url, total, offset)
        with open(partial, mode) as target:
            for chunk in response.iter_content(NETWORK_CHUNK_BYTES):
                target.write(chunk)
                progress.add(len(chunk))
    if total is not None and partial.stat().st_size != total:
        raise requests.exceptions.ChunkedEncodingError(
            f"{url}: the connection ended at byte {partial.stat().st_size} of {total}"
        )


def _fetch_with_retries(url: str, partial: Path, fingerprint: dict | None, backoff_seconds: float) -> None:
    """``_fetch_http`` until it succeeds: dropped connections, timeouts and 5xx answers are tried again
    (``MAX_ATTEMPTS`` in all, waiting ``backoff_seconds`` x 1, 2, 4, ...); anything else fails at once."""
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(MAX_ATTEMPTS),
        wait=tenacity.wait_exponential(multiplier=backoff_seconds, min=0),
        retry=tenacity.retry_if_exception_type((*RETRYABLE, TransientHTTPError)),
        before_sleep=tenacity.before_sleep_log(log, logging.WARNING),
        reraise=True,
    )
    retrying(_fetch_http, url, partial, fingerprint)


def _verify(url: str, partial: Path, fingerprint: dict | None) -> tuple[str, str]:
    sha256, md5 = file_hashes(partial)
    expected = fingerprint or {}
    checks = [("size", expected.get("size"), partial.stat().st_size), ("md5", expected.get("md5"), md5),
              ("sha256", expected.get("sha256"), sha256)]  # fmt: skip
    for name, wanted, actual in checks:
        if wanted is not None and wanted != actual:
            partial.unlink()
            raise ChecksumMismatch(f"{url}: {name} expected {wanted}, got {actual}; removed the downloaded file")
    return sha256, md5


def download(
    url: str,
    downloads_dir: str | os.PathLike,
    fingerprint: dict | None = None,
    backoff_seconds: float = BACKOFF_SECONDS,
) -> Downloaded:
    """Fetch ``url`` into ``downloads_dir`` unless the same verified file is already there.

    ``fingerprint`` is the source's, from ``fingerprint_source`` (computed here when not given).
    """
    fingerprint = fingerprint if fingerprint is not None else fingerprint_source(url)
    path = target_path(url, Path(downloads_dir))
    existing = _already_there(path, url, fingerprint)
    if existing is not None:
        log.info("%s is already downloaded and verified (%d bytes); skipping the transfer", path, existing.bytes)
        return existing

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    partial_record = path.with_name(path.name + ".partial.json")
    if partial.exists() and (not partial_record.exists() or json.loads(partial_record.read_text()) != fingerprint):
        partial.unlink()  # left by a transfer of other content: resuming it would mix two files
    partial_record.write_text(json.dumps(fingerprint))
    if urlparse(url).scheme == "file":
        with open(_local_path(url), "rb") as source, open(partial, "wb") as target:
            shutil.copyfileobj(source, target, CHUNK_BYTES)
    else:
        _fetch_with_retries(url, partial, fingerprint, backoff_seconds)
    sha256, md5 = _verify(url, partial, fingerprint)
    result = Downloaded(str(path), partial.stat().st_size, sha256, md5, transferred=True)
    partial.replace(path)
    partial_record.unlink()
    _record_path(path).write_text(json.dumps({"url": url, "fingerprint": fingerprint, **asdict(result)}, indent=2))
    log.info("downloaded %s to %s (%d bytes, sha256 %s)", url, path, result.bytes, result.sha256)
    return result
