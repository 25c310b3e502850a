"""Fingerprinting and downloading against a real HTTP server on 127.0.0.1 and file:// URLs."""

import hashlib
import os

import pytest
import requests

from pipeline.download import ChecksumMismatch, download, fingerprint_source, target_path
from tests.http_server import FileServer

NAME = "spotify_playlists.zip"
ZENODO_PATH = f"record/2594557/files/{NAME}"
CONTENT = os.urandom(3 * 1024 * 1024 + 17)


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    (root / "record" / "2594557" / "files").mkdir(parents=True)
    (root / NAME).write_bytes(CONTENT)
    (root / ZENODO_PATH).write_bytes(CONTENT)
    with FileServer(root) as server:
        yield server


def zenodo_listing(md5: str) -> list[dict]:
    return [{"key": NAME, "size": len(CONTENT), "checksum": f"md5:{md5}"}]


def fetch(served, tmp_path, name=NAME):
    return download(f"{served.url}/{name}", tmp_path / "downloads", backoff_seconds=0.01)


def test_http_download_writes_the_exact_bytes(served, tmp_path):
    result = fetch(served, tmp_path)
    assert result.transferred
    assert open(result.path, "rb").read() == CONTENT
    assert result.sha256 == hashlib.sha256(CONTENT).hexdigest()
    assert result.path.endswith(NAME)
    assert not list((tmp_path / "downloads").rglob("*.partial*"))


def test_http_fingerprint_is_the_servers_validators(served):
    fingerprint = fingerprint_source(f"{served.url}/{NAME}")
    assert fingerprint["kind"] == "http"
    assert fingerprint["etag"] == '"' + hashlib.sha256(CONTENT).hexdigest() + '"'
    assert fingerprint["size"] == len(CONTENT)
    assert fingerprint["last_modified"]


def test_the_same_verified_file_is_not_transferred_again(served, tmp_path):
    first = fetch(served, tmp_path)
    second = fetch(served, tmp_path)
    assert served.gets(NAME) == [None]
    assert not second.transferred and second.path == first.path


def test_a_changed_source_is_downloaded_again(served, tmp_path):
    fetch(served, tmp_path)
    (served.root / NAME).write_bytes(b"new content")
    result = fetch(served, tmp_path)
    assert result.transferred and len(served.gets(NAME)) == 2
    assert open(result.path, "rb").read() == b"new content"


def test_a_damaged_local_copy_is_downloaded_again(served, tmp_path):
    first = fetch(served, tmp_path)
    with open(first.path, "r+b") as handle:
        handle.write(b"XX")
    result = fetch(served, tmp_path)
    assert result.transferred and open(result.path, "rb").read() == CONTENT


def test_a_dropped_connection_resumes_with_a_range_request(served, tmp_path):
    served.drop_first.add(NAME)
    result = fetch(served, tmp_path)
    assert open(result.path, "rb").read() == CONTENT
    ranges = served.gets(NAME)
    assert ranges[0] is None and len(ranges) == 2
    resumed_at = int(ranges[1].removeprefix("bytes=").removesuffix("-"))
    assert 0 < resumed_at <= len(CONTENT) // 2  # what arrived before the drop is not fetched again


def test_server_errors_are_retried_with_backoff(served, tmp_path):
    served.fail_with[NAME] = [500, 503]
    result = fetch(served, tmp_path)
    assert open(result.path, "rb").read() == CONTENT
    assert len(served.gets(NAME)) == 3


def test_persistent_server_errors_fail_after_the_last_attempt(served, tmp_path):
    served.fail_with[NAME] = [500] * 10
    with pytest.raises(OSError, match="HTTP 500"):
        fetch(served, tmp_path)
    assert len(served.gets(NAME)) == 5
    assert not target_path(f"{served.url}/{NAME}", tmp_path / "downloads").exists()


def test_a_missing_file_fails_at_once_with_the_http_error(served, tmp_path):
    with pytest.raises(requests.exceptions.HTTPError, match="404"):
        fetch(served, tmp_path, "nothing-here.zip")
    assert served.gets("nothing-here.zip") == []  # the fingerprint's HEAD already failed


def test_zenodo_urls_are_fingerprinted_by_the_records_md5_and_verified(served, tmp_path):
    served.zenodo_records["2594557"] = zenodo_listing(hashlib.md5(CONTENT).hexdigest())
    url = f"{served.url}/{ZENODO_PATH}?download=1"
    assert fingerprint_source(url) == {"kind": "zenodo", "record": "2594557", "file": NAME,
                                       "size": len(CONTENT), "md5": hashlib.md5(CONTENT).hexdigest()}  # fmt: skip
    result = download(url, tmp_path / "downloads", backoff_seconds=0.01)
    assert result.md5 == hashlib.md5(CONTENT).hexdigest()


def test_a_wrong_checksum_fails_saying_expected_and_actual_and_removes_the_file(served, tmp_path):
    served.zenodo_records["2594557"] = zenodo_listing("0" * 32)
    url = f"{served.url}/{ZENODO_PATH}?download=1"
    with pytest.raises(ChecksumMismatch) as failure:
        download(url, tmp_path / "downloads", backoff_seconds=0.01)
    assert f"md5 expected {'0' * 32}, got {hashlib.md5(CONTENT).hexdigest()}" in str(failure.value)
    assert not any(p.is_file() and p.suffix != ".json" for p in (tmp_path / "downloads").rglob("*"))


def test_file_urls_are_fingerprinted_by_hash_copied_and_then_skipped(tmp_path):
    source = tmp_path / NAME
    source.write_bytes(b"zip bytes")
    fingerprint = fingerprint_source(source.as_uri())
    assert fingerprint == {"kind": "file", "size": 9, "sha256": hashlib.sha256(b"zip bytes").hexdigest()}
    first = download(source.as_uri(), tmp_path / "downloads")
    second = download(source.as_uri(), tmp_path / "downloads")
    assert first.transferred and not second.transferred
    assert open(second.path, "rb").read() == b"zip bytes"


def test_unsupported_schemes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unsupported URL scheme 'ftp'"):
        download("ftp://example.org/spotify_playlists.zip", tmp_path)
