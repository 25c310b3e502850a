"""The ``evaluate`` task: how well the run's recommendations continue playlists nobody trained on.

Inputs (run folder): ``holdout_tracks`` (the held-out playlists' songs in playlist order, with each
song's artist and training playlist count), ``songs``, ``playlist_tracks`` (the training pairs)
and ``recommendations``. Output: ``metrics/evaluate.json``, one row per method and seed category
(``FIGURE_COLUMNS``), published with the version as ``music.evaluation``.

The held-out playlists become continuation cases (``evaluation.continuation``: the first 1, 5, 10
or 25 songs shown, the rest hidden), and three methods recommend 500 songs for each:

- ``published``: item-kNN over the run's own recommendations (each song's top_k neighbours and
  their Jaccard similarities), i.e. what the page and the tables serve;
- ``most_popular``: the songs in most training playlists;
- ``cosine_knn``: exact item-kNN by cosine similarity of the training playlist sets, with as
  many neighbours per song as published (``top_k``), computed for the cases' seeds only.

Both item-kNN lists are filled up to 500 with the most popular songs not yet named (a seed has
at most top_k neighbours), so the three methods are measured on lists of the same length.

A song's artist and playlist count (for the figures beyond accuracy) come from ``songs`` or, for
a held-out song that is not published, from ``holdout_tracks``.
"""

from __future__ import annotations

import math
import time
from typing import Any

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as pa_dataset

from evaluation.baselines import Incidence, cosine_neighbours, incidence_matrix, popularity_recommender
from evaluation.continuation import Case, continuation_cases, knn_recommender, neighbours_from_pairs
from evaluation.metrics import FIGURES, SongFacts, evaluate, song_facts
from pipeline.run_folder import RunFolder

METHODS = ("published", "most_popular", "cosine_knn")
FIGURE_COLUMNS = ("method", "seed_category", "cases", *FIGURES)  # a row of metrics/evaluate.json


def read_columns(run: RunFolder, dataset: str, columns: list[str], where: Any = None) -> dict[str, np.ndarray]:
    """These columns of one of the run's datasets (rows matching ``where``, a pyarrow expression), as numpy arrays."""
    table = pa_dataset.dataset(run.dataset(dataset), format="parquet").to_table(columns=columns, filter=where)
    return {name: table.column(name).to_numpy() for name in columns}


def held_out_playlists(holdout: dict[str, np.ndarray]) -> dict[int, np.ndarray]:
    """playlist_id -> its track_ids in playlist order."""
    order = np.lexsort((holdout["position"], holdout["playlist_id"]))
    playlists, first = np.unique(holdout["playlist_id"][order], return_index=True)
    return dict(zip(playlists.tolist(), np.split(holdout["track_id"][order], first[1:]), strict=True))


def seed_songs(cases: list[Case]) -> np.ndarray:
    """The distinct seed songs of these cases."""
    return np.unique(np.concatenate([np.empty(0, dtype=np.int64), *(case.seeds for case in cases)]))


def training_incidence(run: RunFolder) -> Incidence:
    """The run's training playlists x songs, from ``playlist_tracks``."""
    training = read_columns(run, "playlist_tracks", ["playlist_id", "track_id"])
    return incidence_matrix(training["playlist_id"], training["track_id"])


def facts_of_songs(songs: dict[str, np.ndarray], holdout: dict[str, np.ndarray]) -> SongFacts:
    """Artist and training playlist count of every published song and every held-out song."""
    unpublished = ~np.isin(holdout["track_id"], songs["track_id"])
    extra_ids, first = np.unique(holdout["track_id"][unpublished], return_index=True)
    return song_facts(
        np.concatenate([songs["track_id"], extra_ids]),
        np.concatenate([songs["artist_id"], holdout["artist_id"][unpublished][first]]),
        np.concatenate([songs["playlist_count"], holdout["training_playlists"][unpublished][first]]),
    )


def published_neighbours(run: RunFolder, seeds: np.ndarray) -> dict[int, tuple[np.ndarray, np.ndarray]]:
    """The published neighbour lists (best first) of these seed songs."""
    found = read_columns(
        run,
        "recommendations",
        ["track_id", "recommended_track_id", "rank", "similarity"],
        pc.field("track_id").isin(seeds),
    )
    order = np.argsort(found["rank"], kind="stable")
    return neighbours_from_pairs(
        found["track_id"][order], found["recommended_track_id"][order], found["similarity"][order]
    )


def popularity_ranking(songs: dict[str, np.ndarray]) -> np.ndarray:
    """Published songs by training playlist count, highest first, then the smaller track_id."""
    return songs["track_id"][np.lexsort((songs["track_id"], -songs["playlist_count"]))]


def figure_rows(method: str, table: Any) -> list[dict[str, Any]]:
    """``evaluation.metrics.summarise``'s table as rows of ``metrics/evaluate.json`` (NaN as None)."""
    rows = []
    for record in table.to_dict("records"):
        row: dict[str, Any] = {"method": method, "seed_category": record["category"], "cases": int(record["cases"])}
        for name in FIGURES:
            value = float(record[name])
            row[name] = None if math.isnan(value) else value
        rows.append(row)
    return rows


def evaluate_run(run: RunFolder, top_k: int) -> dict[str, Any]:
    """Evaluate the run's recommendations and the baselines on its held-out playlists; write
    ``metrics/evaluate.json`` and return its content."""
    started = time.monotonic()
    holdout = read_columns(
        run, "holdout_tracks", ["playlist_id", "position", "track_id", "artist_id", "training_playlists"]
    )
    songs = read_columns(run, "songs", ["track_id", "artist_id", "playlist_count"])
    cases: list[Case] = continuation_cases(held_out_playlists(holdout))
    seeds = seed_songs(cases)
    facts = facts_of_songs(songs, holdout)

    seconds: dict[str, float] = {}
    figures: list[dict[str, Any]] = []

    def measure(method: str, recommender: Any) -> None:
        method_started = time.monotonic()
        figures.extend(figure_rows(method, evaluate(cases, recommender, facts)))
        seconds[method] = round(time.monotonic() - method_started, 3)

    popular = popularity_ranking(songs)
    measure("published", knn_recommender(published_neighbours(run, seeds), backfill=popular))
    measure("most_popular", popularity_recommender(popular))
    incidence = training_incidence(run)
    measure("cosine_knn", knn_recommender(cosine_neighbours(incidence, top_k, songs=seeds), backfill=popular))

    unseen = facts.playlist_counts[facts.rows_of(holdout["track_id"])] == 0
    content = {
        "holdout_playlists": len(np.unique(holdout["playlist_id"])),
        "holdout_pairs": len(holdout["track_id"]),
        "holdout_pairs_unseen_in_training": int(unseen.sum()),
        "cases": len(cases),
        "seed_songs": len(seeds),
        "top_k": top_k,
        "method_seconds": seconds,
        "figures": figures,
        "seconds": round(time.monotonic() - started, 3),
    }
    run.write_metrics("evaluate", content)
    return content


def overall(figures: list[dict[str, Any]], method: str) -> dict[str, Any]:
    """The overall ("all") row of ``method`` among these rows of ``metrics/evaluate.json``."""
    for row in figures:
        if row["method"] == method and row["seed_category"] == "all":
            return row
    raise KeyError(f"no overall figures of {method!r}")
