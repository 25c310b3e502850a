"""Read-only access to the published songs and recommendations (no Flask here)."""

from __future__ import annotations

import random
from contextlib import contextmanager
from dataclasses import asdict, dataclass

import psycopg2
import psycopg2.extras
import psycopg2.pool

from pipeline.settings import SQL_DIR

QUERIES = {path.stem: path.read_text() for path in (SQL_DIR / "webapp").glob("*.sql")}
SMALLEST_ID = -(2**63)


@dataclass(frozen=True)
class Song:
    track_id: int
    artist: str
    track: str
    playlist_count: int

    def as_json(self) -> dict:
        # Ids are 64-bit: JavaScript numbers lose digits past 2^53, so they travel as strings.
        return {**asdict(self), "track_id": str(self.track_id)}


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


def like_pattern(text: str) -> str:
    """'bjork  jog' -> '%bjork%jog%': every word, in order, LIKE's own wildcards escaped."""
    words = [w.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for w in text.split()]
    return "%" + "%".join(words) + "%"


class Catalogue:
    def __init__(self, dsn: str, max_connections: int = 8) -> None:
        """``dsn``: a libpq connection string for the reader role."""
        self._pool = psycopg2.pool.ThreadedConnectionPool(
            1, max_connections, dsn, options="-c default_transaction_read_only=on -c statement_timeout=5000"
        )

    @contextmanager
    def _cursor(self):
        connection = self._pool.getconn()
        try:
            with connection.cursor() as cursor:
                yield cursor
        finally:
            connection.rollback()
            self._pool.putconn(connection)

    def _songs(self, query_name: str, **params) -> list[Song]:
        with self._cursor() as cursor:
            cursor.execute(QUERIES[query_name], params)
            return [Song(*row) for row in cursor.fetchall()]

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
        with self._cursor() as cursor:
            cursor.execute(
                QUERIES["recommendations_for_track"],
                {"track_id": song.track_id, "limit": limit, "include_same_artist": include_same_artist},
            )
            return [Recommendation(row[0], Song(*row[1:5]), row[5], row[6]) for row in cursor.fetchall()]

    def top_k(self) -> int:
        """The live version's recommendations per song (0 when nothing is published)."""
        with self._cursor() as cursor:
            cursor.execute(QUERIES["published_top_k"])
            row = cursor.fetchone()
        return row[0] if row else 0

    def close(self) -> None:
        self._pool.closeall()
