"""The similarity_join job's Spark side: the index reaches every worker and every song gets its answer."""

import socket

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from similarity.lsh_index import SongIndex, band_key_table
from similarity.minhash import hash_coefficients, signature_matrix
from spark_jobs import similarity_join
from spark_jobs.minhash import minhash_signatures, song_playlist_sets
from spark_jobs.similarity_join import (
    find_similar_songs,
    job_counters,
    recommendations_of,
    require_shared_data,
    task_counters_of,
    write_output,
)

# Songs' playlists:  1: {1,2,3,4}   2: {1,2,3}   3: {3,4}   4: {4,5}   5: {9}   6: {1,2,3} (same as 2)
PLAYLIST_TRACKS = [
    (1, 1), (2, 1), (3, 1), (4, 1),
    (1, 2), (2, 2), (3, 2),
    (3, 3), (4, 3),
    (4, 4), (5, 4),
    (9, 5),
    (1, 6), (2, 6), (3, 6),
]  # fmt: skip


@pytest.mark.parametrize("groups", [1, 2, 3])
def test_every_song_gets_its_exact_top_k_and_the_counters_add_up(spark, tmp_path, groups):
    playlist_tracks = spark.createDataFrame(PLAYLIST_TRACKS, "playlist_id long, track_id long")
    playlist_tracks.write.parquet(str(tmp_path / "playlist_tracks"))
    minhash_signatures(song_playlist_sets(playlist_tracks), 128).write.parquet(str(tmp_path / "signatures"))

    # 128 bands of one value: every pair sharing a playlist is a candidate (missed with
    # probability (1 - J)^128 < 1e-15 for the smallest J here, 1/4, whether the bands are in one
    # group or split into several); songs_per_task=2 spreads the 6 songs over 3 tasks per group.
    output = find_similar_songs(
        spark, str(tmp_path / "signatures"), str(tmp_path / "playlist_tracks"), 128, 1, 1000, 0, 2, 2, groups
    ).cache()
    assertDataFrameEqual(
        recommendations_of(output, 2),
        [
            Row(track_id=1, recommended_track_id=2, rank=1, similarity=0.75, shared_playlists=3),
            Row(track_id=1, recommended_track_id=6, rank=2, similarity=0.75, shared_playlists=3),
            Row(track_id=2, recommended_track_id=6, rank=1, similarity=1.0, shared_playlists=3),
            Row(track_id=2, recommended_track_id=1, rank=2, similarity=0.75, shared_playlists=3),
            Row(track_id=3, recommended_track_id=1, rank=1, similarity=0.5, shared_playlists=2),
            Row(track_id=3, recommended_track_id=4, rank=2, similarity=1 / 3, shared_playlists=1),
            Row(track_id=4, recommended_track_id=3, rank=1, similarity=1 / 3, shared_playlists=1),
            Row(track_id=4, recommended_track_id=1, rank=2, similarity=0.2, shared_playlists=1),
            Row(track_id=6, recommended_track_id=2, rank=1, similarity=1.0, shared_playlists=3),
            Row(track_id=6, recommended_track_id=1, rank=2, similarity=0.75, shared_playlists=3),
            # song 5 shares no playlist with anyone: no recommendations
        ],
    )
    figures = job_counters(task_counters_of(output))
    assert 1 <= figures["tasks"] <= 3 * groups  # one counters row per task (the range partitioning may merge some)
    assert figures["songs_queried"] == 6 and figures["songs_lsh"] == 6  # each song counted once, in group 0
    # pairs sharing a playlist, each seen from both songs: 1-2 1-3 1-4 1-6 2-3 2-6 3-4 3-6 -> 16;
    # with several groups a pair is scored in each group whose bands find it
    assert 16 <= figures["scored_pairs"] <= 16 * groups
    assert figures["candidate_pairs"] >= figures["scored_pairs"]
    assert figures["largest_bucket"] <= 6
    # 128 bands of one value: 6 songs, at most 5 buckets of two songs or more per band, in all groups together
    assert figures["buckets"] <= 128 * 5


