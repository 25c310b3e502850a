"""Deciding whether a run would publish what is already live."""

import pytest

from pipeline.run_history import compute_params, is_already_published

FINGERPRINT = {"kind": "zenodo", "md5": "abc", "size": 10}


@pytest.fixture
def params(engine_params):
    """A run's whole params: the compute params, and the two that do not shape the result."""
    return {**engine_params, "source_url": "https://x/y.zip", "force": False}


@pytest.fixture
def last_run(engine_params):
    return {"source_fingerprint": FINGERPRINT, "params": dict(engine_params)}


def test_same_source_and_params_is_already_published(params, last_run):
    assert is_already_published(last_run, dict(FINGERPRINT), dict(params))


def test_the_url_and_force_do_not_count_as_compute_params(params, last_run, engine_params):
    assert compute_params(params) == engine_params
    assert is_already_published(last_run, FINGERPRINT, {**params, "source_url": "https://mirror/y.zip"})
    assert is_already_published(last_run, FINGERPRINT, {**params, "force": True})


def test_new_content_other_params_nothing_published_or_no_fingerprint_mean_run(params, last_run):
    assert not is_already_published(last_run, {**FINGERPRINT, "md5": "def"}, params)
    assert not is_already_published(last_run, FINGERPRINT, {**params, "top_k": 50})
    assert not is_already_published(None, FINGERPRINT, params)
    assert not is_already_published({**last_run, "source_fingerprint": None}, None, params)
