"""The Spotify Playlists dataset's file format, as the download and the extract job both check it.

The zip holds one member, ``spotify_dataset.csv``, whose first line is the header
``"user_id", "artistname", "trackname", "playlistname"`` (a space after each comma; docs/dataset.md).
"""

from __future__ import annotations

CSV_MEMBER_NAME = "spotify_dataset.csv"
EXPECTED_COLUMNS = ["user_id", "artistname", "trackname", "playlistname"]
ZIP_LOCAL_HEADER = b"PK\x03\x04"
# The header is a few dozen bytes: a first line longer than this is not it, and need not be read whole.
HEADER_MAX_BYTES = 64 * 1024


def header_problem(first_line: str) -> str | None:
    """Why a CSV's first line (without its line end or byte-order mark) is not the dataset's header; None if it is."""
    columns = [part.strip().strip('"') for part in first_line.split(",")]
    if columns == EXPECTED_COLUMNS:
        return None
    shown = first_line if len(first_line) <= 200 else first_line[:200] + "..."
    return f"{CSV_MEMBER_NAME} starts with {shown!r}, not the header naming the columns {EXPECTED_COLUMNS}"
