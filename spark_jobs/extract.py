"""Extract songs and playlists from the Spotify Playlists dataset zip.

Input: the dataset zip (one member, ``spotify_dataset.csv``: header
``"user_id", "artistname", "trackname", "playlistname"``, every field in double
quotes, ``\\`` as escape character).

Outputs, under the run folder's ``datasets/``:
- ``songs`` (track_id, artist_id, artist, track, playlist_count): one row per song,
  a song being (artist, track) after the seed's name normalisation plus lower case,
  shown with its most frequent raw spelling; only songs in at least
  ``--min-playlists`` distinct training playlists (``playlist_count``).
- ``playlist_tracks`` (playlist_id, track_id): distinct pairs of the training
  playlists, for kept songs; a playlist is (user_id, playlistname).
- ``holdout_tracks`` (playlist_id, position, track_id, artist_id,
  training_playlists): the held-out playlists' distinct songs, ``position`` 1, 2, ...
  in the order of their first line in the file (the playlist's order), each with
  the number of training playlists holding it (0 when none; any count, not only
  songs kept). A share ``--holdout-fraction`` of the playlists is held out for
  the evaluation by a hash of the playlist id (``evaluation.holdout``), at most
  ``--holdout-max-playlists`` of them (the hash's first): they are not training
  playlists, so nothing computed from ``playlist_tracks`` sees them.
- ``rejects`` (line, reject_reason): every line that was not accepted, with the
  first reason that applies, in this order:
  ``invalid_encoding`` (the line is not valid UTF-8; its ``line`` is stored with
  each invalid byte sequence replaced by U+FFFD), ``nul_byte`` (the line holds a
  NUL character, which PostgreSQL text cannot store), ``malformed_line`` (not four
  quoted fields), ``blank_user_id``, ``blank_artist``, ``blank_track``,
  ``name_too_long`` (artist or track name over ``MAX_NAME_CHARS`` characters:
  the published names' btree index could not hold it).
and ``metrics/extract.json`` with the row accounting (rows read = accepted + rejected;
playlist/song pairs = training pairs + held-out pairs).
With ``--suites-dir`` the job then validates these outputs and the accounting in its
session (``spark_jobs.validate``).

A UTF-8 byte-order mark before the header is accepted. A file that is not the
dataset zip, or whose first line is not the header (an empty file has none),
fails before any Spark work with a one-line error naming the file.

``main`` builds the session and stops it; ``run_extract`` does the IO on a
given session (tests run it on theirs).

Ids are 64-bit hashes of the normalised key, so a song keeps its track_id
(and an artist its artist_id) across refreshes; the validation suites check they are unique.
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
import time
import zipfile
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pyarrow as pa
from pyspark import StorageLevel
from pyspark.sql import Column, DataFrame, SparkSession, Window
from pyspark.sql import functions as F

from evaluation.holdout import held_out, unit_hash
from pipeline.dataset_format import CSV_MEMBER_NAME, EXPECTED_COLUMNS, HEADER_MAX_BYTES, header_problem
from pipeline.run_folder import RunFolder
from spark_jobs.session import build_session
from spark_jobs.validate import add_suites_dir_argument, prepare_validation, validate_stage

# How the job's DataFrames are cached: as Spark SQL's own columnar batches (what ``DataFrame.cache()``
# uses). PySpark's ``MEMORY_AND_DISK`` is the serialized level: its blocks sit in the heap as large byte
# arrays, which G1 keeps as humongous objects in whole regions of their own. At 64.5M rows on a 4 GB
# driver humongous objects (those blocks, and the aggregations' pages) filled 1,609 of the heap's 2,048
# regions and the aggregations ran out of heap (docs/performance.md).
CACHED = StorageLevel.MEMORY_AND_DISK_DESER

# In the order they are tried: a line gets the first that applies.
REJECT_REASONS = [
    "invalid_encoding",
    "nul_byte",
    "malformed_line",
    "blank_user_id",
    "blank_artist",
    "blank_track",
    "name_too_long",
]
# The longest artist or track name published. tracks_name_idx (include/sql/add_staging_constraints.sql)
# is a btree on (fold_name(artist), fold_name(track)), whose rows may not exceed 2,704 bytes. A
# character takes at most 4 bytes in UTF-8 and fold_name's unaccent turns one into at most 5 (e.g.
# "㎮" -> "rad/s"): two folded names of 256 characters make 8 + 2 x (4 + 5 x 256) = 2,576 bytes.
MAX_NAME_CHARS = 256

# One quoted field: anything but a quote or a backslash, or a backslash escape
# (written as an unrolled loop with possessive quantifiers: Java's regex engine
# then never backtracks, which keeps parsing linear in the line length).
FIELD_PATTERN = r'"([^"\\]*+(?:\\.[^"\\]*+)*+)"'
LINE_PATTERN = r"^" + r",\s*".join([FIELD_PATTERN] * 4) + r"\s*$"
# What Java's regex \s matches: a field of only these is blank.
JAVA_WHITESPACE = " \t\n\x0b\f\r"


def collapse_whitespace(column: Column) -> Column:
    """Runs of whitespace become one space; none is left at either end."""
    return F.trim(F.regexp_replace(column, r"\s+", " "))


def normalise_artist(column: Column) -> Column:
    """The seed's artist rule (``&`` becomes ``and``, whitespace collapsed), in lower case."""
    return F.lower(collapse_whitespace(F.regexp_replace(column, "&", " and ")))


