"""Bad CSV shapes through the extract job's whole IO path, on the shared Spark session.

Each file is small and otherwise good; the test states its accounting, counted by
hand: rows read, accepted, and rejected by reason. No shape may fail the run,
except a file with no header at all, which must fail at once in one line.
"""

import zipfile

import pytest

from pipeline.run_folder import RunFolder
from pipeline.settings import EXPECTATIONS_DIR
from pipeline.validation import failures, load_suites, validate_dataframes
from spark_jobs import extract
from spark_jobs.validate import STAGE_DATASETS, accounting_frame

USER = "9cc0cfd4d7d7885102480dd99e7a90d6"
OTHER_USER = "07f0fc3be95dcd878966b1f9572ff670"
HEADER = b'"user_id", "artistname", "trackname", "playlistname"'
BOM = b"\xef\xbb\xbf"
# Written out here rather than read from the job, so a reason dropped from the job is noticed.
REASONS = ["invalid_encoding", "nul_byte", "malformed_line", "blank_user_id", "blank_artist", "blank_track",
           "name_too_long"]  # fmt: skip


def row(artist: str = "Artist", track: str = "Song", playlist: str = "Mix", user: str = USER) -> bytes:
    return f'"{user}","{artist}","{track}","{playlist}"'.encode()


GOOD = [row("Elvis Costello", "Alison"), row("Björk", "Jóga"), row("東京事変", "群青日和")]


def csv(*lines: bytes, end: bytes = b"\n") -> bytes:
    return end.join([HEADER, *lines]) + end


def accounting(read: int, accepted: int, **rejected: int) -> dict:
    by_reason = {reason: rejected.get(reason, 0) for reason in REASONS}
    return {
        "rows_read": read,
        "rows_accepted": accepted,
        "rows_rejected": sum(by_reason.values()),
        "rows_rejected_by_reason": by_reason,
    }


