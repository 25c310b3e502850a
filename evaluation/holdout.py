"""The deterministic hold-out: which playlists are kept out of training to be continued.

A playlist is held out when ``u(playlist_id) < fraction``, where ``u`` maps the 64-bit id into
[0, 1): it takes the first output of the splitmix64 generator seeded with the id,
``mix64(id + 0x9E3779B97F4A7C15 mod 2^64)`` (``similarity.minhash.mix64``), keeps its top 53
bits and divides them by 2^53. The choice depends on the id alone, so the same playlists are held
out on every run of the same source, whichever process computes it (a Spark job can call this
very function on Arrow batches, as the minhash job calls the engine); a playlist held out at one
fraction is held out at every larger one; fraction 0 holds out none, 1 all.

The increment (splitmix64's own) keeps the choice apart from MinHash, which hashes
``mix64(playlist_id)`` without it: the held-out playlists are not those with the smallest mixed ids.
"""

from __future__ import annotations

import math

import numpy as np

from similarity.minhash import mix64

SPLITMIX64_INCREMENT = np.uint64(0x9E3779B97F4A7C15)
UNIT_BITS = 53  # a double holds 53-bit integers exactly, so u is exact and comparable in any language


def unit_hash(playlist_ids: np.ndarray) -> np.ndarray:
    """``u(id)`` in [0, 1) per playlist id (int64 or uint64; negative ids wrap as two's complement)."""
    with np.errstate(over="ignore"):
        seeded = playlist_ids.astype(np.uint64) + SPLITMIX64_INCREMENT
    return (mix64(seeded) >> np.uint64(64 - UNIT_BITS)).astype(np.float64) / 2.0**UNIT_BITS


def held_out(playlist_ids: np.ndarray, fraction: float) -> np.ndarray:
    """True for each playlist id that is held out at this ``fraction`` (0 to 1) of playlists."""
    if math.isnan(fraction) or not 0 <= fraction <= 1:
        raise ValueError(f"holdout_fraction is a share from 0 to 1, got {fraction}")
    return unit_hash(playlist_ids) < fraction
