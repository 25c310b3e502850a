"""Read-only access to the published songs, their recommendations and their evaluation (no Flask here).

``Catalogue(dsn)`` keeps a pool of psycopg 3 connections (``psycopg_pool``) as
the reader role: each query is its own read-only transaction with a statement
timeout, and every query lives in ``include/sql/webapp/``. ``with
catalogue.session() as db:`` waits for a free connection at most
``pool_timeout`` seconds and runs the page's queries on it (``db.find(...)``).

When the database cannot answer, a session raises ``Unavailable`` (with a
message for people and a ``retry_after`` in seconds), never a driver error:
``NothingPublished`` (no ``music`` tables, or no reader role yet),
``DatabaseBusy`` (statement or lock timeout, every connection in use) and
``DatabaseDown`` (the server cannot be reached or dropped the connection).
A warehouse published before evaluations were recorded has no
``music.evaluation_latest``: its live version reads as not evaluated.
"""

from __future__ import annotations

import random
import re
import select
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Generic, Self, TypeVar

import psycopg
import psycopg.errors
from psycopg_pool import ConnectionPool, PoolTimeout

from pipeline.settings import SQL_DIR

QUERIES = {path.stem: path.read_text() for path in (SQL_DIR / "webapp").glob("*.sql")}
SMALLEST_ID = -(2**63)
T = TypeVar("T")

# The pool retries a failed connection in the background with a doubling delay until this many seconds
# have passed; kept short so that, once the database is back, the delay between attempts stays a few seconds.
RECONNECT_TIMEOUT = 10.0
# While the pool's latest attempt to connect has failed, a request waits only this long for a connection
# instead of the whole pool timeout: the answer is known (503) and waiting would only hold a server thread.
WAIT_WHILE_DISCONNECTED = 0.1
# How long a catalogue trusts what it read about the live version (its top_k, its evaluation): they change
# only when a version is published or rolled back, and a value a few seconds old only bounds `n` by the
# previous version's or shows its figures; reading them for every request would cost a query each.
LIVE_FACTS_SECONDS = 5.0
# A connection refused for these reasons means the publishing pipeline has not created them yet
# (libpq reports connection failures as text only, without a SQLSTATE).
NOT_CREATED_YET = re.compile(r'(role|database) "[^"]*" does not exist')


class Unavailable(Exception):
    """The catalogue cannot answer now; ``message`` says why, for people; retry after ``retry_after`` seconds."""

    message = "The song database cannot answer right now."
    retry_after = 10


class NothingPublished(Unavailable):
    message = "Nothing is published yet: run the pipeline first (make demo)."
    retry_after = 60


class DatabaseBusy(Unavailable):
    message = "The song database is busy (a publish may be under way): try again in a few seconds."
    retry_after = 2


class DatabaseDown(Unavailable):
    message = "The song database cannot be reached right now: try again shortly."
    retry_after = 10


@dataclass(frozen=True)
class Song:
    track_id: int
    artist: str
    track: str
    playlist_count: int

    def as_json(self) -> dict:
        # Ids are 64-bit: JavaScript numbers lose digits past 2^53, so they travel as strings. (Written out:
        # dataclasses.asdict deep-copies every field, a good part of an answer's time.)
        return {"track_id": str(self.track_id), "artist": self.artist, "track": self.track,
                "playlist_count": self.playlist_count}  # fmt: skip


@dataclass(frozen=True)
class Recommendation:
    rank: int
    song: Song
    similarity: float
    shared_playlists: int

    def as_json(self) -> dict:
        return {
            "rank": self.rank,
            **self.song.as_json(),
            "similarity": self.similarity,
            "shared_playlists": self.shared_playlists,
        }


@dataclass(frozen=True)
class MethodFigures:
    """One method's figures over every held-out case (None where it has none)."""

    method: str
    cases: int
    r_precision: float | None
    ndcg: float | None

    def as_json(self) -> dict:
        return {"method": self.method, "cases": self.cases, "r_precision": self.r_precision, "ndcg": self.ndcg}


@dataclass(frozen=True)
class Evaluation:
    """The live version's offline evaluation, every seed category together: ours first, then the baselines.
    No figures when the live version was not evaluated; then the other fields are None too."""

    figures: tuple[MethodFigures, ...] = ()
    run_id: int | None = None
    published_at: datetime | None = None
    holdout_fraction: float | None = None

    @property
    def cases(self) -> int | None:
        """Held-out cases of the first method (ours): every method is evaluated on the same cases."""
        return self.figures[0].cases if self.figures else None

    def as_json(self) -> dict:
        return {
            "evaluated": bool(self.figures),
            "run_id": self.run_id,
            "published_at": self.published_at.isoformat() if self.published_at else None,
            "holdout_fraction": self.holdout_fraction,
            "cases": self.cases,
            "figures": [f.as_json() for f in self.figures],
        }


