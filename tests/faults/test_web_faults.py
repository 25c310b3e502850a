"""Faults against the lookup page: hostile input, a busy, stopped or empty database, and load.

Each test injects one fault against real parts (the session's embedded
PostgreSQL holding the page's published sample, a private PostgreSQL where it
must be stopped, the real ``python -m webapp`` under gunicorn on 127.0.0.1 where
the server matters) and checks that the page said something clear: 400 naming
the parameter for bad input, 503 with ``Retry-After`` and the reason for a
database that cannot answer, and never a 5xx otherwise.
"""

from __future__ import annotations

import http.client
import json
import os
import select
import socket
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from psycopg2.extensions import make_dsn, parse_dsn

from tests.integration import webapp_data
from tests.integration.run_folders import publish_hand_made, write_run
from tests.integration.webapp_data import GLORY_BOX, HOPPIPOLLA, HYPERBALLAD, JOGA, KARMA_POLICE, TEARDROP
from tests.services import create_database
from warehouse import embedded
from warehouse.connection import airflow_connection_json, connect, with_user
from webapp import create_app
from webapp.catalogue import Catalogue

# What the page says, written out here rather than read from the code under test.
NOTHING_PUBLISHED = "Nothing is published yet: run the pipeline first (make demo)."
BUSY = "The song database is busy (a publish may be under way): try again in a few seconds."
DOWN = "The song database cannot be reached right now: try again shortly."
JOGA_OTHER_ARTISTS = [HOPPIPOLLA, TEARDROP, GLORY_BOX, KARMA_POLICE]
JOGA_QUERY = "artist=bjork&track=joga"
SERVER_START_SECONDS = 120


def ids(items) -> list[int]:
    return [int(item["track_id"]) for item in items]


def assert_unavailable(response, message: str) -> None:
    """503, a Retry-After of whole seconds, and ``message``: as JSON for the API, on the page otherwise."""
    assert response.status_code == 503, response.get_data(as_text=True)[:500]
    assert int(response.headers["Retry-After"]) > 0
    if response.is_json:
        assert response.json == {"error": message}
    else:
        assert message in response.get_data(as_text=True)


@contextmanager
def open_catalogue(dsn: str, **settings) -> Iterator[Catalogue]:
    catalogue = Catalogue(dsn, **settings)
    try:
        yield catalogue
    finally:
        catalogue.close()


@contextmanager
def analyst_lock(dsn: str, table: str = "music.recommendations") -> Iterator[None]:
    """An analyst's transaction holding ``table`` in access exclusive mode, as a publish's swap does."""
    analyst = connect(dsn)
    try:
        with analyst.cursor() as cursor:
            cursor.execute(f"lock table {table} in access exclusive mode")
        yield
    finally:
        analyst.rollback()
        analyst.close()


def wait_for_a_reader_waiting_on_a_lock(dsn: str) -> None:
    admin = connect(dsn)
    admin.autocommit = True
    deadline = time.monotonic() + 60
    try:
        with admin.cursor() as cursor:
            while time.monotonic() < deadline:
                cursor.execute(
                    "select count(*) from pg_stat_activity"
                    " where usename = 'music_reader' and datname = current_database() and wait_event_type = 'Lock'"
                )
                if cursor.fetchone()[0]:
                    return
                time.sleep(0.05)
    finally:
        admin.close()
    raise AssertionError("the blocked request never reached the database")


@pytest.fixture(scope="module")
def reader_dsn(published_catalogue) -> str:
    return with_user(published_catalogue, "music_reader")


@pytest.fixture(scope="module")
def client(catalogue):
    return create_app(catalogue).test_client()


