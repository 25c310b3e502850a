"""The lookup page's routes and JSON API against a real PostgreSQL holding a published sample."""

import re
from contextlib import contextmanager
from datetime import datetime

import psycopg
import pytest

from tests.integration import webapp_data
from tests.integration.run_folders import publish_hand_made, write_run
from tests.integration.webapp_data import (
    ALONE,
    GLORY_BOX,
    HOPPIPOLLA,
    HYPERBALLAD,
    JOGA,
    KARMA_POLICE,
    TAGS,
    TEARDROP,
)
from tests.services import create_database
from warehouse.connection import connect, with_user
from webapp import create_app
from webapp.catalogue import Catalogue

pytestmark = pytest.mark.integration


def record_holdout_fraction(dsn, fraction):
    """Set the live run's holdout_fraction in its params, where music.evaluation_latest reads it: this module
    states the share it expects here, whatever tests/conftest.py's engine params say (or whether they name one)."""
    db = connect(dsn)
    with db, db.cursor() as cursor:
        cursor.execute(
            "update music.runs set params = params || jsonb_build_object('holdout_fraction', %s::float8)"
            " where status = 'live'",
            (fraction,),
        )
    db.close()


@pytest.fixture(scope="module")
def client(catalogue, published_catalogue):
    record_holdout_fraction(published_catalogue, 0.1)
    return create_app(catalogue).test_client()


def ids(items):
    return [int(item["track_id"]) for item in items]


def test_search_matches_case_and_accent_insensitively_most_popular_first(client):
    assert ids(client.get("/api/search?q=bjork").json["results"]) == [JOGA, HYPERBALLAD]
    assert ids(client.get("/api/search?q=JOGA").json["results"]) == [JOGA]
    assert ids(client.get("/api/search?q=sigur%20hoppi").json["results"]) == [HOPPIPOLLA]
    assert ids(client.get("/api/search?q=o&limit=3").json["results"]) == [KARMA_POLICE, TEARDROP, JOGA]


def test_search_treats_like_wildcards_as_text(client):
    assert ids(client.get("/api/search?q=%25").json["results"]) == [TAGS]  # only "100% <script>" has a '%'
    assert ids(client.get("/api/search?q=_").json["results"]) == []


@pytest.mark.parametrize(
    "query",
    ["/api/search", "/api/search?q=%20%20", "/api/search?q=" + "x" * 201, "/api/search?q=a&limit=0",
     "/api/search?q=a&limit=ten"],
)  # fmt: skip
def test_bad_search_parameters_get_400(client, query):
    response = client.get(query)
    assert response.status_code == 400
    assert response.json["error"]


def test_recommendations_leave_out_the_same_artist_by_default(client):
    response = client.get("/api/recommendations?artist=bjork&track=joga")
    assert response.status_code == 200
    assert response.json["song"] == {"track_id": str(JOGA), "artist": "Björk", "track": "Jóga", "playlist_count": 50}
    assert ids(response.json["recommendations"]) == [HOPPIPOLLA, TEARDROP, GLORY_BOX, KARMA_POLICE]
    first = response.json["recommendations"][0]
    assert (first["rank"], first["artist"], first["similarity"], first["shared_playlists"]) == (2, "Sigur Rós", 0.5, 25)


def test_recommendations_with_the_same_artist_and_a_count(client):
    response = client.get("/api/recommendations?artist=Björk&track=Jóga&same_artist=true&n=2")
    assert ids(response.json["recommendations"]) == [HYPERBALLAD, HOPPIPOLLA]


def test_recommendations_by_track_id(client):
    response = client.get(f"/api/recommendations?track_id={TEARDROP}")
    assert ids(response.json["recommendations"]) == [GLORY_BOX]


def test_unknown_song_gets_404_with_the_closest_matches(client):
    response = client.get("/api/recommendations?artist=Bjork&track=Jogaa")
    assert response.status_code == 404
    assert response.json["error"] == "song not found"
    assert ids(response.json["closest"])[0] == JOGA


