"""The analysts' warehouse on a real PostgreSQL: versions, rollback, retention, views, the evaluation of each
version, examples, the reader role."""

from __future__ import annotations

from decimal import Decimal

import psycopg2
import pytest

from pipeline.publish import stage_run, validate_staged
from pipeline.run_folder import RunFolder
from pipeline.settings import EXPECTATIONS_DIR, SQL_DIR
from pipeline.validation import ValidationFailed, load_suites
from tests.integration.run_folders import publish_hand_made, write_run
from warehouse.connection import connect, with_user
from warehouse.sql_files import create_warehouse_schema, fetch_all_as_dicts, run_sql_file
from warehouse.versions import VersionError, rollback

pytestmark = pytest.mark.integration

SONGS_A = [(1, "Björk", "Jóga", 5), (2, "Björk", "Hyperballad", 4), (3, "Sigur Rós", "Hoppípolla", 3)]
RECS_A = [(1, 2, 1, 0.6, 3), (1, 3, 2, 0.5, 2), (2, 1, 1, 0.6, 3), (3, 1, 1, 0.5, 2)]
SONGS_B = [*SONGS_A, (4, "Radiohead", "Karma Police", 9)]
RECS_B = [(1, 3, 1, 0.5, 2), (1, 4, 2, 0.2, 1), (3, 1, 1, 0.5, 2), (4, 1, 1, 0.2, 1)]
SONGS_C = SONGS_A[:2]
RECS_C = [(1, 2, 1, 0.7, 3), (2, 1, 1, 0.7, 3)]

FIGURES = ["r_precision", "ndcg", "recall_10", "recall_100", "recall_500", "clicks", "hit_rate", "coverage",
           "popularity_ratio", "own_artist_share"]  # fmt: skip


def figures(method, seed_category, cases, *values):
    """A row of metrics/evaluation.json: the method, seed category, cases and every figure in FIGURES' order."""
    return {"method": method, "seed_category": seed_category, "cases": cases, **dict(zip(FIGURES, values, strict=True))}


# Version A's and B's evaluation: ours, both baselines overall, and seed categories with and without cases.
EVALUATION_A = [
    figures("published", "all", 40, 0.10, 0.20, 0.05, 0.30, 0.50, 3.5, 0.40, 0.30, 1.5, 0.20),
    figures("published", "1", 10, 0.05, 0.10, 0.02, 0.20, 0.40, 6.0, 0.30, 0.10, 2.0, 0.10),
    figures("published", "25", 0, None, None, None, None, None, None, None, None, None, None),
    figures("most_popular", "all", 40, 0.02, 0.05, 0.01, 0.10, 0.30, 20.0, 0.10, 0.01, 9.0, 0.02),
    figures("cosine_knn", "all", 40, 0.12, 0.22, 0.06, 0.31, 0.52, 3.0, 0.42, 0.28, 1.4, 0.25),
]
EVALUATION_B = [
    figures("published", "all", 50, 0.15, 0.26, 0.07, 0.35, 0.55, 2.5, 0.45, 0.33, 1.3, 0.18),
    figures("most_popular", "all", 50, 0.03, 0.06, 0.01, 0.12, 0.31, 19.0, 0.12, 0.01, 8.5, 0.02),
    figures("cosine_knn", "all", 50, 0.13, 0.24, 0.06, 0.33, 0.54, 2.9, 0.44, 0.30, 1.35, 0.24),
]


def rows(db, query, params=None):
    with db.cursor() as cursor:
        cursor.execute(query, params)
        result = cursor.fetchall()
    db.rollback()
    return result


def live_pairs(db):
    return rows(db, "select track_id, recommended_track_id from music.recommendations order by 1, 2")


def statuses(db, first_run_id):
    return rows(db, "select status from music.runs where run_id >= %s order by run_id", (first_run_id,))


def history_tables(db):
    return {r[0] for r in rows(db, "select tablename from pg_tables where schemaname = 'music_history'")}


def next_run_id(db) -> int:
    return rows(db, "select coalesce(max(run_id), 0) + 1 from music.runs")[0][0]


@pytest.fixture
def db(module_dsn):
    connection = connect(module_dsn)
    with connection, connection.cursor() as cursor:
        create_warehouse_schema(cursor)
    yield connection
    connection.close()


@pytest.fixture
def three_versions(db, tmp_path, engine_params):
    """Publish A, B, C (in that order); yields A's run_id."""
    first = next_run_id(db)
    for name, songs, recs in (("a", SONGS_A, RECS_A), ("b", SONGS_B, RECS_B), ("c", SONGS_C, RECS_C)):
        publish_hand_made(db, write_run(tmp_path / name, songs, recs), engine_params)
    return first