def like_pattern(text: str) -> str:
    """'bjork  jog' -> '%bjork%jog%': every word, in order, LIKE's own wildcards escaped."""
    words = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in text.split()]
    return "%" + "%".join(words) + "%"


class ConnectAttempts:
    """How the pool's latest attempt to connect ended. The pool connects in background threads and tells a
    waiting request only that it timed out; this says whether the database was busy or refused us."""

    def __init__(self) -> None:
        self.last_error: psycopg.OperationalError | None = None

    def connection_class(self) -> type[psycopg.Connection[Any]]:
        """A connection class for the pool that reports each attempt's outcome here."""
        attempts = self

        class ReportingConnection(psycopg.Connection[Any]):
            @classmethod
            def connect(cls, *args: Any, **kwargs: Any) -> Self:
                try:
                    connection = super().connect(*args, **kwargs)
                except psycopg.OperationalError as error:
                    attempts.last_error = error
                    raise
                attempts.last_error = None
                return connection

        return ReportingConnection


def check_idle_connection(connection: psycopg.Connection[Any]) -> None:
    """The pool's check of a connection before lending it, without a round trip to the server.

    An idle connection never has anything to read, unless the server has ended it (restart, shutdown,
    ``pg_terminate_backend``, idle timeout): then its goodbye or end of file is waiting, and the pool
    replaces the connection instead of failing a request with it. (``ConnectionPool.check_connection``
    asks the server instead: one more round trip per request, which cut the page's throughput by about a
    quarter in ``make bench-web``.)
    """
    if connection.closed:
        raise psycopg.OperationalError("the connection is closed")
    poller = select.poll()  # not select.select: a busy worker's descriptors can pass select's limit of 1024
    poller.register(connection.fileno(), select.POLLIN)
    if poller.poll(0):
        connection.close()  # closed, the pool drops it and opens another
        raise psycopg.OperationalError("the server has ended this connection")


def unavailable_reason(error: psycopg.Error) -> Unavailable | None:
    """What a driver error means for a reader, or None when it is not about the database's state (a bug)."""
    if isinstance(error, psycopg.errors.UndefinedTable | psycopg.errors.InvalidSchemaName):
        return NothingPublished()
    # Statement timeout (QueryCanceled), lock timeout, deadlock: the data is there but locked for now.
    busy = (psycopg.errors.QueryCanceled, psycopg.errors.LockNotAvailable, psycopg.errors.TransactionRollback)
    if isinstance(error, busy):
        return DatabaseBusy()
    if isinstance(error, psycopg.OperationalError):
        return NothingPublished() if NOT_CREATED_YET.search(str(error)) else DatabaseDown()
    return None


@dataclass
class Remembered(Generic[T]):
    """A fact about the live version as last read, and when (``time.monotonic()``)."""

    value: T
    read_at: float = -LIVE_FACTS_SECONDS

    def is_fresh(self) -> bool:
        return time.monotonic() - self.read_at < LIVE_FACTS_SECONDS


@dataclass
class LiveFacts:
    """What a catalogue remembers about the live version, shared by its sessions."""

    top_k: Remembered[int] = field(default_factory=lambda: Remembered(0))
    evaluation: Remembered[Evaluation] = field(default_factory=lambda: Remembered(Evaluation()))


