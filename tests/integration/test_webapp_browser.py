"""The lookup page in a real headless Chromium (Debian's), driven by Playwright."""

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from pipeline.settings import PROJECT_ROOT
from tests.services import create_database
from warehouse.connection import with_user
from webapp import create_app
from webapp.catalogue import Catalogue

pytestmark = pytest.mark.integration

CHROMIUM = Path("/usr/bin/chromium")
SCREENSHOT = PROJECT_ROOT / "docs" / "images" / "lookup-page.png"
# Flags for a closed network and a root user: no sandbox, no background fetches.
CHROMIUM_ARGS = [
    "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync",
]  # fmt: skip


def serve(catalogue):
    server = make_server("127.0.0.1", 0, create_app(catalogue), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server


@pytest.fixture(scope="module")
def server_url(catalogue):
    server = serve(catalogue)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


@pytest.fixture(scope="module")
def empty_server_url(warehouse_dsn):
    """The page over a database where nothing is published."""
    empty = Catalogue(with_user(create_database(warehouse_dsn, "browser_nothing_published"), "music_reader"))
    server = serve(empty)
    yield f"http://127.0.0.1:{server.server_port}"
    server.shutdown()
    empty.close()


@pytest.fixture(scope="module")
def browser():
    if not CHROMIUM.exists():
        if os.environ.get("CI"):
            pytest.fail(f"{CHROMIUM} is missing: .ci/run installs Debian's chromium package")
        pytest.skip(f"{CHROMIUM} is not installed (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(viewport={"width": 900, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()


def result_titles(page):
    return page.locator(".recommendations .title").all_inner_texts()


def test_type_pick_a_suggestion_and_see_recommendations(page, server_url):
    page.goto(server_url)
    page.fill("#artist", "bjo")
    suggestions = page.locator("#suggestions li")
    suggestions.first.wait_for()
    assert suggestions.all_inner_texts() == ["Jóga by Björk", "Hyperballad by Björk"]
    suggestions.first.click()
    page.wait_for_selector("#results")
    assert page.locator("#results h2").inner_text() == "Jóga by Björk"
    assert result_titles(page)[0] == "Hoppípolla by Sigur Rós"
    assert "together in 25 playlists" in page.locator(".recommendations li").first.inner_text()
    assert "Hyperballad by Björk" not in result_titles(page)
    assert page.locator("#evaluation").is_visible()
    assert page.locator("#evaluation tr.published td").all_inner_texts() == ["0.410", "0.520"]
    page.screenshot(path=str(SCREENSHOT), full_page=True)


def test_same_artist_toggle_and_keyboard_choice(page, server_url):
    page.goto(server_url)
    page.fill("#track", "hyperb")
    page.locator("#suggestions li").first.wait_for()
    page.keyboard.press("ArrowDown")
    with page.expect_navigation():
        page.keyboard.press("Enter")
    assert page.locator("#results h2").inner_text() == "Hyperballad by Björk"
    page.goto(f"{server_url}/?artist=Björk&track=Jóga")
    with page.expect_navigation():
        page.check("#same_artist")
    assert result_titles(page)[0] == "Hyperballad by Björk"
    assert page.is_checked("#same_artist")


def test_surprise_me_shows_a_song_with_recommendations(page, server_url):
    page.goto(server_url)
    with page.expect_navigation():
        page.click("#surprise")
    page.wait_for_selector("#results")
    assert page.locator("#results h2").inner_text()
    assert len(result_titles(page)) >= 1  # every song with recommendations has some by another artist here


def test_a_song_that_is_not_found_gets_suggestions_not_an_error(page, server_url):
    page.goto(server_url)
    page.fill("#artist", "Radiohed")
    page.fill("#track", "Karma Polise")
    with page.expect_navigation():
        page.click("button[type=submit]")
    assert "We could not find" in page.locator("#not-found").inner_text()
    with page.expect_navigation():
        page.click("#not-found a >> nth=0")
    assert page.locator("#results h2").inner_text() == "Karma Police by Radiohead"


def test_before_anything_is_published_the_page_says_so_and_typing_breaks_nothing(page, empty_server_url):
    script_errors = []
    page.on("pageerror", lambda error: script_errors.append(error))
    response = page.goto(empty_server_url)
    assert response is not None and response.status == 503
    assert page.locator("[role=alert]").inner_text() == "Nothing is published yet: run the pipeline first (make demo)."
    with page.expect_response(lambda answer: "/api/search" in answer.url) as search:
        page.fill("#artist", "bjo")
    assert search.value.status == 503
    assert page.locator("#suggestions").is_hidden()
    assert script_errors == []
