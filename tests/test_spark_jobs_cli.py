"""Every Spark job runs under plain spark-submit and explains its arguments with --help."""

import subprocess

import pytest

from spotify_recs.paths import SPARK_JOBS_DIR


@pytest.mark.parametrize(
    ("job", "arguments"),
    [
        ("extract.py", ["--source-zip", "--run-dir", "--min-playlists"]),
        ("minhash.py", ["--run-dir", "--num-perm"]),
        ("similarity_join.py", ["--run-dir", "--bands", "--rows-per-band", "--max-bucket", "--exact-work", "--top-k"]),
        ("validate.py", ["--run-dir", "--stage", "--suites-dir", "--top-k"]),
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