def normalise_track(column: Column) -> Column:
    """The seed's track rule, in lower case.

    Bracketed parts ``(...)`` / ``[...]`` are removed, anything after ``- `` or
    ``/`` is dropped, whitespace collapsed. A name that this empties (``(Intro)``)
    keeps its whole collapsed name instead of becoming blank.
    """
    without_brackets = F.regexp_replace(column, r"\([^)]*\)|\[[^\]]*\]", " ")
    shortened = collapse_whitespace(F.regexp_replace(without_brackets, r"(- |/).*$", ""))
    return F.lower(F.when(shortened != "", shortened).otherwise(collapse_whitespace(column)))


def _unescape(column: Column) -> Column:
    # Most fields hold no backslash: they skip the regular expression.
    return F.when(column.contains("\\"), F.regexp_replace(column, r"\\(.)", "$1")).otherwise(column)


def parse_lines(lines: DataFrame) -> DataFrame:
    """Parse data lines (column ``value``, header removed) into fields and a reject reason.

    Returns user_id, artistname, trackname, playlistname, line, reject_reason
    (both null when the row is accepted), and every other column of ``lines`` as it
    was (``line_order``). The reasons: the module docstring.
    """
    kept = [name for name in lines.columns if name != "value"]
    line = F.col("line")
    # Spark keeps a line's bytes as read: invalid UTF-8 and NUL pass through every string function
    # and would only fail where the text leaves Spark (COPY into PostgreSQL, after all the compute).
    is_valid_utf8 = F.col("is_valid_utf8")
    has_nul = F.col("has_nul")
    # Two regex passes per well-encoded line: the whole-line check, then every field at once.
    is_parseable = is_valid_utf8 & ~has_nul & line.rlike(LINE_PATTERN)
    raw_fields = F.when(is_parseable, F.regexp_extract_all(line, F.lit(FIELD_PATTERN), 1))
    fields = [
        F.when(F.col("raw_fields").isNotNull(), _unescape(F.col("raw_fields")[i])).alias(name)
        for i, name in enumerate(EXPECTED_COLUMNS)
    ]
    is_wellformed = F.col("raw_fields").isNotNull()

    def is_blank(name: str) -> Column:
        # Only JAVA_WHITESPACE: a trim tells, with no regular expression per name.
        return F.btrim(F.col(name), F.lit(JAVA_WHITESPACE)) == ""

    def is_too_long(name: str) -> Column:
        return F.length(name) > MAX_NAME_CHARS

    reason = (
        F.when(~is_valid_utf8, "invalid_encoding")
        .when(has_nul, "nul_byte")
        .when(~is_wellformed, "malformed_line")
        .when(is_blank("user_id"), "blank_user_id")
        .when(is_blank("artistname"), "blank_artist")
        .when(is_blank("trackname"), "blank_track")
        .when(is_too_long("artistname") | is_too_long("trackname"), "name_too_long")
    )
    return (
        lines.select(F.col("value").alias("line"), *kept)
        .select(
            "line",
            F.is_valid_utf8(line).alias("is_valid_utf8"),
            line.contains("\u0000").alias("has_nul"),
            *kept,
        )
        .select("line", "is_valid_utf8", "has_nul", raw_fields.alias("raw_fields"), *kept)
        .select(*fields, "line", "is_valid_utf8", "has_nul", "raw_fields", *kept)
        .withColumn("reject_reason", reason)
        # Only a rejected row keeps its line: accepted rows do not carry it through the job. It is
        # stored as valid UTF-8, so the rejects stay readable by any Parquet reader.
        .withColumn("line", F.when(F.col("reject_reason").isNotNull(), F.make_valid_utf8(line)))
        .drop("is_valid_utf8", "has_nul", "raw_fields")
    )


