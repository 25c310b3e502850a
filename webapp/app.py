"""Routes of the lookup page and its JSON API."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import psycopg2.errors
from flask import Flask, abort, jsonify, redirect, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider

from webapp.catalogue import Catalogue, Song

MAX_NAME_CHARS = 200
MAX_QUERY_CHARS = 200
DEFAULT_COUNT = 5
SEARCH_LIMIT = 10


class BadRequest(ValueError):
    """A parameter the app cannot use; the message says which and why."""


@dataclass(frozen=True)
class Options:
    count: int
    include_same_artist: bool


def text_param(name: str, max_chars: int, required: bool = True) -> str:
    value = " ".join(request.args.get(name, "").split())
    if required and not value:
        raise BadRequest(f"'{name}' is required")
    if len(value) > max_chars:
        raise BadRequest(f"'{name}' is longer than {max_chars} characters")
    return value


def int_param(name: str, default: int, low: int, high: int) -> int:
    raw = request.args.get(name, "").strip()
    if not raw:
        return default
    if not raw.lstrip("-").isdigit() or not low <= int(raw) <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}")
    return int(raw)


def options(catalogue: Catalogue) -> Options:
    top_k = max(catalogue.top_k(), 1)
    same = request.args.get("same_artist", "").lower()
    if same not in ("", "0", "1", "false", "true", "on", "off"):
        raise BadRequest("'same_artist' must be true or false")
    return Options(int_param("n", min(DEFAULT_COUNT, top_k), 1, top_k), same in ("1", "true", "on"))


def count_choices(top_k: int) -> list[int]:
    return sorted({n for n in (5, 10, 20, top_k) if n <= top_k} or {top_k})


def create_app(catalogue: Catalogue) -> Flask:
    app = Flask(__name__)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False  # answers keep their fields in the order written

    @app.errorhandler(BadRequest)
    def bad_request(error):
        if request.path.startswith("/api/"):
            return jsonify(error=str(error)), 400
        return render_template("index.html", error=str(error), **page_defaults()), 400

    @app.errorhandler(psycopg2.errors.UndefinedTable)
    def nothing_published(error):
        message = "Nothing is published yet: run the pipeline first (make demo)."
        if request.path.startswith("/api/"):
            return jsonify(error=message), 503
        return render_template("index.html", error=message, count_choices=[DEFAULT_COUNT], count=DEFAULT_COUNT), 503

    def page_defaults() -> dict:
        top_k = catalogue.top_k()
        return {"count_choices": count_choices(top_k), "count": min(DEFAULT_COUNT, top_k), "same_artist": False}

    def song_payload(song: Song, opts: Options) -> dict:
        recommendations = catalogue.recommendations(song, opts.count, opts.include_same_artist)
        return {"song": song.as_json(), "recommendations": [r.as_json() for r in recommendations]}

    @app.get("/")
    def index():
        context = page_defaults()
        artist = text_param("artist", MAX_NAME_CHARS, required=False)
        track = text_param("track", MAX_NAME_CHARS, required=False)
        context.update(artist=artist, track=track)
        if not (artist or track):
            return render_template("index.html", **context)
        opts = options(catalogue)
        context.update(count=opts.count, same_artist=opts.include_same_artist)
        song = catalogue.find(artist, track) if artist and track else None
        if song is None:
            context["closest"] = catalogue.closest(artist, track)
            return render_template("index.html", not_found=True, **context), 404
        recommendations = catalogue.recommendations(song, opts.count, opts.include_same_artist)
        return render_template("index.html", song=song, recommendations=recommendations, **context)

    @app.get("/surprise")
    def surprise():
        song = catalogue.random_song()
        if song is None:
            abort(404)
        values: dict[str, Any] = {**request.args.to_dict(), "artist": song.artist, "track": song.track}
        return redirect(url_for("index", **values))

    @app.get("/api/search")
    def api_search():
        query = text_param("q", MAX_QUERY_CHARS)
        limit = int_param("limit", SEARCH_LIMIT, 1, 50)
        return jsonify(query=query, results=[s.as_json() for s in catalogue.search(query, limit)])

    @app.get("/api/recommendations")
    def api_recommendations():
        opts = options(catalogue)
        if request.args.get("track_id"):
            raw = request.args["track_id"].strip()
            if not raw.lstrip("-").isdigit() or not -(2**63) <= int(raw) < 2**63:
                raise BadRequest("'track_id' must be a 64-bit whole number")
            song = catalogue.find_by_id(int(raw))
            asked = {"track_id": raw}
        else:
            artist, track = text_param("artist", MAX_NAME_CHARS), text_param("track", MAX_NAME_CHARS)
            song = catalogue.find(artist, track)
            asked = {"artist": artist, "track": track}
        if song is None:
            closest = catalogue.closest(asked.get("artist", ""), asked.get("track", "")) if "artist" in asked else []
            return jsonify(error="song not found", asked=asked, closest=[s.as_json() for s in closest]), 404
        return jsonify(song_payload(song, opts))

    @app.get("/api/random")
    def api_random():
        opts = options(catalogue)
        song = catalogue.random_song()
        if song is None:
            return jsonify(error="nothing is published yet"), 404
        return jsonify(song_payload(song, opts))

    return app
