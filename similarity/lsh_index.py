"""The LSH index and exact scoring behind the similarity_join job, in vectorised numpy.

Built from the run folder in each Spark Python worker (once per worker and
band group, then reused by every task it runs), it answers "the recommendations of these songs"
for a batch of songs without shuffling any candidate pair:

1. **Bands.** Each song's MinHash signature is cut into ``bands`` bands of
   ``rows_per_band`` values; a band's bucket key hashes its values. Two songs
   are candidates when some band puts them in the same bucket, which happens
   with probability ``1 - (1 - J^r)^b`` for Jaccard similarity J.
2. **Skew.** A bucket of more than ``max_bucket`` songs (a big playlist that is
   the minimum of many rare songs, such as a user's "Starred") is sorted by the
   next signature values (songs that also agree outside the band become
   neighbours) and cut into ``ceil(size / max_bucket)`` consecutive chunks of
   near-equal size. A song's candidates in a band are its chunk's other
   members, so no bucket costs more than ``size x max_bucket`` pairs.
3. **Exact scores.** Candidates are scored with their exact Jaccard similarity
   ``shared / (d_a + d_b - shared)`` from the songs' playlist sets (each
   playlist of the candidate looked up among the (song, playlist) pairs of the
   songs answered through LSH, in a hash index); a song's top k are ranked by
   similarity, then shared playlists (both descending), then the smaller
   track_id.

Only the songs whose exact work is above ``exact_work`` are answered through
the bands (at 12.9M generated rows, 7,326 of 1.58M songs: the others are scored
against every co-member with a sparse product). So an index keeps, of each
band, only the buckets that hold such a song: a song in no such bucket is no
one's candidate in that band (about 1% of the songs per band at 12.9M rows).
The chunks of a kept bucket are the same as in a whole index, so the answers
are too.

Band groups: the bands can be split into groups (``band_groups``), each with
its own index over the same playlist sets (``PlaylistSets``). A song's top k
is then the best k of its top k in each group (a candidate scores the same in
every group), merged by the caller; a worker holds one group's bands at a time.

Memory per worker: the playlist sets (the sparse song x playlist matrix and
its transpose: 16 bytes per (song, playlist) pair, and the hash index of the
pairs of the songs answered through LSH) plus, per band held, an int32 per song
answered through LSH and per member of a kept bucket. Built from the whole
bands' keys (``SongIndex.from_signatures``), or from the signatures read twice
piece by piece (``SongIndex.add_bands_read_twice``, what a worker does): then
only one piece's keys and the kept buckets' songs are held while building.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.sparse as sp

from similarity.minhash import mix64

EXACT_BATCH_WORK = 2_000_000  # co-occurrences per sparse product: bounds its memory (20M: 1 GB, and no faster)
SIMILARITY_BINS = 256  # histogram bins of the top-k prefilter


@dataclass(frozen=True)
class BandChunks:
    """One band's bucket chunks: the songs of chunk c are ``members[offsets[c]:offsets[c + 1]]``."""

    chunk_of: np.ndarray  # per query song (the index's ``query_rows``): its chunk, or -1 when alone in its bucket
    offsets: np.ndarray
    members: np.ndarray


@dataclass(frozen=True)
class BandStats:
    buckets: int = 0  # buckets of two or more songs
    buckets_cut: int = 0
    largest_bucket: int = 0
    largest_chunk: int = 0
    chunk_pairs: int = 0  # pairs within chunks, summed over bands (a pair in several bands counts each time)


