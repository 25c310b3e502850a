"""The download task's logic against a real HTTP server on 127.0.0.1 and file:// URLs."""

import hashlib
import os

import pytest
import requests

from spotify_recs.download import download, target_path
from tests.http_server import FileServer


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / "spotify_playlists.zip").write_bytes(os.urandom(3 * 1024 * 1024 + 17))
    with FileServer(root) as server:
        yield server


def test_http_download_writes_the_exact_bytes(served, tmp_path):
    url = f"{served.url}/spotify_playlists.zip"
    result = download(url, tmp_path / "downloads")
    expected = (served.root / "spotify_playlists.zip").read_bytes()
    assert result.transferred
    assert open(result.path, "rb").read() == expected
    assert result.sha256 == hashlib.sha256(expected).hexdigest()
    assert result.path.endswith("spotify_playlists.zip")
    assert not list((tmp_path / "downloads").rglob("*.partial"))


def test_the_same_verified_file_is_not_transferred_again(served, tmp_path):
    url = f"{served.url}/spotify_playlists.zip"
    first = download(url, tmp_path / "downloads")
    second = download(url, tmp_path / "downloads")
    assert served.gets == 1
    assert not second.transferred
    assert second.path == first.path


def test_a_changed_source_is_downloaded_again(served, tmp_path):
    url = f"{served.url}/spotify_playlists.zip"
    download(url, tmp_path / "downloads")
    (served.root / "spotify_playlists.zip").write_bytes(b"new content")
    result = download(url, tmp_path / "downloads")
    assert result.transferred and served.gets == 2
    assert open(result.path, "rb").read() == b"new content"


def test_a_damaged_local_copy_is_downloaded_again(served, tmp_path):
    url = f"{served.url}/spotify_playlists.zip"
    first = download(url, tmp_path / "downloads")
    with open(first.path, "r+b") as handle:
        handle.write(b"XX")
    result = download(url, tmp_path / "downloads")
    assert result.transferred and served.gets == 2
    assert open(result.path, "rb").read() == (served.root / "spotify_playlists.zip").read_bytes()


def test_a_dropped_connection_leaves_no_file_that_looks_whole(served, tmp_path):
    served.truncate.add("spotify_playlists.zip")
    url = f"{served.url}/spotify_playlists.zip"
    with pytest.raises((OSError, requests.exceptions.RequestException)):
        download(url, tmp_path / "downloads")
    path = target_path(url, tmp_path / "downloads")
    assert not path.exists()
    assert not path.with_name(path.name + ".partial").exists()


def test_a_missing_file_fails_with_the_http_error(served, tmp_path):
    with pytest.raises(requests.exceptions.HTTPError, match="404"):
        download(f"{served.url}/nothing-here.zip", tmp_path / "downloads")


def test_file_urls_are_copied_and_then_skipped(tmp_path):
    source = tmp_path / "spotify_playlists.zip"
    source.write_bytes(b"zip bytes")
    first = download(source.as_uri(), tmp_path / "downloads")
    second = download(source.as_uri(), tmp_path / "downloads")
    assert first.transferred and not second.transferred
    assert open(second.path, "rb").read() == b"zip bytes"


def test_unsupported_schemes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unsupported URL scheme 'ftp'"):
        download("ftp://example.org/spotify_playlists.zip", tmp_path)
