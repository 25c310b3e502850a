"""
### Spotify playlists → "people who put this song in their playlists also put..."

Downloads the Spotify Playlists dataset (Pichl & Zangerle, Zenodo record 2594557),
extracts songs and playlists with Spark, computes MinHash signatures of each
song's playlist set, finds similar songs by LSH banding scored with their exact
Jaccard similarity, validates every output with Great Expectations and
publishes `music.tracks`, `music.recommendations` and the view
`music.recommendations_named` to the PostgreSQL connection `warehouse`.

Weekly (`$SPOTIFY_RECS_SCHEDULE`), a run first fingerprints the source (Zenodo's md5, HTTP validators or a
file hash): when the source and the params equal those of the last published
run, and `force` is off, everything after `check_source` is skipped.

Intermediate data lives in a folder of this run under `$SPOTIFY_RECS_DATA_DIR`
(default `./data`); the newest 3 runs' folders are kept. A failed validation
stops the run before `publish`.

A share of the playlists (`holdout_fraction`, at most `holdout_max_playlists`, chosen by a hash of
the playlist id) is held out of training: `evaluate` continues them with the run's recommendations
and two baselines (most popular, exact cosine item-kNN), and `validate_evaluation` stops the run
when its NDCG or R-precision fell below the live version's (less `max_quality_drop`) or the
most-popular baseline's. The figures are published with the version in `music.evaluation`.

Each task's OpenLineage events name the datasets it reads and writes in this run
(`lineage/`): the source, the downloaded zip, the run folder's Parquet datasets,
the `music_staging` and `music` tables.

With the SMTP connection `alerts_smtp`, a failed task mails an alert, and so does a run that has not
ended `$SPOTIFY_RECS_RUN_DEADLINE_MINUTES` (default 120) after it was queued.
"""

from __future__ import annotations

import sys
from datetime import datetime, timedelta
from typing import Any

from airflow.sdk import Asset, Param, chain, dag, task

# (airflow.sdk exports these too, but its type stub does not list them yet)
from airflow.sdk.definitions.callback import AsyncCallback
from airflow.sdk.definitions.deadline import DeadlineAlert, DeadlineReference

from alerts.notifications import notify_deadline_missed, notify_failure
from operators.spark_job import SparkJobOperator
from pipeline import settings
from pipeline.run_folder import run_folder_path

ZENODO_URL = "https://zenodo.org/record/2594557/files/spotify_playlists.zip?download=1"
RECOMMENDATIONS_ASSET = Asset(
    name="music.recommendations", uri="postgres://warehouse:5432/warehouse/music/recommendations"
)
RUN_DIR = "{{ run_folder(dag.dag_id, run_id) }}"
DOWNLOADED_ZIP = "{{ ti.xcom_pull(task_ids='download') }}"


def whole_number_param(default: int, minimum: int, maximum: int, title: str, description: str) -> Param:
    """A whole-number knob of the trigger form. Its bounds are in its description: the form's number box
    silently turns a value outside them into the nearest bound, so the user must be told."""
    return Param(
        default,
        type="integer",
        minimum=minimum,
        maximum=maximum,
        title=title,
        description=f"{description} A whole number from {minimum} to {maximum}.",
    )


def run_deadline_alert() -> DeadlineAlert | None:
    interval = settings.run_deadline()
    if interval is None:
        return None
    return DeadlineAlert(
        reference=DeadlineReference.DAGRUN_QUEUED_AT, interval=interval, callback=AsyncCallback(notify_deadline_missed)
    )


def spark_job(task_id: str, script: str, application_args: list[str], **kwargs) -> SparkJobOperator:
    return SparkJobOperator(
        source_zip=DOWNLOADED_ZIP,  # the driver's JIT follows the run's size (pipeline/driver_compiler.py)
        task_id=task_id,
        application=str(settings.SPARK_JOBS_DIR / script),
        application_args=application_args,
        conn_id="spark_default",
        name=f"spotify_recommendations.{task_id}",
        # The driver runs this Python (the project's virtualenv); the executors the shipped environment
        # (SPOTIFY_RECS_EXECUTOR_ENV) or, without one, this same path.
        conf={**settings.spark_python_conf(sys.executable), **settings.spark_conf()},
        **settings.spark_resources(),
        **kwargs,
    )


def _stage_verdict(stage: str, dag_id: str, run_id: str) -> dict:
    """The validation report its job wrote for ``stage``, in brief; a failed expectation fails the task."""
    from airflow.sdk.exceptions import AirflowFailException

    from pipeline.run_folder import RunFolder
    from pipeline.validation import ValidationFailed, check_report

    try:
        return check_report(RunFolder.of_run(dag_id, run_id), stage)
    except ValidationFailed as failure:
        raise AirflowFailException(str(failure)) from failure


