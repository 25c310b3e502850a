"""An independent reference for the pipeline's answers, in plain Python from the raw CSV.

It re-reads the dataset with Python's csv module, applies the seed's
normalisation rules with ``re``, and computes exact Jaccard similarities of
songs' playlist sets, so the tests compare the pipeline with a second,
separately written implementation rather than with itself.
"""

from __future__ import annotations

import csv
import io
import re
import zipfile
from collections import Counter, defaultdict
from dataclasses import dataclass, field


def normalise_artist(name: str) -> str:
    return " ".join(name.replace("&", " and ").split()).lower()


def normalise_track(name: str) -> str:
    without_brackets = re.sub(r"\([^)]*\)|\[[^\]]*\]", " ", name)
    shortened = " ".join(re.split(r"- |/", without_brackets, maxsplit=1)[0].split())
    return (shortened or " ".join(name.split())).lower()


def song_key(artist: str, track: str) -> tuple[str, str]:
    return normalise_artist(artist), normalise_track(track)


def _fields(line: str) -> list[str] | None:
    """The four fields of a well-formed line, else None (quotes must wrap every field)."""
    if not re.fullmatch(r'"(?:[^"\\]|\\.)*"(?:,\s*"(?:[^"\\]|\\.)*"){3}\s*', line):
        return None
    return next(csv.reader(io.StringIO(line), escapechar="\\", doublequote=False, skipinitialspace=True))


@dataclass
class Reference:
    playlists_of: dict[tuple[str, str], set[tuple[str, str]]] = field(default_factory=lambda: defaultdict(set))
    rejected: Counter = field(default_factory=Counter)
    rows_read: int = 0
    # playlist (user, name) -> its distinct songs in the order of their first line
    songs_of: dict[tuple[str, str], list[tuple[str, str]]] = field(default_factory=dict)

    def without(self, playlists: set[tuple[str, str]]) -> Reference:
        """The same data without these playlists (a hold-out): songs left in none are gone."""
        kept = Reference(rejected=self.rejected, rows_read=self.rows_read)
        for song, holding in self.playlists_of.items():
            if holding - playlists:
                kept.playlists_of[song] = holding - playlists
        kept.songs_of = {key: songs for key, songs in self.songs_of.items() if key not in playlists}
        return kept

    def kept_songs(self, min_playlists: int) -> dict[tuple[str, str], set]:
        return {song: p for song, p in self.playlists_of.items() if len(p) >= min_playlists}

    def jaccard(self, a, b) -> tuple[float, int]:
        shared = len(self.playlists_of[a] & self.playlists_of[b])
        return shared / len(self.playlists_of[a] | self.playlists_of[b]), shared

    def neighbours(self, song, kept: dict, songs_in: dict) -> list[tuple[float, tuple[str, str]]]:
        """Every kept song sharing a playlist with ``song``, best first, with its exact Jaccard similarity."""
        candidates = set().union(*(songs_in[p] for p in kept[song])) - {song}
        return sorted(((self.jaccard(song, other)[0], other) for other in candidates), reverse=True)


def songs_by_playlist(kept: dict) -> dict:
    """The inverted index: playlist -> the kept songs in it."""
    songs_in = defaultdict(set)
    for song, playlists in kept.items():
        for playlist in playlists:
            songs_in[playlist].add(song)
    return songs_in


def read_reference(zip_path) -> Reference:
    reference = Reference()
    with zipfile.ZipFile(zip_path) as archive:
        lines = archive.read("spotify_dataset.csv").decode("utf-8").splitlines()
    for line in lines[1:]:
        reference.rows_read += 1
        fields = _fields(line)
        if fields is None:
            reference.rejected["malformed_line"] += 1
            continue
        user, artist, track, playlist = fields
        if not user.strip():
            reference.rejected["blank_user_id"] += 1
        elif not artist.strip():
            reference.rejected["blank_artist"] += 1
        elif not track.strip():
            reference.rejected["blank_track"] += 1
        else:
            song = song_key(artist, track)
            reference.playlists_of[song].add((user, playlist))
            songs = reference.songs_of.setdefault((user, playlist), [])
            if song not in songs:
                songs.append(song)
    return reference
