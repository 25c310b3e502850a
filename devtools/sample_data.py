"""Generate a sample of the Spotify Playlists dataset in exactly its real format.

Output: a zip holding one file, ``spotify_dataset.csv``, with the real header
(``"user_id", "artistname", "trackname", "playlistname"``, a space after each
comma), every field in double quotes, ``\\`` as the escape character, one
record per line. Exactly ``rows`` data lines are written.

The content is deterministic for a given ``(rows, seed)`` and shaped like the
real data (its published figures: docs/dataset.md; ``make dataset-shape`` compares
a file with them): Zipf-like song popularity with a long tail, a median of about 9
playlists per user, playlist sizes with a median of about 20 and a heavy tail,
one user far bigger than the rest, a "Starred" playlist for many users that can
be very large, a "Liked from Radio" one for some, a long tail of playlist names,
songs grouped into genres so that playlists share songs the way real ones do, a
few spelling variants of the same song (which the pipeline's name normalisation
must merge), plus a sprinkling of blank artist and track names, malformed lines,
quotes, commas and backslashes inside fields, and non-ASCII names.

Usage: ``python -m devtools.sample_data --rows 100000 --seed 7 --out sample.zip``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CSV_MEMBER_NAME = "spotify_dataset.csv"
HEADER_LINE = '"user_id", "artistname", "trackname", "playlistname"'

BLANK_ARTIST_RATE = 0.0026
BLANK_TRACK_RATE = 0.0000064
BLANK_PLAYLIST_RATE = 0.0000066
SPELLING_VARIANT_RATE = 0.05
MALFORMED_LINES_PER_ROW = 1 / 10_000
EXAMPLE_ARTIST, EXAMPLE_TRACK = "Björk", "Jóga"  # the lookup page's placeholders
IN_GENRE_SHARE = 0.85

# Calibrated to the real file at 12.9M rows (docs/dataset.md; the comparison is in
# docs/performance.md, "Sample data against the real file"): at seed 5, 2.03M distinct
# track names (real 2.04M), 328K artist names (290K), 1.58M songs in at least 2
# playlists (1.63M), 16.3K users (15.9K). Every size below scales with the rows.
SONGS_PER_ROW = 0.25
SONG_POPULARITY_EXPONENT = 0.9
ARTISTS_PER_SONG = 0.09
ARTIST_POPULARITY_EXPONENT = 0.9
PLAYLIST_NAMES_PER_ROW = 0.08
PLAYLIST_NAME_POPULARITY_EXPONENT = 0.7
COMMON_TRACK_NAME_SHARE = 0.1
TRACK_VOCABULARY = 60_000
_TRACK_WORDS = [0.2, 0.45, 0.25, 0.1]  # how often a made-up track name has 1, 2, 3 or 4 words
PLAYLISTS_PER_USER = (8, 1.0, 1, 309)  # lognormal median, sigma; clipped to [low, high]
TRACKS_PER_PLAYLIST = (20, 1.4, 1, 3000)
# A zip member of more than 4 GiB needs ZIP64 (about 84 bytes a line: 51M rows). The real file's 12.9M rows
# do not, and are written without it; from this many rows on, the sample is written with it.
ZIP64_FROM_ROWS = 40_000_000
# One user far bigger than the rest, as in the real file (295,292 of its 12.9M rows, in up to 309 playlists).
HEAVY_USER_NUMBER = 2
HEAVY_USER_SHARE = 0.023
HEAVY_USER_PLAYLISTS = 309
HEAVY_USER_TRACKS_PER_PLAYLIST = 900  # one more playlist per this many of its tracks, up to HEAVY_USER_PLAYLISTS
HEAVY_USER_PLAYLIST_SIGMA = 1.0
# Spotify's default lists: (name, share of users who have one, lognormal size); they draw from every genre.
DEFAULT_PLAYLISTS = [("Starred", 0.35, (100, 1.3, 5, 50_000)), ("Liked from Radio", 0.15, (40, 1.2, 1, 5000))]

_SYLLABLES = [
    "ka",
    "lo",
    "mi",
    "ra",
    "ve",
    "to",
    "shi",
    "an",
    "el",
    "dor",
    "ney",
    "sa",
    "qu",
    "ix",
    "bel",
    "mon",
    "ta",
    "ri",
    "gu",
    "zo",
    "pe",
    "lin",
    "har",
    "wes",
    "ton",
    "cy",
]
_WORDS = [
    "love",
    "night",
    "home",
    "fire",
    "dream",
    "heart",
    "city",
    "rain",
    "gold",
    "road",
    "light",
    "blue",
    "wild",
    "time",
    "river",
    "dance",
    "summer",
    "ghost",
    "star",
    "echo",
    "young",
    "stone",
    "sky",
    "run",
    "ocean",
    "paper",
    "silver",
    "shadow",
    "morning",
    "island",
]
# Real names the dataset contains plenty of: non-ASCII letters, quotes,
# backslashes, commas and ampersands inside fields.
_SPECIAL_ARTISTS = [
    "Björk",  # (at an even index: never drawn; it is EXAMPLE_ARTIST, artist 0)
    "Sigur Rós",
    "Mötley Crüe",
    "Beyoncé",
    "東京事変",
    "Ólafur Arnalds",
    'The "Quoted" Band',
    "AC\\DC Tribute",
    "Simon & Garfunkel",
    "Earth, Wind & Fire",
    "Hall  &  Oates",
    "Café Tacvba",
]
_SPECIAL_TRACKS = [
    'Say "Hello"',
    "Back\\slash Blues",
    "Nós, Nós",
    "Über Alles",
    "Ça plane pour moi",
    "Intro",
    "Home",
    "Señorita",
    "Road (Remastered 2011)",
    "Stay [Live]",
    "A/B Side",
]
_PLAYLIST_NAMES = [
    "HARD ROCK 2010",
    "Chill",
    "Workout",
    "Roadtrip",
    "Party",
    "Sleep",
    "Running",
    "Summer 2014",
    "Sunday morning",
    "Focus",
    "Indie",
    "90s",
    "Café del Mar",
    "Mix",
]


@dataclass(frozen=True)
class Catalogue:
    """Songs (with their canonical spelling), their genres and popularity."""

    artist_names: list[str]
    track_names: list[str]
    song_artist: np.ndarray
    song_genre: np.ndarray
    song_weight: np.ndarray
    playlist_names: list[str]
    playlist_name_cumulative: np.ndarray


@dataclass(frozen=True)
class Playlist:
    """One generated playlist: its owner, its name and its songs (catalogue indices, in order)."""

    user_id: str
    name: str
    songs: np.ndarray


def escape_field(value: str) -> str:
    """Quote one field the way the real file does: backslash escapes, double quotes around."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_line(user_id: str, artist: str, track: str, playlist: str) -> str:
    return ",".join(escape_field(v) for v in (user_id, artist, track, playlist))