# Bad input: every text and number parameter, through the Flask app (the parsing is the app's).


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        # NUL: PostgreSQL cannot store it (psycopg refuses to send it)
        ("/api/search?q=bj%00rk", "q"),
        ("/api/recommendations?artist=Bj%00rk&track=J%C3%B3ga", "artist"),
        ("/api/recommendations?artist=Bj%C3%B6rk&track=%00", "track"),
        ("/api/recommendations?artist=bjork&track=joga&same_artist=%00", "same_artist"),
        ("/api/recommendations?track_id=%00", "track_id"),
        # other control characters
        ("/api/search?q=bj%1Bork", "q"),
        # invalid UTF-8: a lone byte, a broken sequence, an encoded surrogate, Latin-1
        ("/api/search?q=%FF", "q"),
        ("/api/search?q=%C3%28", "q"),
        ("/api/search?q=%ED%A0%80", "q"),
        ("/api/recommendations?artist=Bj%F6rk&track=joga", "artist"),
        # 100 KB parameters
        ("/api/search?q=" + "a" * 100_000, "q"),
        ("/api/recommendations?artist=" + "x" * 100_000 + "&track=joga", "artist"),
        ("/api/recommendations?artist=bjork&track=" + "y" * 100_000, "track"),
        ("/api/recommendations?" + JOGA_QUERY + "&n=" + "9" * 100_000, "n"),
        ("/api/recommendations?" + JOGA_QUERY + "&same_artist=" + "t" * 100_000, "same_artist"),
        # negative, zero, beyond top_k, huge and 5,000-digit counts
        ("/api/recommendations?" + JOGA_QUERY + "&n=-1", "n"),
        ("/api/recommendations?" + JOGA_QUERY + "&n=0", "n"),
        ("/api/recommendations?" + JOGA_QUERY + "&n=6", "n"),
        ("/api/recommendations?" + JOGA_QUERY + "&n=99999999999999999999999", "n"),
        ("/api/recommendations?" + JOGA_QUERY + "&n=" + "9" * 5000, "n"),
        ("/api/search?q=bjork&limit=-5", "limit"),
        ("/api/recommendations?track_id=" + "1" * 5000, "track_id"),
        ("/api/recommendations?track_id=-" + "9" * 30, "track_id"),
        # digits str.isdigit() accepts and int() refuses or reads otherwise: superscript two, Arabic-Indic one,
        # full-width three
        ("/api/recommendations?" + JOGA_QUERY + "&n=%C2%B2", "n"),
        ("/api/recommendations?" + JOGA_QUERY + "&n=%D9%A1", "n"),
        ("/api/recommendations?" + JOGA_QUERY + "&n=%EF%BC%93", "n"),
        ("/api/search?q=bjork&limit=%C2%B2", "limit"),
        ("/api/recommendations?track_id=%C2%B2", "track_id"),
        ("/api/random?n=%C2%B2", "n"),
    ],
)
def test_bad_input_gets_400_naming_the_parameter(client, query, parameter):
    response = client.get(query)
    assert response.status_code == 400
    assert f"'{parameter}'" in response.json["error"]


@pytest.mark.parametrize(
    ("query", "parameter"),
    [
        ("/?artist=Bj%00rk&track=joga", "artist"),
        ("/?artist=bjork&track=%FF", "track"),
        ("/?artist=bjork&track=joga&n=%C2%B2", "n"),
        ("/?artist=bjork&track=" + "y" * 100_000, "track"),
        ("/surprise?n=" + "9" * 5000, "n"),
    ],
)
def test_bad_input_on_the_page_gets_400_naming_the_parameter(client, query, parameter):
    response = client.get(query)
    assert response.status_code == 400
    assert f"&#39;{parameter}&#39;" in response.get_data(as_text=True)  # the message, HTML-escaped


def test_tabs_and_newlines_in_names_are_whitespace_not_refused(client):
    # Tabs and newlines are whitespace, folded away, not refused as control characters.
    response = client.get("/api/recommendations?artist=bj%C3%B6rk%09&track=%0Aj%C3%B3ga")
    assert response.status_code == 200
    assert ids(response.json["recommendations"]) == JOGA_OTHER_ARTISTS


