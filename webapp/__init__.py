"""The lookup page: type an artist and a song, get the songs people put in the same playlists.

A small Flask app over the published tables (``music.tracks``,
``music.recommendations``, ``music.evaluation_latest``). It only reads: every connection it opens is
read-only (``default_transaction_read_only``), every query is parameterised
and lives in ``include/sql/webapp/``, every input is length-limited.

Pages: ``/`` (search form, results, "did you mean", and a "How good are these?"
panel: the live version's evaluation beside two baselines), ``/surprise`` (a random
song). JSON: ``/api/search?q=``, ``/api/recommendations?artist=&track=&n=&same_artist=``
(or ``track_id=``), ``/api/random``, ``/api/evaluation``; 400 naming the parameter for bad input, 404
for unknown songs, 503 with ``Retry-After`` when the database cannot answer
(nothing published yet, busy, down).

Modules: ``app`` (routes, input checks), ``catalogue`` (the connection pool and
the queries), ``server`` (gunicorn, for ``make web`` / ``python -m webapp``).
"""

from __future__ import annotations

from webapp.app import create_app

__all__ = ["create_app"]