def _pseudo_words(rng: np.random.Generator, count: int, low: int, high: int) -> list[str]:
    """``count`` made-up words of ``low`` to ``high`` syllables each."""
    lengths = rng.integers(low, high + 1, count)
    syllables = rng.integers(0, len(_SYLLABLES), int(lengths.sum()))
    ends = np.cumsum(lengths)
    return ["".join(_SYLLABLES[int(j)] for j in syllables[end - n : end]) for n, end in zip(lengths, ends, strict=True)]


def _artist_names(rng: np.random.Generator, count: int) -> list[str]:
    """Distinct artist names, the real file's awkward ones among the first."""
    words = _pseudo_words(rng, 2 * count, 2, 4)
    two_words = rng.random(count) < 0.3
    with_the = rng.random(count) < 0.25
    names, seen = [], set()
    for i in range(count):
        if i < len(_SPECIAL_ARTISTS) and i % 2 == 1:
            name = _SPECIAL_ARTISTS[i]
        else:
            name = words[2 * i].title() + (" " + words[2 * i + 1].title() if two_words[i] else "")
            name = "The " + name if with_the[i] else name
        while name.lower() in seen:
            name += " " + _SYLLABLES[int(rng.integers(0, len(_SYLLABLES)))]
        seen.add(name.lower())
        names.append(name)
    return names