def test_each_publish_archives_the_previous_version_and_retention_keeps_two(db, three_versions, monkeypatch):
    a = three_versions
    assert statuses(db, a) == [("expired",), ("archived",), ("live",)]
    assert live_pairs(db) == [(1, 2), (2, 1)]
    assert {f"tracks_r{a + 1}", f"recommendations_r{a + 1}"} <= history_tables(db)
    assert not {f"tracks_r{a}", f"recommendations_r{a}"} & history_tables(db)
    # the archived version keeps its keys, under its own names
    indexes = rows(db, "select indexname from pg_indexes where tablename = %s order by 1", (f"tracks_r{a + 1}",))
    assert (f"tracks_r{a + 1}_pkey",) in indexes


def test_previous_recommendations_is_the_version_before_the_live_one(db, three_versions):
    previous = rows(db, "select track_id, recommended_track_id from music.previous_recommendations order by 1, 2")
    assert previous == sorted((t, r) for t, r, *_ in RECS_B)


def test_rollback_makes_the_previous_version_live_again_atomically(db, three_versions):
    a = three_versions
    assert rollback(db) == a + 1
    assert live_pairs(db) == sorted((t, r) for t, r, *_ in RECS_B)
    assert statuses(db, a) == [("expired",), ("live",), ("rolled_back",)]
    assert rows(db, "select count(*) from music.recommendations_named") == [(len(RECS_B),)]
    live_indexes = "select indexname from pg_indexes where schemaname = 'music' and tablename = 'tracks' order by 1"
    assert rows(db, live_indexes) == [("tracks_name_idx",), ("tracks_pkey",), ("tracks_search_idx",)]
    with pytest.raises(VersionError, match="no earlier version"):
        rollback(db)  # version A's tables were dropped by retention
    assert live_pairs(db) == sorted((t, r) for t, r, *_ in RECS_B)


def test_re_running_the_same_dag_run_replaces_its_version(db, tmp_path, engine_params):
    first = next_run_id(db)
    x1 = write_run(tmp_path / "x1", SONGS_A, RECS_A, EVALUATION_A)
    publish_hand_made(db, x1, engine_params, dag_run_id="manual__same")
    x2 = write_run(tmp_path / "x2", SONGS_A, RECS_A, EVALUATION_B)
    second = publish_hand_made(db, x2, engine_params, dag_run_id="manual__same")
    assert rows(db, "select count(*) from music.runs where dag_run_id = 'manual__same'") == [(1,)]
    assert statuses(db, first) == [("live",)]
    assert live_pairs(db) == sorted((t, r) for t, r, *_ in RECS_A)
    # the replaced run's evaluation went with its run row (on delete cascade)
    evaluated = "select run_id, method, r_precision from music.evaluation where run_id >= %s order by 1, 2"
    assert rows(db, evaluated, (first,)) == [(second, "cosine_knn", 0.13), (second, "most_popular", 0.03),
                                             (second, "published", 0.15)]  # fmt: skip