@pytest.mark.parametrize(
    "query",
    ["/api/recommendations?artist=Björk", "/api/recommendations?artist=Björk&track=Jóga&n=6",
     "/api/recommendations?artist=Björk&track=Jóga&n=-1",
     "/api/recommendations?artist=Björk&track=Jóga&same_artist=maybe",
     "/api/recommendations?track_id=abc", "/api/recommendations?track_id=99999999999999999999",
     "/api/recommendations?artist=" + "x" * 201 + "&track=y"],
)  # fmt: skip
def test_bad_recommendation_parameters_get_400(client, query):
    response = client.get(query)
    assert response.status_code == 400
    assert response.json["error"]


def test_random_song_has_recommendations(client):
    for _ in range(10):
        response = client.get("/api/random?n=1")
        assert response.status_code == 200
        assert int(response.json["song"]["track_id"]) in {JOGA, HOPPIPOLLA, TEARDROP, TAGS}
        assert int(response.json["song"]["track_id"]) != ALONE
        assert len(response.json["recommendations"]) <= 1


def test_page_shows_recommendations_with_similarity_and_shared_playlists(client):
    response = client.get("/?artist=bjork&track=joga")
    page = response.get_data(as_text=True)
    assert response.status_code == 200
    assert "Jóga" in page and "Hoppípolla" in page and "together in 25 playlists" in page
    assert "Hyperballad" not in page
    assert "Hyperballad" in client.get("/?artist=bjork&track=joga&same_artist=true").get_data(as_text=True)


def test_page_for_an_unknown_song_suggests_the_closest(client):
    response = client.get("/?artist=Sigur%20Ros&track=Hopipola")
    page = response.get_data(as_text=True)
    assert response.status_code == 404
    assert "We could not find" in page and "Did you mean" in page and "Hoppípolla" in page
    assert "Traceback" not in page


def test_page_escapes_names(client):
    page = client.get("/?artist=The%20<b>Tags</b>%20%26%20Co&track=100%25%20<script>").get_data(as_text=True)
    assert "100% &lt;script&gt;" in page
    assert "<script>" not in page.replace('<script src="/static/app.js"></script>', "")


def test_page_with_a_bad_count_says_so(client):
    response = client.get("/?artist=bjork&track=joga&n=many")
    assert response.status_code == 400
    assert "must be a whole number from 1 to 5" in response.get_data(as_text=True)


def test_surprise_redirects_to_a_song_keeping_the_options(client):
    response = client.get("/surprise?n=3&same_artist=true")
    assert response.status_code == 302
    assert "n=3" in response.location and "same_artist=true" in response.location and "artist=" in response.location


def test_the_app_cannot_write(catalogue):
    with pytest.raises(psycopg.errors.ReadOnlySqlTransaction), catalogue._cursor() as cursor:
        cursor.execute("delete from music.recommendations")


def test_before_anything_is_published_the_app_says_so(warehouse_dsn):
    from tests.services import create_database
    from webapp.catalogue import Catalogue

    empty = Catalogue(create_database(warehouse_dsn, "empty_warehouse"))
    try:
        client = create_app(empty).test_client()
        api = client.get("/api/search?q=bjork")
        assert api.status_code == 503 and "Nothing is published yet" in api.json["error"]
        page = client.get("/")
        assert page.status_code == 503 and "Nothing is published yet" in page.get_data(as_text=True)
        evaluation = client.get("/api/evaluation")
        assert evaluation.status_code == 503 and "Nothing is published yet" in evaluation.json["error"]
        assert int(api.headers["Retry-After"]) > 0 and int(page.headers["Retry-After"]) > 0
    finally:
        empty.close()


def test_the_page_names_its_icon_and_the_icon_is_served(client):
    page = client.get("/").get_data(as_text=True)
    assert '<link rel="icon" type="image/svg+xml" href="/static/favicon.svg">' in page
    icon = client.get("/static/favicon.svg")
    assert icon.status_code == 200 and icon.mimetype == "image/svg+xml"
    assert icon.get_data(as_text=True).startswith("<svg")


