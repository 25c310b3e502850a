"""docker-compose.yml cannot run here (no Docker engine): check its wiring instead."""

import json
import re
from pathlib import Path

import pytest
import yaml

from pipeline.settings import PROJECT_ROOT

COMPOSE = yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())
SERVICES = COMPOSE["services"]
AIRFLOW_SERVICES = [
    "airflow-init",
    "airflow-apiserver",
    "airflow-scheduler",
    "airflow-dag-processor",
    "airflow-triggerer",
]
SPARK_SERVICES = ["spark-master", "spark-worker"]
PINNED = dict(line.split("==") for line in (PROJECT_ROOT / "requirements.txt").read_text().split() if "==" in line)


def volume_mounts(service: dict) -> dict[str, str]:
    return dict(mount.split(":")[:2][::-1] for mount in service.get("volumes", []))


def test_every_service_the_stack_needs_is_there():
    assert set(SERVICES) == {"airflow-db", "warehouse", *AIRFLOW_SERVICES, *SPARK_SERVICES}


def test_every_service_has_an_image_or_a_build():
    for name, service in SERVICES.items():
        assert service.get("image") or service.get("build"), name


def test_airflow_services_share_one_image_built_from_the_dockerfile():
    for name in AIRFLOW_SERVICES:
        assert SERVICES[name]["build"] == {"context": ".", "dockerfile": "Dockerfile"}, name
        assert SERVICES[name]["image"] == "spotify-recommendations-airflow:latest", name
    assert [SERVICES[name]["command"][0] for name in AIRFLOW_SERVICES[1:]] == [
        "api-server", "scheduler", "dag-processor", "triggerer"
    ]  # fmt: skip


def test_the_dockerfile_extends_the_pinned_airflow_with_java_and_the_requirements():
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert re.search(rf"^FROM apache/airflow:{re.escape(PINNED['apache-airflow'])}-python3\.11$", dockerfile, re.M)
    assert "default-jre-headless" in dockerfile  # OpenJDK 17 on Debian bookworm
    assert "pip install --no-cache-dir -r /opt/project/requirements.txt" in dockerfile


@pytest.mark.parametrize("name", AIRFLOW_SERVICES)
def test_each_airflow_service_gets_the_connections_and_its_metadata_database(name):
    env = SERVICES[name]["environment"]
    assert re.fullmatch(r"postgresql://music:\$\{WAREHOUSE_PASSWORD[^}]*\}@warehouse:5432/warehouse",
                        env["AIRFLOW_CONN_WAREHOUSE"])  # fmt: skip
    assert '"host": "spark://spark-master:7077"' in env["AIRFLOW_CONN_SPARK_DEFAULT"]
    assert "@airflow-db:5432/airflow" in env["AIRFLOW__DATABASE__SQL_ALCHEMY_CONN"]
    assert env["AIRFLOW__CORE__EXECUTION_API_SERVER_URL"] == "http://airflow-apiserver:8080/execution/"
    assert env["AIRFLOW__CORE__DAGS_FOLDER"] == "/opt/project/dags"
    assert SERVICES[name]["depends_on"]["airflow-db"]["condition"] == "service_healthy"


def test_the_data_directory_is_one_volume_at_the_same_path_in_airflow_and_spark():
    data_dir = SERVICES["airflow-scheduler"]["environment"]["SPOTIFY_RECS_DATA_DIR"]
    for name in AIRFLOW_SERVICES + SPARK_SERVICES:
        assert volume_mounts(SERVICES[name]).get(data_dir) == "spotify-data", name
    assert "spotify-data" in COMPOSE["volumes"]


