# Everything runs in .venv, created from the pinned requirements.txt on first use.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
DATA_DIR ?= $(CURDIR)/data
DEMO_ROWS ?= 100000
SOURCE_URL ?= https://zenodo.org/record/2594557/files/spotify_playlists.zip?download=1
PYTEST_ARGS ?=
PARAMS ?=
SQL_USER ?= postgres

export SPOTIFY_RECS_DATA_DIR := $(DATA_DIR)
export PATH := $(CURDIR)/$(VENV)/bin:$(PATH)
export GX_ANALYTICS_ENABLED := false

.PHONY: help venv executor-env demo run web airflow versions rollback docs bench bench-evaluation bench-validation bench-warehouse bench-web bench-executor-memory bench-scale dataset-shape test test-unit test-faults lint format stop-warehouse sql clean

help:
	@echo "make help   - this list"
	@echo "make venv   - create .venv from the pinned requirements (every other target does it first)"
	@echo "make demo   - generate a sample, run the whole DAG into an embedded PostgreSQL, print recommendations"
	@echo "make run SOURCE_URL=<url> - the same on any source (default: the Zenodo dataset); PARAMS=\"top_k=50 force=true\""
	@echo "make airflow - Airflow UI on http://localhost:8080 (AIRFLOW_PORT=...), runs by hand, the demo configuration"
	@echo "make web   - the lookup page on http://127.0.0.1:5000 under gunicorn (PORT=...; SPOTIFY_RECS_WEB_WORKERS, _THREADS, _POOL_SIZE)"
	@echo "make executor-env - pack the Spark executors' Python (numpy, scipy, pandas, pyarrow, this code) into build/executor-env.tar.gz (EXECUTOR_PYTHON_PREFIX=/usr)"
	@echo "make test   - all tests, tier by tier (unit, spark-submit, end to end, faults)"
	@echo "make test-unit - the fast tests only"
	@echo "make test-faults - the fault-injection suite only"
	@echo "make lint   - ruff check, format check and mypy"
	@echo "make format - ruff format and fixes"
	@echo "make docs   - print where the newest run's Great Expectations Data Docs are"
	@echo "make bench            - similarity engine vs Spark MLlib vs exact, 250K and 1M rows (BENCH_ARGS=\"--rows 1000000,12900000 --dag\": issue #13's six targets)"
	@echo "make bench-evaluation RUN_DIR=<run folder> - the evaluation's exact cosine baseline: top-n product vs blocked scipy product"
	@echo "make bench-validation RUN_DIR=<run folder> - the Great Expectations suites of the Spark stages: seconds per suite and per stage"
	@echo "make dataset-shape ZIP=<zip> [RUN_DIR=<run folder>] - a file's shape (users, names, playlist sizes, songs) beside the real file's"
	@echo "make bench-warehouse - publish throughput vs psql copy, name lookup latency, on full-scale tables"
	@echo "make bench-web       - the lookup page under gunicorn: requests/s and latency of /api/recommendations, 50 clients"
	@echo "make bench-executor-memory - similarity_join on a Spark standalone cluster, 1 vs 2 executors, 1M and 4M rows: peak memory of each executor (BENCH_ARGS=\"--rows 200000\")"
	@echo "make bench-scale     - the whole DAG on a generated 64.5M-row zip (5x the dataset): time, memory in use, recall@10 of the published tables (BENCH_ARGS=\"--rows 12900000\")"
	@echo "make sql    - open a SQL prompt on the embedded warehouse (SQL_USER=music_reader: read-only)"
	@echo "make versions - list the published versions; make rollback - make the previous one live again"
	@echo "make stop-warehouse - stop the embedded PostgreSQL"
	@echo "make clean  - stop it and delete the data directory"

venv: $(VENV)/.installed

$(VENV)/.installed: requirements.txt requirements-dev.txt pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt
	$(PY) -m pip install --quiet --no-deps -e .
	touch $@

# For a Spark cluster whose workers lack this virtualenv: set SPOTIFY_RECS_EXECUTOR_ENV to the archive.
EXECUTOR_PYTHON_PREFIX ?= /usr
export EXECUTOR_PYTHON_PREFIX
executor-env: venv
	$(PY) -m devtools.executor_env --output build/executor-env.tar.gz --python-prefix "$$EXECUTOR_PYTHON_PREFIX"

# SOURCE_URL and PARAMS reach the runner through the environment, never spliced into a shell command.
AIRFLOW_PORT ?= 8080
export SOURCE_URL PARAMS DEMO_ROWS AIRFLOW_PORT

demo: venv
	$(PY) -m devtools.local_run --sample-rows "$$DEMO_ROWS" --params "$$PARAMS"

run: venv
	$(PY) -m devtools.local_run --source-url "$$SOURCE_URL" --params "$$PARAMS"

# The tiers, fastest first; each prints its own summary.
test: venv
	@echo "== tier 1 of 4: unit tests (transforms, engine, suites, download; one in-process Spark session) =="
	$(PY) -m pytest -m "not integration and not slow and not faults" $(PYTEST_ARGS)
	@echo "== tier 2 of 4: spark-submit tests (a JVM per job) =="
	$(PY) -m pytest -m "slow and not integration and not faults" $(PYTEST_ARGS)
	@echo "== tier 3 of 4: end to end (PostgreSQL, Airflow, Spark cluster, browser) =="
	$(PY) -m pytest -m "integration and not faults" $(PYTEST_ARGS)
	@echo "== tier 4 of 4: faults (killed processes, stopped servers, bad input, hostile requests) =="
	$(PY) -m pytest -m faults $(PYTEST_ARGS)

test-unit: venv
	$(PY) -m pytest -m "not integration and not slow and not faults" $(PYTEST_ARGS)

test-faults: venv
	$(PY) -m pytest -m faults $(PYTEST_ARGS)

lint: venv
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

format: venv
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

sql: venv
	@eval "$$($(PY) -m warehouse.embedded psql --user $(SQL_USER))"

stop-warehouse: venv
	$(PY) -m warehouse.embedded stop

clean:
	-$(PY) -m warehouse.embedded stop
	rm -rf $(DATA_DIR)

web: venv
	$(PY) -m webapp

airflow: venv
	$(PY) -m devtools.local_airflow --port "$$AIRFLOW_PORT"

versions: venv
	$(PY) -m warehouse.versions list

rollback: venv
	$(PY) -m warehouse.versions rollback

docs: venv
	$(PY) -m devtools.data_docs

bench: venv
	$(PY) -m benchmarks.bench_similarity $(BENCH_ARGS)

bench-evaluation: venv
	$(PY) -m benchmarks.bench_evaluation --run-dir "$(RUN_DIR)" $(BENCH_ARGS)

bench-validation: venv
	$(PY) -m benchmarks.bench_validation --run-dir "$(RUN_DIR)" $(BENCH_ARGS)

dataset-shape: venv
	$(PY) -m benchmarks.dataset_shape "$(ZIP)" $(if $(RUN_DIR),--run-dir "$(RUN_DIR)") $(BENCH_ARGS)

bench-warehouse: venv
	$(PY) -m benchmarks.bench_warehouse $(BENCH_ARGS)

bench-web: venv
	$(PY) -m benchmarks.bench_web $(BENCH_ARGS)

bench-executor-memory: venv
	$(PY) -m benchmarks.bench_executor_memory $(BENCH_ARGS)

bench-scale: venv
	$(PY) -m benchmarks.bench_scale $(BENCH_ARGS)
