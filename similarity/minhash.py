"""MinHash signatures in vectorised numpy: the hash functions and the per-song minima.

Signature position ``i`` of a song is the minimum of ``h_i(playlist)`` over the
song's playlists, for ``num_perm`` hash functions ``h_i(p) = a_i * mix(p) + b_i``
(mod 2^64, ``mix`` the splitmix64 finaliser, ``a_i`` odd; the minimum is kept
without its lowest bit, as a non-negative long): independent
stand-ins for random permutations of the playlists. Two songs agree at a
position with probability equal to their Jaccard similarity.

Input: playlist ids grouped per song (a flat array plus offsets, as Arrow list
arrays hold them). Output: a songs x ``num_perm`` int64 matrix. Every (song,
playlist) edge is hashed ``num_perm`` times and the minima per song are taken
with ``np.minimum.reduceat``: no Python code runs per edge. No Spark here.
"""

from __future__ import annotations

import numpy as np

HASH_SEED = 2594557  # the dataset's Zenodo record: any fixed value gives reproducible signatures
EDGES_PER_CHUNK = 50_000  # bounds numpy's working memory to EDGES_PER_CHUNK x num_perm x 8 bytes


def hash_coefficients(num_perm: int, seed: int = HASH_SEED) -> tuple[np.ndarray, np.ndarray]:
    """The ``a_i`` (odd) and ``b_i`` of the ``num_perm`` hash functions, as uint64."""
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2)
    return a, b


def mix64(values: np.ndarray) -> np.ndarray:
    """splitmix64's finaliser: spreads the bits of 64-bit ids (wrapping arithmetic)."""
    x = values.astype(np.uint64, copy=True)
    with np.errstate(over="ignore"):
        x ^= x >> np.uint64(30)
        x *= np.uint64(0xBF58476D1CE4E5B9)
        x ^= x >> np.uint64(27)
        x *= np.uint64(0x94D049BB133111EB)
        x ^= x >> np.uint64(31)
    return x


def signature_matrix(playlist_ids: np.ndarray, offsets: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Signatures (songs x num_perm, int64) of songs whose playlists are ``playlist_ids[offsets[j]:offsets[j+1]]``.

    Every song must have at least one playlist.
    """
    if np.any(np.diff(offsets) < 1):
        raise ValueError("every song needs at least one playlist to have a signature")
    mixed = mix64(playlist_ids)
    songs = len(offsets) - 1
    signatures = np.empty((songs, len(a)), dtype=np.uint64)
    start = 0
    while start < songs:
        # Whole songs per chunk, about EDGES_PER_CHUNK edges (a song with more edges is its own chunk).
        stop = max(start + 1, int(np.searchsorted(offsets, offsets[start] + EDGES_PER_CHUNK, side="right")) - 1)
        stop = min(stop, songs)
        edges = mixed[offsets[start] : offsets[stop]]
        with np.errstate(over="ignore"):
            hashes = edges[:, None] * a[None, :] + b[None, :]
        signatures[start:stop] = np.minimum.reduceat(hashes, offsets[start:stop] - offsets[start], axis=0)
        start = stop
    # Dropping the lowest bit makes every value fit a non-negative long, so Spark orders them as numpy did.
    return (signatures >> np.uint64(1)).astype(np.int64)