def test_evaluation_latest_shows_the_live_versions_figures_and_follows_a_rollback(db, tmp_path, engine_params):
    first = next_run_id(db)
    a = publish_hand_made(
        db, write_run(tmp_path / "a", SONGS_A, RECS_A, EVALUATION_A), {**engine_params, "holdout_fraction": 0.1},
        dag_run_id="manual__evaluated_a",
    )  # fmt: skip
    b = publish_hand_made(
        db, write_run(tmp_path / "b", SONGS_B, RECS_B, EVALUATION_B), {**engine_params, "holdout_fraction": 0.2},
        dag_run_id="manual__evaluated_b",
    )  # fmt: skip
    stored = "select run_id, method, seed_category, cases, r_precision, ndcg, own_artist_share from music.evaluation"
    assert rows(db, stored + " where run_id >= %s order by 1, 2, 3", (first,)) == [
        (a, "cosine_knn", "all", 40, 0.12, 0.22, 0.25),
        (a, "most_popular", "all", 40, 0.02, 0.05, 0.02),
        (a, "published", "1", 10, 0.05, 0.10, 0.10),
        (a, "published", "25", 0, None, None, None),
        (a, "published", "all", 40, 0.10, 0.20, 0.20),
        (b, "cosine_knn", "all", 50, 0.13, 0.24, 0.24),
        (b, "most_popular", "all", 50, 0.03, 0.06, 0.02),
        (b, "published", "all", 50, 0.15, 0.26, 0.18),
    ]
    latest = (
        "select run_id, dag_run_id, holdout_fraction, method, seed_category, r_precision, clicks"
        " from music.evaluation_latest order by method, seed_category"
    )
    assert rows(db, latest) == [
        (b, "manual__evaluated_b", 0.2, "cosine_knn", "all", 0.13, 2.9),
        (b, "manual__evaluated_b", 0.2, "most_popular", "all", 0.03, 19.0),
        (b, "manual__evaluated_b", 0.2, "published", "all", 0.15, 2.5),
    ]
    # the demo's query: the overall rows, ours first
    with db.cursor() as cursor:
        run_sql_file(cursor, "select_demo_evaluation.sql")
        demo = [(r["method"], r["holdout_fraction"], r["cases"], r["ndcg"]) for r in fetch_all_as_dicts(cursor)]
    db.rollback()
    assert demo == [("published", 0.2, 50, 0.26), ("most_popular", 0.2, 50, 0.06), ("cosine_knn", 0.2, 50, 0.24)]

    assert rollback(db) == a
    assert rows(db, latest) == [
        (a, "manual__evaluated_a", 0.1, "cosine_knn", "all", 0.12, 3.0),
        (a, "manual__evaluated_a", 0.1, "most_popular", "all", 0.02, 20.0),
        (a, "manual__evaluated_a", 0.1, "published", "1", 0.05, 6.0),
        (a, "manual__evaluated_a", 0.1, "published", "25", None, None),
        (a, "manual__evaluated_a", 0.1, "published", "all", 0.10, 3.5),
    ]

    publish_hand_made(db, write_run(tmp_path / "c", SONGS_C, RECS_C), {**engine_params, "holdout_fraction": 0})
    assert rows(db, latest) == []  # a live version that was not evaluated


def test_views_and_their_columns_are_documented(db, three_versions):
    views = ["recommendations_named", "track_lookup", "most_recommended_tracks", "artist_similarity",
             "previous_recommendations", "evaluation_latest"]  # fmt: skip
    for view in views:
        assert rows(db, "select obj_description(%s::regclass)", (f"music.{view}",))[0][0], view
    undocumented = rows(
        db,
        "select table_name, column_name from information_schema.columns c where table_schema = 'music'"
        " and table_name = any(%s) and table_name <> 'previous_recommendations'"
        " and col_description(format('music.%%I', table_name)::regclass, ordinal_position) is null",
        (views,),
    )
    assert undocumented == []


def test_track_lookup_matches_case_and_accents_through_the_index(db, three_versions):
    query = (
        "select track from music.track_lookup"
        " where artist_folded = music.fold_name(%s) and track_folded = music.fold_name(%s)"
    )
    assert rows(db, query, ("BJORK", "joga")) == [("Jóga",)]
    with db.cursor() as cursor:
        cursor.execute("set enable_seqscan = off")
        cursor.execute("explain " + query, ("BJORK", "joga"))
        plan = "\n".join(r[0] for r in cursor.fetchall())
    db.rollback()
    assert "tracks_name_idx" in plan


def test_artist_similarity_and_most_recommended(db, three_versions):
    assert rows(db, "select artist, similar_artist, song_pairs from music.artist_similarity") == []  # C: Björk only
    assert rows(db, "select track, times_recommended from music.most_recommended_tracks order by 1") == [
        ("Hyperballad", 1), ("Jóga", 1)
    ]  # fmt: skip