TRAVERSALS = [
    "/static/../app.py",
    "/static/..%2fapp.py",
    "/static/%2e%2e/%2e%2e/README.md",
    "/static/..%2f..%2fpipeline%2fsettings.py",
    "/static/..%5capp.py",
    "/static/%2e%2e%5c%2e%2e%5cREADME.md",
    "/static/%00",
    "/static/app.js%00.py",
    "/static//etc/passwd",
    "/static/%2fetc%2fpasswd",
    "/static/....//....//etc/passwd",
]
# Text that is in the files a traversal would reach, never in the static files.
SECRETS = ("def create_app", "root:x:0:0", "SPOTIFY_RECS_DATA_DIR", "# Spotify playlist recommendations")


@pytest.mark.parametrize("path", TRAVERSALS)
def test_path_traversal_on_static_gets_4xx_and_no_file(client, path):
    # Werkzeug redirects '//' to '/' (308); the redirect must stay under /static/ and end in a 4xx.
    response = client.get(path, follow_redirects=True)
    assert response.status_code in (400, 404)
    assert all(urlsplit(r.location).path.startswith("/static/") for r in response.history)
    body = response.get_data(as_text=True)
    assert not any(secret in body for secret in SECRETS)


def test_static_files_are_still_served(client):
    response = client.get("/static/app.js")
    assert response.status_code == 200
    assert "Autocomplete for the artist and song fields" in response.get_data(as_text=True)


# A database that cannot answer: 503 with Retry-After, never 500, and the page works again afterwards.


def test_a_request_behind_a_publish_lock_times_out_with_503_then_works(published_catalogue, reader_dsn):
    with open_catalogue(reader_dsn, statement_timeout=0.3) as catalogue:
        client = create_app(catalogue).test_client()
        with analyst_lock(published_catalogue):
            assert_unavailable(client.get("/api/recommendations?" + JOGA_QUERY), BUSY)
            assert_unavailable(client.get("/?" + JOGA_QUERY), BUSY)
        response = client.get("/api/recommendations?" + JOGA_QUERY)
        assert response.status_code == 200
        assert ids(response.json["recommendations"]) == JOGA_OTHER_ARTISTS


def test_a_lock_timeout_gets_503(published_catalogue, reader_dsn):
    """A lock_timeout set on the database (as a DBA might) is refused with 503, like a statement timeout."""
    database = parse_dsn(published_catalogue)["dbname"]
    admin = connect(published_catalogue)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f'alter database "{database}" set lock_timeout = 100')
    try:
        # A long statement timeout: only the lock timeout can end the wait.
        with open_catalogue(reader_dsn, statement_timeout=60) as catalogue, analyst_lock(published_catalogue):
            assert_unavailable(create_app(catalogue).test_client().get("/api/recommendations?" + JOGA_QUERY), BUSY)
    finally:
        with admin.cursor() as cursor:
            cursor.execute(f'alter database "{database}" reset lock_timeout')
        admin.close()


def test_an_exhausted_pool_answers_503_after_its_timeout_and_the_waiting_request_completes(
    published_catalogue, reader_dsn
):
    """One connection, held by a request stuck behind a lock: the next request waits 0.5 s, then gets 503."""
    with open_catalogue(reader_dsn, pool_size=1, pool_timeout=0.5, statement_timeout=60) as catalogue:
        app = create_app(catalogue)
        stuck: dict = {}
        with analyst_lock(published_catalogue):
            request = threading.Thread(
                target=lambda: stuck.update(response=app.test_client().get("/api/recommendations?" + JOGA_QUERY))
            )
            request.start()
            wait_for_a_reader_waiting_on_a_lock(published_catalogue)
            assert_unavailable(app.test_client().get("/api/search?q=bjork"), BUSY)
        request.join(timeout=60)
        assert stuck["response"].status_code == 200
        assert ids(stuck["response"].json["recommendations"]) == JOGA_OTHER_ARTISTS