@dag(
    dag_id="spotify_recommendations",
    schedule=settings.schedule(),
    start_date=datetime(2026, 1, 1),
    catchup=False,
    max_active_runs=1,
    doc_md=__doc__,
    tags=["spotify", "recommendations", "spark"],
    default_args={
        "retries": 2,
        "retry_delay": timedelta(minutes=1),
        "retry_exponential_backoff": True,
        # No task may hang a weekly run: the full dataset's slowest stage takes minutes, not hours.
        "execution_timeout": timedelta(hours=2),
        "on_failure_callback": notify_failure,
    },
    # A run that has not ended SPOTIFY_RECS_RUN_DEADLINE_MINUTES after being queued (still running, or failed)
    # mails an alert from the triggerer; a run that succeeds in time clears its deadline.
    deadline=run_deadline_alert(),
    user_defined_macros={"run_folder": run_folder_path},
    params={
        "source_url": Param(
            ZENODO_URL,
            type="string",
            pattern=r"^(https?|file)://\S+$",
            title="Dataset URL",
            description="Zip holding spotify_dataset.csv: an http://, https:// or file:// URL.",
        ),
        "min_playlists": whole_number_param(
            2,
            1,
            1000,
            "Minimum playlists per song",
            "Songs in fewer distinct playlists get no recommendations and are not published.",
        ),
        "num_perm": whole_number_param(
            128,
            1,
            1024,
            "MinHash signature length",
            "Min-hashes per song; must be at least bands x rows per band.",
        ),
        "bands": whole_number_param(
            64,
            1,
            1024,
            "LSH bands",
            "More bands find more candidate pairs (higher recall, more work).",
        ),
        "rows_per_band": whole_number_param(
            2,
            1,
            64,
            "Signature values per band",
            "More values per band make candidates stricter (fewer false candidates, lower recall).",
        ),
        "max_bucket": whole_number_param(
            20,
            2,
            10000,
            "Largest LSH bucket",
            (
                "Bigger buckets (a large playlist shared by many songs) are cut into chunks of about this many "
                "songs, the most alike together: bounds the work per bucket (higher means more work, more recall)."
            ),
        ),
        "exact_work": whole_number_param(
            50000,
            0,
            10000000,
            "Exact scoring limit",
            (
                "A song whose playlists hold at most this many songs in all is scored against every one of them "
                "(exact top-k); songs in bigger playlists use their LSH candidates. 0: LSH for every song."
            ),
        ),
        "top_k": whole_number_param(
            20,
            1,
            200,
            "Recommendations per song",
            "How many similar songs are published for each song.",
        ),
        "max_reject_rate": Param(
            0.01,
            type="number",
            minimum=0,
            maximum=1,
            title="Largest share of rejected lines",
            description=(
                "validate_extract stops the run, before any compute, when more than this share of the file's "
                "lines were rejected (malformed, blank, bad encoding, ...). A number from 0 to 1."
            ),
        ),
        "max_drop": Param(
            0.5,
            type="number",
            minimum=0,
            maximum=1,
            title="Largest drop against the live version",
            description=(
                "The run stops before publishing when its songs or recommendation pairs fall below the live "
                "version's by more than this share (0.5 = half). `force` publishes anyway. A number from 0 to 1."
            ),
        ),
        "holdout_fraction": Param(
            0.01,
            type="number",
            minimum=0,
            maximum=1,
            title="Share of playlists held out for the evaluation",
            description=(
                "Playlists chosen by a hash of their id (the same ones on every run of the same source) are left "
                "out of the recommendations and used to measure them (evaluate). 0 turns the evaluation off. "
                "A number from 0 to 1."
            ),
        ),
        "holdout_max_playlists": Param(
            2500,
            type="integer",
            minimum=1,
            maximum=10_000_000,
            title="Most playlists held out for the evaluation",
            description=(
                "Of the playlists under holdout_fraction, only this many are held out: those the hash ranks "
                "first, so the same ones on every run. It keeps the evaluation's time bounded as the data grows "
                "(the real dataset's 1% is about 2,400 playlists). A whole number from 1 to 10000000."
            ),
        ),
        "max_quality_drop": Param(
            0.05,
            type="number",
            minimum=0,
            maximum=1,
            title="Largest quality drop against the live version",
            description=(
                "The run stops before publishing when its NDCG or R-precision on the held-out playlists falls more "
                "than this share below the live version's on the same hold-out (0.05 = 5%), or below the "
                "most-popular baseline's. `force` publishes anyway. A number from 0 to 1."
            ),
        ),
        "force": Param(
            False,
            type="boolean",
            title="Recompute even if unchanged",
            description=(
                "Run every stage even when the source and params equal the last published run's, and publish "
                "even when the tables drop by more than max_drop, or the quality by more than max_quality_drop, "
                "against the live version."
            ),
        ),
    },  # fmt: skip
)
def spotify_recommendations():
    @task(retries=0)  # a wrong value stays wrong
    def validate_params(params=None) -> None:
        from airflow.sdk.exceptions import AirflowFailException

        signature_values = params["bands"] * params["rows_per_band"]
        if signature_values > params["num_perm"]:
            raise AirflowFailException(
                f"bands x rows_per_band = {params['bands']} x {params['rows_per_band']} = {signature_values} "
                f"signature values, but num_perm is {params['num_perm']}: raise num_perm or lower the others"
            )

    @task.short_circuit(ignore_downstream_trigger_rules=True)
    def check_source(params=None) -> dict | bool:
        """Fingerprint the source; False (skip the rest) when it and the params were published already."""
        from contextlib import closing

        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.download import SourceUnusable, fingerprint_source
        from pipeline.run_history import is_already_published, last_published_run
        from warehouse.connection import airflow_dsn, connect

        try:
            fingerprint = fingerprint_source(params["source_url"])
        except SourceUnusable as problem:  # a missing file or a 404 does not get better by trying again
            raise AirflowFailException(str(problem)) from problem
        if params["force"]:
            return {"fingerprint": fingerprint}
        with closing(connect(airflow_dsn())) as connection:
            last_run = last_published_run(connection)
        if last_run is not None and is_already_published(last_run, fingerprint, params):
            print(f"unchanged since run {last_run['dag_run_id']} published at {last_run['published_at']}: skipping")
            return False
        return {"fingerprint": fingerprint}

    @task
    def download(source: Any, params=None) -> str:
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.download import SourceUnusable
        from pipeline.download import download as fetch

        try:
            return fetch(params["source_url"], settings.downloads_dir(), source["fingerprint"]).path
        except SourceUnusable as problem:  # not a zip, no CSV in it, a wrong header, a 4xx: final
            raise AirflowFailException(str(problem)) from problem

    extract = spark_job(
        "extract",
        "extract.py",
        ["--source-zip", DOWNLOADED_ZIP, "--run-dir", RUN_DIR,
         "--min-playlists", "{{ params.min_playlists }}", "--holdout-fraction", "{{ params.holdout_fraction }}",
         "--holdout-max-playlists", "{{ params.holdout_max_playlists }}",
         "--suites-dir", str(settings.EXPECTATIONS_DIR), "--max-reject-rate", "{{ params.max_reject_rate }}"],
    )  # fmt: skip
    minhash = spark_job("minhash", "minhash.py", ["--run-dir", RUN_DIR, "--num-perm", "{{ params.num_perm }}"])
    similarity_join = spark_job(
        "similarity_join",
        "similarity_join.py",
        ["--run-dir", RUN_DIR, "--num-perm", "{{ params.num_perm }}", "--bands", "{{ params.bands }}",
         "--rows-per-band", "{{ params.rows_per_band }}", "--max-bucket", "{{ params.max_bucket }}",
         "--exact-work", "{{ params.exact_work }}", "--top-k", "{{ params.top_k }}",
         "--suites-dir", str(settings.EXPECTATIONS_DIR)],
    )  # fmt: skip

    # extract and similarity_join validate their outputs in their own Spark session (no second Spark start,
    # no second read of the files); these tasks read the verdict and stop the run when an expectation failed.
    @task(retries=0)  # bad data does not get better by trying again
    def validate_extract(run_id=None, dag=None) -> dict:
        """The extract outputs' Great Expectations verdict (suites `expectations/extract`)."""
        return _stage_verdict("extract", dag.dag_id, run_id)

    @task(retries=0)
    def validate_recommendations(run_id=None, dag=None) -> dict:
        """The recommendations' Great Expectations verdict (suites `expectations/recommendations`)."""
        return _stage_verdict("recommendations", dag.dag_id, run_id)

    @task
    def evaluate(params=None, run_id=None, dag=None) -> dict:
        """Continue the held-out playlists with the run's recommendations and the baselines; the figures."""
        from pipeline.evaluate import evaluate_run, overall
        from pipeline.run_folder import RunFolder

        if params["holdout_fraction"] == 0:
            print("the evaluation is off (holdout_fraction 0)")
            return {"cases": 0}
        evaluated = evaluate_run(RunFolder.of_run(dag.dag_id, run_id), params["top_k"])
        print(f"{evaluated['cases']} cases from {evaluated['holdout_playlists']} held-out playlists:")
        for method in ("published", "most_popular", "cosine_knn"):
            figures = overall(evaluated["figures"], method)
            print(f"  {method:<13} R-precision {figures['r_precision']}, NDCG {figures['ndcg']}")
        return {"cases": evaluated["cases"], "seconds": evaluated["seconds"]}

    @task(retries=0)  # the figures do not change by trying again
    def validate_evaluation(source: Any, params=None, run_id=None, dag=None) -> dict:
        """The quality gate: stop when NDCG or R-precision fell below the live version's or most-popular's."""
        from contextlib import closing

        from airflow.sdk.exceptions import AirflowFailException

        from pipeline import quality_gate
        from pipeline.run_folder import RunFolder
        from warehouse.connection import airflow_dsn, connect

        if params["holdout_fraction"] == 0:
            print("not gated: the evaluation is off (holdout_fraction 0)")
            return {"compared_with": "nothing: the evaluation is off"}
        with closing(connect(airflow_dsn())) as connection:
            live = quality_gate.live_evaluation(connection)
        try:
            checked = quality_gate.validate_evaluation(
                RunFolder.of_run(dag.dag_id, run_id),
                live,
                source["fingerprint"],
                (params["holdout_fraction"], params["holdout_max_playlists"]),
                params["max_quality_drop"],
            )
        except quality_gate.QualityFell as fell:
            if not params["force"]:
                raise AirflowFailException(
                    f"the recommendations got worse: {fell} (trigger with force to publish anyway)"
                ) from fell
            print(f"force is on, publishing anyway: {fell}")
            return {"compared_with": "forced"}
        print(f"quality gate passed, compared with {checked['compared_with']}: {checked}")
        return checked

    @task(retries=0)  # the figures do not change by trying again
    def compare_with_live(params=None, run_id=None, dag=None) -> dict:
        """Stop before publishing when the tables would shrink far below the live version's (max_drop)."""
        from contextlib import closing

        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.live_comparison import shrinkage
        from pipeline.publish import parquet_rows
        from pipeline.run_folder import RunFolder
        from pipeline.run_history import last_published_run
        from warehouse.connection import airflow_dsn, connect

        candidate = parquet_rows(RunFolder.of_run(dag.dag_id, run_id))
        with closing(connect(airflow_dsn())) as connection:
            live_run = last_published_run(connection)
        problems = shrinkage(candidate, live_run, params["max_drop"])
        if problems and not params["force"]:
            raise AirflowFailException("; ".join(problems) + " (trigger with force to publish anyway)")
        for problem in problems:
            print(f"force is on, publishing anyway: {problem}")
        return candidate

    @task
    def stage(run_id=None, dag=None) -> dict:
        """COPY the validated outputs into music_staging (committed, not yet visible to analysts); build their keys."""
        from contextlib import closing

        from pipeline.publish import stage_run
        from pipeline.run_folder import RunFolder
        from warehouse.connection import airflow_dsn, connect

        with closing(connect(airflow_dsn())) as connection:
            return stage_run(connection, RunFolder.of_run(dag.dag_id, run_id))

    @task(retries=0)
    def validate_staged(run_id=None, dag=None) -> dict:
        """Great Expectations on the staged tables inside PostgreSQL; a failure stops the swap."""
        from airflow.sdk.exceptions import AirflowFailException

        from pipeline.publish import validate_staged as validate
        from pipeline.run_folder import RunFolder
        from pipeline.validation import ValidationFailed
        from warehouse.connection import airflow_dsn

        try:
            return validate(airflow_dsn(), RunFolder.of_run(dag.dag_id, run_id))
        except ValidationFailed as failure:
            raise AirflowFailException(str(failure)) from failure

    @task(outlets=[RECOMMENDATIONS_ASSET])
    def publish(source: Any, staged: Any, validated: Any, params=None, run_id=None, dag=None) -> dict:
        """Swap the staged tables in as the live version, in one transaction; record the run."""
        from contextlib import closing

        from pipeline.publish import run_record, swap_in
        from pipeline.run_folder import RunFolder
        from warehouse.connection import airflow_dsn, connect

        run = RunFolder.of_run(dag.dag_id, run_id)
        record = run_record(run, run_id, params["source_url"], source["fingerprint"], params, staged, validated)
        with closing(connect(airflow_dsn())) as connection:
            version = swap_in(connection, run, record)
        return {"run_id": version, **staged["rows"]}

    @task
    def prune_run_folders(run_id=None, dag=None) -> list[str]:
        """Delete the oldest runs' intermediate data (setting SPOTIFY_RECS_KEEP_RUN_FOLDERS)."""
        from pipeline.run_folder import prune_run_folders as prune

        return prune(dag.dag_id, run_id)

    source = check_source()
    staged = stage()
    validated = validate_staged()
    chain(
        validate_params(),
        source,
        download(source),
        extract,
        validate_extract(),
        minhash,
        similarity_join,
        evaluate(),
        validate_recommendations(),
        validate_evaluation(source),
        compare_with_live(),
        staged,
        validated,
        publish(source, staged, validated),
        prune_run_folders(),
    )


spotify_recommendations()