def band_chunks(bucket_keys: np.ndarray, order_keys: np.ndarray, max_bucket: int) -> tuple[BandChunks, BandStats]:
    """The chunks of one band from every song's bucket key and order key (arrays indexed by song row)."""
    songs = len(bucket_keys)
    order = np.argsort(bucket_keys, kind="stable").astype(np.int32)
    keys = bucket_keys[order]
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]])
    sizes = np.diff(np.r_[starts, songs])
    # only the buckets to be cut need their songs in order: sort those by order key (then row)
    cut = np.repeat(sizes > max_bucket, sizes)
    if cut.any():
        positions = np.flatnonzero(cut)
        inside = order[positions]
        order[positions] = inside[np.lexsort((inside, order_keys[inside], keys[positions]))]
    shared = sizes >= 2
    starts, sizes = starts[shared], sizes[shared]
    pieces = -(-sizes // max_bucket)  # chunks per bucket
    # chunk c of a bucket of n songs cut in k pieces spans [floor(c n / k), floor((c + 1) n / k))
    bucket_of_chunk = np.repeat(np.arange(len(sizes)), pieces)
    first_chunk = np.r_[0, np.cumsum(pieces)[:-1]]
    c = np.arange(len(bucket_of_chunk)) - first_chunk[bucket_of_chunk]
    n, k = sizes[bucket_of_chunk], pieces[bucket_of_chunk]
    chunk_lo = starts[bucket_of_chunk] + c * n // k
    chunk_hi = starts[bucket_of_chunk] + (c + 1) * n // k
    chunk_sizes = chunk_hi - chunk_lo
    members = order[run_positions(chunk_lo, chunk_sizes)]
    chunk_of = np.full(songs, -1, dtype=np.int32)
    chunk_of[members] = np.repeat(np.arange(len(chunk_sizes), dtype=np.int32), chunk_sizes)
    offsets = np.r_[0, np.cumsum(chunk_sizes)].astype(np.int64)
    stats = BandStats(
        buckets=len(sizes),
        buckets_cut=int((pieces > 1).sum()),
        largest_bucket=int(sizes.max(initial=0)),
        largest_chunk=int(chunk_sizes.max(initial=0)),
        chunk_pairs=int((chunk_sizes * (chunk_sizes - 1) // 2).sum()),
    )
    return BandChunks(chunk_of, offsets, members), stats


def query_band_chunks(
    bucket_keys: np.ndarray, order_keys: np.ndarray, query_rows: np.ndarray, max_bucket: int
) -> tuple[BandChunks, BandStats]:
    """``band_chunks`` of only the buckets that hold one of ``query_rows`` (sorted song rows): the chunks
    the queries can reach, the same as in the whole band. ``chunk_of`` is per query row, ``members``
    are song rows; the figures count the kept buckets."""
    kept = np.flatnonzero(found_in_sorted(np.sort(bucket_keys[query_rows]), bucket_keys)[1])
    return kept_band_chunks(kept, bucket_keys[kept], order_keys[kept], query_rows, max_bucket)


def kept_band_chunks(
    kept_rows: np.ndarray, bucket_keys: np.ndarray, order_keys: np.ndarray, query_rows: np.ndarray, max_bucket: int
) -> tuple[BandChunks, BandStats]:
    """``query_band_chunks`` from the kept songs alone: ``kept_rows`` (ascending) are every song of the buckets
    that hold one of ``query_rows``, with their bucket and order keys."""
    # kept_rows is ascending, so the kept songs' order, and the tie-breaks of band_chunks, are the whole band's
    chunks, stats = band_chunks(bucket_keys, order_keys, max_bucket)
    chunk_of = chunks.chunk_of[np.searchsorted(kept_rows, query_rows)]
    return BandChunks(chunk_of, chunks.offsets, kept_rows[chunks.members].astype(np.int32)), stats


def band_keys(signatures: np.ndarray, band: int, rows_per_band: int) -> tuple[np.ndarray, np.ndarray]:
    """Per song, for one band: the bucket key (a hash of the band's values and its number) and the order key.

    The order key is the high 32 bits of the next two signature values, so
    sorting a bucket by it puts songs that also agree there side by side.
    """
    num_perm = signatures.shape[1]
    first = band * rows_per_band
    with np.errstate(over="ignore"):
        key = np.full(len(signatures), np.uint64(band + 1) * np.uint64(0x9E3779B97F4A7C15), dtype=np.uint64)
        for i in range(first, first + rows_per_band):
            key = mix64(key ^ signatures[:, i].astype(np.uint64))
        after = (first + rows_per_band) % num_perm
        high = signatures[:, after].astype(np.uint64) >> np.uint64(31)
        low = signatures[:, (after + 1) % num_perm].astype(np.uint64) >> np.uint64(31)
    return key, (high << np.uint64(32)) | low


def sorted_distinct(codes: np.ndarray) -> np.ndarray:
    """The distinct values, ascending (sorting then dropping repeats: numpy's hash-based np.unique
    measured 6x to 15x slower on millions of int64 codes)."""
    codes = np.sort(codes)
    return codes[np.r_[True, codes[1:] != codes[:-1]]] if len(codes) else codes


def run_positions(starts: np.ndarray, sizes: np.ndarray) -> np.ndarray:
    """The positions ``starts[i] .. starts[i] + sizes[i] - 1`` of every run, run after run."""
    return np.repeat(starts - np.r_[0, np.cumsum(sizes)[:-1]], sizes) + np.arange(sizes.sum())


def found_in_sorted(sorted_values: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Where each of ``values`` is in ``sorted_values`` (ascending; of equal values, the first), and whether
    it is there at all."""
    position = np.searchsorted(sorted_values, values)
    if len(sorted_values) == 0:
        return position, np.zeros(len(values), dtype=bool)
    return position, sorted_values[np.minimum(position, len(sorted_values) - 1)] == values


def positions_in_sorted(sorted_values: np.ndarray, values: np.ndarray) -> tuple[np.ndarray, int]:
    """Where each of ``values`` is in ``sorted_values`` (ascending, distinct), and how many are not there."""
    position, found = found_in_sorted(sorted_values, values)
    return position, int((~found).sum())


def _positions_in_group(keys: np.ndarray) -> np.ndarray:
    """0, 1, 2, ... within each run of equal consecutive keys."""
    starts = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1]]) if len(keys) else np.empty(0, dtype=np.int64)
    return np.arange(len(keys)) - np.repeat(starts, np.diff(np.r_[starts, len(keys)]))


def top_k_per_song(
    query: np.ndarray, partner: np.ndarray, shared: np.ndarray, similarity: np.ndarray, k: int, track_ids: np.ndarray
) -> tuple[np.ndarray, ...]:
    """Each query's k best partners: similarity, then shared playlists (descending), then the smaller track_id.

    A histogram of each query's similarities (SIMILARITY_BINS equal bins, one
    ``bincount``) finds the bin holding its k-th best; only the pairs in that
    bin or above (ties included) are sorted by the full order, so the cost is
    linear in the pairs. Pairs are expected grouped by query (each query's
    pairs side by side); when they are not, the answer is the same, only the
    prefilter keeps more. Returns query, partner, shared, similarity and rank
    (1-based).
    """
    if len(query) == 0:
        return query, partner, shared, similarity, np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.r_[True, query[1:] != query[:-1]])
    group = np.repeat(np.arange(len(starts)), np.diff(np.r_[starts, len(query)]))
    bins = np.minimum((similarity * SIMILARITY_BINS).astype(np.int64), SIMILARITY_BINS - 1)
    counts = np.bincount(group * SIMILARITY_BINS + bins, minlength=len(starts) * SIMILARITY_BINS)
    at_or_above = counts.reshape(len(starts), SIMILARITY_BINS)[:, ::-1].cumsum(axis=1)
    reached = at_or_above >= k
    # the k-th best's bin, or bin 0 (keep every pair) for a query with fewer than k partners
    kth_bin = np.where(reached[:, -1], SIMILARITY_BINS - 1 - reached.argmax(axis=1), 0)
    keep = bins >= kth_bin[group]
    query, partner, shared, similarity = query[keep], partner[keep], shared[keep], similarity[keep]
    order = np.lexsort((track_ids[partner], -shared, -similarity, query))
    query, partner, shared, similarity = query[order], partner[order], shared[order], similarity[order]
    rank = _positions_in_group(query) + 1
    best = rank <= k
    return query[best], partner[best], shared[best], similarity[best], rank[best]


class PlaylistSets:
    """Songs (rows, by ascending track_id) and their playlist sets: everything exact scoring needs.

    The same for every band group, so a worker builds it once per input and keeps it while it
    builds the band groups' indexes one after the other.
    """

    def __init__(self, playlist_ids: np.ndarray, playlist_track_ids: np.ndarray, exact_work: int = 0) -> None:
        self.track_ids = sorted_distinct(playlist_track_ids.astype(np.int64))
        # Playlist sets: CSR rows by song, playlists as dense column numbers.
        song_rows = self.rows_of(playlist_track_ids)
        _, columns = np.unique(playlist_ids, return_inverse=True)
        self.playlist_count = int(columns.max(initial=0)) + 1
        # sorted, row * playlist_count + column, each (song, playlist) pair once
        edge_codes = sorted_distinct(song_rows.astype(np.int64) * self.playlist_count + columns)
        del song_rows, columns
        indptr = np.searchsorted(edge_codes, np.arange(len(self.track_ids) + 1) * self.playlist_count)
        playlists = (edge_codes % self.playlist_count).astype(np.int32)
        del edge_codes
        # Song x playlist matrix (its rows are the playlist sets) and its transpose.
        self.matrix = sp.csr_matrix(
            (np.ones(len(playlists), dtype=np.float32), playlists, indptr),
            shape=(len(self.track_ids), self.playlist_count),
        )
        self.degree = np.diff(self.matrix.indptr)
        self.matrix_t = self.matrix.T.tocsr()
        # A song's exact work: the pairs its playlists hold, the cost of scoring it against every co-member.
        self.work = np.asarray(self.matrix @ np.diff(self.matrix_t.indptr).astype(np.float64)).astype(np.int64)
        self.exact_work = exact_work
        # The songs answered through the LSH bands (the others are scored exactly), and a hash index of
        # their (song, playlist) pairs, code ``position in lsh_rows * playlist_count + column``: pandas'
        # hash index answers "is this pair one?" 10x+ faster than a binary search.
        self.lsh_rows = np.flatnonzero(self.work > exact_work)
        sizes = self.degree[self.lsh_rows]
        self._lsh_edges = pd.Index(
            np.repeat(np.arange(len(self.lsh_rows), dtype=np.int64), sizes) * self.playlist_count
            + self.matrix.indices[run_positions(self.matrix.indptr[self.lsh_rows], sizes)]
        )

    def rows_of(self, track_ids: np.ndarray) -> np.ndarray:
        rows, missing = positions_in_sorted(self.track_ids, track_ids)
        if len(self.track_ids) == 0 or missing:
            raise KeyError(f"{missing} track_ids are in no playlist")
        return rows

    def shared_playlists(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Exact |playlists(a) & playlists(b)| per pair, ``a`` songs answered through LSH (``lsh_rows``):
        each playlist of ``b`` looked up among ``a``'s."""
        position, missing = positions_in_sorted(self.lsh_rows, a)
        if missing:
            raise ValueError("shared_playlists answers pairs whose first song is answered through LSH")
        sizes = self.degree[b]
        pair = np.repeat(np.arange(len(a)), sizes)
        columns = self.matrix.indices[run_positions(self.matrix.indptr[b], sizes)]
        found = self._lsh_edges.get_indexer(position[pair].astype(np.int64) * self.playlist_count + columns) >= 0
        return np.bincount(pair, weights=found, minlength=len(a)).astype(np.int64)

    def exact_top_k(self, rows: np.ndarray, k: int) -> tuple[tuple[np.ndarray, ...], int]:
        """The exact top-k of these songs from the sparse product X[rows] X^T, and the pairs it scored.

        Batches of about EXACT_BATCH_WORK products keep memory bounded; each
        batch is cut down to its top k before the next one is computed.
        """
        parts = []
        considered = 0
        start = 0
        while start < len(rows):
            cumulative = np.cumsum(self.work[rows[start:]])
            stop = start + max(1, int(np.searchsorted(cumulative, EXACT_BATCH_WORK, side="right")))
            product = (self.matrix[rows[start:stop]] @ self.matrix_t).tocsr()
            query = np.repeat(rows[start:stop], np.diff(product.indptr))
            partner, shared = product.indices, product.data.astype(np.int64)
            other = query != partner
            query, partner, shared = query[other], partner[other], shared[other]
            considered += len(query)
            similarity = shared / (self.degree[query] + self.degree[partner] - shared)
            parts.append(top_k_per_song(query, partner, shared, similarity, k, self.track_ids))
            start = stop
        if not parts:
            empty = np.empty(0, dtype=np.int64)
            return (empty, empty, empty, np.empty(0), empty), 0
        return tuple(np.concatenate(columns) for columns in zip(*parts, strict=True)), considered


def band_groups(bands: int, groups: int) -> list[range]:
    """The band numbers of each of ``groups`` groups: consecutive runs of near-equal length."""
    if not 1 <= groups <= bands:
        raise ValueError(f"band groups must be between 1 and the {bands} bands, got {groups}")
    return [range(g * bands // groups, (g + 1) * bands // groups) for g in range(groups)]


def band_key_table(
    signature_batches: Iterable[tuple[np.ndarray, np.ndarray]],
    sets: PlaylistSets,
    band_numbers: Sequence[int],
    rows_per_band: int,
) -> tuple[np.ndarray, np.ndarray]:
    """Every song's bucket and order keys in these bands (two arrays, bands x songs, songs as ``sets`` rows).

    ``signature_batches`` yields (track_ids, signatures) pieces of the signatures (any order, any
    size), so only one piece and these bands' keys are in memory, never every signature at once.
    """
    songs = len(sets.track_ids)
    keys = np.empty((len(band_numbers), songs), dtype=np.uint64)
    orders = np.empty((len(band_numbers), songs), dtype=np.uint64)
    coverage = _SignatureCoverage(songs)
    for track_ids, signatures in signature_batches:
        _check_width(signatures, band_numbers, rows_per_band)
        rows = coverage.add(sets.rows_of(track_ids))
        for j, band in enumerate(band_numbers):
            keys[j, rows], orders[j, rows] = band_keys(signatures, int(band), rows_per_band)
    coverage.check()
    return keys, orders


def lsh_band_keys(
    signature_batches: Iterable[tuple[np.ndarray, np.ndarray]],
    sets: PlaylistSets,
    band_numbers: Sequence[int],
    rows_per_band: int,
) -> np.ndarray:
    """The bucket keys (bands x songs, songs as ``sets.lsh_rows``) of the songs answered through LSH in
    these bands: the buckets an index keeps. Of each piece of the signatures only those songs' rows are
    hashed."""
    queries = sets.lsh_rows
    keys = np.zeros((len(band_numbers), len(queries)), dtype=np.uint64)
    found = np.zeros(len(queries), dtype=bool)
    for track_ids, signatures in signature_batches:
        _check_width(signatures, band_numbers, rows_per_band)
        rows = sets.rows_of(track_ids)
        position, mine = found_in_sorted(queries, rows)
        if mine.any():
            position = position[mine]
            found[position] = True
            for j, band in enumerate(band_numbers):
                keys[j, position] = band_keys(signatures[mine], int(band), rows_per_band)[0]
    if not found.all():
        raise ValueError(f"{int((~found).sum())} songs answered through LSH have no signature")
    return keys


def kept_band_songs(
    signature_batches: Iterable[tuple[np.ndarray, np.ndarray]],
    sets: PlaylistSets,
    band_numbers: Sequence[int],
    rows_per_band: int,
    lsh_keys: np.ndarray,
) -> list[tuple[np.ndarray, np.ndarray, np.ndarray]]:
    """Per band: the rows (ascending), bucket keys and order keys of the songs in a bucket that holds a song
    answered through LSH (whose keys are ``lsh_keys``, ``lsh_band_keys``'). Every song's keys are computed
    piece by piece and only those songs' are kept, so memory holds one piece's keys and the kept songs
    (about 1% of the songs per band at 12.9M rows)."""
    wanted = [np.sort(band_lsh_keys) for band_lsh_keys in lsh_keys]
    parts: list[list[tuple[np.ndarray, np.ndarray, np.ndarray]]] = [[] for _ in band_numbers]
    coverage = _SignatureCoverage(len(sets.track_ids))
    for track_ids, signatures in signature_batches:
        _check_width(signatures, band_numbers, rows_per_band)
        rows = coverage.add(sets.rows_of(track_ids))
        for j, band in enumerate(band_numbers):
            key, order = band_keys(signatures, int(band), rows_per_band)
            hit = found_in_sorted(wanted[j], key)[1]
            parts[j].append((rows[hit], key[hit], order[hit]))
    coverage.check()
    kept = []
    for band_parts in parts:
        rows, keys, orders = (np.concatenate(column) for column in zip(*band_parts, strict=True))
        by_row = np.argsort(rows, kind="stable")
        kept.append((rows[by_row], keys[by_row], orders[by_row]))
    return kept


def _check_width(signatures: np.ndarray, band_numbers: Sequence[int], rows_per_band: int) -> None:
    needed = (max(band_numbers, default=-1) + 1) * rows_per_band
    if needed > signatures.shape[1]:
        raise ValueError(f"band {needed // rows_per_band - 1} needs {needed} signature values, "
                         f"the signatures have {signatures.shape[1]}")  # fmt: skip


class _SignatureCoverage:
    """Checks that the pieces of the signatures give every song of the playlist sets exactly one."""

    def __init__(self, songs: int) -> None:
        self.seen = np.zeros(songs, dtype=bool)
        self.pieces = 0

    def add(self, rows: np.ndarray) -> np.ndarray:
        self.seen[rows] = True
        self.pieces += len(rows)
        return rows

    def check(self) -> None:
        songs = len(self.seen)
        if self.pieces != songs or not self.seen.all():
            raise ValueError(
                f"{songs} songs are in playlists but {self.pieces} signatures cover {int(self.seen.sum())} of "
                "them: every song needs exactly one signature"
            )


class SongIndex:
    """The LSH band chunks of some bands (a band group, or all of them) over a song's playlist sets: of
    each band, the buckets that hold a song answered through LSH (``sets.lsh_rows``, the index's queries)."""

    def __init__(self, sets: PlaylistSets, max_bucket: int) -> None:
        if max_bucket < 2:
            raise ValueError("max_bucket must be at least 2")
        self.sets = sets
        self.query_rows = sets.lsh_rows
        self.max_bucket = max_bucket
        self.bands: list[BandChunks] = []
        self.band_stats: list[BandStats] = []

    def add_bands(self, keys: np.ndarray, orders: np.ndarray) -> None:
        """Chunk the bands whose bucket and order keys these are (``band_key_table``'s arrays)."""
        for band_keys_, band_orders in zip(keys, orders, strict=True):
            self._add(*query_band_chunks(band_keys_, band_orders, self.query_rows, self.max_bucket))

    def add_bands_read_twice(
        self,
        read_signatures: Callable[[], Iterable[tuple[np.ndarray, np.ndarray]]],
        band_numbers: Sequence[int],
        rows_per_band: int,
    ) -> None:
        """Add these bands from the signatures read piece by piece, twice: first the bucket keys of the songs
        answered through LSH (``lsh_band_keys``), then every song's, keeping the songs of those buckets
        (``kept_band_songs``). The same chunks as ``add_bands`` of the whole bands' keys."""
        lsh_keys = lsh_band_keys(read_signatures(), self.sets, band_numbers, rows_per_band)
        for kept in kept_band_songs(read_signatures(), self.sets, band_numbers, rows_per_band, lsh_keys):
            self._add(*kept_band_chunks(*kept, self.query_rows, self.max_bucket))

    def _add(self, chunks: BandChunks, band_stats: BandStats) -> None:
        self.bands.append(chunks)
        self.band_stats.append(band_stats)

    @property
    def stats(self) -> BandStats:
        stats = self.band_stats
        return BandStats(
            buckets=sum(s.buckets for s in stats),
            buckets_cut=sum(s.buckets_cut for s in stats),
            largest_bucket=max((s.largest_bucket for s in stats), default=0),
            largest_chunk=max((s.largest_chunk for s in stats), default=0),
            chunk_pairs=sum(s.chunk_pairs for s in stats),
        )

    @classmethod
    def from_signatures(
        cls,
        track_ids: np.ndarray,
        signatures: np.ndarray,
        playlist_ids: np.ndarray,
        playlist_track_ids: np.ndarray,
        bands: int,
        rows_per_band: int,
        max_bucket: int,
        exact_work: int = 0,
    ) -> SongIndex:
        """The index of every band, from a whole signature matrix (rows in ``track_ids`` order)."""
        sets = PlaylistSets(playlist_ids, playlist_track_ids, exact_work)
        index = cls(sets, max_bucket)
        index.add_bands(*band_key_table([(track_ids, signatures)], sets, range(bands), rows_per_band))
        return index

    def candidates(self, rows: np.ndarray) -> tuple[np.ndarray, np.ndarray, int]:
        """Distinct (song, candidate) row pairs for these songs (among ``query_rows``), sorted, and the pair
        instances before dedup."""
        songs = len(self.sets.track_ids)
        position, missing = positions_in_sorted(self.query_rows, rows)
        if missing:
            raise ValueError("the index answers only the songs answered through LSH (work above exact_work)")
        queries, partners = [], []
        for band in self.bands:
            chunk = band.chunk_of[position]
            has = chunk >= 0
            query_rows, chunk = rows[has], chunk[has]
            lo = band.offsets[chunk]
            sizes = band.offsets[chunk + 1] - lo
            queries.append(np.repeat(query_rows, sizes))
            partners.append(band.members[run_positions(lo, sizes)])
        query = np.concatenate(queries) if queries else np.empty(0, dtype=np.int64)
        partner = np.concatenate(partners) if partners else np.empty(0, dtype=np.int32)
        instances = len(query)
        codes = sorted_distinct(query.astype(np.int64) * songs + partner)
        query, partner = codes // songs, codes % songs
        keep = query != partner
        return query[keep], partner[keep], instances

    def recommend(self, track_ids: np.ndarray, k: int, exact_songs: bool = True) -> dict[str, np.ndarray | int]:
        """The top-k of each song (columns of the recommendations table) and the work counts.

        Songs whose exact work is at most ``exact_work`` are scored against every
        song sharing a playlist with them (exact top-k; skipped when not
        ``exact_songs``: another band group answers them); the others against
        their LSH candidates in this index's bands. The first ``exact_rows``
        rows are the exact songs'.
        """
        sets = self.sets
        rows = sets.rows_of(track_ids)
        exact = sets.work[rows] <= sets.exact_work
        exact_found, exact_pairs = sets.exact_top_k(rows[exact] if exact_songs else rows[:0], k)
        query, partner, instances = self.candidates(rows[~exact])
        shared = sets.shared_playlists(query, partner)
        candidate_pairs = len(query)
        scored = shared > 0
        query, partner, shared = query[scored], partner[scored], shared[scored]
        similarity = shared / (sets.degree[query] + sets.degree[partner] - shared)
        lsh_found = top_k_per_song(query, partner, shared, similarity, k, sets.track_ids)
        query, partner, shared, similarity, rank = (
            np.concatenate(columns) for columns in zip(exact_found, lsh_found, strict=True)
        )
        return {
            "track_id": sets.track_ids[query],
            "recommended_track_id": sets.track_ids[partner],
            "rank": rank.astype(np.int32),
            "similarity": similarity,
            "shared_playlists": shared.astype(np.int32),
            "exact_rows": len(exact_found[0]),
            "songs_exact": int(exact.sum()),
            "songs_lsh": int((~exact).sum()),
            "pair_instances": instances,
            "lsh_candidate_pairs": candidate_pairs,
            "candidate_pairs": exact_pairs + candidate_pairs,  # (song, other song) pairs considered, both ways
            "scored_pairs": exact_pairs + int(scored.sum()),  # of those, the pairs sharing a playlist
        }