def test_splitting_the_bands_into_groups_changes_no_answer(spark, tmp_path):
    # 400 songs in 60 playlists of random sizes, a few songs in many playlists: with exact_work 40 some
    # songs are scored exactly, the others through LSH (8 bands of 2 values, so some neighbours are
    # missed, and which ones depends only on the bands, not on how they are grouped).
    rng = np.random.default_rng(7)
    edges = sorted(
        {(int(p), int(t)) for p in range(60) for t in rng.choice(400, size=int(rng.integers(2, 30)), replace=False)}
        | {(int(p), 1000 + s) for s in range(5) for p in range(0, 60, 2)}
    )
    playlist_tracks = spark.createDataFrame(edges, "playlist_id long, track_id long")
    playlist_tracks.write.parquet(str(tmp_path / "playlist_tracks"))
    minhash_signatures(song_playlist_sets(playlist_tracks), 16).write.parquet(str(tmp_path / "signatures"))
    paths = (str(tmp_path / "signatures"), str(tmp_path / "playlist_tracks"))

    def answers(groups: int) -> tuple[list[Row], dict[str, int]]:
        output = find_similar_songs(spark, *paths, 8, 2, 4, 40, 5, 50, groups).cache()
        rows = recommendations_of(output, 5).orderBy("track_id", "rank").collect()
        return rows, job_counters(task_counters_of(output))

    one_group, one_group_figures = answers(1)
    assert 0 < one_group_figures["songs_exact"] < one_group_figures["songs_queried"]  # both ways are taken
    for groups in (2, 8):
        rows, figures = answers(groups)
        assert rows == one_group
        assert figures["songs_queried"] == one_group_figures["songs_queried"]
        assert figures["buckets"] == one_group_figures["buckets"]  # the same bands, only held apart
        assert figures["largest_bucket"] == one_group_figures["largest_bucket"]


def test_the_written_recommendations_of_several_band_groups_have_one_schema(spark, tmp_path):
    playlist_tracks = spark.createDataFrame(PLAYLIST_TRACKS, "playlist_id long, track_id long")
    playlist_tracks.write.parquet(str(tmp_path / "playlist_tracks"))
    minhash_signatures(song_playlist_sets(playlist_tracks), 16).write.parquet(str(tmp_path / "signatures"))
    output = find_similar_songs(
        spark, str(tmp_path / "signatures"), str(tmp_path / "playlist_tracks"), 16, 1, 100, 0, 2, 2, 2
    )
    write_output(output, str(tmp_path / "output"), str(tmp_path / "recommendations"), 2)

    files = sorted((tmp_path / "recommendations").glob("*.parquet"))
    partial_folder = tmp_path / "output" / "kind=lsh_partial"
    assert partial_folder.exists()  # every song went through LSH in 2 groups: some rows were merged
    assert len({str(pq.read_schema(file).remove_metadata()) for file in files}) == 1
    rows = spark.read.parquet(str(tmp_path / "recommendations")).select("track_id", "recommended_track_id", "rank")
    assert sorted(tuple(row) for row in rows.collect() if row.track_id == 2) == [(2, 1, 2), (2, 6, 1)]


def test_more_band_groups_than_bands_is_refused(spark, tmp_path):
    with pytest.raises(ValueError, match="band groups must be between 1 and the 8 bands"):
        find_similar_songs(spark, str(tmp_path), str(tmp_path), 8, 2, 4, 40, 5, 50, 9)


def test_an_executor_that_cannot_see_the_run_folder_says_the_data_directory_must_be_shared(tmp_path):
    require_shared_data(str(tmp_path))  # visible: nothing to say
    missing = str(tmp_path / "runs" / "signatures")
    with pytest.raises(FileNotFoundError) as raised:
        require_shared_data(str(tmp_path), missing)
    assert str(raised.value).startswith(f"{missing} is not visible on Spark worker {socket.gethostname()}: ")
    assert "must be one shared file system, at the same path" in str(raised.value)