def reader_backends(dsn: str, terminate: bool = False) -> int:
    """How many connections music_reader has to ``dsn``'s database (ended first when ``terminate``)."""
    admin = connect(dsn)
    admin.autocommit = True
    try:
        with admin.cursor() as cursor:
            if terminate:
                cursor.execute(
                    "select pg_terminate_backend(pid) from pg_stat_activity"
                    " where usename = 'music_reader' and datname = current_database()"
                )
            cursor.execute(
                "select count(*) from pg_stat_activity where usename = 'music_reader' and datname = current_database()"
            )
            return cursor.fetchone()[0]
    finally:
        admin.close()


def test_a_connection_the_server_ended_is_replaced_before_a_request_uses_it(published_catalogue, reader_dsn):
    """The page's connection is terminated by the server (as a restart or an operator does): the next request
    still gets its answer, on a new connection, not a 503."""
    with open_catalogue(reader_dsn, pool_size=1) as catalogue:
        client = create_app(catalogue).test_client()
        assert client.get("/api/recommendations?" + JOGA_QUERY).status_code == 200
        reader_backends(published_catalogue, terminate=True)
        deadline = time.monotonic() + 60
        while reader_backends(published_catalogue) and time.monotonic() < deadline:
            time.sleep(0.05)
        response = client.get("/api/recommendations?" + JOGA_QUERY)
        assert response.status_code == 200
        assert ids(response.json["recommendations"]) == JOGA_OTHER_ARTISTS


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_unreachable_database_gets_503():
    nobody_listens = make_dsn(host="127.0.0.1", port=unused_port(), dbname="warehouse", user="music_reader")
    with open_catalogue(nobody_listens, pool_timeout=0.5) as catalogue:
        client = create_app(catalogue).test_client()
        assert_unavailable(client.get("/api/search?q=bjork"), DOWN)
        assert_unavailable(client.get("/"), DOWN)
        assert_unavailable(client.get("/api/recommendations?" + JOGA_QUERY), DOWN)


@pytest.fixture(scope="module")
def own_server(tmp_path_factory, engine_params) -> Iterator[tuple[Path, str]]:
    """A PostgreSQL of this module's own (it gets stopped), holding the page's sample; (its data directory, DSN)."""
    data_dir = tmp_path_factory.mktemp("own-server")
    dsn = embedded.start(data_dir / "postgres", keep_running=True)
    try:
        db = connect(dsn)
        run = write_run(tmp_path_factory.mktemp("own-run"), webapp_data.SONGS, webapp_data.RECOMMENDATIONS)
        publish_hand_made(db, run, {**engine_params, "top_k": webapp_data.TOP_K})
        db.close()
        yield data_dir, dsn
    finally:
        embedded.stop(data_dir / "postgres")


def warehouse_cli(action: str, data_dir: Path) -> None:
    """``python -m warehouse.embedded <action>`` in a process of its own (this process remembers the server it
    started and would not start it again)."""
    subprocess.run(
        [sys.executable, "-m", "warehouse.embedded", action, "--data-dir", str(data_dir)],
        check=True,
        capture_output=True,
    )


def test_a_stopped_database_gets_503_and_the_page_recovers_when_it_is_back(own_server):
    data_dir, dsn = own_server
    with open_catalogue(with_user(dsn, "music_reader"), pool_timeout=1) as catalogue:
        client = create_app(catalogue).test_client()
        assert client.get("/api/recommendations?" + JOGA_QUERY).status_code == 200
        warehouse_cli("stop", data_dir)
        assert_unavailable(client.get("/api/recommendations?" + JOGA_QUERY), DOWN)
        assert_unavailable(client.get("/"), DOWN)
        warehouse_cli("start", data_dir)
        statuses = []
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline and statuses[-1:] != [200]:
            response = client.get("/api/recommendations?" + JOGA_QUERY)
            statuses.append(response.status_code)
            time.sleep(0.2)
        # The pool reconnects by itself; until it has, the answer is 503, never anything else.
        assert statuses[-1] == 200 and set(statuses[:-1]) <= {503}, statuses
        assert ids(response.json["recommendations"]) == JOGA_OTHER_ARTISTS


