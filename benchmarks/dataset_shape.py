"""The shape of a Spotify Playlists file beside the real file's published figures.

Reads the zip's CSV with pyarrow (the dataset's format: quoted fields, ``\\``
escapes) and prints, for each figure of docs/dataset.md, the file's value and the
real one. Lines that do not parse as four fields are counted, not read. With
``--run-dir`` (a run folder whose extract ran on this file) it adds the
pipeline's own song counts: distinct songs after name normalisation and songs
in at least 2 playlists, the figure the similarity engine's work grows with.

Usage: ``python -m benchmarks.dataset_shape sample.zip [--run-dir RUN] [--json F]``
(``make dataset-shape ZIP=... [RUN_DIR=...]``).
"""

from __future__ import annotations

import argparse
import io
import json
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from benchmarks.report import print_figures
from pipeline.dataset_format import EXPECTED_COLUMNS
from pipeline.run_folder import RunFolder

# docs/dataset.md ("Shape"), except the songs in at least 2 playlists: issue #13's
# figure for an unseen 12.9M-row file shaped like the real one.
REAL_FILE: dict[str, float] = {
    "rows": 12_891_571,
    "users": 15_918,
    "distinct artist names": 289_753,
    "distinct track names": 2_035_902,
    "distinct playlist names": 160_138,
    "blank artistname rows": 33_767,
    "blank trackname rows": 82,
    "blank playlistname rows": 85,
    "malformed lines": 1_205,
    "playlists per user, mean": 15,
    "playlists per user, median": 9,
    "playlists per user, max": 309,
    "tracks per playlist, mean": 81,
    "tracks per playlist, median": 20,
    "tracks per user, mean": 810,
    "tracks per user, median": 358,
    "tracks per user, max": 295_292,
    '"Starred" rows': 1_337_164,
    '"Liked from Radio" rows': 180_083,
    "share of artists in one row only": 0.386,
    "songs in at least 2 playlists": 1_630_000,
}


def csv_bytes(zip_path: Path) -> bytes:
    """The zip's one member (the CSV), decompressed into memory."""
    with zipfile.ZipFile(zip_path) as archive:
        (member,) = archive.namelist()
        return archive.read(member)


def parse_csv(data: bytes, on_invalid_row: Callable[[Any], str]) -> pa.Table:
    """pyarrow's parse of the real format (backslash escapes, no doubled quotes, a header): four string
    columns; ``on_invalid_row`` is pyarrow's ``invalid_row_handler`` (it returns ``"skip"``)."""
    return pacsv.read_csv(
        io.BytesIO(data),
        read_options=pacsv.ReadOptions(column_names=list(EXPECTED_COLUMNS), skip_rows=1),
        parse_options=pacsv.ParseOptions(
            quote_char='"', double_quote=False, escape_char="\\", invalid_row_handler=on_invalid_row
        ),
        convert_options=pacsv.ConvertOptions(
            column_types={name: pa.string() for name in EXPECTED_COLUMNS}, strings_can_be_null=False
        ),
    )


def read_rows(zip_path: Path) -> tuple[pa.Table, int, int]:
    """The file's well-formed rows (four string columns), how many rows pyarrow refused, and the data lines.

    A line with an unterminated quote runs into the next one, so pyarrow's rows and
    refusals need not add up to the lines (the extract job counts each line itself).
    """
    malformed = 0

    def count_malformed(_row: Any) -> str:
        nonlocal malformed
        malformed += 1
        return "skip"

    data = csv_bytes(zip_path)
    lines = data.count(b"\n") + (0 if data.endswith(b"\n") else 1) - 1
    return parse_csv(data, count_malformed), malformed, lines


def _stats(values: pa.Array, label: str, with_max: bool) -> dict[str, float]:
    figures = {
        f"{label}, mean": round(pc.mean(values).as_py(), 1),
        f"{label}, median": pc.quantile(values, q=0.5)[0].as_py(),
    }
    if with_max:
        figures[f"{label}, max"] = pc.max(values).as_py()
    return figures


