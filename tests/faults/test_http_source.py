"""An HTTP source misbehaving, against a real server on 127.0.0.1 (tests/http_server.py).

What can recover (a dropped or cut connection, 5xx, 408/429, a stalled transfer) is
retried, resuming where it stopped; what cannot (4xx, a body that is not the
dataset zip) fails at once with ``SourceUnusable``, in one line naming the URL
and the problem. Whatever happens, a file is recorded as downloaded only when it
is the whole, readable dataset zip.
"""

import time

import pytest
import requests

from pipeline.download import MAX_ATTEMPTS, SourceUnusable, StalledTransfer, download, target_path
from tests.http_server import FileServer, dataset_zip

NAME = "spotify_playlists.zip"
CONTENT = dataset_zip(3 * 1024 * 1024 + 17)
CUT = int(len(CONTENT) * 0.6)  # where a transfer cut at 60% ends
BACKOFF = 0.01  # retries wait 0.01 s x 1, 2, 4, ...


@pytest.fixture
def served(tmp_path):
    root = tmp_path / "served"
    root.mkdir()
    (root / NAME).write_bytes(CONTENT)
    with FileServer(root) as server:
        yield server


def url_of(served, name: str = NAME) -> str:
    return f"{served.url}/{name}"


def fetch(served, tmp_path, name: str = NAME, **kwargs):
    return download(url_of(served, name), tmp_path / "downloads", backoff_seconds=BACKOFF, **kwargs)


def recorded(served, tmp_path, name: str = NAME) -> bool:
    """Whether the download is recorded (the file under its final name, with its .source.json)."""
    path = target_path(url_of(served, name), tmp_path / "downloads")
    return path.exists() or path.with_name(path.name + ".source.json").exists()


def files_left(tmp_path) -> list[str]:
    return sorted(p.name for p in (tmp_path / "downloads").rglob("*") if p.is_file())


def serve(served, content: bytes, name: str = NAME) -> None:
    (served.root / name).write_bytes(content)


# What can recover is retried, and resumes.


def test_a_connection_dropped_halfway_resumes_with_a_range_request(served, tmp_path):
    served.drop_first.add(NAME)
    result = fetch(served, tmp_path)
    assert open(result.path, "rb").read() == CONTENT
    assert served.gets(NAME) == [None, f"bytes={len(CONTENT) // 2}-"]


def test_a_500_then_200_is_retried(served, tmp_path):
    served.fail_with[NAME] = [500]
    result = fetch(served, tmp_path)
    assert open(result.path, "rb").read() == CONTENT
    assert served.gets(NAME) == [None, None]


def test_busy_answers_408_429_503_are_retried(served, tmp_path):
    served.fail_with[NAME] = [408, 429, 503]
    result = fetch(served, tmp_path)
    assert open(result.path, "rb").read() == CONTENT
    assert len(served.gets(NAME)) == 4


def test_a_content_length_longer_than_the_body_is_not_taken_for_the_whole(served, tmp_path):
    served.cut_at[NAME] = [0.6]  # the first answer announces every byte and sends 60% of them
    result = fetch(served, tmp_path)
    assert open(result.path, "rb").read() == CONTENT
    assert served.gets(NAME) == [None, f"bytes={CUT}-"]


def test_a_body_without_content_length_cut_at_60_percent_resumes(served, tmp_path):
    served.no_length.add(NAME)
    served.cut_at[NAME] = [0.6]  # closing the connection is the only end of the body it shows
    result = fetch(served, tmp_path)
    assert open(result.path, "rb").read() == CONTENT
    assert served.gets(NAME) == [None, f"bytes={CUT}-"]


def test_a_body_without_content_length_always_cut_is_never_recorded(served, tmp_path):
    served.no_length.add(NAME)
    served.cut_at[NAME] = [0.6] * MAX_ATTEMPTS
    with pytest.raises(OSError, match="ended at byte"):
        fetch(served, tmp_path)
    assert len(served.gets(NAME)) == MAX_ATTEMPTS
    assert not recorded(served, tmp_path)
    # What arrived is kept, as a .partial, for the task's next try to resume.
    assert files_left(tmp_path) == [f"{NAME}.partial", f"{NAME}.partial.json"]


