"""The Spark driver's JIT compilers, by the size of the run's source: C1 alone for a small one.

HotSpot compiles hot code twice by default: quickly with C1, then again, optimised, with C2. On this
machine's 2 cores C2's compiler threads compete with Spark's task threads, and a small run ends
before C2's code pays that back. With C1 alone (``-XX:TieredStopAtLevel=1``) ``make demo``'s three
Spark tasks (100,000 rows, a 1.3 MB zip) took about 10 s less; at 1,000,000 rows (13 MB) the difference
was within the spread; at 12,900,000 rows (180 MB) ``extract`` took 243 s against about 140 s
(the figures: docs/performance.md, "make demo within 90 s").

So a source zip of at most ``SMALL_SOURCE_BYTES`` runs its jobs' drivers with C1 alone; a larger
one, or one whose size is unknown, keeps the JVM's default. The option goes before the deployment's
own driver options (``SPOTIFY_RECS_SPARK_CONF``), so a compiler option set there wins. In local mode the
driver runs the tasks too; on a cluster only the driver's planning is concerned, and the executors keep
their default.
"""

from __future__ import annotations

import os

from pipeline import spark_class_archive

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
    return conf if option is None else spark_class_archive.with_java_option(conf, option, first=True)