def playlist_id(user_id: Column, playlistname: Column) -> Column:
    """A playlist is (user_id, playlistname): its id is a 64-bit hash of both."""
    return F.xxhash64(user_id, playlistname)


def spelling_id(artistname: Column, trackname: Column) -> Column:
    """A raw spelling (artistname, trackname) is joined by a 64-bit hash of both, as a playlist is; the job
    refuses a run where two spellings share one (``check_spelling_ids``)."""
    return F.xxhash64(artistname, trackname)


def song_spellings(accepted: DataFrame) -> DataFrame:
    """Each distinct raw (artistname, trackname) with its row count, spelling_id, song key, track_id and
    artist_id.

    The name normalisation (several regular expressions) runs once per distinct
    spelling instead of once per row: about ten times fewer at full scale.
    """
    return (
        accepted.groupBy("artistname", "trackname")
        .agg(F.count("*").alias("spelling_rows"))
        .withColumn("spelling_id", spelling_id(F.col("artistname"), F.col("trackname")))
        .withColumn("artist_key", normalise_artist(F.col("artistname")))
        .withColumn("track_key", normalise_track(F.col("trackname")))
        .withColumn("track_id", F.xxhash64("artist_key", "track_key"))
        .withColumn("artist_id", F.xxhash64("artist_key"))
    )


def check_spelling_ids(spellings: DataFrame) -> int:
    """The number of spellings. Raises when two spellings share a ``spelling_id`` (a 64-bit hash collision,
    about one chance in ten million at the real dataset's two million spellings): their rows would join
    both songs."""
    row = spellings.agg(F.count("*").alias("spellings"), F.count_distinct("spelling_id").alias("ids")).first()
    assert row is not None  # an aggregate without grouping has one row
    if row["ids"] != row["spellings"]:
        raise ValueError(
            f"{row['spellings'] - row['ids']} pair(s) of distinct spellings share a 64-bit spelling id "
            "(xxhash64 of artistname and trackname): the rows cannot be joined to their songs"
        )
    return int(row["spellings"])


def playlist_song_pairs(accepted: DataFrame, spellings: DataFrame) -> DataFrame:
    """Distinct (playlist_id, track_id) pairs of all accepted rows, each with the ``line_order`` of its
    first line in the file (``first_line``): the playlist's order."""
    # Rows join their spelling directly: a playlist rarely repeats a spelling, so grouping the rows by
    # (playlist, spelling) first would shuffle them all once more for almost nothing. They join by the
    # spelling's id, so the shuffle moves three numbers a row instead of two names.
    rows = accepted.select(
        playlist_id(F.col("user_id"), F.col("playlistname")).alias("playlist_id"),
        spelling_id(F.col("artistname"), F.col("trackname")).alias("spelling_id"),
        "line_order",
    )
    return (
        rows.join(spellings.select("spelling_id", "track_id"), "spelling_id")
        .groupBy("playlist_id", "track_id")
        .agg(F.min("line_order").alias("first_line"))
    )


def _held_out_batches(batches: Iterator[pa.RecordBatch], fraction: float) -> Iterator[pa.RecordBatch]:
    for batch in batches:
        ids = batch.column("playlist_id").to_numpy()
        chosen = ids[held_out(ids, fraction)]
        yield pa.RecordBatch.from_arrays([pa.array(chosen), pa.array(unit_hash(chosen))], names=["playlist_id", "unit"])


