"""The DAG's Spark jobs: spark-submit with OpenLineage facets, whose driver maps the class archive.

``SparkJobOperator`` is ``SparkSubmitWithLineage`` (``lineage.spark``) plus two options for the driver JVM:
- class data sharing (``pipeline.spark_class_archive``): where the driver runs on this machine (any
  master, client deploy mode), the job maps the archive of the drivers' classes, or, the first time,
  writes it. The archive folder comes from ``SPOTIFY_RECS_SPARK_CLASS_SHARING`` (``pipeline.settings``);
- its JIT compilers (``pipeline.driver_compiler``): C1 alone when the run's source zip (``source_zip``,
  templated) is small.
"""

from __future__ import annotations

from typing import Any

from lineage.spark import SparkSubmitWithLineage
from pipeline import driver_compiler, settings, spark_class_archive


class SparkJobOperator(SparkSubmitWithLineage):
    """``SparkSubmitWithLineage`` whose driver maps the class archive, or writes it when there is none, and
    compiles with C1 alone when ``source_zip`` (the run's downloaded source) is small."""

    template_fields = (*SparkSubmitWithLineage.template_fields, "source_zip")

    def __init__(self, *, source_zip: str | None = None, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.source_zip = source_zip

    def execute(self, context: Any) -> None:
        self.conf = driver_compiler.with_java_option(self.conf or {}, self.source_zip)
        self._hook = None  # the hook holds the conf it was made with
        folder = settings.spark_class_archive_dir()
        job = spark_class_archive.plan(folder) if folder is not None and self._driver_runs_here() else None
        if job is None:
            return super().execute(context)
        self.conf = spark_class_archive.with_java_option(self.conf, job.java_option)
        self._hook = None
        try:
            super().execute(context)
            if spark_class_archive.adopt(job):
                self.log.info("the Spark drivers' class archive is now %s", job.archive)
        finally:
            spark_class_archive.discard_scratch(job)

    def _driver_runs_here(self) -> bool:
        """Whether spark-submit runs the driver in this process tree (not a cluster deploy mode)."""
        return self._get_hook()._connection.get("deploy_mode") != "cluster"
