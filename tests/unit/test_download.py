"""Fingerprinting, downloading and checking the dataset zip: a real HTTP server on 127.0.0.1 and file:// URLs."""

import hashlib
import json
import signal
import zipfile

import pytest

from pipeline.download import (
    ChecksumMismatch,
    SourceUnusable,
    check_dataset_zip,
    download,
    fingerprint_source,
    target_path,
)
from tests.http_server import FileServer, dataset_zip

NAME = "spotify_playlists.zip"
ZENODO_PATH = f"record/2594557/files/{NAME}"
# Over three network chunks (1 MiB each), so a transfer cut halfway has written some of them.
CONTENT = dataset_zip(3 * 1024 * 1024 + 17)


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
    new_content = dataset_zip(1000, seed=1)
    (served.root / NAME).write_bytes(new_content)
    result = fetch(served, tmp_path)
    assert result.transferred and len(served.gets(NAME)) == 2
    assert open(result.path, "rb").read() == new_content


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
    with pytest.raises(SourceUnusable, match=f"^{served.url}/nothing-here.zip: HTTP 404 Not Found$"):
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
    content = dataset_zip(1000)
    source.write_bytes(content)
    fingerprint = fingerprint_source(source.as_uri())
    assert fingerprint == {"kind": "file", "size": len(content), "sha256": hashlib.sha256(content).hexdigest()}
    first = download(source.as_uri(), tmp_path / "downloads")
    second = download(source.as_uri(), tmp_path / "downloads")
    assert first.transferred and not second.transferred
    assert open(second.path, "rb").read() == content


def test_unsupported_schemes_are_refused(tmp_path):
    with pytest.raises(ValueError, match="unsupported URL scheme 'ftp'"):
        download("ftp://example.org/spotify_playlists.zip", tmp_path)


# file:// sources that can never be the dataset fail at once, in one line naming the URL.


def assert_unusable(call, url: str, problem: str) -> None:
    with pytest.raises(SourceUnusable) as failure:
        call()
    assert str(failure.value) == f"{url}: {problem}"


def test_a_missing_file_source_fails_at_once(tmp_path):
    url = (tmp_path / "nowhere" / NAME).as_uri()
    assert_unusable(lambda: fingerprint_source(url), url, "no such file")
    # Gone between check_source (which fingerprinted it) and download.
    fingerprint = {"kind": "file", "size": 1, "sha256": "0" * 64}
    assert_unusable(lambda: download(url, tmp_path / "downloads", fingerprint), url, "no such file")
    assert not [p for p in (tmp_path / "downloads").rglob("*") if p.is_file()]


def test_a_directory_source_fails_at_once(tmp_path):
    url = tmp_path.as_uri()
    assert_unusable(lambda: fingerprint_source(url), url, "is a directory, not the dataset zip")


@pytest.fixture
def alarm():
    """Fail, instead of hanging, when the code under test reads for ever."""

    def ring(*_):
        raise TimeoutError("still running after 10 s")

    previous = signal.signal(signal.SIGALRM, ring)
    signal.setitimer(signal.ITIMER_REAL, 10)
    yield
    signal.setitimer(signal.ITIMER_REAL, 0)
    signal.signal(signal.SIGALRM, previous)


def test_a_device_source_fails_at_once_instead_of_being_hashed_for_ever(alarm, tmp_path):
    url = "file:///dev/zero"
    assert_unusable(lambda: fingerprint_source(url), url, "is a character device, not a regular file")
    assert_unusable(lambda: download(url, tmp_path / "downloads", {"kind": "file"}), url,
                    "is a character device, not a regular file")  # fmt: skip


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "is empty, not a zip"),
        (b"name,size\nspotify,1\n", "is not a zip (it starts with b'name')"),
        (dataset_zip(1000, member="playlists.csv"), "the zip holds ['playlists.csv'], not spotify_dataset.csv"),
        (dataset_zip(1000, header=""), "spotify_dataset.csv starts with '', not the header naming the columns"),
    ],
)
def test_a_file_source_that_is_not_the_dataset_zip_is_neither_recorded_nor_kept(tmp_path, content, problem):
    source = tmp_path / NAME
    source.write_bytes(content)
    with pytest.raises(SourceUnusable) as failure:
        download(source.as_uri(), tmp_path / "downloads")
    assert str(failure.value).startswith(f"{source.as_uri()}: {problem}")
    assert not [p for p in (tmp_path / "downloads").rglob("*") if p.is_file()]


# check_dataset_zip on its own.


def zip_of(path, members: dict[str, bytes]):
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_the_dataset_zip_passes_with_or_without_a_byte_order_mark_and_crlf(tmp_path):
    header = b'"user_id", "artistname", "trackname", "playlistname"'
    check_dataset_zip(zip_of(tmp_path / "plain.zip", {"spotify_dataset.csv": header + b"\n"}))
    check_dataset_zip(zip_of(tmp_path / "bom.zip", {"spotify_dataset.csv": b"\xef\xbb\xbf" + header + b"\r\n"}))


def test_an_empty_csv_has_no_header(tmp_path):
    path = zip_of(tmp_path / "empty.zip", {"spotify_dataset.csv": b""})
    with pytest.raises(SourceUnusable, match="spotify_dataset.csv is empty: no header line$"):
        check_dataset_zip(path, "file:///the/source.zip")


def test_a_member_that_fails_its_crc_is_found(tmp_path):
    content = bytearray(dataset_zip(5000))  # stored: the CSV's bytes are in the zip as they are
    at = content.index(b"Artist")
    content[at : at + 6] = b"ARTIST"
    path = tmp_path / "damaged.zip"
    path.write_bytes(bytes(content))
    with pytest.raises(SourceUnusable, match=r"^file:///src.zip: spotify_dataset.csv in the zip fails its CRC check$"):
        check_dataset_zip(path, "file:///src.zip")
    check_dataset_zip(path, "file:///src.zip", test_crcs=False)  # a quick check opens it without reading it all


def test_a_cut_zip_does_not_open(tmp_path):
    path = tmp_path / "cut.zip"
    path.write_bytes(CONTENT[: len(CONTENT) * 6 // 10])
    with pytest.raises(SourceUnusable, match="is not a complete, readable zip"):
        check_dataset_zip(path)


def test_a_recorded_file_that_no_longer_opens_is_downloaded_again(served, tmp_path):
    # As an earlier version could leave it: a cut zip recorded as downloaded, its hashes matching the record.
    first = fetch(served, tmp_path)
    cut = CONTENT[: len(CONTENT) * 6 // 10]
    with open(first.path, "wb") as handle:
        handle.write(cut)
    record_path = first.path + ".source.json"
    record = json.loads(open(record_path).read())
    record.update(bytes=len(cut), sha256=hashlib.sha256(cut).hexdigest())
    with open(record_path, "w") as handle:
        json.dump(record, handle)
    again = fetch(served, tmp_path)
    assert again.transferred and open(again.path, "rb").read() == CONTENT
    assert served.gets(NAME) == [None, None]