@pytest.mark.parametrize("example", sorted(p.name for p in (SQL_DIR / "examples").glob("*.sql")))
def test_example_queries_return_sensible_rows(db, tmp_path, example, engine_params, module_dsn):
    first = next_run_id(db)
    with db, db.cursor() as cursor:  # the module's earlier tests published evaluated versions too
        cursor.execute("delete from music.evaluation where run_id < %s", (first,))
    params = {**engine_params, "holdout_fraction": 0.1}
    a = publish_hand_made(db, write_run(tmp_path / "a", SONGS_A, RECS_A, EVALUATION_A), params)
    b = publish_hand_made(db, write_run(tmp_path / "b", SONGS_B, RECS_B, EVALUATION_B), params)
    reader = connect(with_user(module_dsn, "music_reader"))  # what the analysts run them as
    try:
        with reader.cursor() as cursor:
            cursor.execute((SQL_DIR / "examples" / example).read_text())
            columns = [c.name for c in cursor.description]
            result = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
        reader.rollback()
    finally:
        reader.close()
    assert result, example
    if example == "recommendations_for_a_song.sql":
        assert [(r["rank"], r["recommended_track"]) for r in result] == [(1, "Hoppípolla"), (2, "Karma Police")]
    elif example == "songs_similar_across_artists.sql":
        assert (result[0]["track"], result[0]["recommended_track"]) == ("Jóga", "Hoppípolla")
    elif example == "coverage_by_popularity.sql":
        assert [(r["popularity_band"], r["songs"]) for r in result] == [
            ("1: 2-4 playlists", 2),  # Hyperballad 4, Hoppípolla 3
            ("2: 5-19 playlists", 2),  # Jóga 5, Karma Police 9
        ]
    elif example == "changes_since_previous_run.sql":
        # A -> B: kept 1->3 and 3->1; added 1->4, 4->1; dropped 1->2, 2->1
        assert result == [{"songs": 4, "recommendations_kept": 2, "recommendations_added": 2,
                           "recommendations_dropped": 2}]  # fmt: skip
    elif example == "quality_of_recent_runs.sql":
        figures_of = ["run_id", "status", "holdout_fraction", "cases", "r_precision", "r_precision_change", "ndcg",
                      "ndcg_change", "most_popular_r_precision", "most_popular_ndcg", "cosine_knn_r_precision",
                      "cosine_knn_ndcg"]  # fmt: skip
        assert [[r[name] for name in figures_of] for r in result] == [
            [b, "live", 0.1, 50, Decimal("0.15"), Decimal("0.05"), Decimal("0.26"), Decimal("0.06"),
             Decimal("0.03"), Decimal("0.06"), Decimal("0.13"), Decimal("0.24")],
            [a, "archived", 0.1, 40, Decimal("0.10"), None, Decimal("0.20"), None,
             Decimal("0.02"), Decimal("0.05"), Decimal("0.12"), Decimal("0.22")],
        ]  # fmt: skip


def test_the_reader_role_can_read_music_and_nothing_else(db, three_versions, module_dsn):
    reader = connect(with_user(module_dsn, "music_reader"))
    try:
        with reader.cursor() as cursor:
            cursor.execute("select count(*) from music.recommendations_named")
            assert cursor.fetchone()[0] == len(RECS_C)
            cursor.execute("select count(*) from music.runs")
            cursor.execute("select count(*) from music.evaluation")
            cursor.execute("select count(*) from music.evaluation_latest")
        reader.rollback()
        forbidden = [
            "delete from music.recommendations",
            "insert into music.tracks values (9, 'x', 'y', 2)",
            "create table music.mine (x int)",
            "drop view music.track_lookup",
            f"select * from music_history.tracks_r{three_versions + 1}",
        ]
        for statement in forbidden:
            with pytest.raises(psycopg2.errors.InsufficientPrivilege), reader.cursor() as cursor:
                cursor.execute(statement)
            reader.rollback()
    finally:
        reader.close()


def staged_primary_keys(db):
    query = (
        "select conname from pg_constraint where connamespace = 'music_staging'::regnamespace and contype = 'p' "
        "order by 1"
    )
    return [name for (name,) in rows(db, query)]


def staged_rows_analyzed(db):
    query = (
        "select relname, reltuples from pg_class where relnamespace = 'music_staging'::regnamespace and relkind = 'r'"
    )
    return dict(rows(db, query))


def test_stage_builds_the_keys_and_statistics_the_validation_and_the_swap_use(db, tmp_path):
    staged = stage_run(db, RunFolder(write_run(tmp_path / "good", SONGS_A, RECS_A)))
    assert staged["rows"] == {"tracks": len(SONGS_A), "recommendations": len(RECS_A)}
    assert staged["keys_built"] is True
    assert staged_primary_keys(db) == ["recommendations_pkey", "tracks_pkey"]
    # analyzed: a table never analyzed has reltuples -1
    assert staged_rows_analyzed(db) == {"tracks": len(SONGS_A), "recommendations": len(RECS_A)}
    indexes = "select indexname from pg_indexes where schemaname = 'music_staging' and tablename = 'tracks' order by 1"
    assert rows(db, indexes) == [("tracks_name_idx",), ("tracks_pkey",), ("tracks_search_idx",)]


def test_a_key_no_expectation_states_stops_the_swap_with_postgresqls_message(db, tmp_path, engine_params):
    first = next_run_id(db)
    publish_hand_made(db, write_run(tmp_path / "a", SONGS_A, RECS_A), engine_params)
    # song 1 recommends song 2 twice, at two ranks: every staged expectation holds, the pair key does not
    twice = [(1, 2, 1, 0.6, 3), (1, 2, 2, 0.5, 3), (2, 1, 1, 0.6, 3)]
    with pytest.raises(psycopg2.errors.UniqueViolation, match="recommendations_pair_key"):
        publish_hand_made(db, write_run(tmp_path / "twice", SONGS_A[:2], twice), engine_params)
    assert statuses(db, first) == [("live",)]
    assert live_pairs(db) == sorted((t, r) for t, r, *_ in RECS_A)