def held_out_playlists(playlist_ids: DataFrame, fraction: float, max_playlists: int | None = None) -> DataFrame:
    """The ids (column ``playlist_id``) of the playlists held out at this ``fraction``, at most ``max_playlists``.

    The choice is ``evaluation.holdout``'s: ``held_out`` runs on Arrow batches (Spark SQL's arithmetic
    refuses the 64-bit overflow its hash relies on), so every process makes the same one; under a cap,
    the chosen playlists with the smallest ``unit_hash`` are kept, ties to the smaller id.
    """
    chosen = playlist_ids.select("playlist_id").mapInArrow(
        partial(_held_out_batches, fraction=fraction), "playlist_id long, unit double"
    )
    if max_playlists is not None:
        chosen = chosen.orderBy("unit", "playlist_id").limit(max_playlists)
    return chosen.select("playlist_id")


def split_holdout(pairs: DataFrame, held_out_ids: DataFrame) -> tuple[DataFrame, DataFrame]:
    """(training pairs, held-out pairs): the pairs of playlists not held out, and of those held out."""
    marked = pairs.join(F.broadcast(held_out_ids.withColumn("held_out", F.lit(True))), "playlist_id", "left")
    training = marked.where(F.col("held_out").isNull()).drop("held_out")
    holdout = marked.where(F.col("held_out")).drop("held_out")
    return training, holdout


def song_artists(spellings: DataFrame) -> DataFrame:
    """track_id, artist_id: a song's artist is part of its key, so each song has one."""
    return spellings.select("track_id", "artist_id").distinct()


def holdout_tracks_table(holdout: DataFrame, training_counts: DataFrame, artists: DataFrame) -> DataFrame:
    """The held-out playlists' songs in playlist order, with their artist and training playlist count."""
    order = Window.partitionBy("playlist_id").orderBy("first_line", "track_id")
    return (
        holdout.withColumn("position", F.row_number().over(order))
        .join(artists, "track_id")
        .join(training_counts.withColumnRenamed("playlist_count", "training_playlists"), "track_id", "left")
        .select(
            "playlist_id",
            "position",
            "track_id",
            "artist_id",
            F.coalesce(F.col("training_playlists"), F.lit(0)).alias("training_playlists"),
        )
    )


def display_names(spellings: DataFrame) -> DataFrame:
    """Each song's most frequent raw spelling (ties: the alphabetically first)."""
    order = Window.partitionBy("track_id").orderBy(
        F.col("spelling_rows").desc(), F.col("artistname"), F.col("trackname")
    )
    return (
        spellings.withColumn("spelling_rank", F.row_number().over(order))
        .where("spelling_rank = 1")
        .select("track_id", F.col("artistname").alias("artist"), F.col("trackname").alias("track"))
    )


def playlist_counts(pairs: DataFrame) -> DataFrame:
    """track_id, playlist_count: the distinct playlists of each song among these pairs."""
    return pairs.groupBy("track_id").agg(F.count("*").alias("playlist_count"))


def songs_table(spellings: DataFrame, counts: DataFrame, min_playlists: int) -> DataFrame:
    """Songs in at least ``min_playlists`` distinct playlists (``counts``): track_id, artist_id, artist,
    track, playlist_count."""
    kept = counts.where(F.col("playlist_count") >= min_playlists)
    return (
        kept.join(display_names(spellings), "track_id")
        .join(song_artists(spellings), "track_id")
        .select("track_id", "artist_id", "artist", "track", "playlist_count")
    )


def playlist_tracks_table(pairs: DataFrame, songs: DataFrame) -> DataFrame:
    """The playlist/song pairs of kept songs."""
    return pairs.join(songs.select("track_id"), "track_id", "left_semi").select("playlist_id", "track_id")


def data_lines(lines: DataFrame, header: str) -> DataFrame:
    """The file's lines (column ``value``) without its header line, recognised by its content, each with
    a ``line_order`` that grows with its place in the file (not consecutive).

    A UTF-8 byte-order mark before the header does not stop it from being recognised.
    """
    # A text file's partitions are its consecutive byte ranges, in order, and each is read in order:
    # the id (partition index in the high bits, row in the low bits) follows the file's order.
    ordered = lines.withColumn("line_order", F.monotonically_increasing_id())
    return ordered.where(~F.col("value").isin(header, "\ufeff" + header))


def rejects_table(parsed: DataFrame) -> DataFrame:
    return parsed.where(F.col("reject_reason").isNotNull()).select("line", "reject_reason")