def panel_text(page):
    """The text of the page's evaluation panel, tags dropped and whitespace folded."""
    panel = re.search(r'<section id="evaluation".*?</section>', page, re.DOTALL)
    assert panel, "the page has no evaluation panel"
    return " ".join(re.sub(r"<[^>]+>", " ", panel.group()).split())


def test_page_shows_the_live_versions_overall_evaluation_beside_the_baselines(client):
    for path in ("/", "/?artist=bjork&track=joga"):
        response = client.get(path)
        assert response.status_code == 200
        text = panel_text(response.get_data(as_text=True))
        assert text.startswith("How good are these?")
        assert "R-precision NDCG These recommendations 0.410 0.520 Most popular songs 0.120 0.190 " in text
        assert "Cosine item-kNN 0.380 – 1,234 held-out cases · 10% of playlists held out" in text
        assert "0.930" not in text and "0.940" not in text  # the one-seed category's figures
        assert "not evaluated" not in text


def test_api_gives_the_live_versions_overall_evaluation_ours_first(client):
    response = client.get("/api/evaluation")
    assert response.status_code == 200
    answer = response.json
    assert list(answer) == ["evaluated", "run_id", "published_at", "holdout_fraction", "cases", "figures"]
    assert (answer["evaluated"], answer["holdout_fraction"], answer["cases"]) == (True, 0.1, 1234)
    assert answer["figures"] == [
        {"method": "published", "cases": 1234, "r_precision": 0.41, "ndcg": 0.52},
        {"method": "most_popular", "cases": 1234, "r_precision": 0.12, "ndcg": 0.19},
        {"method": "cosine_knn", "cases": 1234, "r_precision": 0.38, "ndcg": None},
    ]
    assert isinstance(answer["run_id"], int)
    assert datetime.fromisoformat(answer["published_at"]).tzinfo is not None


@pytest.fixture(scope="module")
def unevaluated_dsn(warehouse_dsn, published_catalogue, tmp_path_factory, engine_params):
    """A database whose live version has no evaluation rows: its run held out no playlist."""
    dsn = create_database(warehouse_dsn, "webapp_not_evaluated")
    db = connect(dsn)
    run = write_run(tmp_path_factory.mktemp("unevaluated-run"), webapp_data.SONGS, webapp_data.RECOMMENDATIONS)
    publish_hand_made(db, run, {**engine_params, "top_k": webapp_data.TOP_K, "holdout_fraction": 0.0})
    db.close()
    return dsn


@contextmanager
def reader_client(dsn):
    """A test client of the page over a new catalogue of ``dsn`` as the reader (nothing remembered yet)."""
    catalogue = Catalogue(with_user(dsn, "music_reader"))
    try:
        yield create_app(catalogue).test_client()
    finally:
        catalogue.close()


NOT_EVALUATED = {
    "evaluated": False, "run_id": None, "published_at": None, "holdout_fraction": None, "cases": None, "figures": [],
}  # fmt: skip


def assert_not_evaluated(client):
    page = client.get("/")
    assert page.status_code == 200
    text = panel_text(page.get_data(as_text=True))
    assert "The live version was not evaluated" in text and "R-precision" not in text
    api = client.get("/api/evaluation")
    assert api.status_code == 200 and api.json == NOT_EVALUATED
    song = client.get("/?artist=bjork&track=joga")
    assert song.status_code == 200 and "Hoppípolla" in song.get_data(as_text=True)


def test_a_live_version_without_evaluation_rows_says_it_was_not_evaluated(unevaluated_dsn):
    with reader_client(unevaluated_dsn) as client:
        assert_not_evaluated(client)


def test_a_warehouse_published_before_evaluations_were_recorded_says_it_was_not_evaluated(unevaluated_dsn):
    db = connect(unevaluated_dsn)
    with db, db.cursor() as cursor:
        cursor.execute("drop table music.evaluation cascade")  # and the view music.evaluation_latest
    db.close()
    with reader_client(unevaluated_dsn) as client:
        assert_not_evaluated(client)
