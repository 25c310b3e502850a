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
meanwhile), retried with exponential backoff; so are 5xx answers, timeouts and
a server that trickles bytes (less than ``MIN_BYTES_PER_READ_TIMEOUT`` within
the read timeout), and a body sent without Content-Length that ends before the
end of its zip. Progress (percent, MB/s) is logged at an interval. When a
checksum or size is known it is verified: a mismatch removes the file and fails
with the expected and actual values. Then the file must be the dataset zip
(``check_dataset_zip``: it opens, its CRCs check out, it holds
``spotify_dataset.csv``, whose first line is the dataset's header) before it is
recorded: beside the file a ``.source.json`` records the fingerprint, size and
hashes; when the file is already there, still matches them, still opens as the
dataset zip, and the source's fingerprint is unchanged, the transfer is skipped.

Permanent problems fail at once with ``SourceUnusable`` (a ``ValueError``),
whose message is one line naming the source and the problem: a missing
``file://`` source, a directory or another non-regular file (``/dev/zero``), an
HTTP 4xx answer (except 408 and 429), a body that is not a zip, a zip without
``spotify_dataset.csv`` or with a damaged member, a wrong header. Trying again
cannot mend them, so the DAG turns them into a failure without retries.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import re
import shutil
import stat
import time
import zipfile
import zlib
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests
import tenacity
import urllib3

from pipeline.dataset_format import CSV_MEMBER_NAME, HEADER_MAX_BYTES, ZIP_LOCAL_HEADER, header_problem

CHUNK_BYTES = 8 * 1024 * 1024
# Bytes of a network read are lost with it when the connection drops: keep reads small.
NETWORK_CHUNK_BYTES = 1024 * 1024
# (connect, read): the read timeout bounds each wait for bytes, and a transfer that brings less than
# MIN_BYTES_PER_READ_TIMEOUT within a read timeout is abandoned as stalled (a server trickling a byte
# now and then would otherwise hold it forever, each byte resetting the socket's own timeout).
TIMEOUT_SECONDS = (30.0, 300.0)
MIN_BYTES_PER_READ_TIMEOUT = 64 * 1024
MAX_ATTEMPTS = 5
BACKOFF_SECONDS = 2.0
PROGRESS_SECONDS = 10.0
ZENODO_FILE_URL = re.compile(r"^(?P<base>https?://[^/]+)/records?/(?P<record>\d+)/files/(?P<name>[^?#]+)")
RETRYABLE = (requests.ConnectionError, requests.Timeout, requests.exceptions.ChunkedEncodingError)
# 4xx answers that say "not now" rather than "never".
TRANSIENT_CLIENT_ERRORS = {408, 429}

log = logging.getLogger(__name__)


class ChecksumMismatch(OSError):
    """The downloaded bytes are not the ones the source announced; the file was removed."""


class TransientHTTPError(OSError):
    """A 5xx (or 408, 429) answer: worth another attempt."""


class TruncatedTransfer(OSError):
    """A body sent without Content-Length ended before the end of its zip: the connection was cut.
    Worth another attempt, which resumes where this one ended."""


class StalledTransfer(requests.Timeout):
    """Bytes kept arriving, but too few to ever finish: treated as a timeout (worth another attempt)."""


class SourceUnusable(ValueError):
    """The source cannot give the dataset zip, and trying again will not change that.

    The message is one line: the source (URL or path), a colon, the problem.
    """

    def __init__(self, source: str, problem: str) -> None:
        super().__init__(f"{source}: {problem}")
        self.source = source
        self.problem = problem


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


def _file_kind(mode: int) -> str:
    kinds = [(stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
             (stat.S_ISFIFO, "a named pipe"), (stat.S_ISSOCK, "a socket")]  # fmt: skip
    return next((name for is_kind, name in kinds if is_kind(mode)), "not a regular file")


def local_source(url: str) -> Path:
    """The regular, readable file a ``file://`` URL names, else ``SourceUnusable``.

    A directory fails here instead of deep in a read; a device such as ``/dev/zero`` instead of being
    hashed forever.
    """
    path = _local_path(url)
    try:
        mode = path.stat().st_mode
    except (FileNotFoundError, NotADirectoryError):
        raise SourceUnusable(url, "no such file") from None
    except PermissionError:
        raise SourceUnusable(url, "permission denied") from None
    if stat.S_ISDIR(mode):
        raise SourceUnusable(url, "is a directory, not the dataset zip")
    if not stat.S_ISREG(mode):
        raise SourceUnusable(url, f"is {_file_kind(mode)}, not a regular file")
    if not os.access(path, os.R_OK):
        raise SourceUnusable(url, "permission denied")
    return path


def _raise_for_status(url: str, response: requests.Response) -> None:
    """Sort an error answer: worth another attempt (5xx, 408, 429) or permanent (any other 4xx)."""
    status = response.status_code
    if status >= 500 or status in TRANSIENT_CLIENT_ERRORS:
        raise TransientHTTPError(f"{url}: HTTP {status} {response.reason}")
    if status >= 400:
        raise SourceUnusable(url, f"HTTP {status} {response.reason}")
    response.raise_for_status()


def fingerprint_source(url: str) -> dict | None:
    """What identifies the source's current content (see the module docstring); None when unknowable.

    Raises ``SourceUnusable`` for a source that can never be the dataset (missing file, HTTP 4xx, ...).
    """
    scheme = urlparse(url).scheme
    if scheme == "file":
        path = local_source(url)
        return {"kind": "file", "size": path.stat().st_size, "sha256": file_hashes(path)[0]}
    if scheme not in ("http", "https"):
        raise ValueError(f"unsupported URL scheme {scheme!r} in {url!r}: use http://, https:// or file://")
    zenodo = ZENODO_FILE_URL.match(url)
    if zenodo:
        fingerprint = _zenodo_fingerprint(zenodo["base"], zenodo["record"], unquote(zenodo["name"]))
        if fingerprint is not None:
            return fingerprint
    response = requests.head(url, allow_redirects=True, timeout=TIMEOUT_SECONDS)
    _raise_for_status(url, response)
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


def _first_line(archive: zipfile.ZipFile) -> bytes:
    with archive.open(CSV_MEMBER_NAME) as member:
        return member.readline(HEADER_MAX_BYTES)


def check_dataset_zip(path: str | os.PathLike, source: str | None = None, test_crcs: bool = True) -> None:
    """Raise ``SourceUnusable`` (naming ``source``, else the path) unless ``path`` is the dataset zip.

    It must open as a zip, hold ``spotify_dataset.csv``, pass its CRC checks (``test_crcs``: this reads
    every member once, seconds for the real 1.1 GB) and start with the dataset's header. A UTF-8
    byte-order mark before the header is accepted.
    """
    path = Path(path)
    source = source or str(path)
    with open(path, "rb") as handle:
        start = handle.read(len(ZIP_LOCAL_HEADER))
    if not start:
        raise SourceUnusable(source, "is empty, not a zip")
    if start != ZIP_LOCAL_HEADER and not zipfile.is_zipfile(path):  # (an empty zip starts with its end)
        raise SourceUnusable(source, f"is not a zip (it starts with {start!r})")
    try:
        with zipfile.ZipFile(path) as archive:
            names = archive.namelist()
            if CSV_MEMBER_NAME not in names:
                raise SourceUnusable(source, f"the zip holds {names}, not {CSV_MEMBER_NAME}")
            damaged = archive.testzip() if test_crcs else None
            if damaged is not None:
                raise SourceUnusable(source, f"{damaged} in the zip fails its CRC check")
            first_line = _first_line(archive)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise SourceUnusable(source, f"is not a complete, readable zip ({type(error).__name__}: {error})") from None
    if not first_line:
        raise SourceUnusable(source, f"{CSV_MEMBER_NAME} is empty: no header line")
    problem = header_problem(first_line.decode("utf-8-sig", errors="replace").rstrip("\r\n"))
    if problem is not None:
        raise SourceUnusable(source, problem)


def _is_cut_zip(path: Path) -> bool:
    """The start of a zip without its end (the central directory at the end of every zip is missing)."""
    with open(path, "rb") as handle:
        starts_like_zip = handle.read(len(ZIP_LOCAL_HEADER)) == ZIP_LOCAL_HEADER
    return starts_like_zip and not zipfile.is_zipfile(path)


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".source.json")


def _forget(path: Path) -> None:
    path.unlink(missing_ok=True)
    _record_path(path).unlink(missing_ok=True)


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
    try:
        # A file recorded before downloads were checked may be a cut-off zip: it must still open.
        check_dataset_zip(path, str(path), test_crcs=False)
    except SourceUnusable as problem:
        log.warning("%s; removing it and downloading it again", problem)
        _forget(path)
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


def _read_some(url: str, raw: urllib3.HTTPResponse) -> bytes:
    """What has arrived of the body (at most a network chunk), without waiting for a whole chunk.

    urllib3's errors become requests' ones, as ``Response.iter_content`` does, so the retry rules see them.
    """
    try:
        return raw.read1(NETWORK_CHUNK_BYTES, decode_content=True)
    except urllib3.exceptions.ReadTimeoutError as error:
        raise requests.exceptions.ReadTimeout(f"{url}: {error}") from error
    except urllib3.exceptions.ProtocolError as error:
        raise requests.exceptions.ChunkedEncodingError(f"{url}: {error}") from error


def _body_chunks(url: str, response: requests.Response, read_timeout: float) -> Iterator[bytes]:
    """The body as it arrives; ``StalledTransfer`` when a read timeout brings less than
    ``MIN_BYTES_PER_READ_TIMEOUT`` (so a trickling server is given up within twice the read timeout)."""
    window_started, window_bytes = time.monotonic(), 0
    while chunk := _read_some(url, response.raw):
        yield chunk
        window_bytes += len(chunk)
        now = time.monotonic()
        if now - window_started >= read_timeout:
            if window_bytes < MIN_BYTES_PER_READ_TIMEOUT:
                raise StalledTransfer(f"{url}: stalled, {window_bytes} bytes in {now - window_started:.1f} s")
            window_started, window_bytes = now, 0


def _expected_total(response: requests.Response, offset: int) -> int | None:
    """The whole file's size as the answer gives it (Content-Range's total for a 206), None when unknown."""
    content_range = re.fullmatch(r"bytes \d+-\d+/(\d+)", response.headers.get("Content-Range", ""))
    if response.status_code == 206 and content_range:
        return int(content_range[1])
    if "Content-Length" not in response.headers:
        return None
    return int(response.headers["Content-Length"]) + (offset if response.status_code == 206 else 0)


def _fetch_http(url: str, partial: Path, fingerprint: dict | None, timeouts: tuple[float, float]) -> None:
    """One attempt: continue ``partial`` from its current size when the server allows, else start over."""
    offset = partial.stat().st_size if partial.exists() else 0
    headers = {}
    if offset:
        headers["Range"] = f"bytes={offset}-"
        validator = (fingerprint or {}).get("etag") or (fingerprint or {}).get("last_modified")
        if validator:
            headers["If-Range"] = validator
    with requests.get(url, headers=headers, stream=True, timeout=timeouts) as response:
        if response.status_code == 416 and offset:
            if offset == (fingerprint or {}).get("size"):
                return  # already complete
            # The kept bytes run past the server's file: they cannot be part of it. Start over.
            partial.unlink()
            raise TransientHTTPError(f"{url}: HTTP 416 for the rest from byte {offset}; starting over")
        _raise_for_status(url, response)
        if response.status_code == 206:
            log.info("resuming %s at byte %d", url, offset)
            mode = "ab"
        else:
            offset, mode = 0, "wb"
        total = _expected_total(response, offset)
        progress = _Progress(url, total, offset)
        with open(partial, mode) as target:
            for chunk in _body_chunks(url, response, timeouts[1]):
                target.write(chunk)
                progress.add(len(chunk))
    size = partial.stat().st_size
    if total is not None and size != total:
        raise requests.exceptions.ChunkedEncodingError(f"{url}: the connection ended at byte {size} of {total}")
    if total is None and _is_cut_zip(partial):
        # Without a Content-Length, a connection closed early looks like the end of the body.
        raise TruncatedTransfer(f"{url}: the body (no Content-Length) ended at byte {size}, before the end of its zip")


def _fetch_with_retries(
    url: str,
    partial: Path,
    fingerprint: dict | None,
    backoff_seconds: float,
    timeouts: tuple[float, float] = TIMEOUT_SECONDS,
) -> None:
    """``_fetch_http`` until it succeeds: dropped connections, cut or stalled transfers, timeouts and 5xx
    answers are tried again (``MAX_ATTEMPTS`` in all, waiting ``backoff_seconds`` x 1, 2, 4, ...); anything
    else fails at once."""
    retrying = tenacity.Retrying(
        stop=tenacity.stop_after_attempt(MAX_ATTEMPTS),
        wait=tenacity.wait_exponential(multiplier=backoff_seconds, min=0),
        retry=tenacity.retry_if_exception_type((*RETRYABLE, TransientHTTPError, TruncatedTransfer)),
        before_sleep=tenacity.before_sleep_log(log, logging.WARNING),
        reraise=True,
    )
    retrying(_fetch_http, url, partial, fingerprint, timeouts)


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


def _copy_local(url: str, partial: Path) -> None:
    with open(local_source(url), "rb") as source, open(partial, "wb") as target:
        shutil.copyfileobj(source, target, CHUNK_BYTES)


def download(
    url: str,
    downloads_dir: str | os.PathLike,
    fingerprint: dict | None = None,
    backoff_seconds: float = BACKOFF_SECONDS,
    timeouts: tuple[float, float] = TIMEOUT_SECONDS,
) -> Downloaded:
    """Fetch ``url`` into ``downloads_dir`` unless the same verified file is already there.

    ``fingerprint`` is the source's, from ``fingerprint_source`` (computed here when not given);
    ``timeouts`` are (connect, read) seconds. Raises ``SourceUnusable`` when the source is not, and cannot
    become by trying again, the dataset zip; nothing is recorded then and no downloaded byte is kept.
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
    try:
        if urlparse(url).scheme == "file":
            _copy_local(url, partial)
        else:
            _fetch_with_retries(url, partial, fingerprint, backoff_seconds, timeouts)
        sha256, md5 = _verify(url, partial, fingerprint)
        log.info("checking %s is the dataset zip", partial)
        check_dataset_zip(partial, url)
    except SourceUnusable:
        # Whole and still not the dataset: these bytes are no use to a later attempt either.
        partial.unlink(missing_ok=True)
        partial_record.unlink(missing_ok=True)
        raise
    result = Downloaded(str(path), partial.stat().st_size, sha256, md5, transferred=True)
    partial.replace(path)
    partial_record.unlink()
    _record_path(path).write_text(json.dumps({"url": url, "fingerprint": fingerprint, **asdict(result)}, indent=2))
    log.info("downloaded %s to %s (%d bytes, sha256 %s)", url, path, result.bytes, result.sha256)
    return result
