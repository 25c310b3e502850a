"""The whole DAG on a generated sample: downloaded over real HTTP, published to a real PostgreSQL,
checked against exact Jaccard similarities computed independently from the raw CSV, without the
playlists held out for the evaluation (chosen here from the hash the hold-out is defined by)."""

from __future__ import annotations

import zipfile

import numpy as np
import pyarrow.parquet as pq
import pytest

from devtools.sample_data import HEADER_LINE
from pipeline.run_folder import RunFolder
from tests.http_server import FileServer
from tests.reference import read_reference, song_key, songs_by_playlist
from tests.services import SAMPLE_ROWS, run_dag, task_states

pytestmark = pytest.mark.integration

RECALL_AT = 10
HOLDOUT_FRACTION = 0.01  # the DAG's default
EXTRACT_SUITES = ("extract_accounting", "holdout_tracks", "playlist_tracks", "rejects", "songs")


@pytest.fixture(scope="module")
def reference(sample_zip):
    return read_reference(sample_zip)


@pytest.fixture(scope="module")
def playlist_ids(reference, spark) -> dict[tuple[str, str], int]:
    """Each playlist's id: a 64-bit xxhash of (user_id, playlistname), as the data contract defines it."""
    from pyspark.sql import functions as F

    keys = spark.createDataFrame(list(reference.songs_of), "user_id string, playlistname string")
    rows = keys.select("user_id", "playlistname", F.xxhash64("user_id", "playlistname").alias("id")).collect()
    return {(row["user_id"], row["playlistname"]): row["id"] for row in rows}


@pytest.fixture(scope="module")
def held_out(playlist_ids) -> set[tuple[str, str]]:
    """The playlists held out at the default fraction, by the hold-out's definition (evaluation.holdout)."""
    from evaluation.holdout import held_out as is_held_out

    keys = list(playlist_ids)
    chosen = is_held_out(np.array([playlist_ids[key] for key in keys], dtype=np.int64), HOLDOUT_FRACTION)
    return {key for key, held in zip(keys, chosen, strict=True) if held}


@pytest.fixture(scope="module")
def training(reference, held_out):
    """What the recommendations are computed from: every playlist but the held-out ones."""
    assert held_out  # the sample is big enough for 1% to hold some out
    return reference.without(held_out)


def fetch(db, query: str, params: tuple | None = None) -> list[tuple]:
    with db.cursor() as cursor:
        cursor.execute(query, params)
        rows = cursor.fetchall()
    db.rollback()
    return rows


@pytest.fixture(scope="module")
def published(good_run, warehouse_dsn):
    from warehouse.connection import connect

    db = connect(warehouse_dsn)
    tracks = {row[0]: row[1:] for row in fetch(db, "select track_id, artist, track, playlist_count from music.tracks")}
    recommendations = fetch(
        db, "select track_id, recommended_track_id, rank, similarity, shared_playlists from music.recommendations"
    )
    db.close()
    return tracks, recommendations


def test_every_stage_succeeded_and_data_docs_were_built(good_run):
    assert str(good_run.state) == "success"
    assert set(task_states(good_run).values()) == {"success"}
    run = RunFolder.of_run(good_run.dag_id, good_run.run_id)
    run_dir = run.path
    docs = run.data_docs_index.read_text()
    for suite in ("songs", "extract_accounting", "recommendations", "staged_recommendations"):
        assert suite in docs, suite
    # (1% of the sample's playlists make too few cases for the quality gate to judge: no evaluation report)
    assert sorted(p.stem for p in (run_dir / "validation").glob("*.json")) == ["extract", "recommendations", "staged"]


def test_the_run_is_recorded_with_its_figures(good_run, warehouse_dsn):
    from warehouse.connection import connect

    db = connect(warehouse_dsn)
    (row,) = fetch(
        db,
        "select status, rows_read, rows_accepted + rows_rejected, songs, candidate_pairs >= pairs_published / 2,"
        " stage_seconds ?& array['extract', 'minhash', 'similarity_join', 'validate_extract', 'stage', 'publish'],"
        " validation -> 'staged' ->> 'failed' from music.runs where dag_run_id = %s",
        (good_run.run_id,),
    )
    db.close()
    assert row[0] == "live"
    assert row[1] == row[2] == SAMPLE_ROWS
    assert row[3] > 100 and row[4] is True and row[5] is True and row[6] == "0"


