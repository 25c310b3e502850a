"""The sample generator writes the real format, deterministically, shaped like the real data."""

import csv
import io
import statistics
import zipfile
from collections import Counter, defaultdict

import pytest

from devtools import sample_data
from devtools.sample_data import CSV_MEMBER_NAME, write_sample_zip

ROWS = 60_000


@pytest.fixture(scope="module")
def sample(tmp_path_factory):
    path = write_sample_zip(tmp_path_factory.mktemp("sample") / "spotify_playlists.zip", ROWS, seed=3)
    with zipfile.ZipFile(path) as archive:
        assert archive.namelist() == [CSV_MEMBER_NAME]
        text = archive.read(CSV_MEMBER_NAME).decode("utf-8")
    return path, text.splitlines()


def parse(line):
    """The dataset's README format, read with Python's csv module: quotes, backslash escapes."""
    return next(csv.reader(io.StringIO(line), escapechar="\\", doublequote=False, skipinitialspace=True))


def test_header_and_row_count_are_exact(sample):
    _, lines = sample
    assert lines[0] == '"user_id", "artistname", "trackname", "playlistname"'
    assert len(lines) == ROWS + 1


def test_same_seed_gives_the_same_bytes(sample, tmp_path):
    path, _ = sample
    again = write_sample_zip(tmp_path / "again.zip", ROWS, seed=3)
    other = write_sample_zip(tmp_path / "other.zip", ROWS, seed=4)
    read = lambda p: zipfile.ZipFile(p).read(CSV_MEMBER_NAME)  # noqa: E731
    assert read(path) == read(again)
    assert read(path) != read(other)


def test_a_sample_too_big_for_a_plain_zip_member_is_written_with_zip64(sample, tmp_path, monkeypatch):
    def local_header_extra(path):  # a zip's first local file header: 30 bytes, the name, then the extra field
        head = path.read_bytes()[:200]
        name_length, extra_length = int.from_bytes(head[26:28], "little"), int.from_bytes(head[28:30], "little")
        return head[30 + name_length : 30 + name_length + extra_length]

    path, _ = sample
    assert local_header_extra(path) == b""  # the real file's size: a plain member, as the real zip has
    monkeypatch.setattr(sample_data, "ZIP64_FROM_ROWS", ROWS)  # a member of more than 4 GiB needs ZIP64
    big = write_sample_zip(tmp_path / "big.zip", ROWS, seed=3)
    assert local_header_extra(big)[:2] == (1).to_bytes(2, "little")  # the ZIP64 extra field's id, 0x0001
    assert zipfile.ZipFile(big).read(CSV_MEMBER_NAME) == zipfile.ZipFile(path).read(CSV_MEMBER_NAME)


def test_shape_resembles_the_real_dataset(sample):
    _, lines = sample
    rows = [parse(line) for line in lines[1:]]
    wellformed = [r for r in rows if len(r) == 4]
    playlists_per_user = defaultdict(set)
    playlist_sizes = Counter()
    for user, _, _, playlist in wellformed:
        playlists_per_user[user].add(playlist)
        playlist_sizes[(user, playlist)] += 1
    assert 5 <= statistics.median(len(p) for p in playlists_per_user.values()) <= 14
    assert 10 <= statistics.median(playlist_sizes.values()) <= 35
    assert max(size for (_, name), size in playlist_sizes.items() if name == "Starred") >= 500
    songs = Counter((artist, track) for _, artist, track, _ in wellformed)
    singletons = sum(1 for n in songs.values() if n == 1)
    assert singletons / len(songs) > 0.2  # a long tail
    assert songs.most_common(1)[0][1] > 50 * statistics.median(songs.values())  # a few hits


def test_it_sprinkles_the_real_datas_traps(sample):
    _, lines = sample
    rows = [parse(line) for line in lines[1:]]
    assert sum(1 for r in rows if len(r) != 4) >= 3  # malformed lines
    wellformed = [r for r in rows if len(r) == 4]
    assert any(r[1] == "" for r in wellformed)  # blank artists
    assert any('"' in r[1] or '"' in r[2] for r in wellformed)  # quotes inside fields
    assert any("\\" in r[1] or "\\" in r[2] for r in wellformed)  # backslashes inside fields
    assert any("," in r[1] or "," in r[2] for r in wellformed)  # commas inside fields
    assert any(not r[1].isascii() for r in wellformed)  # non-ASCII names


@pytest.mark.parametrize("rows", [3_000, ROWS])
def test_the_pages_example_song_is_a_hit_of_every_sample(tmp_path, rows):
    # The lookup page suggests "e.g. Björk" / "e.g. Jóga": in the demo's data it must be found.
    path = write_sample_zip(tmp_path / "sample.zip", rows, seed=42)
    with zipfile.ZipFile(path) as archive:
        lines = archive.read(CSV_MEMBER_NAME).decode("utf-8").splitlines()[1:]
    playlists = set()
    for line in lines:
        try:
            user, artist, track, playlist = parse(line)
        except ValueError:
            continue  # the sample's malformed lines
        if artist == "Björk" and track == "Jóga":
            playlists.add((user, playlist))
    assert len(playlists) >= 10
