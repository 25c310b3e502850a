"""``make executor-env``: the Python environment the Spark executors get with every job, packed into one archive.

On a Spark cluster whose workers do not share this machine's virtualenv, the executors' Python workers
still run the engine (``minhash`` and ``similarity_join`` run numpy, scipy, pandas and pyarrow through
``mapInArrow``, importing ``spark_jobs`` and ``similarity``). Following PySpark's "Python package
management" guide, this builds a virtualenv holding exactly those libraries (at the versions pinned in
``requirements.txt``) and the project's own code, and packs it with ``venv-pack``. With
``SPOTIFY_RECS_EXECUTOR_ENV`` naming the archive, every job ships it (``spark.archives``) and the
executors run ``./environment/bin/python`` from it. Spark itself (``pyspark``) comes from the workers'
Spark installation, as on any cluster.

A packed virtualenv does not carry the Python interpreter: the workers need CPython 3.11 under
``--python-prefix`` (default ``/usr``, i.e. ``/usr/bin/python3.11``).
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import tomllib
from pathlib import Path

import venv_pack

from pipeline.settings import PROJECT_ROOT

# What the executors' Python workers import; their own dependencies follow from requirements.txt's pins.
EXECUTOR_LIBRARIES = ("numpy", "scipy", "pandas", "pyarrow")
DEFAULT_OUTPUT = PROJECT_ROOT / "build" / "executor-env.tar.gz"


def base_python() -> Path:
    """This Python's own interpreter, by the name venv-pack can re-point (``bin/python``; venv-pack 0.2
    garbles a ``python3`` link when rewriting the prefix)."""
    for name in ("python", "python3"):
        candidate = Path(sys.base_prefix) / "bin" / name
        if candidate.exists():
            return candidate
    raise FileNotFoundError(f"no python interpreter under {sys.base_prefix}/bin")


def project_source(folder: Path) -> Path:
    """A copy of the project's packages and ``pyproject.toml`` in ``folder``: setuptools builds in the source
    tree, and a ``build/`` left there by an earlier build could carry modules deleted since."""
    config = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())
    folder.mkdir(parents=True)
    shutil.copy2(PROJECT_ROOT / "pyproject.toml", folder / "pyproject.toml")
    for package in config["tool"]["setuptools"]["packages"]:
        shutil.copytree(PROJECT_ROOT / package, folder / package, ignore=shutil.ignore_patterns("__pycache__"))
    return folder


def build(output: Path, python_prefix: str) -> Path:
    """Build the executors' virtualenv in a scratch folder and pack it into ``output`` (a .tar.gz)."""
    output.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="executor-env-") as scratch:
        env = Path(scratch) / "environment"
        subprocess.run([str(base_python()), "-m", "venv", str(env)], check=True)
        pip = [str(env / "bin" / "python"), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
        constraints = ["--constraint", str(PROJECT_ROOT / "requirements.txt")]
        subprocess.run([*pip, *constraints, *EXECUTOR_LIBRARIES], check=True)
        # The project's code as a regular (not editable) install: the archive carries this checkout's engine.
        subprocess.run([*pip, "--no-deps", str(project_source(Path(scratch) / "source"))], check=True)
        subprocess.run([*pip[:3], "uninstall", "--quiet", "--yes", "pip", "setuptools"], check=True)
        venv_pack.pack(prefix=str(env), output=str(output), python_prefix=python_prefix, force=True)
    return output


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help=f"default {DEFAULT_OUTPUT}")
    parser.add_argument("--python-prefix", default="/usr", help="where the workers' CPython 3.11 lives (default /usr)")
    args = parser.parse_args(argv)
    archive = build(args.output, args.python_prefix)
    size_mb = archive.stat().st_size / 1e6
    print(f"{archive} ({size_mb:.0f} MB); ship it with every job: SPOTIFY_RECS_EXECUTOR_ENV={archive}")


if __name__ == "__main__":
    main()
