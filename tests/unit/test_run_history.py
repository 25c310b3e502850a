"""Deciding whether a run would publish what is already live."""

from pipeline.run_history import compute_params, is_already_published

PARAMS = {"source_url": "https://x/y.zip", "min_playlists": 2, "num_perm": 128, "bands": 64, "rows_per_band": 2,
          "max_bucket": 20, "exact_work": 50000, "top_k": 20, "force": False}  # fmt: skip
FINGERPRINT = {"kind": "zenodo", "md5": "abc", "size": 10}
LAST_RUN = {"source_fingerprint": FINGERPRINT, "params": compute_params(PARAMS)}


def test_same_source_and_params_is_already_published():
    assert is_already_published(LAST_RUN, dict(FINGERPRINT), dict(PARAMS))


def test_the_url_and_force_do_not_count_as_compute_params():
    assert compute_params(PARAMS) == {
        "min_playlists": 2,
        "num_perm": 128,
        "bands": 64,
        "rows_per_band": 2,
        "max_bucket": 20,
        "exact_work": 50000,
        "top_k": 20,
    }
    assert is_already_published(LAST_RUN, FINGERPRINT, {**PARAMS, "source_url": "https://mirror/y.zip"})


def test_new_content_other_params_nothing_published_or_no_fingerprint_mean_run():
    assert not is_already_published(LAST_RUN, {**FINGERPRINT, "md5": "def"}, PARAMS)
    assert not is_already_published(LAST_RUN, FINGERPRINT, {**PARAMS, "top_k": 50})
    assert not is_already_published(None, FINGERPRINT, PARAMS)
    assert not is_already_published({**LAST_RUN, "source_fingerprint": None}, None, PARAMS)