# Nothing published yet.


@pytest.fixture(scope="module")
def empty_database(warehouse_dsn, published_catalogue) -> str:
    """A database with no music schema. published_catalogue made sure the role music_reader exists (roles
    belong to the server, not to one database)."""
    return create_database(warehouse_dsn, "web_faults_nothing_published")


@pytest.mark.parametrize("reader", ["music_reader", "reader_never_created"])
def test_nothing_published_or_no_reader_role_gets_503_and_the_page_says_so(empty_database, reader):
    with open_catalogue(with_user(empty_database, reader), pool_timeout=1) as catalogue:
        client = create_app(catalogue).test_client()
        for query in ("/", "/?" + JOGA_QUERY, "/surprise", "/api/search?q=bjork", "/api/random",
                      "/api/recommendations?" + JOGA_QUERY):  # fmt: skip
            assert_unavailable(client.get(query), NOTHING_PUBLISHED)


# The real server: `python -m webapp` (make web) under gunicorn on 127.0.0.1.


@contextmanager
def running_page(env: dict[str, str], log: Path) -> Iterator[int]:
    """``python -m webapp`` on a free port with ``env``; its port once it listens. Stopped afterwards."""
    with log.open("w") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "webapp"], env={**env, "PORT": "0"}, stdout=subprocess.PIPE, stderr=stderr, text=True
        )
    try:
        yield announced_port(process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def announced_port(process: subprocess.Popen, log: Path) -> int:
    assert process.stdout is not None
    deadline = time.monotonic() + SERVER_START_SECONDS
    while time.monotonic() < deadline:
        ready, _, _ = select.select([process.stdout], [], [], 1.0)
        if ready:
            line = process.stdout.readline()
            if "the lookup page is at http://127.0.0.1:" in line:
                return int(line.split("127.0.0.1:")[1].split("/")[0])
            if not line and process.poll() is not None:
                break
    raise AssertionError(f"python -m webapp did not start:\n{log.read_text()[-3000:]}")


def fetch(port: int, path: str) -> tuple[int, dict[str, str], bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read()
    finally:
        connection.close()


def raw_request(port: int, target: bytes) -> tuple[int, http.client.HTTPMessage]:
    """The status and headers of ``GET <target>`` sent byte for byte (no client library quoting or
    normalising it)."""
    with socket.create_connection(("127.0.0.1", port), timeout=120) as sock:
        sock.sendall(b"GET " + target + b" HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
        response = http.client.HTTPResponse(sock)
        response.begin()
        response.read()
        return response.status, response.headers


def page_env(**settings: str) -> dict[str, str]:
    """This process's environment without its warehouse connection, plus ``settings``."""
    env = {name: value for name, value in os.environ.items() if name != "AIRFLOW_CONN_WAREHOUSE"}
    return {**env, **settings}


@pytest.fixture(scope="module")
def page_port(published_catalogue, tmp_path_factory) -> Iterator[int]:
    """The published sample served by `python -m webapp`: 2 workers x 8 threads sharing 4 connections each,
    so requests must wait for a connection. The timeouts are long so that a slow, shared machine cannot turn
    a wait into a 503: this server is here to show that waiting works, the 503 tests are above."""
    env = page_env(
        AIRFLOW_CONN_WAREHOUSE=airflow_connection_json(published_catalogue),
        SPOTIFY_RECS_WEB_WORKERS="2",
        SPOTIFY_RECS_WEB_THREADS="8",
        SPOTIFY_RECS_WEB_POOL_SIZE="4",
        SPOTIFY_RECS_WEB_POOL_TIMEOUT="60",
        SPOTIFY_RECS_WEB_STATEMENT_TIMEOUT="60",
    )
    with running_page(env, tmp_path_factory.mktemp("page") / "gunicorn.log") as port:
        yield port


LOAD = [
    # (path, expected status)
    ("/api/recommendations?" + JOGA_QUERY, 200),
    (f"/api/recommendations?track_id={TEARDROP}&n=1", 200),
    ("/api/search?q=bjo", 200),
    ("/api/random?n=2", 200),
    ("/?" + JOGA_QUERY, 200),
    ("/api/recommendations?artist=nobody&track=nothing", 404),
    ("/api/search?q=%00", 400),
    ("/static/style.css", 200),
]


def test_2000_requests_from_50_clients_get_no_5xx(page_port):
    requests = [LOAD[i % len(LOAD)] for i in range(2000)]

    def send(item: tuple[str, int]) -> tuple[str, int, bytes]:
        status, _, body = fetch(page_port, item[0])
        return item[0], status, body

    with ThreadPoolExecutor(max_workers=50) as clients:
        answers = list(clients.map(send, requests))
    assert Counter((path, status) for path, status, _ in answers) == Counter(requests)
    joga = [json.loads(body) for path, _, body in answers if path == LOAD[0][0]]
    assert all(ids(answer["recommendations"]) == JOGA_OTHER_ARTISTS for answer in joga)
    search = [json.loads(body) for path, _, body in answers if path == LOAD[2][0]]
    assert all(ids(answer["results"]) == [JOGA, HYPERBALLAD] for answer in search)


@pytest.mark.parametrize(
    "target",
    [
        b"/api/search?q=\xff",  # raw bytes that are not UTF-8, not percent-encoded
        b"/api/search?q=bj\xc3rk",
        b"/?artist=\xe9&track=x",
        b"/api/search?q=%FF",
    ],
)
def test_raw_invalid_utf8_gets_400_from_the_real_server(page_port, target):
    assert raw_request(page_port, target)[0] == 400


@pytest.mark.parametrize("path", TRAVERSALS + ["/static/../../pipeline/settings.py", "/static/%2e%2e/%2e%2e/%2e%2e"])
def test_path_traversal_through_the_real_server_gets_4xx(page_port, path):
    status, headers = raw_request(page_port, path.encode())
    if status == 308:  # '//' merged into '/': followed once, it must stay under /static/ and end in a 4xx
        location = urlsplit(headers["Location"]).path
        assert location.startswith("/static/"), location
        status, _ = raw_request(page_port, location.encode())
    assert status in (400, 404)


def test_a_100_kb_request_line_gets_4xx_from_the_real_server_and_breaks_nothing(page_port):
    try:
        status, _, _ = fetch(page_port, "/api/search?q=" + "a" * 100_000)
        assert 400 <= status < 500
    except ConnectionResetError:
        pass  # gunicorn answered 400 and closed with the line unread: the kernel may reset before it arrives
    status, _, body = fetch(page_port, "/api/search?q=bjo")
    assert status == 200 and ids(json.loads(body)["results"]) == [JOGA, HYPERBALLAD]


def test_make_web_before_anything_is_published_starts_and_says_so(tmp_path):
    """`make clean` then `make web`: a new embedded PostgreSQL with its database, but no music_reader role and
    no music schema. The page starts anyway and answers 503 with the reason."""
    data_dir = tmp_path / "data"
    try:
        with running_page(page_env(SPOTIFY_RECS_DATA_DIR=str(data_dir)), tmp_path / "gunicorn.log") as port:
            status, headers, body = fetch(port, "/api/search?q=bjork")
            assert (status, json.loads(body)) == (503, {"error": NOTHING_PUBLISHED})
            assert int(headers["Retry-After"]) > 0
            status, headers, body = fetch(port, "/")
            assert status == 503 and NOTHING_PUBLISHED in body.decode()
    finally:
        embedded.stop(data_dir / "postgres")