def test_a_server_always_announcing_more_than_it_sends_is_never_recorded(served, tmp_path):
    served.announce_length[NAME] = len(CONTENT) + 1000
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        fetch(served, tmp_path)
    assert len(served.gets(NAME)) == MAX_ATTEMPTS
    assert not recorded(served, tmp_path)


def test_a_trickling_server_times_out_within_the_bound(served, tmp_path):
    served.trickle[NAME] = MAX_ATTEMPTS  # one byte every 0.05 s: each read comes well within the read timeout
    read_timeout = 0.5
    started = time.monotonic()
    with pytest.raises(StalledTransfer, match=f"{url_of(served)}: stalled"):
        fetch(served, tmp_path, timeouts=(5.0, read_timeout))
    elapsed = time.monotonic() - started
    # Each attempt gives up within twice the read timeout; the backoffs add 0.15 s.
    assert elapsed < MAX_ATTEMPTS * 2 * read_timeout + 2.0, elapsed
    assert len(served.gets(NAME)) == MAX_ATTEMPTS
    assert not recorded(served, tmp_path)


def test_a_transfer_that_stalled_once_resumes_where_it_stopped(served, tmp_path):
    served.trickle[NAME] = 1
    result = fetch(served, tmp_path, timeouts=(5.0, 0.5))
    assert open(result.path, "rb").read() == CONTENT
    first, resumed = served.gets(NAME)
    assert first is None and 0 < int(resumed.removeprefix("bytes=").removesuffix("-")) < 100


# What cannot recover fails at once: one request, one line naming the URL and the problem, nothing kept.


def assert_fails_at_once(served, tmp_path, problem: str, name: str = NAME, **kwargs) -> None:
    with pytest.raises(SourceUnusable) as failure:
        fetch(served, tmp_path, name, **kwargs)
    message = str(failure.value)
    assert message.startswith(f"{url_of(served, name)}: ") and problem in message, message
    assert "\n" not in message
    assert len(served.gets(name)) <= 1  # never retried
    assert files_left(tmp_path) == []


def test_a_404_fails_at_once_without_a_transfer(served, tmp_path):
    assert_fails_at_once(served, tmp_path, "HTTP 404 Not Found", name="nothing-here.zip")
    assert served.gets("nothing-here.zip") == []  # the fingerprint's HEAD already failed


def test_a_404_after_the_fingerprint_fails_at_once(served, tmp_path):
    # check_source fingerprinted the file; it was gone when download ran.
    fingerprint = {"kind": "http", "etag": '"gone"', "last_modified": None, "size": len(CONTENT)}
    assert_fails_at_once(served, tmp_path, "HTTP 404 Not Found", name="gone.zip", fingerprint=fingerprint)
    assert served.gets("gone.zip") == [None]


def test_a_403_on_the_transfer_fails_at_once(served, tmp_path):
    served.fail_with[NAME] = [403, 403]
    assert_fails_at_once(served, tmp_path, "HTTP 403 Forbidden")


def test_a_body_that_is_not_a_zip_fails_at_once(served, tmp_path):
    serve(served, b"<!DOCTYPE html><html><body>Please log in</body></html>")
    assert_fails_at_once(served, tmp_path, "is not a zip (it starts with b'<!DO')")


def test_a_zip_without_the_csv_fails_at_once(served, tmp_path):
    serve(served, dataset_zip(5000, member="other.csv"))
    assert_fails_at_once(served, tmp_path, "the zip holds ['other.csv'], not spotify_dataset.csv")


def test_a_csv_with_another_header_fails_at_once(served, tmp_path):
    serve(served, dataset_zip(5000, header='"id","name"'))
    assert_fails_at_once(served, tmp_path, 'spotify_dataset.csv starts with \'"id","name"\', not the header')


def test_a_content_length_shorter_than_the_file_fails_at_once(served, tmp_path):
    # HEAD and GET both announce 60% of the file: the bytes agree with the announced size, but are no whole zip.
    served.announce_length[NAME] = CUT
    assert_fails_at_once(served, tmp_path, "is not a complete, readable zip")
