"""Publishing to a real PostgreSQL: COPY into staging, keys checked, swapped in atomically."""

import psycopg2.errors
import pytest

from pipeline.publish import run_record, stage_run, swap_in
from pipeline.run_folder import RunFolder
from pipeline.validation import ValidationFailed
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


def test_publish_loads_tables_and_the_named_view(db, tmp_path, engine_params):
    run_id = publish_run(db, write_run(tmp_path / "run", SONGS, RECOMMENDATIONS), engine_params)
    with db, db.cursor() as cursor:
        cursor.execute("select songs, pairs_published from music.runs where run_id = %s", (run_id,))
        assert cursor.fetchone() == (3, 3)
    tracks, named = live_rows(db)
    assert tracks == [('The "Quoted" Band', "Back\\slash, comma", 3), ("Björk", "Jóga", 2), ("Null", "", 2)]
    assert named == [
        ('The "Quoted" Band', "Back\\slash, comma", 1, "Björk", "Jóga", 0.5, 2),
        ('The "Quoted" Band', "Back\\slash, comma", 2, "Null", "", 0.25, 1),
        ("Björk", "Jóga", 1, 'The "Quoted" Band', "Back\\slash, comma", 0.5, 2),
    ]


def test_publishing_again_replaces_the_tables_without_duplicates(db, tmp_path, engine_params):
    run = write_run(tmp_path / "run", SONGS, RECOMMENDATIONS)
    publish_run(db, run, engine_params)
    publish_run(db, run, engine_params)
    assert len(live_rows(db)[0]) == 3
    publish_run(db, write_run(tmp_path / "other", SONGS[:2], RECOMMENDATIONS[:1] + RECOMMENDATIONS[2:]), engine_params)
    tracks, named = live_rows(db)
    assert [t[0] for t in tracks] == ['The "Quoted" Band', "Björk"]
    assert len(named) == 2


def test_a_failed_swap_leaves_the_previous_tables_as_they_were(db, tmp_path, engine_params):
    publish_run(db, write_run(tmp_path / "good", SONGS, RECOMMENDATIONS), engine_params)
    before = live_rows(db)
    # A recommendation of a song that is not in tracks violates the foreign key: the swap itself refuses
    # it, even when it is asked to swap in without the validation of the staged tables.
    broken = RunFolder(write_run(tmp_path / "broken", SONGS[:2], [(1, 2, 1, 0.5, 2), (1, 99, 2, 0.25, 1)]))
    staged = stage_run(db, broken)
    unvalidated = {"summary": {"success": False, "expectations": 0, "failed": 0}, "seconds": 0.0}
    record = run_record(broken, "manual__broken", "file:///x.zip", None, engine_params, staged, unvalidated)
    with pytest.raises(psycopg2.errors.ForeignKeyViolation, match="recommendations_recommended_track_id_fkey"):
        swap_in(db, broken, record)
    assert live_rows(db) == before
    with db.cursor() as cursor:
        cursor.execute("select tablename from pg_tables where schemaname = 'music' order by 1")
        assert cursor.fetchall() == [("evaluation",), ("recommendations",), ("runs",), ("tracks",)]
    db.rollback()


def run_count(db):
    with db.cursor() as cursor:
        cursor.execute("select count(*) from music.runs")
        (count,) = cursor.fetchone()
    db.rollback()
    return count


def test_each_publish_records_its_run_and_a_failed_one_records_none(db, tmp_path, engine_params):
    before = run_count(db)
    publish_run(db, write_run(tmp_path / "good", SONGS, RECOMMENDATIONS), engine_params)
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
            engine_params,
            3,
            3,
        )
    db.rollback()
    with pytest.raises(ValidationFailed, match="every recommended_track_id is in music_staging.tracks"):
        publish_run(db, write_run(tmp_path / "broken", SONGS[:1], [(1, 2, 1, 0.5, 2)]), engine_params)
    assert run_count(db) == before + 1
