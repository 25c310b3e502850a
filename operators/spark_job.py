"""The DAG's Spark jobs: spark-submit with OpenLineage facets, whose driver maps the class archive.

``SparkJobOperator`` is ``SparkSubmitWithLineage`` (``lineage.spark``) plus class data sharing for
the driver JVM (``pipeline.spark_class_archive``): where the driver runs on this machine (any master,
client deploy mode), the job maps the archive of the drivers' classes, or, the first time, writes it.
The archive folder comes from ``SPOTIFY_RECS_SPARK_CLASS_SHARING`` (``pipeline.settings``).
"""

from __future__ import annotations

from typing import Any

from lineage.spark import SparkSubmitWithLineage
from pipeline import settings, spark_class_archive


class SparkJobOperator(SparkSubmitWithLineage):
    """``SparkSubmitWithLineage`` whose driver maps the class archive, or writes it when there is none."""

    def execute(self, context: Any) -> None:
        folder = settings.spark_class_archive_dir()
        job = spark_class_archive.plan(folder) if folder is not None and self._driver_runs_here() else None
        if job is None:
            return super().execute(context)
        self.conf = spark_class_archive.with_java_option(self.conf or {}, job.java_option)
        self._hook = None  # the hook holds the conf it was made with
        try:
            super().execute(context)
            if spark_class_archive.adopt(job):
                self.log.info("the Spark drivers' class archive is now %s", job.archive)
        finally:
            spark_class_archive.discard_scratch(job)

    def _driver_runs_here(self) -> bool:
        """Whether spark-submit runs the driver in this process tree (not a cluster deploy mode)."""
        return self._get_hook()._connection.get("deploy_mode") != "cluster"