def test_row_accounting_matches_the_raw_file(good_run, reference):
    metrics = RunFolder.of_run(good_run.dag_id, good_run.run_id).read_metrics("extract")
    assert metrics["rows_read"] == SAMPLE_ROWS == reference.rows_read
    assert metrics["rows_read"] == metrics["rows_accepted"] + metrics["rows_rejected"]
    assert {k: v for k, v in metrics["rows_rejected_by_reason"].items() if v} == dict(reference.rejected)


def test_published_songs_are_the_songs_in_at_least_two_playlists(published, training):
    tracks, _ = published
    kept = training.kept_songs(min_playlists=2)
    by_key = {song_key(artist, track): count for artist, track, count in tracks.values()}
    assert len(by_key) == len(tracks)
    assert by_key == {song: len(playlists) for song, playlists in kept.items()}


def test_every_published_similarity_is_the_exact_jaccard(published, training):
    tracks, recommendations = published
    assert len(recommendations) > 1000
    for track_id, recommended_id, _, similarity, shared in recommendations:
        exact, exact_shared = training.jaccard(song_key(*tracks[track_id][:2]), song_key(*tracks[recommended_id][:2]))
        assert similarity == pytest.approx(exact, abs=1e-12)
        assert shared == exact_shared


def test_recall_at_10_against_the_exact_top_10(published, training):
    """Tie-aware: a recommendation counts when its exact similarity reaches the exact 10th best."""
    tracks, recommendations = published
    reference = training
    kept = reference.kept_songs(min_playlists=2)
    songs_in = songs_by_playlist(kept)
    returned: dict[tuple, list[tuple]] = {}
    for track_id, recommended_id, rank, _, _ in recommendations:
        if rank <= RECALL_AT:
            returned.setdefault(song_key(*tracks[track_id][:2]), []).append(song_key(*tracks[recommended_id][:2]))
    hits = relevant = 0
    for song in kept:
        neighbours = reference.neighbours(song, kept, songs_in)[:RECALL_AT]
        if not neighbours:
            continue
        threshold = neighbours[-1][0]
        found = sum(1 for other in returned.get(song, []) if reference.jaccard(song, other)[0] >= threshold)
        hits += min(found, len(neighbours))
        relevant += len(neighbours)
    recall = hits / relevant
    print(f"recall@{RECALL_AT} = {recall:.4f} over {relevant} exact neighbours of {len(kept)} songs")
    assert recall >= 0.95


def test_the_held_out_playlists_are_the_hash_chosen_ones_in_their_order_and_never_trained_on(
    good_run, playlist_ids, held_out, reference, spark
):
    from pyspark.sql import functions as F

    run = RunFolder.of_run(good_run.dag_id, good_run.run_id)
    holdout = pq.read_table(run.dataset("holdout_tracks")).to_pylist()
    training_ids = set(pq.read_table(run.dataset("playlist_tracks"), columns=["playlist_id"]).column(0).to_pylist())
    expected_ids = {playlist_ids[key] for key in held_out}
    assert {row["playlist_id"] for row in holdout} == expected_ids
    assert not expected_ids & training_ids  # minhash reads playlist_tracks only: no held-out playlist reaches it
    assert run.read_metrics("extract")["playlists_held_out"] == len(held_out)
    assert run.read_metrics("extract")["holdout_max_playlists"] == 2500  # the DAG's default reached extract
    # Song ids as the data contract defines them: xxhash64 of the normalised artist and track names.
    songs = {song for key in held_out for song in reference.songs_of[key]}
    frame = spark.createDataFrame(sorted(songs), "artist string, track string")
    song_of = {
        row["id"]: (row["artist"], row["track"])
        for row in frame.select("artist", "track", F.xxhash64("artist", "track").alias("id")).collect()
    }
    by_playlist: dict[int, list] = {}
    for row in sorted(holdout, key=lambda row: (row["playlist_id"], row["position"])):
        by_playlist.setdefault(row["playlist_id"], []).append(song_of[row["track_id"]])
    for key in held_out:
        assert by_playlist[playlist_ids[key]] == reference.songs_of[key], key


def test_ranks_follow_similarity_and_ties_are_broken_by_id(published):
    _, recommendations = published
    per_song: dict[int, list] = {}
    for track_id, recommended_id, rank, similarity, shared in recommendations:
        per_song.setdefault(track_id, []).append((rank, -similarity, -shared, recommended_id))
    for rows in per_song.values():
        rows.sort()
        assert [r[0] for r in rows] == list(range(1, len(rows) + 1))
        assert [r[1:] for r in rows] == sorted(r[1:] for r in rows)


