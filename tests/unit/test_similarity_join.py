"""The similarity_join job's Spark side: the index reaches every worker and every song gets its answer."""

import socket

import pytest
from pyspark.sql import Row
from pyspark.testing import assertDataFrameEqual

from spark_jobs.minhash import minhash_signatures, song_playlist_sets
from spark_jobs.similarity_join import (
    find_similar_songs,
    job_counters,
    recommendations_of,
    require_shared_data,
    task_counters_of,
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


def test_every_song_gets_its_exact_top_k_and_the_counters_add_up(spark, tmp_path):
    playlist_tracks = spark.createDataFrame(PLAYLIST_TRACKS, "playlist_id long, track_id long")
    playlist_tracks.write.parquet(str(tmp_path / "playlist_tracks"))
    minhash_signatures(song_playlist_sets(playlist_tracks), 128).write.parquet(str(tmp_path / "signatures"))

    # 128 bands of one value: every pair sharing a playlist is a candidate (missed with
    # probability (1 - J)^128 < 1e-15 for the smallest J here, 1/4); songs_per_task=2 spreads
    # the 6 songs over 3 tasks.
    output = find_similar_songs(
        spark, str(tmp_path / "signatures"), str(tmp_path / "playlist_tracks"), 128, 1, 1000, 0, 2, songs_per_task=2
    ).cache()
    assertDataFrameEqual(
        recommendations_of(output),
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
    assert figures["tasks"] == 3  # one counters row per task
    assert figures["songs_queried"] == 6
    # pairs sharing a playlist, each seen from both songs: 1-2 1-3 1-4 1-6 2-3 2-6 3-4 3-6 -> 16
    assert figures["scored_pairs"] == 16
    assert figures["candidate_pairs"] >= figures["scored_pairs"]
    assert figures["largest_bucket"] <= 6


def test_an_executor_that_cannot_see_the_run_folder_says_the_data_directory_must_be_shared(tmp_path):
    require_shared_data(str(tmp_path))  # visible: nothing to say
    missing = str(tmp_path / "runs" / "signatures")
    with pytest.raises(FileNotFoundError) as raised:
        require_shared_data(str(tmp_path), missing)
    assert str(raised.value).startswith(f"{missing} is not visible on Spark worker {socket.gethostname()}: ")
    assert "must be one shared file system, at the same path" in str(raised.value)
