"""The Spark driver's JIT compilers, by the size of the run's source: C1 alone for a small one.

HotSpot compiles hot code twice by default: quickly with C1, then again, optimised, with C2. On this
machine's 2 cores C2's compiler threads compete with Spark's task threads, and a small run ends
before C2's code pays that back. Measured here with C1 alone (``-XX:TieredStopAtLevel=1``) against the
default, nothing else running (docs/performance.md):

- 100,000 rows (``make demo``'s sample, a 1.3 MB zip): the three Spark tasks took 59.0 and 62.5 s
  against 69.9 to 72.2 s (five runs); ``extract`` alone 29.3 and 28.1 s against 31.6 and 33.9 s;
- 1,000,000 rows (13 MB): ``extract`` alone 40.7, 45.2, 42.1 and 52.2 s against 53.4, 49.6, 50.4
  and 47.4 s, no difference beyond the spread; the whole DAG 141 s against 122 s (one run each);
- 12,900,000 rows (180 MB): ``extract``'s own work 243 s against 133 and 141 s (the default, the same
  morning): C2's faster code wins.

So a source zip of at most ``SMALL_SOURCE_BYTES`` runs its jobs' drivers with C1 alone; a larger
one, or one whose size is unknown, keeps the JVM's default. The option goes before the deployment's
own driver options (``SPOTIFY_RECS_SPARK_CONF``), so a compiler option set there wins. In local mode the
driver runs the tasks too; on a cluster only the driver's planning is concerned, and the executors keep
their default.
"""

from __future__ import annotations

import os

C1_ONLY = "-XX:TieredStopAtLevel=1"
# About 300,000 rows: between the sizes measured faster (100,000 rows) and no faster (1,000,000) with C1 alone.
SMALL_SOURCE_BYTES = 4 * 1024 * 1024


def java_option(source_zip: str | os.PathLike | None) -> str | None:
    """``C1_ONLY`` for a source zip of at most ``SMALL_SOURCE_BYTES``; None (the default JIT) for a larger
    one, or when there is none or it cannot be read."""
    if not source_zip:
        return None
    try:
        size = os.path.getsize(source_zip)
    except OSError:
        return None
    return C1_ONLY if size <= SMALL_SOURCE_BYTES else None


def with_java_option(conf: dict[str, str], source_zip: str | os.PathLike | None) -> dict[str, str]:
    """``conf`` with ``java_option(source_zip)`` first among the driver's JVM options, when there is one."""
    option = java_option(source_zip)
    if option is None:
        return conf
    current = conf.get("spark.driver.extraJavaOptions", "").strip()
    return {**conf, "spark.driver.extraJavaOptions": f"{option} {current}".strip()}