def test_a_failed_validation_leaves_postgresql_untouched(good_run, tmp_path, warehouse_dsn):
    from warehouse.connection import connect

    db = connect(warehouse_dsn)
    snapshot_query = (
        "select (select md5(string_agg(t::text, ',' order by track_id)) from music.tracks t),"
        " (select md5(string_agg(r::text, ',' order by track_id, rank)) from music.recommendations r)"
    )
    before = fetch(db, snapshot_query)
    # The right header, but no line a song can be extracted from: validate_extract must stop the run.
    broken = tmp_path / "broken.zip"
    with zipfile.ZipFile(broken, "w") as archive:
        archive.writestr("spotify_dataset.csv", HEADER_LINE + "\n" + '"not","a","well formed line\n' * 50)
    dag_run = run_dag(broken.as_uri())
    states = task_states(dag_run)
    assert str(dag_run.state) == "failed"
    assert states["extract"] == "success"
    assert states["validate_extract"] == "failed"
    assert states["publish"] == "upstream_failed"
    assert fetch(db, snapshot_query) == before
    db.close()


def published_runs(db) -> int:
    return fetch(db, "select count(*) from music.runs")[0][0]


def test_an_unchanged_source_skips_every_stage_after_check_source(good_run, sample_zip, warehouse_dsn):
    from warehouse.connection import connect

    db = connect(warehouse_dsn)
    before = published_runs(db)
    with FileServer(sample_zip.parent) as server:
        dag_run = run_dag(f"{server.url}/{sample_zip.name}")
        assert server.gets(sample_zip.name) == []  # not even downloaded
    states = task_states(dag_run)
    assert str(dag_run.state) == "success"
    assert states.pop("validate_params") == states.pop("check_source") == "success"
    assert set(states.values()) == {"skipped"}
    assert published_runs(db) == before
    db.close()


def test_params_that_cannot_work_together_fail_before_any_download(sample_zip):
    with FileServer(sample_zip.parent) as server:
        dag_run = run_dag(f"{server.url}/{sample_zip.name}", bands=100, rows_per_band=2, num_perm=128)
        assert server.requests == []
    states = task_states(dag_run)
    assert str(dag_run.state) == "failed"
    assert states.pop("validate_params") == "failed"
    assert set(states.values()) == {"upstream_failed"}


def test_the_validation_benchmark_times_every_suite_of_a_real_run(good_run, spark, tmp_path):
    import json
    import shutil

    from benchmarks import bench_validation
    from pipeline.settings import EXPECTATIONS_DIR

    run = RunFolder.of_run(good_run.dag_id, good_run.run_id)
    reports_before = {p.name: p.read_bytes() for p in (run.path / "validation").glob("*.json")}
    figures_file = tmp_path / "figures.json"
    bench_validation.main(["--run-dir", str(run.path), "--json", str(figures_file)])
    timed = {name.removesuffix(" (s)") for name in json.loads(figures_file.read_text())}
    assert timed == {
        "spark session start",
        *(f"extract: {suite} alone" for suite in EXTRACT_SUITES),
        "extract: every suite and the Data Docs, as the job",
        "recommendations: recommendations alone",
        "recommendations: recommendations_by_song alone",
        "recommendations: every suite and the Data Docs, as the job",
    }
    # the run folder is left as the DAG wrote it
    assert {p.name: p.read_bytes() for p in (run.path / "validation").glob("*.json")} == reports_before

    # a suite the run's outputs fail makes the benchmark fail, naming the expectation
    strict = tmp_path / "suites"
    shutil.copytree(EXPECTATIONS_DIR, strict)
    suite_file = strict / "recommendations" / "recommendations.json"
    suite = json.loads(suite_file.read_text())
    suite["expectations"].append(
        {"type": "expect_table_row_count_to_be_between", "kwargs": {"max_value": 0}, "description": "no rows at all"}
    )
    suite_file.write_text(json.dumps(suite))
    with pytest.raises(SystemExit, match="recommendations: no rows at all"):
        bench_validation.main(["--run-dir", str(run.path), "--suites-dir", str(strict), "--stages", "recommendations"])