def count_by_reason(parsed: DataFrame) -> dict[str, int]:
    """Row accounting: rows read, accepted, rejected and rejected by reason."""
    counts = {
        row["reject_reason"]: row["rows"]
        for row in parsed.groupBy("reject_reason").agg(F.count("*").alias("rows")).collect()
    }
    accepted = counts.pop(None, 0)
    by_reason = {reason: counts.get(reason, 0) for reason in REJECT_REASONS}
    return {
        "rows_read": accepted + sum(by_reason.values()),
        "rows_accepted": accepted,
        "rows_rejected": sum(by_reason.values()),
        "rows_rejected_by_reason": by_reason,
    }


def unpack_csv(zip_path: Path, destination: Path) -> Path:
    """Stream the CSV member out of the zip (Spark cannot read zip files); a one-line error if it cannot."""
    destination.parent.mkdir(parents=True, exist_ok=True)
    try:
        with zipfile.ZipFile(zip_path) as archive:
            if CSV_MEMBER_NAME not in archive.namelist():
                raise ValueError(f"{zip_path}: the zip holds {archive.namelist()}, not {CSV_MEMBER_NAME}")
            # Reading a member to its end checks its CRC.
            with archive.open(CSV_MEMBER_NAME) as source, open(destination, "wb") as target:
                shutil.copyfileobj(source, target, length=16 * 1024 * 1024)
    except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as error:
        raise ValueError(f"{zip_path}: not a complete, readable zip ({type(error).__name__}: {error})") from None
    return destination


def check_header(csv_path: Path) -> str:
    """Fail clearly on a file that is not the dataset; return the header line (without a byte-order mark)."""
    with open(csv_path, encoding="utf-8-sig", errors="replace") as handle:
        first_line = handle.readline(HEADER_MAX_BYTES)
    if not first_line:
        raise ValueError(f"{csv_path}: the file is empty: no header line")
    header = first_line.rstrip("\r\n")
    problem = header_problem(header)
    if problem is not None:
        raise ValueError(f"{csv_path}: {problem}")
    return header


@dataclass(frozen=True)
class UnpackedCsv:
    """The dataset's CSV out of its zip, its header checked, and how long that took."""

    path: Path
    header: str
    seconds: float


def unpack_checked_csv(source_zip: Path, run: RunFolder) -> UnpackedCsv:
    """Unpack the zip's CSV into the run's ``raw/`` and check its header (one-line errors: ``unpack_csv``,
    ``check_header``)."""
    started = time.monotonic()
    csv_path = unpack_csv(source_zip, run.raw_file(CSV_MEMBER_NAME))
    header = check_header(csv_path)
    return UnpackedCsv(csv_path, header, time.monotonic() - started)


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="extract", description="Extract songs and playlists from the dataset zip.")
    parser.add_argument("--source-zip", required=True, help="path of the downloaded dataset zip")
    parser.add_argument("--run-dir", required=True, help="this run's folder for intermediate data")
    parser.add_argument("--min-playlists", type=int, default=2, help="drop songs in fewer playlists (default 2)")
    parser.add_argument(
        "--holdout-fraction",
        type=float,
        default=0.0,
        help="share of playlists held out of training for the evaluation, 0 to 1 (default 0: none)",
    )
    parser.add_argument(
        "--holdout-max-playlists",
        type=int,
        default=None,
        help="hold out at most this many playlists, those the hash ranks first (default: no cap)",
    )
    add_suites_dir_argument(parser, "extract")
    parser.add_argument(
        "--max-reject-rate",
        type=float,
        default=0.01,
        help="the largest share of rejected lines, a parameter of the extract suites (default 0.01)",
    )
    args = parser.parse_args(argv)
    if args.min_playlists < 1:
        parser.error("--min-playlists must be at least 1")
    if math.isnan(args.holdout_fraction) or not 0 <= args.holdout_fraction <= 1:
        parser.error("--holdout-fraction must be a share from 0 to 1")
    if args.holdout_max_playlists is not None and args.holdout_max_playlists < 1:
        parser.error("--holdout-max-playlists must be at least 1")
    if math.isnan(args.max_reject_rate) or not 0 <= args.max_reject_rate <= 1:
        parser.error("--max-reject-rate must be a share from 0 to 1")
    return args


