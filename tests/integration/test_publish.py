"""Publishing to a real PostgreSQL: COPY into staging, keys checked, swapped in atomically."""

import pytest

from tests.integration.run_folders import publish_hand_made as publish_run
from tests.integration.run_folders import write_run

pytestmark = pytest.mark.integration


def live_rows(db):
    with db.cursor() as cursor:
        cursor.execute("select artist, track, playlist_count from music.tracks order by track_id")
        tracks = cursor.fetchall()
        cursor.execute(
            "select artist, track, rank, recommended_artist, recommended_track, similarity, shared_playlists "
            "from music.recommendations_named order by track_id, rank"
        )
        named = cursor.fetchall()
    db.rollback()
    return tracks, named


SONGS = [(1, 'The "Quoted" Band', "Back\\slash, comma", 3), (2, "Björk", "Jóga", 2), (3, "Null", "", 2)]
RECOMMENDATIONS = [(1, 2, 1, 0.5, 2), (1, 3, 2, 0.25, 1), (2, 1, 1, 0.5, 2)]


def test_publish_loads_tables_and_the_named_view(db, tmp_path):
    published = publish_run(db, write_run(tmp_path / "run", SONGS, RECOMMENDATIONS))
    assert published == {"tracks": 3, "recommendations": 3}
    tracks, named = live_rows(db)
    assert tracks == [('The "Quoted" Band', "Back\\slash, comma", 3), ("Björk", "Jóga", 2), ("Null", "", 2)]
    assert named == [
        ('The "Quoted" Band', "Back\\slash, comma", 1, "Björk", "Jóga", 0.5, 2),
        ('The "Quoted" Band', "Back\\slash, comma", 2, "Null", "", 0.25, 1),
        ("Björk", "Jóga", 1, 'The "Quoted" Band', "Back\\slash, comma", 0.5, 2),
    ]


def test_publishing_again_replaces_the_tables_without_duplicates(db, tmp_path):
    run = write_run(tmp_path / "run", SONGS, RECOMMENDATIONS)
    publish_run(db, run)
    publish_run(db, run)
    assert len(live_rows(db)[0]) == 3
    publish_run(db, write_run(tmp_path / "other", SONGS[:2], RECOMMENDATIONS[:1] + RECOMMENDATIONS[2:]))
    tracks, named = live_rows(db)
    assert [t[0] for t in tracks] == ['The "Quoted" Band', "Björk"]
    assert len(named) == 2


def test_a_failed_publish_leaves_the_previous_tables_as_they_were(db, tmp_path):
    publish_run(db, write_run(tmp_path / "good", SONGS, RECOMMENDATIONS))
    before = live_rows(db)
    # A recommendation of a song that is not in tracks violates the foreign key.
    broken = write_run(tmp_path / "broken", SONGS[:2], [(1, 2, 1, 0.5, 2), (1, 99, 2, 0.25, 1)])
    with pytest.raises(Exception, match="recommendations_recommended_track_id_fkey"):
        publish_run(db, broken)
    assert live_rows(db) == before
    with db.cursor() as cursor:
        cursor.execute("select tablename from pg_tables where schemaname = 'music' order by 1")
        assert cursor.fetchall() == [("recommendations",), ("runs",), ("tracks",)]
    db.rollback()


def run_count(db):
    with db.cursor() as cursor:
        cursor.execute("select count(*) from music.runs")
        (count,) = cursor.fetchone()
    db.rollback()
    return count


def test_each_publish_records_its_run_and_a_failed_one_records_none(db, tmp_path):
    before = run_count(db)
    publish_run(db, write_run(tmp_path / "good", SONGS, RECOMMENDATIONS))
    assert run_count(db) == before + 1
    with db.cursor() as cursor:
        cursor.execute(
            "select status, source_url, source_fingerprint, params, songs, pairs_published"
            " from music.runs order by run_id desc"
        )
        assert cursor.fetchone() == (
            "live",
            "file:///sample.zip",
            {"kind": "file"},
            {
                "min_playlists": 2,
                "num_perm": 128,
                "bands": 64,
                "rows_per_band": 2,
                "max_bucket": 20,
                "exact_work": 50000,
                "top_k": 20,
            },
            3,
            3,
        )
    db.rollback()
    with pytest.raises(Exception, match="fkey"):
        publish_run(db, write_run(tmp_path / "broken", SONGS[:1], [(1, 2, 1, 0.5, 2)]))
    assert run_count(db) == before + 1