def test_binary_copy_keeps_every_value_and_null_of_a_table_of_numbers(db, tmp_path):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from pipeline.publish import copy_parquet

    folder = tmp_path / "numbers"
    folder.mkdir()
    pq.write_table(
        pa.table(
            {
                "a": pa.array([1, None, -(2**62)], pa.int64()),
                "b": pa.array([None, 7, -3], pa.int32()),
                "c": pa.array([0.1, 1 / 3, None], pa.float64()),
            }
        ),
        folder / "part-0.parquet",
    )
    with db, db.cursor() as cursor:
        cursor.execute("create temporary table numbers (a bigint, b integer, c double precision)")
        assert copy_parquet(cursor, str(folder), "numbers", ["a", "b", "c"]) == 3
        cursor.execute("select a, b, c from numbers order by a nulls first")
        assert cursor.fetchall() == [(None, 7, 1 / 3), (-(2**62), -3, None), (1, None, 0.1)]


def test_keys_built_inside_a_callers_transaction_leave_its_planner_settings_as_they_were(db, tmp_path):
    # The swap builds the keys inside its own transaction when stage could not; the file turns hash joins
    # off for its foreign-key checks only.
    broken = RunFolder(write_run(tmp_path / "broken", SONGS_A[:2], [(1, 3, 1, 0.5, 2)]))  # song 3 is not staged
    assert stage_run(db, broken)["keys_built"] is False
    with db, db.cursor() as cursor:
        cursor.execute("delete from music_staging.recommendations where recommended_track_id = 3")
        run_sql_file(cursor, "add_staging_constraints.sql")
        cursor.execute("show enable_hashjoin")
        assert cursor.fetchone() == ("on",)
    assert staged_primary_keys(db) == ["recommendations_pkey", "tracks_pkey"]


def test_the_staged_checks_run_in_sessions_without_hash_joins(db, tmp_path, monkeypatch):
    from sqlalchemy import create_engine

    import pipeline.validation

    validated_with = []
    validate = pipeline.validation.validate_postgres_tables

    def recording(suites, url, *args):
        validated_with.append(url)
        return validate(suites, url, *args)

    monkeypatch.setattr(pipeline.validation, "validate_postgres_tables", recording)
    good = RunFolder(write_run(tmp_path / "good", SONGS_A, RECS_A))
    stage_run(db, good)
    validate_staged(db.dsn, good)
    engine = create_engine(validated_with[0])
    try:
        with engine.connect() as session:
            assert session.exec_driver_sql("show search_path").scalar() == "music_staging"
            assert session.exec_driver_sql("show enable_hashjoin").scalar() == "off"
    finally:
        engine.dispose()


def test_staged_tables_are_validated_inside_postgresql_before_the_swap(db, tmp_path):
    good = RunFolder(write_run(tmp_path / "good", SONGS_A, RECS_A))
    stage_run(db, good)
    validated = validate_staged(db.dsn, good)
    suites = load_suites(EXPECTATIONS_DIR / "staged")
    checked = sum(len(suite["expectations"]) for suite in suites)
    assert validated["summary"] == {"success": True, "expectations": checked, "failed": 0}
    report = good.validation_reports()["staged"]
    assert [s["dataset"] for s in report["suites"]] == ["recommendations", "tracks"]
    assert good.data_docs_index.exists()

    broken = RunFolder(write_run(tmp_path / "broken", SONGS_A[:2], [(1, 3, 1, 0.5, 2)]))  # song 3 is not staged
    # the foreign key cannot be built: stage leaves the tables without keys, for the validation to say why
    assert stage_run(db, broken)["keys_built"] is False
    assert staged_primary_keys(db) == []
    with pytest.raises(ValidationFailed, match="every recommended_track_id is in music_staging.tracks"):
        validate_staged(db.dsn, broken)

    stage_run(db, good)
    with db.cursor() as cursor:
        cursor.execute("delete from music_staging.recommendations where 3 in (track_id, recommended_track_id)")
        cursor.execute("delete from music_staging.tracks where track_id = 3")
    db.commit()
    with pytest.raises(ValidationFailed, match="expect_table_row_count_to_equal"):
        validate_staged(db.dsn, good)