def run_extract(spark: SparkSession, args: argparse.Namespace, unpacked: UnpackedCsv | None = None) -> dict[str, Any]:
    """The job's IO on ``spark``: unpack and check the CSV (unless ``unpacked`` already is), extract, write
    the datasets and the metrics.

    Returns the metrics (``seconds``: the job's own work, unpacking included). Leaves the session running
    (``main`` stops it).
    """
    run = RunFolder(args.run_dir)
    started = time.monotonic()
    if unpacked is None:
        unpacked = unpack_checked_csv(Path(args.source_zip), run)
    else:
        started -= unpacked.seconds  # unpacked beforehand: its seconds still count
    csv_path = unpacked.path

    lines = spark.read.text(str(csv_path))
    parsed = parse_lines(data_lines(lines, unpacked.header)).persist(CACHED)
    accounting = count_by_reason(parsed)
    rejects_table(parsed).write.mode("overwrite").parquet(run.dataset("rejects"))

    accepted = parsed.where(F.col("reject_reason").isNull()).select(*EXPECTED_COLUMNS, "line_order")
    spellings = song_spellings(accepted).persist(CACHED)
    spelling_count = check_spelling_ids(spellings)
    pairs = playlist_song_pairs(accepted, spellings).persist(CACHED)
    held_out_ids = held_out_playlists(
        pairs.select("playlist_id").distinct(), args.holdout_fraction, args.holdout_max_playlists
    ).persist(CACHED)
    training, holdout = split_holdout(pairs, held_out_ids)
    counts = playlist_counts(training).persist(CACHED)
    songs_table(spellings, counts, args.min_playlists).write.mode("overwrite").parquet(run.dataset("songs"))
    songs = spark.read.parquet(run.dataset("songs"))
    playlist_tracks_table(training, songs).write.mode("overwrite").parquet(run.dataset("playlist_tracks"))
    holdout_tracks_table(holdout, counts, song_artists(spellings)).write.mode("overwrite").parquet(
        run.dataset("holdout_tracks")
    )

    playlist_keys = (
        accepted.select(
            "user_id", "playlistname", playlist_id(F.col("user_id"), F.col("playlistname")).alias("playlist_id")
        )
        .distinct()
        .persist(CACHED)
    )
    metrics = {
        **accounting,
        "min_playlists": args.min_playlists,
        "holdout_fraction": args.holdout_fraction,
        "holdout_max_playlists": args.holdout_max_playlists,
        "spellings": spelling_count,
        "songs_total": pairs.select("track_id").distinct().count(),
        "songs_in_training": counts.count(),
        "songs_kept": songs.count(),
        "playlists_by_name": playlist_keys.select("user_id", "playlistname").distinct().count(),
        "playlists_by_id": playlist_keys.select("playlist_id").distinct().count(),
        "playlists_held_out": held_out_ids.count(),
        "playlist_song_pairs_total": pairs.count(),
        "training_pairs": training.count(),
        "holdout_pairs": spark.read.parquet(run.dataset("holdout_tracks")).count(),
        "playlist_tracks": spark.read.parquet(run.dataset("playlist_tracks")).count(),
        "rejects_written": spark.read.parquet(run.dataset("rejects")).count(),
        "seconds": round(time.monotonic() - started, 3),
    }
    run.write_metrics("extract", metrics)
    csv_path.unlink()
    for frame in (parsed, spellings, pairs, held_out_ids, counts, playlist_keys):
        frame.unpersist()  # the session may outlive this run (a test's does)
    return metrics


def main(argv: list[str] | None = None) -> None:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    run = RunFolder(args.run_dir)
    suites = prepare_validation(run, args.suites_dir, "extract")
    # The CSV is unpacked while Spark starts: both take seconds (5 s and 8 s at 12.9M rows), and neither
    # needs the other. A zip that cannot be unpacked fails the job with its one-line error all the same.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="unpack") as pool:
        unpacking = pool.submit(unpack_checked_csv, Path(args.source_zip), run)
        spark = build_session()
    try:
        metrics = run_extract(spark, args, unpacking.result())
        print(f"extract: {metrics}")
        if suites is not None:
            parameters = {"min_playlists": args.min_playlists, "max_reject_rate": args.max_reject_rate}
            validate_stage(spark, run, "extract", suites, parameters)
    finally:
        spark.stop()


if __name__ == "__main__":
    main()
