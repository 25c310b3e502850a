"""The shape report measures a file's figures the way docs/dataset.md states them."""

import zipfile

import pytest

from benchmarks.dataset_shape import read_rows, shape, song_figures
from pipeline.run_folder import RunFolder

LINES = [
    '"user_id", "artistname", "trackname", "playlistname"',
    '"u1","A","x","P1"',
    '"u1","A","y","P1"',
    '"u1","B","x","P2"',
    '"u2","A","x","Starred"',
    '"u2","A","y","Starred"',
    '"u2","","z","Starred"',
    '"u2","C","Say \\"Hi\\", twice",""',
    '"u3","only","three"',
]


@pytest.fixture
def sample_zip(tmp_path):
    path = tmp_path / "sample.zip"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("spotify_dataset.csv", "\n".join(LINES) + "\n")
    return path


def test_every_figure_is_counted_as_the_dataset_notes_define_it(sample_zip):
    table, malformed, lines = read_rows(sample_zip)
    assert (malformed, lines) == (1, 8)  # the three-field line; every line after the header
    figures = shape(table, malformed, lines)
    assert figures == {
        "rows": 8,
        "users": 2,
        "distinct artist names": 3,  # A, B, C (the blank one is not a name)
        "distinct track names": 4,  # x, y, z, Say "Hi", twice
        "distinct playlist names": 3,  # P1, P2, Starred
        "blank artistname rows": 1,
        "blank trackname rows": 0,
        "blank playlistname rows": 1,
        "malformed lines (rows pyarrow refuses)": 1,
        "playlists per user, mean": 1.5,  # u1: P1, P2; u2: Starred (its unnamed row is no playlist)
        "playlists per user, median": 1.5,
        "playlists per user, max": 2,
        "tracks per playlist, mean": 2.0,  # P1 2, P2 1, Starred 3
        "tracks per playlist, median": 2.0,
        "tracks per user, mean": 3.5,  # u1 3, u2 4
        "tracks per user, median": 3.5,
        "tracks per user, max": 4,
        '"Starred" rows': 3,
        '"Liked from Radio" rows': 0,
        "share of artists in one row only": 0.667,  # B and C of A, B, C
    }


def test_song_counts_come_from_an_extract_without_hold_out(tmp_path):
    run = RunFolder(tmp_path / "run")
    rejected = {"rows_rejected_by_reason": {"malformed_line": 3, "blank_artist": 5}}
    run.write_metrics(
        "extract", {"min_playlists": 2, "holdout_fraction": 0, "songs_total": 9, "songs_kept": 4, **rejected}
    )
    assert song_figures(tmp_path / "run") == {
        "malformed lines": 3,
        "songs (artist, track) after normalisation": 9,
        "songs in at least 2 playlists": 4,
    }
    run.write_metrics("extract", {"min_playlists": 2, "holdout_fraction": 0.1, "songs_total": 9, "songs_kept": 4})
    with pytest.raises(SystemExit, match="holdout_fraction=0.1"):
        song_figures(tmp_path / "run")
