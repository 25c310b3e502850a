"""The command-line runner: its params typed the way the DAG's params expect them, and the quality table it
prints after the recommendations."""

import pytest

from devtools.local_run import format_evaluation, parse_params


def test_params_are_typed_like_json():
    assert parse_params(["top_k=50", "force=true", "source_url=file:///data/x.zip", "bands=64"]) == {
        "top_k": 50,
        "force": True,
        "source_url": "file:///data/x.zip",
        "bands": 64,
    }


def test_a_param_without_a_value_is_refused():
    with pytest.raises(SystemExit, match="NAME=VALUE"):
        parse_params(["force"])


def test_local_airflow_runs_by_hand_on_the_asked_port_unless_a_schedule_is_set():
    from devtools.local_airflow import standalone_environment

    env = standalone_environment({"PATH": "/bin"}, 8123)
    assert env["SPOTIFY_RECS_SCHEDULE"] == "none" and env["AIRFLOW__API__PORT"] == "8123"
    assert standalone_environment({"SPOTIFY_RECS_SCHEDULE": "@daily"}, 8080)["SPOTIFY_RECS_SCHEDULE"] == "@daily"


def figures(method, cases, *values):
    names = ["r_precision", "ndcg", "recall_10", "recall_500", "clicks", "hit_rate", "coverage", "popularity_ratio",
             "own_artist_share"]  # fmt: skip
    return {"method": method, "holdout_fraction": 0.05, "cases": cases, **dict(zip(names, values, strict=True))}


def test_the_quality_table_shows_ours_first_then_the_baselines_with_null_as_a_dash():
    rows = [
        figures("cosine_knn", 1234, 0.1301, 0.2401, 0.09, 0.47, 3.2, 0.42, 0.29, 1.95, 0.31),
        figures("most_popular", 1234, 0.0213, 0.0612, 0.0107, 0.1502, 21.3456, 0.088, 0.0008, 14.2, 0.021),
        figures("published", 1234, 0.1234, 0.2345, 0.0871, 0.4567, 3.456, 0.41, 0.312, None, 0.3),
    ]
    assert format_evaluation(rows).splitlines() == [
        "Quality of the live version: playlist continuation on the 5% of playlists held out, 1,234 cases,"
        " all seed categories (clicks: lower is better):",
        "method                            cases  R-precision   NDCG  recall@10  recall@500  clicks  hit rate"
        "  coverage  popularity ratio  own-artist share",
        "published (LSH Jaccard item-kNN)  1,234        0.123  0.234      0.087       0.457    3.46     0.410"
        "     0.312                 -             0.300",
        "most popular                      1,234        0.021  0.061      0.011       0.150   21.35     0.088"
        "     0.001             14.20             0.021",
        "cosine item-kNN (exact)           1,234        0.130  0.240      0.090       0.470    3.20     0.420"
        "     0.290              1.95             0.310",
    ]


def test_a_version_without_evaluation_is_said_to_be_not_evaluated_in_one_line():
    assert format_evaluation([]) == (
        "The live version was not evaluated (holdout_fraction=0): no quality figures to show."
    )


def _fake_airflow(tmp_path):
    """An ``airflow`` that records its arguments and, like ``airflow db migrate``, creates the SQLite file."""
    calls = tmp_path / "calls"
    script = tmp_path / "airflow"
    script.write_text(f'#!/bin/sh\necho "$@" >> {calls}\ntouch "$AIRFLOW_HOME/airflow.db"\n')
    script.chmod(0o755)
    return str(script), calls


def _migrations(calls):
    return calls.read_text().count("db migrate") if calls.exists() else 0


def test_the_metadata_db_is_migrated_once_per_airflow_version(tmp_path, monkeypatch):
    import devtools.local_run as local_run

    airflow, calls = _fake_airflow(tmp_path)
    home = tmp_path / "home"
    home.mkdir()
    env = {"AIRFLOW_HOME": str(home), "PATH": "/bin:/usr/bin"}
    log = tmp_path / "run.log"
    local_run.migrate_metadata_db(airflow, env, log)
    local_run.migrate_metadata_db(airflow, env, log)
    assert _migrations(calls) == 1
    # Another Airflow version migrates again.
    monkeypatch.setattr(local_run, "version", lambda package: "99.0.0")
    local_run.migrate_metadata_db(airflow, env, log)
    local_run.migrate_metadata_db(airflow, env, log)
    assert _migrations(calls) == 2
    # A deleted database is made again, stamp or not.
    (home / "airflow.db").unlink()
    local_run.migrate_metadata_db(airflow, env, log)
    assert _migrations(calls) == 3


def test_a_configured_metadata_db_is_migrated_every_time(tmp_path):
    from devtools.local_run import migrate_metadata_db

    airflow, calls = _fake_airflow(tmp_path)
    env = {"AIRFLOW_HOME": str(tmp_path), "AIRFLOW__DATABASE__SQL_ALCHEMY_CONN": "postgresql://airflow@db/airflow"}
    migrate_metadata_db(airflow, env, tmp_path / "run.log")
    migrate_metadata_db(airflow, env, tmp_path / "run.log")
    assert _migrations(calls) == 2
    assert not (tmp_path / "airflow.db.migrated").exists()
