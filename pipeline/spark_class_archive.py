"""Class data sharing for the Spark driver: an archive of the classes a job loaded, mapped by later jobs.

Every Spark job starts a driver JVM that loads thousands of classes from Spark's jars, and on a
small input that start is much of the job (measured here: a job that starts a session and counts
10 rows took 9.8 s, 6.1 s with an archive; docs/performance.md). Java (13 and later) dumps the
classes a JVM loaded into an archive when it exits (``-XX:ArchiveClassesAtExit``), and a later
JVM maps that archive instead of reading and verifying the classes again
(``-XX:SharedArchiveFile``).

``plan`` gives a job its driver's option: map the archive when there is one, else dump one into a
scratch file of its own. After a job that succeeded, ``adopt`` checks the scratch file and renames
it to the archive: a JVM that maps a torn archive crashes (measured: SIGBUS on a truncated one), so
a scratch file becomes the archive only whole, in one rename, after a JVM has mapped it. An archive
that does not suit a JVM (another Java build, other class path or heap options) is ignored by that
JVM with a warning, so the archive only ever makes a start faster or leaves it as it was. Its name
holds the Java runtime's and pyspark's identity: a new Java or Spark writes a new archive, and
adopting one deletes the other runtimes' archives older than ``STALE_AFTER`` (an upgrade's old
archive goes; Airflow workers with two Java builds sharing the data directory keep one each, and
each writes its own again at most once per ``STALE_AFTER``).

Inputs: the Java runtime spark-submit starts (``$JAVA_HOME/bin/java``, else ``java`` on the PATH)
and this Python's pyspark. Output: ``<folder>/<key>.jsa``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

ARCHIVE_SUFFIX = ".jsa"
CHECK_SECONDS = 60
STALE_AFTER = timedelta(days=7)  # another runtime's archive this old (since written) is deleted


@dataclass(frozen=True)
class ClassArchivePlan:
    """One job's part: map ``archive``, or (``scratch`` set) dump the classes it loads into ``scratch``."""

    archive: Path
    scratch: Path | None
    java: str

    @property
    def java_option(self) -> str:
        if self.scratch is None:
            return f"-XX:SharedArchiveFile={self.archive}"
        return f"-XX:ArchiveClassesAtExit={self.scratch}"


def java_binary() -> str | None:
    """The ``java`` spark-submit starts: ``$JAVA_HOME/bin/java``, else the one on the PATH."""
    java_home = os.environ.get("JAVA_HOME")
    if java_home:
        candidate = Path(java_home) / "bin" / "java"
        return str(candidate) if candidate.is_file() else None
    return shutil.which("java")


def runtime_key(java: str) -> str:
    """A name for the archive of this Java build and this pyspark: another of either, another archive."""
    import pyspark

    binary = Path(java).resolve()
    library = binary.parent.parent / "lib" / "server" / "libjvm.so"  # the JVM itself: its build is what matters
    identity = [str(binary), pyspark.__version__, str(Path(pyspark.__file__).resolve().parent)]
    for path in (binary, library):
        if path.exists():
            stat = path.stat()
            identity += [str(path), str(stat.st_size), str(stat.st_mtime_ns)]
    return "spark-driver-" + hashlib.sha256("|".join(identity).encode()).hexdigest()[:16]


def plan(folder: Path) -> ClassArchivePlan | None:
    """This job's part, or None when there is no Java to ask or the folder cannot be written."""
    java = java_binary()
    if java is None:
        return None
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    if not os.access(folder, os.W_OK):
        return None
    archive = folder / f"{runtime_key(java)}{ARCHIVE_SUFFIX}"
    if archive.is_file():
        return ClassArchivePlan(archive, None, java)
    # A JVM that cannot create its dump fails at exit: the folder exists and is writable, checked above.
    return ClassArchivePlan(archive, folder / f"{archive.stem}.{uuid.uuid4().hex}.tmp", java)


def adopt(job: ClassArchivePlan) -> bool:
    """Make the job's dump the archive, when it is whole: a JVM mapping it starts. Returns whether it did.

    Never raises for want of an archive: the job it follows has succeeded, and a job without the
    archive only starts slower.
    """
    if job.scratch is None or not job.scratch.is_file():
        return False
    crash_report = job.scratch.with_suffix(".crash.log")  # a JVM that crashes writes one (hs_err_pid*.log)
    try:
        check = subprocess.run(
            [job.java, f"-XX:ErrorFile={crash_report}", "-XX:-CreateCoredumpOnCrash",
             f"-XX:SharedArchiveFile={job.scratch}", "-version"],
            capture_output=True,
            timeout=CHECK_SECONDS,
            check=False,
        )  # fmt: skip
        crash_report.unlink(missing_ok=True)
        if check.returncode != 0:
            return False
        os.replace(job.scratch, job.archive)
    except (OSError, subprocess.SubprocessError):
        return False
    stale_before = time.time() - STALE_AFTER.total_seconds()
    for other in job.archive.parent.glob(f"*{ARCHIVE_SUFFIX}"):
        try:
            if other != job.archive and other.stat().st_mtime < stale_before:
                other.unlink()  # another runtime's; a JVM that maps it keeps its pages
        except OSError:
            pass  # gone already, or not ours to delete: it stays
    return True


def discard_scratch(job: ClassArchivePlan) -> None:
    """Delete the job's dump if it is still there (the job failed, or the dump was torn)."""
    if job.scratch is not None:
        job.scratch.unlink(missing_ok=True)


def with_java_option(conf: dict[str, str], option: str, first: bool = False) -> dict[str, str]:
    """``conf`` with ``option`` added to the driver's JVM options: after any the deployment set, or with
    ``first`` before them (where a later option of the deployment's overrides it)."""
    current = conf.get("spark.driver.extraJavaOptions", "").strip()
    options = f"{option} {current}" if first else f"{current} {option}"
    return {**conf, "spark.driver.extraJavaOptions": options.strip()}