def shape(table: pa.Table, malformed: int, lines: int) -> dict[str, float]:
    """Every figure of REAL_FILE but the songs, measured on ``table`` (rows as read by ``read_rows``)."""
    named = table.filter(pc.not_equal(table["playlistname"], ""))
    playlists = named.group_by(["user_id", "playlistname"]).aggregate([([], "count_all")])
    playlists_per_user = playlists.group_by(["user_id"]).aggregate([([], "count_all")])["count_all"]
    tracks_per_user = table.group_by(["user_id"]).aggregate([([], "count_all")])["count_all"]
    artists = table.filter(pc.not_equal(table["artistname"], "")).group_by(["artistname"])
    artist_rows = artists.aggregate([([], "count_all")])["count_all"]
    blank = {name: pc.sum(pc.equal(table[name], "")).as_py() for name in EXPECTED_COLUMNS[1:]}
    rows_named = {
        name: pc.sum(pc.equal(table["playlistname"], name)).as_py() for name in ("Starred", "Liked from Radio")
    }

    def distinct(name: str) -> int:
        return pc.count_distinct(pc.drop_null(pc.if_else(pc.equal(table[name], ""), None, table[name]))).as_py()

    return {
        "rows": lines,
        "users": pc.count_distinct(table["user_id"]).as_py(),
        "distinct artist names": distinct("artistname"),
        "distinct track names": distinct("trackname"),
        "distinct playlist names": distinct("playlistname"),
        "blank artistname rows": blank["artistname"],
        "blank trackname rows": blank["trackname"],
        "blank playlistname rows": blank["playlistname"],
        "malformed lines (rows pyarrow refuses)": malformed,
        **_stats(playlists_per_user, "playlists per user", with_max=True),
        **_stats(playlists["count_all"], "tracks per playlist", with_max=False),
        **_stats(tracks_per_user, "tracks per user", with_max=True),
        '"Starred" rows': rows_named["Starred"],
        '"Liked from Radio" rows': rows_named["Liked from Radio"],
        "share of artists in one row only": round(pc.sum(pc.equal(artist_rows, 1)).as_py() / len(artist_rows), 3),
    }


def song_figures(run_dir: Path) -> dict[str, float]:
    """The pipeline's song counts, from the extract stage's metrics of a run on the same file."""
    metrics = RunFolder(run_dir).read_metrics("extract")
    if metrics["min_playlists"] != 2 or metrics["holdout_fraction"] != 0:
        raise SystemExit(
            f"{run_dir}: extract ran with min_playlists={metrics['min_playlists']}, "
            f"holdout_fraction={metrics['holdout_fraction']}; the comparison needs 2 and 0"
        )
    return {
        "malformed lines": metrics["rows_rejected_by_reason"]["malformed_line"],
        "songs (artist, track) after normalisation": metrics["songs_total"],
        "songs in at least 2 playlists": metrics["songs_kept"],
    }


def comparison(figures: dict[str, float]) -> dict[str, str]:
    """Each figure beside the real file's, with their ratio."""
    lines = {}
    for name, value in figures.items():
        real = REAL_FILE.get(name)
        if real is None:
            lines[name] = f"{value:,}"
        else:
            lines[name] = f"{value:,} (real {real:,}, x{value / real:.2f})"
    return lines


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="dataset_shape", description=__doc__.splitlines()[0])
    parser.add_argument("zip", type=Path, help="a zip holding one CSV in the dataset's format")
    parser.add_argument("--run-dir", type=Path, help="a run folder whose extract ran on this zip (holdout 0)")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    args = parser.parse_args(argv)
    figures = shape(*read_rows(args.zip))
    if args.run_dir:
        figures.update(song_figures(args.run_dir))
    print_figures(comparison(figures))
    if args.json:
        report = {"file": str(args.zip), "figures": figures, "real": REAL_FILE}
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
