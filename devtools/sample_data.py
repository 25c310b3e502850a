"""Generate a sample of the Spotify Playlists dataset in exactly its real format.

Output: a zip holding one file, ``spotify_dataset.csv``, with the real header
(``"user_id", "artistname", "trackname", "playlistname"``, a space after each
comma), every field in double quotes, ``\\`` as the escape character, one
record per line. Exactly ``rows`` data lines are written.

The content is deterministic for a given ``(rows, seed)`` and shaped like the
real data (its published figures: docs/dataset.md): Zipf-like song popularity with a
long tail, a median of about 9 playlists per user, playlist sizes with a median
of about 20 and a heavy tail, a "Starred" playlist for many users that can be
very large, songs grouped into genres so that playlists share songs the way
real ones do, a few spelling variants of the same song (which the pipeline's
name normalisation must merge), plus a sprinkling of blank artist and track
names, malformed lines, quotes, commas and backslashes inside fields, and
non-ASCII names.

Usage: ``python -m devtools.sample_data --rows 100000 --seed 7 --out sample.zip``
"""

from __future__ import annotations

import argparse
import hashlib
import io
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np

CSV_MEMBER_NAME = "spotify_dataset.csv"
HEADER_LINE = '"user_id", "artistname", "trackname", "playlistname"'

BLANK_ARTIST_RATE = 0.0026
BLANK_TRACK_RATE = 0.0002
BLANK_PLAYLIST_RATE = 0.0001
SPELLING_VARIANT_RATE = 0.05
MALFORMED_LINES_PER_ROW = 1 / 10_000
EXAMPLE_ARTIST, EXAMPLE_TRACK = "Björk", "Jóga"  # the lookup page's placeholders
STARRED_USER_SHARE = 0.4
IN_GENRE_SHARE = 0.85

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


def escape_field(value: str) -> str:
    """Quote one field the way the real file does: backslash escapes, double quotes around."""
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def format_line(user_id: str, artist: str, track: str, playlist: str) -> str:
    return ",".join(escape_field(v) for v in (user_id, artist, track, playlist))


def _name(rng: np.random.Generator, parts: list[str], low: int, high: int) -> str:
    count = int(rng.integers(low, high + 1))
    return " ".join(parts[int(i)] for i in rng.integers(0, len(parts), count))


def _build_catalogue(rng: np.random.Generator, rows: int) -> Catalogue:
    song_count = max(60, rows // 8)
    artist_count = max(12, song_count // 7)
    genre_count = max(3, int(np.sqrt(song_count) / 3))

    artist_names = []
    seen: set[str] = set()
    for i in range(artist_count):
        if i < len(_SPECIAL_ARTISTS) and i % 2 == 1:
            name = _SPECIAL_ARTISTS[i]
        else:
            name = "".join(_SYLLABLES[int(j)] for j in rng.integers(0, len(_SYLLABLES), 3)).title()
            name = name if rng.random() > 0.3 else "The " + name
        while name.lower() in seen:
            name += " " + _SYLLABLES[int(rng.integers(0, len(_SYLLABLES)))]
        seen.add(name.lower())
        artist_names.append(name)

    artist_weight = 1.0 / np.arange(1, artist_count + 1) ** 0.9
    song_artist = rng.choice(artist_count, size=song_count, p=artist_weight / artist_weight.sum())
    track_names = []
    for i in range(song_count):
        if i < len(_SPECIAL_TRACKS) * 3 and i % 3 == 0:
            track_names.append(_SPECIAL_TRACKS[i // 3])
        else:
            track_names.append(_name(rng, _WORDS, 1, 3).title())

    # Zipf-like popularity over a random order of the catalogue: a few hits, a long tail.
    ranks = rng.permutation(song_count) + 1
    song_weight = 1.0 / ranks**1.05
    song_genre = rng.integers(0, genre_count, song_count)
    # The lookup page's example ("e.g. Björk", "e.g. Jóga") is the catalogue's biggest hit, so it is found in
    # every sample. Set after the random draws, so the rest of a sample stays as it was for its seed.
    hit = int(np.argmax(song_weight))
    artist_names[0], song_artist[hit], track_names[hit] = EXAMPLE_ARTIST, 0, EXAMPLE_TRACK
    return Catalogue(artist_names, track_names, song_artist, song_genre, song_weight)


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


def generate_lines(rows: int, seed: int):
    """Yield the header and then exactly ``rows`` data lines (without newlines)."""
    if rows < 1:
        raise ValueError(f"rows must be at least 1, got {rows}")
    rng = np.random.default_rng(seed)
    catalogue = _build_catalogue(rng, rows)
    songs_by_genre = [np.flatnonzero(catalogue.song_genre == g) for g in range(catalogue.song_genre.max() + 1)]
    genre_cumulative = [_cumulative(catalogue.song_weight[s]) for s in songs_by_genre]
    global_cumulative = _cumulative(catalogue.song_weight)
    malformed_every = int(1 / MALFORMED_LINES_PER_ROW) if rows >= 20_000 else max(50, rows // 5)

    yield HEADER_LINE
    written = 0
    user_number = 0
    while written < rows:
        user_number += 1
        user_id = hashlib.md5(f"user-{seed}-{user_number}".encode()).hexdigest()
        favourite_genres = rng.integers(0, len(songs_by_genre), 2)
        playlist_count = int(np.clip(np.round(np.exp(rng.normal(np.log(9), 0.9))), 1, 309))
        playlists: list[tuple[str, int, int]] = []
        for number in range(playlist_count):
            base = _PLAYLIST_NAMES[int(rng.integers(0, len(_PLAYLIST_NAMES)))]
            name = base if number == 0 else f"{base} {number}"
            size = int(np.clip(np.round(np.exp(rng.normal(np.log(20), 1.6))), 1, 3000))
            playlists.append((name, size, int(favourite_genres[number % 2])))
        if rng.random() < STARRED_USER_SHARE:
            starred_size = int(np.clip(np.round(np.exp(rng.normal(np.log(150), 1.4))), 5, 50_000))
            playlists.append(("Starred", starred_size, -1))

        for name, size, genre in playlists:
            picks = _pick_songs(rng, size, genre, songs_by_genre, genre_cumulative, global_cumulative)
            for song in picks:
                if written >= rows:
                    return
                written += 1
                if written % malformed_every == 0:
                    yield _malformed_line(rng, user_id)
                    continue
                artist = catalogue.artist_names[catalogue.song_artist[song]]
                track = catalogue.track_names[song]
                if rng.random() < SPELLING_VARIANT_RATE:
                    artist, track = _spelling(rng, artist, track)
                playlist = name
                roll = rng.random()
                if roll < BLANK_ARTIST_RATE:
                    artist = ""
                elif roll < BLANK_ARTIST_RATE + BLANK_TRACK_RATE:
                    track = ""
                elif roll < BLANK_ARTIST_RATE + BLANK_TRACK_RATE + BLANK_PLAYLIST_RATE:
                    playlist = ""
                yield format_line(user_id, artist, track, playlist)


def write_sample_zip(path: str | os.PathLike, rows: int, seed: int = 0) -> Path:
    """Write the sample zip to ``path`` (atomically) and return the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    with zipfile.ZipFile(partial, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        with archive.open(CSV_MEMBER_NAME, "w") as member:
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