def dataset_zip(tmp_path, body: bytes):
    source = tmp_path / "spotify_playlists.zip"
    with zipfile.ZipFile(source, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("spotify_dataset.csv", body)
    return source


def run_extract(spark, tmp_path, body: bytes) -> tuple[dict, RunFolder]:
    """The dataset zip holding ``body``, extracted by the job's IO path; its metrics and run folder."""
    source = dataset_zip(tmp_path, body)
    run_dir = tmp_path / "run"
    args = extract.parse_args(["--source-zip", str(source), "--run-dir", str(run_dir), "--min-playlists", "1"])
    return extract.run_extract(spark, args), RunFolder(run_dir)


def counted(metrics: dict) -> dict:
    return {key: metrics[key] for key in ("rows_read", "rows_accepted", "rows_rejected", "rows_rejected_by_reason")}


def rejects(spark, run: RunFolder) -> list[tuple[str, str]]:
    return sorted((r["line"], r["reject_reason"]) for r in spark.read.parquet(run.dataset("rejects")).collect())


def song_names(spark, run: RunFolder) -> set[tuple[str, str]]:
    return {(r["artist"], r["track"]) for r in spark.read.parquet(run.dataset("songs")).collect()}


def test_a_byte_order_mark_before_the_header_is_accepted(spark, tmp_path):
    metrics, run = run_extract(spark, tmp_path, BOM + csv(*GOOD))
    assert counted(metrics) == accounting(read=3, accepted=3)
    assert song_names(spark, run) == {("Elvis Costello", "Alison"), ("Björk", "Jóga"), ("東京事変", "群青日和")}


def test_crlf_line_ends_are_line_ends(spark, tmp_path):
    metrics, run = run_extract(spark, tmp_path, csv(*GOOD, row(artist=""), end=b"\r\n"))
    assert counted(metrics) == accounting(read=4, accepted=3, blank_artist=1)
    # No name keeps a carriage return.
    assert song_names(spark, run) == {("Elvis Costello", "Alison"), ("Björk", "Jóga"), ("東京事変", "群青日和")}


def test_nul_bytes_are_rejected_before_they_reach_postgresql(spark, tmp_path):
    bad = [row(track="So\x00ng"), row(playlist="Mi\x00x"), row(user=USER[:16] + "\x00" + USER[17:])]
    metrics, run = run_extract(spark, tmp_path, csv(*GOOD, *bad))
    assert counted(metrics) == accounting(read=6, accepted=3, nul_byte=3)
    assert rejects(spark, run) == sorted((line.decode(), "nul_byte") for line in bad)


def test_invalid_utf8_is_rejected_and_kept_as_readable_text(spark, tmp_path):
    bad = [
        row("Bad XX Byte").replace(b"XX", b"\xff"),
        row("Overlong XX Slash").replace(b"XX", b"\xc0\xaf"),
        row(track="Lone XX Continuation").replace(b"XX", b"\x80"),
        row(playlist="Surrogate XX").replace(b"XX", b"\xed\xa0\x80"),
    ]
    metrics, run = run_extract(spark, tmp_path, csv(*GOOD, *bad))
    assert counted(metrics) == accounting(read=7, accepted=3, invalid_encoding=4)
    assert rejects(spark, run) == sorted((line.decode(errors="replace"), "invalid_encoding") for line in bad)


def test_a_10_mb_name_is_rejected_and_a_10_mb_playlist_name_accepted(spark, tmp_path):
    ten_mb = 10 * 1024 * 1024
    long_track = row(track="x" * ten_mb)
    metrics, run = run_extract(spark, tmp_path, csv(*GOOD, long_track, row(playlist="p" * ten_mb)))
    assert counted(metrics) == accounting(read=5, accepted=4, name_too_long=1)
    assert rejects(spark, run) == [(long_track.decode(), "name_too_long")]  # the whole line, not cut


def test_three_and_five_columns_are_malformed(spark, tmp_path):
    three = f'"{USER}","Artist","Song"'.encode()
    five = row() + b',"extra"'
    metrics, run = run_extract(spark, tmp_path, csv(*GOOD, three, five))
    assert counted(metrics) == accounting(read=5, accepted=3, malformed_line=2)
    assert rejects(spark, run) == sorted([(three.decode(), "malformed_line"), (five.decode(), "malformed_line")])


def test_unbalanced_quotes_are_malformed_and_stay_on_their_line(spark, tmp_path):
    unbalanced = [
        f'"{USER}","Unterminated,"Song","Mix'.encode(),
        f'"{USER}","Artist","Song","Mix'.encode(),
        f'"{USER}","Ar"tist","Song","Mix"'.encode(),
    ]
    # A quote left open does not swallow the lines after it: the good line after them is still read.
    metrics, _ = run_extract(spark, tmp_path, csv(GOOD[0], *unbalanced, GOOD[1]))
    assert counted(metrics) == accounting(read=5, accepted=2, malformed_line=3)


def test_an_empty_file_fails_at_once_in_one_line(spark, tmp_path):
    with pytest.raises(ValueError) as failure:
        run_extract(spark, tmp_path, b"")
    message = str(failure.value)
    assert message.endswith("spotify_dataset.csv: the file is empty: no header line")
    assert "\n" not in message
    assert not (tmp_path / "run" / "datasets").exists()  # failed before any Spark work


def test_a_zip_that_cannot_be_read_fails_in_one_line_before_spark(tmp_path):
    broken = tmp_path / "spotify_playlists.zip"
    broken.write_bytes(dataset_zip(tmp_path, csv(*GOOD)).read_bytes()[:-40])  # its end cut off
    with pytest.raises(ValueError) as failure:
        extract.unpack_checked_csv(broken, RunFolder(tmp_path / "run"))
    assert "spotify_playlists.zip: not a complete, readable zip" in str(failure.value)
    assert "\n" not in str(failure.value)


def test_a_csv_unpacked_beforehand_is_extracted_alike_and_its_seconds_counted(spark, tmp_path):
    # What the job's main does: unpack while Spark starts, then hand the CSV to run_extract.
    run = RunFolder(tmp_path / "run")
    unpacked = extract.unpack_checked_csv(dataset_zip(tmp_path, csv(*GOOD, row(artist=""))), run)
    assert unpacked.header == HEADER.decode()
    unpacked = extract.UnpackedCsv(unpacked.path, unpacked.header, seconds=1000.0)
    args = extract.parse_args(["--source-zip", "unused.zip", "--run-dir", str(run.path), "--min-playlists", "1"])
    metrics = extract.run_extract(spark, args, unpacked)
    assert counted(metrics) == accounting(read=4, accepted=3, blank_artist=1)
    assert song_names(spark, run) == {("Elvis Costello", "Alison"), ("Björk", "Jóga"), ("東京事変", "群青日和")}
    assert metrics["seconds"] >= 1000.0  # the unpacking's seconds are the job's own work too
    assert not unpacked.path.exists()  # the unpacked CSV is removed once extracted


def test_a_file_with_only_the_header_reads_zero_rows(spark, tmp_path):
    metrics, run = run_extract(spark, tmp_path, csv())
    assert counted(metrics) == accounting(read=0, accepted=0)
    assert metrics["rejects_written"] == metrics["songs_kept"] == 0


def test_a_file_of_malformed_lines_rejects_every_one(spark, tmp_path):
    garbage = [b"garbage", b'"one field"', b",,,", b'"a";"b";"c";"d"']
    metrics, run = run_extract(spark, tmp_path, csv(*garbage))
    assert counted(metrics) == accounting(read=4, accepted=0, malformed_line=4)
    assert metrics["rejects_written"] == 4 and metrics["songs_kept"] == 0


def test_every_reason_is_accounted_for_and_passes_the_extract_suites(spark, tmp_path):
    lines = [
        *GOOD,
        row("Elvis Costello", "Alison", user=OTHER_USER),
        row("Bad XX", "Song").replace(b"XX", b"\xfe"),
        row("Nul\x00", "Song"),
        b'"only three","fields","here"',
        row(user=""),
        row(artist=" "),
        row(track=""),
        row(artist="a" * 257),
    ]
    metrics, run = run_extract(spark, tmp_path, csv(*lines))
    expected = accounting(read=11, accepted=4, **{reason: 1 for reason in REASONS})
    assert counted(metrics) == expected
    assert metrics["rejects_written"] == 7

    suites = load_suites(EXPECTATIONS_DIR / "extract")
    frames = {name: spark.read.parquet(run.dataset(name)) for name in STAGE_DATASETS["extract"]}
    frames["extract_accounting"] = accounting_frame(spark, metrics)
    # Most of this file is rejected on purpose: the reject-rate limit is not what this test is about.
    everything = {"min_playlists": 1, "max_reject_rate": 1.0}
    report = validate_dataframes(suites, frames, parameters=everything)
    assert report["success"], failures(report)

    # Counted under the wrong reason: the totals still add up, the per-reason check does not.
    mislabelled = {**metrics, "rows_rejected_by_reason": {**expected["rows_rejected_by_reason"], "nul_byte": 0,
                                                          "malformed_line": 2}}  # fmt: skip
    frames["extract_accounting"] = accounting_frame(spark, mislabelled)
    accounting_suites = [suite for suite in suites if suite["meta"]["dataset"] == "extract_accounting"]
    assert failures(validate_dataframes(accounting_suites, frames, parameters=everything)) == [
        "extract_accounting: each reason's count equals its rows in the rejects output -> {'observed_value': 1}"
    ]
