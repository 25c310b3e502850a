"""Routes of the lookup page and its JSON API.

Every parameter is checked before it reaches the database: text must be UTF-8
without control characters and length-limited, numbers ASCII digits within
bounds; anything else is a 400 naming the parameter. When the catalogue cannot
answer (``webapp.catalogue.Unavailable``) the answer is a 503 with
``Retry-After`` and a message saying why, on the page and in the API.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from flask import Flask, abort, g, jsonify, redirect, render_template, request, url_for
from flask.json.provider import DefaultJSONProvider

from webapp.catalogue import Catalogue, NothingPublished, Session, Song, Unavailable

MAX_NAME_CHARS = 200
MAX_QUERY_CHARS = 200
DEFAULT_COUNT = 5
SEARCH_LIMIT = 10
# music.evaluation's methods as the page names them.
METHOD_NAMES = {
    "published": "These recommendations",
    "most_popular": "Most popular songs",
    "cosine_knn": "Cosine item-kNN",
}
# ASCII digits only, and few of them: str.isdigit() also accepts '²', which int() refuses, and int() of
# thousands of digits is refused too (and slow); 19 digits hold every 64-bit number.
WHOLE_NUMBER = re.compile(r"-?[0-9]{1,19}")
# Control characters PostgreSQL cannot store (NUL) or no name has; tabs and newlines are whitespace, folded first.
CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


class BadRequest(ValueError):
    """A parameter the app cannot use; the message says which and why."""


@dataclass(frozen=True)
class Options:
    count: int
    include_same_artist: bool


def query_parameters() -> dict[str, str]:
    """The query string's parameters (the first value of each), decoded as UTF-8, once per request.

    Werkzeug keeps an invalid percent-escape as text (``%FF`` stays "%FF") and fails on raw non-UTF-8
    bytes; decoded here with ``surrogateescape``, both become lone surrogates, so ``param`` can refuse
    the very parameter that holds them.
    """
    if "query_parameters" not in g:
        text = request.query_string.decode("utf-8", "surrogateescape")
        parameters: dict[str, str] = {}
        for name, value in parse_qsl(text, keep_blank_values=True, errors="surrogateescape"):
            parameters.setdefault(name, value)
        g.query_parameters = parameters
    return g.query_parameters


def param(name: str) -> str:
    """The raw value of parameter ``name`` ("" when absent), refused unless it is UTF-8 text."""
    value = query_parameters().get(name, "")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise BadRequest(f"'{name}' is not valid UTF-8 text") from None
    return value


def text_param(name: str, max_chars: int, required: bool = True) -> str:
    value = " ".join(param(name).split())
    if CONTROL_CHARACTERS.search(value):
        raise BadRequest(f"'{name}' must not contain control characters")
    if required and not value:
        raise BadRequest(f"'{name}' is required")
    if len(value) > max_chars:
        raise BadRequest(f"'{name}' is longer than {max_chars} characters")
    return value


def int_param(name: str, default: int, low: int, high: int) -> int:
    raw = param(name).strip()
    if not raw:
        return default
    if not WHOLE_NUMBER.fullmatch(raw) or not low <= int(raw) <= high:
        raise BadRequest(f"'{name}' must be a whole number from {low} to {high}")
    return int(raw)


def options(db: Session) -> Options:
    top_k = max(db.top_k(), 1)
    same = param("same_artist").lower()
    if same not in ("", "0", "1", "false", "true", "on", "off"):
        raise BadRequest("'same_artist' must be true or false")
    return Options(int_param("n", min(DEFAULT_COUNT, top_k), 1, top_k), same in ("1", "true", "on"))


def count_choices(top_k: int) -> list[int]:
    return sorted({n for n in (5, 10, 20, top_k) if n <= top_k} or {top_k})


def track_id_param() -> int | None:
    raw = param("track_id").strip()
    if not raw:
        return None
    if not WHOLE_NUMBER.fullmatch(raw) or not -(2**63) <= int(raw) < 2**63:
        raise BadRequest("'track_id' must be a 64-bit whole number")
    return int(raw)


def unavailable_answer(error: Unavailable) -> tuple[Any, int, dict[str, str]]:
    """503 with Retry-After and the reason: JSON for the API, the page with its message otherwise."""
    headers = {"Retry-After": str(error.retry_after)}
    if request.path.startswith("/api/"):
        return jsonify(error=error.message), 503, headers
    page = render_template("index.html", error=error.message, count_choices=[DEFAULT_COUNT], count=DEFAULT_COUNT)
    return page, 503, headers


def page_defaults(db: Session) -> dict:
    top_k = db.top_k()
    return {
        "count_choices": count_choices(top_k),
        "count": min(DEFAULT_COUNT, top_k),
        "same_artist": False,
        "evaluation": db.evaluation(),
        "method_names": METHOD_NAMES,
    }


def song_payload(db: Session, song: Song, opts: Options) -> dict:
    recommendations = db.recommendations(song, opts.count, opts.include_same_artist)
    return {"song": song.as_json(), "recommendations": [r.as_json() for r in recommendations]}


def create_app(catalogue: Catalogue) -> Flask:
    """The page and its API over ``catalogue``; each request reads through one ``catalogue.session()``."""
    app = Flask(__name__)
    if isinstance(app.json, DefaultJSONProvider):
        app.json.sort_keys = False  # answers keep their fields in the order written

    @app.errorhandler(BadRequest)
    def bad_request(error: BadRequest):
        if request.path.startswith("/api/"):
            return jsonify(error=str(error)), 400
        try:
            with catalogue.session() as db:
                defaults = page_defaults(db)
        except Unavailable:  # the input is what is wrong; the page still renders without the published counts
            defaults = {"count_choices": [DEFAULT_COUNT], "count": DEFAULT_COUNT}
        return render_template("index.html", error=str(error), **defaults), 400

    app.register_error_handler(Unavailable, unavailable_answer)

    @app.get("/")
    def index():
        artist = text_param("artist", MAX_NAME_CHARS, required=False)
        track = text_param("track", MAX_NAME_CHARS, required=False)
        with catalogue.session() as db:
            context = {**page_defaults(db), "artist": artist, "track": track}
            if not (artist or track):
                return render_template("index.html", **context)
            opts = options(db)
            context.update(count=opts.count, same_artist=opts.include_same_artist)
            song = db.find(artist, track) if artist and track else None
            if song is None:
                context["closest"] = db.closest(artist, track)
                return render_template("index.html", not_found=True, **context), 404
            recommendations = db.recommendations(song, opts.count, opts.include_same_artist)
        return render_template("index.html", song=song, recommendations=recommendations, **context)

    @app.get("/surprise")
    def surprise():
        with catalogue.session() as db:
            opts = options(db)
            song = db.random_song()
        if song is None:
            abort(404)
        # The options the visitor chose, as they asked for them; the song's names replace any typed ones.
        values: dict[str, Any] = {"artist": song.artist, "track": song.track}
        if param("n").strip():
            values["n"] = opts.count
        if param("same_artist"):
            values["same_artist"] = param("same_artist")
        return redirect(url_for("index", **values))

    @app.get("/api/search")
    def api_search():
        query = text_param("q", MAX_QUERY_CHARS)
        limit = int_param("limit", SEARCH_LIMIT, 1, 50)
        with catalogue.session() as db:
            results = db.search(query, limit)
        return jsonify(query=query, results=[s.as_json() for s in results])

    @app.get("/api/recommendations")
    def api_recommendations():
        track_id = track_id_param()
        if track_id is not None:
            with catalogue.session() as db:
                opts = options(db)
                song = db.find_by_id(track_id)
                if song is None:
                    return jsonify(error="song not found", asked={"track_id": str(track_id)}, closest=[]), 404
                return jsonify(song_payload(db, song, opts))
        artist, track = text_param("artist", MAX_NAME_CHARS), text_param("track", MAX_NAME_CHARS)
        with catalogue.session() as db:
            opts = options(db)
            song = db.find(artist, track)
            if song is None:
                closest = [s.as_json() for s in db.closest(artist, track)]
                asked = {"artist": artist, "track": track}
                return jsonify(error="song not found", asked=asked, closest=closest), 404
            return jsonify(song_payload(db, song, opts))

    @app.get("/api/evaluation")
    def api_evaluation():
        """How good the live version's recommendations are (``music.evaluation_latest``, every seed category
        together): ``{"evaluated", "run_id", "published_at", "holdout_fraction", "cases", "figures": [{"method",
        "cases", "r_precision", "ndcg"}]}``, ours ("published") first, then "most_popular" and "cosine_knn";
        a figure is null where no case had one. When the live version was not evaluated: 200 with
        ``"evaluated": false``, every other field null and ``"figures": []``. 503 when nothing is published.
        """
        with catalogue.session() as db:
            evaluation = db.evaluation()
        if evaluation is None:
            raise NothingPublished()
        return jsonify(evaluation.as_json())

    @app.get("/api/random")
    def api_random():
        with catalogue.session() as db:
            opts = options(db)
            song = db.random_song()
            if song is None:
                return jsonify(error="nothing is published yet"), 404
            return jsonify(song_payload(db, song, opts))

    return app
