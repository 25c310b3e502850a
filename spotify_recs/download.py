"""Download the dataset zip from an ``http://``, ``https://`` or ``file://`` URL.

The file is streamed to disk in chunks (never held in memory), written under a
temporary ``.partial`` name and renamed only when complete and of the announced
length, so a partial file is never taken for a whole one. Beside it a
``.source.json`` records the source's fingerprint (HTTP ETag, Last-Modified and
Content-Length, or a local file's size and modification time) and the file's
size and SHA-256. When the file is already there, still matches its recorded
size and SHA-256, and the source's fingerprint is unchanged, the transfer is
skipped.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
from dataclasses import asdict, dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import requests

CHUNK_BYTES = 8 * 1024 * 1024
TIMEOUT_SECONDS = (30, 300)
log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Downloaded:
    path: str
    bytes: int
    sha256: str
    transferred: bool


def target_path(url: str, downloads_dir: Path) -> Path:
    """One folder per source URL, keeping the URL's file name."""
    name = Path(unquote(urlparse(url).path)).name or "download"
    return downloads_dir / hashlib.sha256(url.encode()).hexdigest()[:16] / name


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        while chunk := handle.read(CHUNK_BYTES):
            digest.update(chunk)
    return digest.hexdigest()


def source_fingerprint(url: str) -> dict | None:
    """What identifies the source's current content without fetching it; None when the source gives nothing."""
    scheme = urlparse(url).scheme
    if scheme == "file":
        stat = Path(unquote(urlparse(url).path)).stat()
        return {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    if scheme in ("http", "https"):
        response = requests.head(url, allow_redirects=True, timeout=TIMEOUT_SECONDS)
        response.raise_for_status()
        fingerprint = {k: response.headers.get(k) for k in ("ETag", "Last-Modified", "Content-Length")}
        return fingerprint if any(fingerprint.values()) else None
    raise ValueError(f"unsupported URL scheme {scheme!r} in {url!r}: use http://, https:// or file://")


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + ".source.json")


def _already_there(path: Path, url: str, fingerprint: dict | None) -> Downloaded | None:
    record_path = _record_path(path)
    if fingerprint is None or not path.exists() or not record_path.exists():
        return None
    record = json.loads(record_path.read_text())
    if record.get("url") != url or record.get("fingerprint") != fingerprint:
        return None
    if path.stat().st_size != record["bytes"] or sha256_of(path) != record["sha256"]:
        log.warning("%s does not match its record any more; downloading again", path)
        return None
    return Downloaded(str(path), record["bytes"], record["sha256"], transferred=False)


def _stream(url: str, partial: Path) -> None:
    scheme = urlparse(url).scheme
    if scheme == "file":
        with open(unquote(urlparse(url).path), "rb") as source, open(partial, "wb") as target:
            shutil.copyfileobj(source, target, CHUNK_BYTES)
        return
    with requests.get(url, stream=True, timeout=TIMEOUT_SECONDS) as response:
        response.raise_for_status()
        expected = response.headers.get("Content-Length")
        written = 0
        with open(partial, "wb") as target:
            for chunk in response.iter_content(CHUNK_BYTES):
                target.write(chunk)
                written += len(chunk)
        if expected is not None and written != int(expected):
            raise OSError(f"{url}: received {written} bytes, the server announced {expected}")


def download(url: str, downloads_dir: str | os.PathLike) -> Downloaded:
    """Fetch ``url`` into ``downloads_dir`` unless the same verified file is already there."""
    path = target_path(url, Path(downloads_dir))
    fingerprint = source_fingerprint(url)
    existing = _already_there(path, url, fingerprint)
    if existing is not None:
        log.info("%s is already downloaded and verified (%d bytes); skipping the transfer", path, existing.bytes)
        return existing

    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        _stream(url, partial)
    except BaseException:
        partial.unlink(missing_ok=True)
        raise
    result = Downloaded(str(path), partial.stat().st_size, sha256_of(partial), transferred=True)
    partial.replace(path)
    record = {"url": url, "fingerprint": fingerprint, **asdict(result)}
    _record_path(path).write_text(json.dumps(record, indent=2) + "\n")
    log.info("downloaded %s to %s (%d bytes, sha256 %s)", url, path, result.bytes, result.sha256)
    return result