def test_signatures_are_read_in_pieces_and_must_all_have_one_length(tmp_path, monkeypatch):
    monkeypatch.setattr(similarity_join, "SIGNATURE_BATCH_ROWS", 2)
    folder = tmp_path / "signatures"
    folder.mkdir()
    for part, track_ids in enumerate([[1, 2, 3], [4, 5]]):
        table = pa.table({"track_id": track_ids, "signature": [[t, t * 10] for t in track_ids]})
        pq.write_table(table, folder / f"part-{part}.parquet")
    pieces = list(similarity_join.signature_batches(str(folder)))
    assert [ids.tolist() for ids, _ in pieces] == [[1, 2], [3], [4, 5]]  # at most 2 songs a piece, file by file
    assert pieces[2][1].tolist() == [[4, 40], [5, 50]]

    pq.write_table(pa.table({"track_id": [6, 7], "signature": [[6, 60], [7]]}), folder / "part-2.parquet")
    with pytest.raises(ValueError, match="signatures of different lengths \\(1 to 2\\)"):
        list(similarity_join.signature_batches(str(folder)))


def test_a_workers_index_read_in_pieces_is_the_index_of_the_whole_bands(tmp_path, monkeypatch):
    songs = sorted({track for _, track in PLAYLIST_TRACKS})
    playlists = {song: sorted(p for p, t in PLAYLIST_TRACKS if t == song) for song in songs}
    offsets = np.r_[0, np.cumsum([len(playlists[song]) for song in songs])]
    flat = np.array([p for song in songs for p in playlists[song]], dtype=np.int64)
    signatures = signature_matrix(flat, offsets, *hash_coefficients(16))
    (tmp_path / "signatures").mkdir()
    for part, rows in enumerate([[4, 0, 2], [5, 1, 3]]):  # the songs in another order than the playlist sets'
        pq.write_table(
            pa.table({"track_id": [songs[r] for r in rows], "signature": signatures[rows].tolist()}),
            tmp_path / "signatures" / f"part-{part}.parquet",
        )
    pq.write_table(
        pa.table({"playlist_id": [p for p, _ in PLAYLIST_TRACKS], "track_id": [t for _, t in PLAYLIST_TRACKS]}),
        tmp_path / "playlist_tracks.parquet",
    )
    # exact work above 4: songs 1, 2, 3 and 6 are answered through LSH, 4 and 5 exactly
    spec = similarity_join.IndexSpec(
        str(tmp_path / "signatures"), str(tmp_path / "playlist_tracks.parquet"), 16, 1, 2, 4, 2, 0
    )
    monkeypatch.setattr(similarity_join, "SIGNATURE_BATCH_ROWS", 2)
    monkeypatch.setattr(similarity_join, "_SETS", {})
    monkeypatch.setattr(similarity_join, "_INDEXES", {})
    worker = similarity_join.load_index(spec, 1)[0]  # group 1: bands 8 to 15

    sets = similarity_join.load_playlist_sets(spec)
    assert sets.track_ids[sets.lsh_rows].tolist() == [1, 2, 3, 6]
    whole = SongIndex(sets, 2)
    whole.add_bands(*band_key_table([(np.array(songs), signatures)], sets, range(8, 16), 1))
    assert len(worker.bands) == 8
    assert worker.stats == whole.stats
    for a, b in zip(worker.bands, whole.bands, strict=True):
        assert a.chunk_of.tolist() == b.chunk_of.tolist() and a.members.tolist() == b.members.tolist()
    lsh_songs = np.array([1, 2, 3, 6])
    assert str(worker.recommend(lsh_songs, 3, exact_songs=False)) == str(
        whole.recommend(lsh_songs, 3, exact_songs=False)
    )