def _track_names(rng: np.random.Generator, count: int) -> list[str]:
    """Track names: mostly made-up words, a share of common ones that many artists use ("Home", "Intro")."""
    common = rng.random(count) < COMMON_TRACK_NAME_SHARE
    lengths = np.where(common, rng.integers(1, 3, count), rng.choice(len(_TRACK_WORDS), count, p=_TRACK_WORDS) + 1)
    vocabulary = _pseudo_words(rng, TRACK_VOCABULARY, 2, 4)
    picks = np.where(
        np.repeat(common, lengths),
        rng.integers(0, len(_WORDS), int(lengths.sum())),
        rng.integers(0, len(vocabulary), int(lengths.sum())),
    )
    ends = np.cumsum(lengths)
    names = []
    for i, (n, end) in enumerate(zip(lengths, ends, strict=True)):
        if i < len(_SPECIAL_TRACKS) * 3 and i % 3 == 0:
            names.append(_SPECIAL_TRACKS[i // 3])
            continue
        words = _WORDS if common[i] else vocabulary
        names.append(" ".join(words[int(j)] for j in picks[end - n : end]).title())
    return names


def _build_catalogue(rng: np.random.Generator, rows: int) -> Catalogue:
    song_count = max(60, int(rows * SONGS_PER_ROW))
    artist_count = max(12, int(song_count * ARTISTS_PER_SONG))
    genre_count = max(3, int(np.sqrt(song_count) / 3))

    artist_names = _artist_names(rng, artist_count)
    artist_weight = 1.0 / np.arange(1, artist_count + 1) ** ARTIST_POPULARITY_EXPONENT
    song_artist = rng.choice(artist_count, size=song_count, p=artist_weight / artist_weight.sum())
    track_names = _track_names(rng, song_count)

    # Zipf-like popularity over a random order of the catalogue: a few hits, a long tail.
    ranks = rng.permutation(song_count) + 1
    song_weight = 1.0 / ranks**SONG_POPULARITY_EXPONENT
    song_genre = rng.integers(0, genre_count, song_count)
    # The lookup page's example ("e.g. Björk", "e.g. Jóga") is the catalogue's biggest hit, so it is found in
    # every sample. Set after the random draws, so the rest of a sample stays as it was for its seed.
    hit = int(np.argmax(song_weight))
    artist_names[0], song_artist[hit], track_names[hit] = EXAMPLE_ARTIST, 0, EXAMPLE_TRACK

    # Playlist names: a few very common ones, then a long tail of made-up ones.
    made_up = _pseudo_words(rng, 2 * int(rows * PLAYLIST_NAMES_PER_ROW), 2, 3)
    playlist_names = _PLAYLIST_NAMES + [f"{a} {b}".title() for a, b in zip(made_up[::2], made_up[1::2], strict=True)]
    name_weight = 1.0 / np.arange(1, len(playlist_names) + 1) ** PLAYLIST_NAME_POPULARITY_EXPONENT
    return Catalogue(
        artist_names, track_names, song_artist, song_genre, song_weight, playlist_names, _cumulative(name_weight)
    )


def _spelling(rng: np.random.Generator, artist: str, track: str) -> tuple[str, str]:
    """A rarer raw spelling of a song that the seed's normalisation maps back to the same song."""
    variant = int(rng.integers(0, 5))
    if variant == 0:
        return artist, track + " (Remastered)"
    if variant == 1:
        return artist, track + " - Live"
    if variant == 2:
        return artist.replace(" ", "  "), track
    if variant == 3:
        return artist.upper(), track
    return artist, "[Bonus] " + track


def _malformed_line(rng: np.random.Generator, user_id: str) -> str:
    kind = int(rng.integers(0, 4))
    if kind == 0:
        return f'"{user_id}","Only Three Fields","Some Song"'
    if kind == 1:
        return f'"{user_id}","Unterminated,"Some Song","Mix'
    if kind == 2:
        return f'"{user_id}","Stray "quote" Artist","Some Song","Mix"'
    return f'"{user_id}","Artist","Song","Mix","extra field"'


def _cumulative(weights: np.ndarray) -> np.ndarray:
    cumulative = np.cumsum(weights)
    return cumulative / cumulative[-1]


def _pick_songs(
    rng: np.random.Generator,
    size: int,
    genre: int,
    songs_by_genre: list[np.ndarray],
    genre_cumulative: list[np.ndarray],
    global_cumulative: np.ndarray,
) -> np.ndarray:
    """Up to ``size`` distinct songs for one playlist, mostly from its genre (genre -1: any)."""
    draws = rng.random(2 * size)
    if genre >= 0:
        from_genre = rng.random(2 * size) < IN_GENRE_SHARE
    else:
        from_genre = np.zeros(2 * size, dtype=bool)
    picks = np.searchsorted(global_cumulative, draws)
    if from_genre.any():
        members = songs_by_genre[genre]
        picks[from_genre] = members[np.searchsorted(genre_cumulative[genre], draws[from_genre])]
    # A playlist rarely holds a song twice: keep the first occurrence of each.
    _, first = np.unique(picks, return_index=True)
    return picks[np.sort(first)][:size]


def _lognormal_size(rng: np.random.Generator, median: float, sigma: float, low: float, high: float) -> int:
    return int(np.clip(np.round(np.exp(rng.normal(np.log(median), sigma))), low, high))


def _heavy_user_playlists(rows: int) -> tuple[int, tuple[float, float, int, int]]:
    """How many playlists the heavy user has, and their size (as TRACKS_PER_PLAYLIST) for a file of ``rows``."""
    tracks = rows * HEAVY_USER_SHARE
    count = int(np.clip(tracks // HEAVY_USER_TRACKS_PER_PLAYLIST, 1, HEAVY_USER_PLAYLISTS))
    median = max(1.0, tracks / count / np.exp(HEAVY_USER_PLAYLIST_SIGMA**2 / 2))
    return count, (median, HEAVY_USER_PLAYLIST_SIGMA, 1, 50_000)


def generate_playlists(catalogue: Catalogue, seed: int, rows: int) -> Iterator[Playlist]:
    """Users' playlists over ``catalogue`` (made for ``rows``), endlessly, deterministic for ``seed``."""
    heavy_count, heavy_size = _heavy_user_playlists(rows)
    rng = np.random.default_rng([seed, 1])
    songs_by_genre = [np.flatnonzero(catalogue.song_genre == g) for g in range(catalogue.song_genre.max() + 1)]
    genre_cumulative = [_cumulative(catalogue.song_weight[s]) for s in songs_by_genre]
    global_cumulative = _cumulative(catalogue.song_weight)
    user_number = 0
    while True:
        user_number += 1
        user_id = hashlib.md5(f"user-{seed}-{user_number}".encode()).hexdigest()
        favourite_genres = rng.integers(0, len(songs_by_genre), 2)
        playlists: list[tuple[str, int, int]] = []
        names: set[str] = set()
        heavy = user_number == HEAVY_USER_NUMBER
        playlist_count = heavy_count if heavy else _lognormal_size(rng, *PLAYLISTS_PER_USER)
        sizes = heavy_size if heavy else TRACKS_PER_PLAYLIST
        for number in range(playlist_count):
            name = catalogue.playlist_names[int(np.searchsorted(catalogue.playlist_name_cumulative, rng.random()))]
            name = name if name not in names else f"{name} {number}"
            names.add(name)
            playlists.append((name, _lognormal_size(rng, *sizes), int(favourite_genres[number % 2])))
        for name, share, default_size in DEFAULT_PLAYLISTS:
            if rng.random() < share:
                playlists.append((name, _lognormal_size(rng, *default_size), -1))
        for name, size, genre in playlists:
            picks = _pick_songs(rng, size, genre, songs_by_genre, genre_cumulative, global_cumulative)
            yield Playlist(user_id, name, picks)


def generate_lines(rows: int, seed: int):
    """Yield the header and then exactly ``rows`` data lines (without newlines)."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    catalogue = _build_catalogue(np.random.default_rng(seed), rows)
    noise = np.random.default_rng([seed, 2])  # spellings, blanks and malformed lines
    malformed_every = int(1 / MALFORMED_LINES_PER_ROW) if rows >= 20_000 else max(50, rows // 5)

    yield HEADER_LINE
    written = 0
    for playlist in generate_playlists(catalogue, seed, rows):
        for song in playlist.songs:
            if written >= rows:
                return
            written += 1
            if written % malformed_every == 0:
                yield _malformed_line(noise, playlist.user_id)
                continue
            artist = catalogue.artist_names[catalogue.song_artist[song]]
            track = catalogue.track_names[song]
            if noise.random() < SPELLING_VARIANT_RATE:
                artist, track = _spelling(noise, artist, track)
            name = playlist.name
            roll = noise.random()
            if roll < BLANK_ARTIST_RATE:
                artist = ""
            elif roll < BLANK_ARTIST_RATE + BLANK_TRACK_RATE:
                track = ""
            elif roll < BLANK_ARTIST_RATE + BLANK_TRACK_RATE + BLANK_PLAYLIST_RATE:
                name = ""
            yield format_line(playlist.user_id, artist, track, name)


def write_sample_zip(path: str | os.PathLike, rows: int, seed: int = 0) -> Path:
    """Write the sample zip to ``path`` (atomically) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(CSV_MEMBER_NAME, "w", force_zip64=rows >= ZIP64_FROM_ROWS) as member:
            with io.TextIOWrapper(member, encoding="utf-8", newline="\n") as text:
                for line in generate_lines(rows, seed):
                    text.write(line)
                    text.write("\n")
    partial.replace(path)
    return path


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000, help="data lines to write (default 100000)")
    parser.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    parser.add_argument("--out", required=True, help="path of the zip to write")
    args = parser.parse_args(argv)
    path = write_sample_zip(args.out, args.rows, args.seed)
    print(f"wrote {args.rows} rows to {path}")


if __name__ == "__main__":
    main()