def test_spark_runs_from_the_project_image_so_executors_have_its_python_and_code():
    # The executors' Python workers run the engine (numpy, spark_jobs); the plain apache/spark image lacks both.
    image = SERVICES["airflow-scheduler"]["image"]
    assert SERVICES["spark-master"]["build"] == {"context": ".", "dockerfile": "Dockerfile"}
    for name in SPARK_SERVICES:
        assert SERVICES[name]["image"] == image, name
        assert SERVICES[name]["entrypoint"] == ["bash", "-c"], name
    assert SERVICES["spark-master"]["command"] == [
        "exec spark-class org.apache.spark.deploy.master.Master --host spark-master"
    ]
    assert SERVICES["spark-worker"]["command"][0].startswith(
        "exec spark-class org.apache.spark.deploy.worker.Worker spark://spark-master:7077 "
    )
    # Spark is the image's pinned pyspark; the project's code is installed in the image.
    dockerfile = (PROJECT_ROOT / "Dockerfile").read_text()
    assert "pip install --no-cache-dir --no-deps -e /opt/project" in dockerfile
    assert "pyspark" in PINNED and PINNED["pyspark"] == PINNED["pyspark-client"]


def test_the_driver_is_reachable_from_the_executors():
    env = SERVICES["airflow-scheduler"]["environment"]
    assert SERVICES["airflow-scheduler"]["hostname"] == "airflow-scheduler"
    assert '"spark.driver.host": "airflow-scheduler"' in env["SPOTIFY_RECS_SPARK_CONF"]


def test_databases_and_servers_have_health_checks_that_others_wait_for():
    for name in ["airflow-db", "warehouse", "airflow-apiserver", "airflow-scheduler", "spark-master"]:
        assert SERVICES[name]["healthcheck"]["test"], name
    assert SERVICES["airflow-apiserver"]["depends_on"]["airflow-init"]["condition"] == "service_completed_successfully"


def test_secrets_come_from_the_env_file_and_the_example_lists_them():
    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    used = set(re.findall(r"(?<!\$)\$\{([A-Z_]+)", text))  # $${...} is for the container shell
    example = Path(PROJECT_ROOT / ".env.example").read_text()
    assert used == set(re.findall(r"^([A-Z_]+)=", example, re.M))
    assert not re.search(r"^\s*\w*PASSWORD:\s+(?!\$\{)\S", text, re.M)  # no literal password value
    assert not re.search(r"://\w+:(?!\$\{)[^@/]+@", text)  # nor one inside a connection URI
    assert ".env" in (PROJECT_ROOT / ".gitignore").read_text().split()


def test_lineage_events_go_to_a_file_on_the_data_volume_which_init_makes():
    from lineage.config import EXECUTE_IN_THREAD, EXTRACTORS, TRANSPORT, events_file, openlineage_settings

    events = events_file(Path(SERVICES["airflow-scheduler"]["environment"]["SPOTIFY_RECS_DATA_DIR"]))
    expected = openlineage_settings(events)
    for name in AIRFLOW_SERVICES:
        env = SERVICES[name]["environment"]
        assert json.loads(env[TRANSPORT]) == {"type": "file", "log_file_path": str(events), "append": True}, name
        assert env[EXTRACTORS] == expected[EXTRACTORS], name
        assert env[EXECUTE_IN_THREAD] == expected[EXECUTE_IN_THREAD], name
    assert f"mkdir -p {events.parent} " in SERVICES["airflow-init"]["command"][0]


def test_the_file_is_valid_under_the_compose_specification():
    # compose-spec (the Rust compose_spec parser) checks every key, type and value as `docker compose config`
    # would; it does not read YAML merge keys (<<), so PyYAML resolves them first, as Compose does.
    from compose_spec import PyCompose

    text = (PROJECT_ROOT / "docker-compose.yml").read_text()
    assert set(PyCompose.from_json(json.dumps(yaml.safe_load(text))).service_names()) == set(SERVICES)
    for right, wrong in [("restart: unless-stopped", "restart: sometimes"),
                         ("condition: service_healthy", "condition: when_ready")]:  # fmt: skip
        broken = text.replace(right, wrong)
        with pytest.raises(ValueError, match=f"unknown variant `{wrong.split()[1]}`"):
            PyCompose.from_json(json.dumps(yaml.safe_load(broken)))
