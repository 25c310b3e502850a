"""
### Spotify playlists → "people who put this song in their playlists also put..."

Downloads the Spotify Playlists dataset (Pichl & Zangerle, Zenodo record 2594557),
extracts songs and playlists with Spark, computes MinHash signatures of each
song's playlist set, finds similar songs by LSH banding scored with their exact
Jaccard similarity, validates every output with Great Expectations and
publishes `music.tracks`, `music.recommendations` and the view
`music.recommendations_named` to the PostgreSQL connection `warehouse`.

Intermediate data lives in a folder of this run under `$SPOTIFY_RECS_DATA_DIR`
(default `./data`). A failed validation stops the run before `publish`.
"""

from __future__ import annotations

import os
import sys
from datetime import datetime, timedelta

from airflow.providers.apache.spark.operators.spark_submit import SparkSubmitOperator
from airflow.sdk import Param, chain, dag, task

from spotify_recs.paths import EXPECTATIONS_DIR, SPARK_JOBS_DIR, downloads_dir, run_folder

ZENODO_URL = "https://zenodo.org/record/2594557/files/spotify_playlists.zip?download=1"
RUN_DIR = "{{ run_folder(dag.dag_id, run_id) }}"
# The Spark driver and workers use this same Python (the project's virtualenv).
SPARK_CONF = {
    "spark.pyspark.python": sys.executable,
    "spark.pyspark.driver.python": sys.executable,
    # Spark's default of 200 shuffle partitions costs more than it gives on a few cores.
    "spark.sql.shuffle.partitions": os.environ.get("SPOTIFY_RECS_SHUFFLE_PARTITIONS", "16"),
}
DRIVER_MEMORY = os.environ.get("SPOTIFY_RECS_SPARK_DRIVER_MEMORY", "4g")


def spark_job(task_id: str, script: str, application_args: list[str], **kwargs) -> SparkSubmitOperator:
    return SparkSubmitOperator(
        task_id=task_id,
        application=str(SPARK_JOBS_DIR / script),
        application_args=application_args,
        conn_id="spark_default",
        name=f"spotify_recommendations.{task_id}",
        conf=SPARK_CONF,
        driver_memory=DRIVER_MEMORY,
        **kwargs,
    )


@dag(
    dag_id="spotify_recommendations",
    schedule="@weekly",
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["spotify", "recommendations", "spark"],
    default_args={"retries": 2, "retry_delay": timedelta(minutes=1), "retry_exponential_backoff": True},
    user_defined_macros={"run_folder": run_folder},
    params={
        "source_url": Param(
            ZENODO_URL,
            type="string",
            title="Dataset URL",
            description="Zip of spotify_dataset.csv: http://, https:// or file://",
        ),
        "min_playlists": Param(2, type="integer", minimum=1, title="Minimum playlists per song"),
        "num_perm": Param(128, type="integer", minimum=1, maximum=1024, title="MinHash signature length"),
        "bands": Param(64, type="integer", minimum=1, maximum=1024, title="LSH bands"),
        "rows_per_band": Param(2, type="integer", minimum=1, maximum=64, title="Signature values per band"),
        "top_k": Param(20, type="integer", minimum=1, maximum=200, title="Recommendations per song"),
    },
)
def spotify_recommendations():
    @task
    def download(params=None) -> str:
        from spotify_recs.download import download as fetch

        return fetch(params["source_url"], downloads_dir()).path

    extract = spark_job(
        "extract",
        "extract.py",
        [
            "--source-zip",
            "{{ ti.xcom_pull(task_ids='download') }}",
            "--run-dir",
            RUN_DIR,
            "--min-playlists",
            "{{ params.min_playlists }}",
        ],
    )
    validate_extract = spark_job(
        "validate_extract",
        "validate.py",
        ["--run-dir", RUN_DIR, "--stage", "extract", "--suites-dir", str(EXPECTATIONS_DIR)],
        retries=0,  # bad data does not get better by trying again
    )
    minhash = spark_job("minhash", "minhash.py", ["--run-dir", RUN_DIR, "--num-perm", "{{ params.num_perm }}"])
    similarity_join = spark_job(
        "similarity_join",
        "similarity_join.py",
        [
            "--run-dir",
            RUN_DIR,
            "--bands",
            "{{ params.bands }}",
            "--rows-per-band",
            "{{ params.rows_per_band }}",
            "--top-k",
            "{{ params.top_k }}",
        ],
    )
    validate_recommendations = spark_job(
        "validate_recommendations",
        "validate.py",
        [
            "--run-dir",
            RUN_DIR,
            "--stage",
            "recommendations",
            "--suites-dir",
            str(EXPECTATIONS_DIR),
            "--top-k",
            "{{ params.top_k }}",
        ],
        retries=0,
    )

    @task
    def publish(run_id=None, dag=None) -> dict:
        from airflow.sdk import Connection

        from spotify_recs.publish import publish_run
        from spotify_recs.warehouse import connect

        warehouse = Connection.get("warehouse")
        connection = connect(
            {
                "host": warehouse.host,
                "port": warehouse.port,
                "login": warehouse.login,
                "password": warehouse.password,
                "schema": warehouse.schema,
            }
        )
        try:
            return publish_run(connection, run_folder(dag.dag_id, run_id))
        finally:
            connection.close()

    chain(download(), extract, validate_extract, minhash, similarity_join, validate_recommendations, publish())


spotify_recommendations()
