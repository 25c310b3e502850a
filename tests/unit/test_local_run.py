"""The command-line runner's params: typed the way the DAG's params expect them."""

import pytest

from devtools.local_run import parse_params


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
