"""Every Spark job runs under plain spark-submit and explains its arguments with --help."""

import subprocess

import pytest

from pipeline.run_folder import RunFolder
from pipeline.settings import SPARK_JOBS_DIR
from spark_jobs.minhash import minhash_signatures, song_playlist_sets

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    ("job", "arguments"),
    [
        ("extract.py", ["--source-zip", "--run-dir", "--min-playlists", "--suites-dir", "--max-reject-rate"]),
        ("minhash.py", ["--run-dir", "--num-perm"]),
        (
            "similarity_join.py",
            [
                "--run-dir",
                "--num-perm",
                "--bands",
                "--rows-per-band",
                "--max-bucket",
                "--exact-work",
                "--top-k",
                "--band-groups",
                "--suites-dir",
            ],
        ),
        ("validate.py", ["--run-dir", "--stage", "--suites-dir", "--top-k", "--min-playlists"]),
    ],
)
def test_spark_submit_help_lists_the_arguments(job, arguments):
    result = subprocess.run(
        ["spark-submit", str(SPARK_JOBS_DIR / job), "--help"], capture_output=True, text=True, timeout=120
    )
    assert result.returncode == 0, result.stderr
    for argument in arguments:
        assert argument in result.stdout


def test_bad_arguments_are_refused_before_spark_starts():
    result = subprocess.run(
        ["spark-submit", str(SPARK_JOBS_DIR / "minhash.py"), "--run-dir", "x", "--num-perm", "0"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 2
    assert "--num-perm must be at least 1" in result.stdout + result.stderr


def test_similarity_join_run_as_a_script_builds_each_band_groups_index_once_per_worker(spark, tmp_path):
    # Songs 1..12 in 4 playlists of 3 songs each, and every song also in playlist 100.
    run = RunFolder(tmp_path)
    edges = [(1 + song // 3, song + 1) for song in range(12)] + [(100, song + 1) for song in range(12)]
    playlist_tracks = spark.createDataFrame(edges, "playlist_id long, track_id long")
    playlist_tracks.write.parquet(run.dataset("playlist_tracks"))
    minhash_signatures(song_playlist_sets(playlist_tracks), 16).write.parquet(run.dataset("signatures"))

    arguments = [
        "--run-dir",
        str(tmp_path),
        "--num-perm",
        "16",
        "--bands",
        "16",
        "--rows-per-band",
        "1",
        "--songs-per-task",
        "2",
    ]
    result = subprocess.run(
        ["spark-submit", "--master", "local[2]", str(SPARK_JOBS_DIR / "similarity_join.py"), *arguments],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    metrics = run.read_metrics("similarity_join")
    # The default: one band group per core (local[2]: 2). 12 songs in tasks of 2: 6 tasks per group,
    # ordered group by group, on 2 cores: each of at most 2 Python workers builds each group's index once.
    assert metrics["band_groups"] == 2
    assert 2 <= metrics["tasks"] <= 12  # the range partitioning may merge neighbouring tasks
    assert 2 <= metrics["index_builds"] <= 4
    # every song gets its top 20: the 11 others, its 2 playlist partners first (J = 2/2 = 1)
    assert metrics["songs_with_recommendations"] == 12
    assert metrics["recommendations"] == 12 * 11
