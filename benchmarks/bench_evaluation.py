"""The evaluation's exact cosine baseline: the top-n product against the blocked scipy product, on a real run folder.

``make bench-evaluation RUN_DIR=<a run folder>`` (a run with ``holdout_fraction`` above 0, e.g.
the newest one under ``data/runs/spotify_recommendations/``; ``BENCH_ARGS="--seeds 1000"`` takes
every n-th seed song to make about that many). Builds the training matrix from the run's
``playlist_tracks`` and the seed songs from its ``holdout_tracks``, exactly as the ``evaluate`` task
does, then times, one after the other:

1. ``evaluation.baselines.top_neighbours(..., cosine, seeds)``: scipy's product a block of songs at
   a time, on one core (what ``evaluate`` used first);
2. ``evaluation.baselines.cosine_neighbours(..., seeds)``: ``sparse_dot_topn`` over every core,
   keeping each seed's best ``k + 1 + margin`` (what ``evaluate`` uses).

and checks that both give the same lists and similarities. Prints the figures (and writes them
as JSON with ``--json``). Run it alone: a second job on 2 cores doubles every figure.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from benchmarks.report import print_figures
from evaluation.baselines import TOP_N_MARGIN, cosine, cosine_neighbours, top_neighbours
from evaluation.continuation import continuation_cases
from pipeline.evaluate import held_out_playlists, read_columns, seed_songs, training_incidence
from pipeline.run_folder import RunFolder


def run_seed_songs(run: RunFolder) -> np.ndarray:
    """The distinct seed songs of the run's continuation cases."""
    holdout = read_columns(run, "holdout_tracks", ["playlist_id", "position", "track_id"])
    return seed_songs(continuation_cases(held_out_playlists(holdout)))


def same_lists(first: dict, second: dict) -> bool:
    return first.keys() == second.keys() and all(
        np.array_equal(first[song][0], second[song][0]) and np.array_equal(first[song][1], second[song][1])
        for song in first
    )


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="bench_evaluation", description=__doc__.splitlines()[0])
    parser.add_argument("--run-dir", type=Path, required=True, help="a run folder with holdout_tracks")
    parser.add_argument("--top-k", type=int, default=20, help="neighbours per song (the DAG's top_k, default 20)")
    parser.add_argument("--seeds", type=int, default=0, help="about this many seed songs (default 0: all)")
    parser.add_argument("--margin", type=int, default=TOP_N_MARGIN, help="candidates kept beyond k and the song")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)

    run = RunFolder(args.run_dir)
    started = time.perf_counter()
    seeds = run_seed_songs(run)
    if args.seeds:
        seeds = seeds[:: max(1, len(seeds) // args.seeds)]
    incidence = training_incidence(run)
    prepared = time.perf_counter() - started

    started = time.perf_counter()
    blocked = top_neighbours(incidence, args.top_k, cosine, seeds)
    blocked_seconds = time.perf_counter() - started
    started = time.perf_counter()
    top_n = cosine_neighbours(incidence, args.top_k, seeds, margin=args.margin)
    top_n_seconds = time.perf_counter() - started

    print_figures(
        {
            "run folder": str(run.path),
            "training pairs": f"{incidence.matrix.nnz:,}",
            "songs": f"{len(incidence.track_ids):,}",
            "seed songs": f"{len(seeds):,}",
            "loading and training matrix (s)": round(prepared, 1),
            "blocked scipy product, one core (s)": round(blocked_seconds, 1),
            "top-n product, every core (s)": round(top_n_seconds, 1),
            "speed-up": round(blocked_seconds / top_n_seconds, 2),
            "same lists and similarities": same_lists(blocked, top_n),
        },
        args.json,
    )


if __name__ == "__main__":
    main()