class Session:
    """The page's queries, on one connection (``Catalogue.session()``)."""

    def __init__(self, cursor: psycopg.Cursor[Any], live: LiveFacts) -> None:
        self._cursor = cursor
        self._live = live

    def _songs(self, query_name: str, **params: Any) -> list[Song]:
        self._cursor.execute(QUERIES[query_name], params)
        return [Song(*row) for row in self._cursor.fetchall()]

    def search(self, text: str, limit: int) -> list[Song]:
        return self._songs("search_tracks", pattern=like_pattern(text), limit=limit)

    def find(self, artist: str, track: str) -> Song | None:
        found = self._songs("find_track", artist=" ".join(artist.split()), track=" ".join(track.split()))
        return found[0] if found else None

    def find_by_id(self, track_id: int) -> Song | None:
        found = self._songs("find_track_by_id", track_id=track_id)
        return found[0] if found else None

    def closest(self, artist: str, track: str, limit: int = 5) -> list[Song]:
        return self._songs("closest_tracks", query=f"{artist} {track}".strip(), limit=limit)

    def random_song(self) -> Song | None:
        found = self._songs("random_track", start=random.randint(SMALLEST_ID, 2**63 - 1))
        return found[0] if found else next(iter(self._songs("random_track", start=SMALLEST_ID)), None)

    def recommendations(self, song: Song, limit: int, include_same_artist: bool) -> list[Recommendation]:
        self._cursor.execute(
            QUERIES["recommendations_for_track"],
            {"track_id": song.track_id, "limit": limit, "include_same_artist": include_same_artist},
        )
        return [Recommendation(row[0], Song(*row[1:5]), row[5], row[6]) for row in self._cursor.fetchall()]

    def top_k(self) -> int:
        """The live version's recommendations per song (0 when nothing is published), read again after
        ``LIVE_FACTS_SECONDS``."""
        if not self._live.top_k.is_fresh():
            self._cursor.execute(QUERIES["published_top_k"])
            row = self._cursor.fetchone()
            self._live.top_k = Remembered(row[0] if row else 0, time.monotonic())
        return self._live.top_k.value

    def evaluation(self) -> Evaluation | None:
        """The live version's evaluation (no figures when it was not evaluated), None when nothing is
        published; read again after ``LIVE_FACTS_SECONDS``."""
        if not self.top_k():
            return None
        if not self._live.evaluation.is_fresh():
            try:
                self._cursor.execute(QUERIES["live_evaluation"])
                rows = self._cursor.fetchall()
            except psycopg.errors.UndefinedTable:
                # Published before evaluations were recorded: no view yet (each query is its own transaction,
                # so the connection is still usable).
                rows = []
            figures = tuple(MethodFigures(*row[:4]) for row in rows)
            found = Evaluation(figures, *rows[0][4:]) if rows else Evaluation()
            self._live.evaluation = Remembered(found, time.monotonic())
        return self._live.evaluation.value


class Catalogue:
    """The published catalogue, read through a pool of read-only connections; safe to share between threads."""

    def __init__(self, dsn: str, pool_size: int = 8, pool_timeout: float = 3.0, statement_timeout: float = 5.0) -> None:
        """``dsn``: a libpq connection string for the reader role. At most ``pool_size`` connections; a
        request waits ``pool_timeout`` seconds for one; a query runs ``statement_timeout`` seconds at most.

        Nothing is connected here: the pool connects in the background, so the page starts even when the
        database is down or nothing is published yet, and answers 503 until it can read.
        """
        self._attempts = ConnectAttempts()
        self._live = LiveFacts()
        milliseconds = max(round(statement_timeout * 1000), 1)
        self._pool: ConnectionPool[psycopg.Connection[Any]] = ConnectionPool(
            dsn,
            connection_class=self._attempts.connection_class(),
            # Each query is its own transaction, read-only for the server; autocommit saves the BEGIN and
            # COMMIT round trips a single SELECT does not need.
            kwargs={
                "autocommit": True,
                "options": f"-c default_transaction_read_only=on -c statement_timeout={milliseconds}",
            },
            min_size=1,
            max_size=pool_size,
            timeout=pool_timeout,
            # A connection the server has ended (restart, failover) is replaced before a request uses it.
            check=check_idle_connection,
            reconnect_timeout=RECONNECT_TIMEOUT,
            name="lookup-page",
            open=True,
        )

    @contextmanager
    def _connection(self) -> Iterator[psycopg.Connection[Any]]:
        timeout = WAIT_WHILE_DISCONNECTED if self._attempts.last_error is not None else None
        try:
            with self._pool.connection(timeout=timeout) as connection:
                yield connection
        except PoolTimeout:
            failed = self._attempts.last_error
            raise (DatabaseBusy() if failed is None else unavailable_reason(failed) or DatabaseDown()) from None

    @contextmanager
    def _cursor(self) -> Iterator[psycopg.Cursor[Any]]:
        try:
            with self._connection() as connection, connection.cursor() as cursor:
                yield cursor
        except psycopg.Error as error:
            reason = unavailable_reason(error)
            if reason is None:
                raise
            raise reason from error

    @contextmanager
    def session(self) -> Iterator[Session]:
        """Queries on one connection of the pool, given back at the end of the block: a request's few
        queries cost one wait for a connection, not one each. Raises ``Unavailable`` when the database
        cannot answer, inside the block too."""
        with self._cursor() as cursor:
            yield Session(cursor, self._live)

    def close(self) -> None:
        self._pool.close()
