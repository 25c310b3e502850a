"""Every SPOTIFY_RECS_* setting is read in pipeline/settings.py, documented in the README, and checked."""

import re
from datetime import timedelta

import pytest

from pipeline import settings
from pipeline.settings import PROJECT_ROOT

CODE_FOLDERS = (
    "dags",
    "pipeline",
    "spark_jobs",
    "similarity",
    "warehouse",
    "alerts",
    "lineage",
    "webapp",
    "devtools",
    "benchmarks",
)
SETTING_NAME = re.compile(r"SPOTIFY_RECS_[A-Z_]+[A-Z]")


def code_files():
    for folder in CODE_FOLDERS:
        yield from (PROJECT_ROOT / folder).rglob("*.py")


def test_no_module_but_settings_reads_a_setting_from_the_environment():
    readers = re.compile(r"(os\.environ|os\.getenv|environ\.get)[^\n]*SPOTIFY_RECS_")
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in code_files()
        if path != PROJECT_ROOT / "pipeline" / "settings.py" and readers.search(path.read_text())
    ]
    assert offenders == []


def test_every_setting_named_anywhere_is_declared():
    declared = {setting.name for setting in settings.ALL}
    named = set()
    for path in [*code_files(), PROJECT_ROOT / "docker-compose.yml", PROJECT_ROOT / "Makefile"]:
        named |= set(SETTING_NAME.findall(path.read_text()))
    assert named - declared == set()


def test_the_readme_configuration_table_lists_every_setting_with_its_default():
    readme = (PROJECT_ROOT / "README.md").read_text()
    table = readme[readme.index("## Configuration") : readme.index("## Tests")]
    for setting in settings.ALL:
        row = next((line for line in table.splitlines() if f"`{setting.name}`" in line), None)
        assert row is not None, setting.name
        if setting.default is not None:
            assert setting.default.removeprefix("./") in row, (setting.name, row)


@pytest.mark.parametrize(("value", "message"), [("0", "at least 1, got 0"), ("three", "a whole number, got 'three'")])
def test_counts_must_be_positive_whole_numbers(monkeypatch, value, message):
    monkeypatch.setenv("SPOTIFY_RECS_KEEP_VERSIONS", value)
    with pytest.raises(ValueError, match=f"SPOTIFY_RECS_KEEP_VERSIONS must be {message}"):
        settings.keep_versions()


def test_defaults_apply_when_unset_or_empty(monkeypatch):
    monkeypatch.delenv("SPOTIFY_RECS_KEEP_VERSIONS", raising=False)
    monkeypatch.setenv("SPOTIFY_RECS_SCHEDULE", "")
    assert settings.keep_versions() == 2
    assert settings.schedule() == "@weekly"


def test_schedule_none_means_manual_runs_only(monkeypatch):
    monkeypatch.setenv("SPOTIFY_RECS_SCHEDULE", "None")
    assert settings.schedule() is None


def test_spark_conf_adds_the_json_settings_and_refuses_anything_but_an_object(monkeypatch):
    monkeypatch.setenv("SPOTIFY_RECS_SHUFFLE_PARTITIONS", "8")
    monkeypatch.setenv("SPOTIFY_RECS_SPARK_CONF", '{"spark.driver.host": "scheduler"}')
    assert settings.spark_conf() == {"spark.sql.shuffle.partitions": "8", "spark.driver.host": "scheduler"}
    monkeypatch.setenv("SPOTIFY_RECS_SPARK_CONF", '["spark.driver.host"]')
    with pytest.raises(ValueError, match="must be a JSON object"):
        settings.spark_conf()


def test_spark_resources_leave_out_what_is_not_set(monkeypatch):
    monkeypatch.delenv("SPOTIFY_RECS_SPARK_DRIVER_MEMORY", raising=False)
    monkeypatch.setenv("SPOTIFY_RECS_SPARK_EXECUTOR_MEMORY", "6g")
    for name in ("SPOTIFY_RECS_SPARK_EXECUTOR_CORES", "SPOTIFY_RECS_SPARK_TOTAL_EXECUTOR_CORES"):
        monkeypatch.delenv(name, raising=False)
    assert settings.spark_resources() == {"driver_memory": "4g", "executor_memory": "6g"}


def test_web_settings_have_their_defaults_and_take_fractions_of_seconds(monkeypatch):
    for name in ("WORKERS", "THREADS", "POOL_SIZE", "POOL_TIMEOUT", "STATEMENT_TIMEOUT"):
        monkeypatch.delenv(f"SPOTIFY_RECS_WEB_{name}", raising=False)
    assert settings.web_settings() == settings.WebSettings(
        workers=2, threads=8, pool_size=8, pool_timeout=3.0, statement_timeout=5.0
    )
    monkeypatch.setenv("SPOTIFY_RECS_WEB_POOL_TIMEOUT", "0.25")
    assert settings.web_settings().pool_timeout == 0.25


@pytest.mark.parametrize("value", ["0", "-1", "soon", "inf", "nan"])
def test_web_timeouts_must_be_positive_numbers(monkeypatch, value):
    monkeypatch.setenv("SPOTIFY_RECS_WEB_STATEMENT_TIMEOUT", value)
    with pytest.raises(ValueError, match="SPOTIFY_RECS_WEB_STATEMENT_TIMEOUT must be a"):
        settings.web_settings()


def test_the_run_deadline_is_two_hours_unless_set_takes_fractions_of_minutes_or_none(monkeypatch):
    monkeypatch.delenv("SPOTIFY_RECS_RUN_DEADLINE_MINUTES", raising=False)
    assert settings.run_deadline() == timedelta(hours=2)
    monkeypatch.setenv("SPOTIFY_RECS_RUN_DEADLINE_MINUTES", "0.25")
    assert settings.run_deadline() == timedelta(seconds=15)
    monkeypatch.setenv("SPOTIFY_RECS_RUN_DEADLINE_MINUTES", "None")
    assert settings.run_deadline() is None
    monkeypatch.setenv("SPOTIFY_RECS_RUN_DEADLINE_MINUTES", "0")
    with pytest.raises(ValueError, match="SPOTIFY_RECS_RUN_DEADLINE_MINUTES must be a positive number"):
        settings.run_deadline()


def test_without_a_shipped_environment_the_executors_run_the_drivers_python(monkeypatch):
    monkeypatch.delenv("SPOTIFY_RECS_EXECUTOR_ENV", raising=False)
    assert settings.spark_python_conf("/opt/venv/bin/python") == {
        "spark.pyspark.python": "/opt/venv/bin/python",
        "spark.pyspark.driver.python": "/opt/venv/bin/python",
    }


def test_a_shipped_environment_is_unpacked_as_environment_and_runs_the_executors(monkeypatch, tmp_path):
    archive = tmp_path / "executor-env.tar.gz"
    archive.write_bytes(b"packed")
    monkeypatch.setenv("SPOTIFY_RECS_EXECUTOR_ENV", str(archive))
    assert settings.spark_python_conf("/opt/venv/bin/python") == {
        "spark.archives": f"{archive}#environment",
        "spark.pyspark.python": "./environment/bin/python",
        "spark.pyspark.driver.python": "/opt/venv/bin/python",
    }
    monkeypatch.setenv("SPOTIFY_RECS_EXECUTOR_ENV", str(tmp_path / "missing.tar.gz"))
    with pytest.raises(FileNotFoundError, match="no such archive \\(build it with make executor-env\\)"):
        settings.spark_python_conf("/opt/venv/bin/python")
