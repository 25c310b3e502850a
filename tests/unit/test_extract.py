"""The extract job's transforms on hand-made lines with known answers."""

import pytest
from pyspark.sql import Row
from pyspark.sql import functions as F
from pyspark.testing import assertDataFrameEqual

from spark_jobs import extract

USER = "9cc0cfd4d7d7885102480dd99e7a90d6"
OTHER_USER = "07f0fc3be95dcd878966b1f9572ff670"
HEADER = '"user_id", "artistname", "trackname", "playlistname"'


def lines(spark, *values):
    return spark.createDataFrame([(v,) for v in values], "value string")


def byte_lines(spark, *values: bytes):
    """Lines as raw bytes, kept as read (Spark's text reader does the same): invalid UTF-8 stays invalid."""
    raw = spark.createDataFrame([(bytearray(v),) for v in values], "raw binary")
    return raw.select(F.col("raw").cast("string").alias("value"))


def test_parse_lines_reads_the_real_format(spark):
    parsed = extract.parse_lines(
        lines(
            spark,
            f'"{USER}","Elvis Costello","(The Angels Wanna Wear My) Red Shoes","HARD ROCK 2010"',
            f'"{USER}","The \\"Quoted\\" Band","Back\\\\slash, with comma","Café"',
            f'"{USER}", "Björk", "Jóga", "Mix"',
        )
    )
    expected = [
        Row(
            user_id=USER,
            artistname="Elvis Costello",
            trackname="(The Angels Wanna Wear My) Red Shoes",
            playlistname="HARD ROCK 2010",
            reject_reason=None,
        ),
        Row(
            user_id=USER,
            artistname='The "Quoted" Band',
            trackname="Back\\slash, with comma",
            playlistname="Café",
            reject_reason=None,
        ),
        Row(user_id=USER, artistname="Björk", trackname="Jóga", playlistname="Mix", reject_reason=None),
    ]
    assertDataFrameEqual(parsed.drop("line"), expected)


def test_parse_lines_gives_each_rejected_line_its_reason(spark):
    bad = [
        (f'"{USER}","Only Three Fields","Some Song"', "malformed_line"),
        (f'"{USER}","Unterminated,"Some Song","Mix', "malformed_line"),
        (f'"{USER}","Stray "quote" Artist","Some Song","Mix"', "malformed_line"),
        (f'"{USER}","Artist","Song","Mix","extra field"', "malformed_line"),
        ("", "malformed_line"),
        ('"","Artist","Song","Mix"', "blank_user_id"),
        (f'"{USER}","","Song","Mix"', "blank_artist"),
        (f'"{USER}","   ","Song","Mix"', "blank_artist"),
        (f'"{USER}","Artist","","Mix"', "blank_track"),
        (f'"{USER}","\t \x0b\f","Song","Mix"', "blank_artist"),  # tab, vertical tab, form feed
        (f'"{USER}","Artist"," \t","Mix"', "blank_track"),
    ]
    parsed = extract.parse_lines(lines(spark, *[line for line, _ in bad]))
    assertDataFrameEqual(
        parsed.select("line", "reject_reason"), [Row(line=line, reject_reason=reason) for line, reason in bad]
    )


def test_a_name_of_other_unicode_spaces_is_not_blank(spark):
    # Blank means only ASCII whitespace (space, tab, vertical tab, form feed); a no-break space is a character.
    parsed = extract.parse_lines(lines(spark, f'"{USER}","\u00a0","\u2003","Mix"'))
    assert parsed.select("artistname", "trackname", "reject_reason").collect() == [
        Row(artistname="\u00a0", trackname="\u2003", reject_reason=None)
    ]


def test_a_blank_playlist_name_is_still_a_playlist(spark):
    parsed = extract.parse_lines(lines(spark, f'"{USER}","Artist","Song",""'))
    assert parsed.first()["reject_reason"] is None


def test_count_by_reason_accounts_for_every_row(spark):
    parsed = extract.parse_lines(
        lines(spark, f'"{USER}","A","B","C"', f'"{USER}","A","B","D"', f'"{USER}","","B","C"', "garbage")
    )
    assert extract.count_by_reason(parsed) == {
        "rows_read": 4,
        "rows_accepted": 2,
        "rows_rejected": 2,
        "rows_rejected_by_reason": {
            "invalid_encoding": 0,
            "nul_byte": 0,
            "malformed_line": 1,
            "blank_user_id": 0,
            "blank_artist": 1,
            "blank_track": 0,
            "name_too_long": 0,
        },
    }


def test_invalid_utf8_and_nul_bytes_are_rejected_with_their_reason(spark):
    parsed = extract.parse_lines(
        byte_lines(
            spark,
            f'"{USER}","Good","Song","Mix"'.encode(),
            f'"{USER}","Bad \xff Byte","Song","Mix"'.encode("latin-1"),
            f'"{USER}","Artist","Cut \xc3","Mix"'.encode("latin-1"),  # a two-byte sequence without its end
            f'"{USER}","Nul\x00Inside","Song","Mix"'.encode(),
            f'"{USER}","Artist","Song","Play\x00list"'.encode(),
        )
    )
    assert [row["reject_reason"] for row in parsed.collect()] == [
        None,
        "invalid_encoding",
        "invalid_encoding",
        "nul_byte",
        "nul_byte",
    ]


def test_a_rejected_invalid_line_is_kept_as_valid_text(spark):
    parsed = extract.parse_lines(byte_lines(spark, f'"{USER}","Bad \xff Byte","Song","Mix"'.encode("latin-1")))
    assertDataFrameEqual(
        extract.rejects_table(parsed),
        [Row(line=f'"{USER}","Bad \ufffd Byte","Song","Mix"', reject_reason="invalid_encoding")],
    )


def test_names_up_to_the_limit_are_accepted_and_longer_ones_rejected(spark):
    assert extract.MAX_NAME_CHARS == 256
    at_limit, over = "é" * 256, "é" * 257  # characters, not bytes: each é is two bytes
    parsed = extract.parse_lines(
        lines(
            spark,
            f'"{USER}","{at_limit}","{at_limit}","Mix"',
            f'"{USER}","{over}","Song","Mix"',
            f'"{USER}","Artist","{over}","Mix"',
            f'"{USER}","Artist","Song","{"p" * 10_000}"',  # playlist names are not published: no limit
        )
    )
    assert [row["reject_reason"] for row in parsed.collect()] == [None, "name_too_long", "name_too_long", None]


def test_the_first_reason_that_applies_is_given(spark):
    parsed = extract.parse_lines(
        byte_lines(
            spark,
            b'"only", "two\xff"',  # invalid and malformed
            b'"only", "two\x00"',  # NUL and malformed
            b'"","","","Mix"',  # every name blank
            f'"{USER}","","{"t" * 300}","Mix"'.encode(),  # blank artist, track too long
        )
    )
    assert [row["reject_reason"] for row in parsed.collect()] == [
        "invalid_encoding",
        "nul_byte",
        "blank_user_id",
        "blank_artist",
    ]


def test_the_header_is_dropped_with_or_without_a_byte_order_mark(spark):
    data = f'"{USER}","A","B","C"'
    kept = extract.data_lines(lines(spark, HEADER, data), HEADER)
    kept_after_bom = extract.data_lines(lines(spark, "\ufeff" + HEADER, data), HEADER)
    assert [row["value"] for row in kept.collect()] == [row["value"] for row in kept_after_bom.collect()] == [data]


def test_check_header_accepts_a_byte_order_mark_and_crlf(tmp_path):
    csv_path = tmp_path / "spotify_dataset.csv"
    csv_path.write_bytes(b"\xef\xbb\xbf" + HEADER.encode() + b"\r\n" + f'"{USER}","A","B","C"\r\n'.encode())
    assert extract.check_header(csv_path) == HEADER


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"", "the file is empty: no header line"),
        (b'"user_id","artistname","trackname"\n', 'starts with \'"user_id","artistname","trackname"\', not'),
        (b"x" * 100_000, "starts with 'xxxxx"),
    ],
)
def test_check_header_fails_in_one_line_naming_the_file(tmp_path, content, problem):
    csv_path = tmp_path / "spotify_dataset.csv"
    csv_path.write_bytes(content)
    with pytest.raises(ValueError) as failure:
        extract.check_header(csv_path)
    message = str(failure.value)
    assert message.startswith(f"{csv_path}: ") and problem in message
    assert "\n" not in message and len(message) < 500


def test_normalisation_follows_the_seeds_rules(spark):
    names = spark.createDataFrame(
        [
            ("Simon & Garfunkel", "Mrs. Robinson (From The Graduate)"),
            ("Simon and  Garfunkel", "Mrs. Robinson - Remastered"),
            ("Hall&Oates", "Maneater [Live] / Bonus"),
            ("  Björk ", "(Intro)"),
            ("AC/DC", "Back In Black"),
        ],
        "artist string, track string",
    )
    result = names.select(
        extract.normalise_artist(F.col("artist")).alias("artist"),
        extract.normalise_track(F.col("track")).alias("track"),
    )
    assertDataFrameEqual(
        result,
        [
            Row(artist="simon and garfunkel", track="mrs. robinson"),
            Row(artist="simon and garfunkel", track="mrs. robinson"),
            Row(artist="hall and oates", track="maneater"),
            Row(artist="björk", track="(intro)"),
            Row(artist="ac/dc", track="back in black"),
        ],
    )


def _accepted(spark, rows):
    """Accepted rows of these lines, in this order, as extract sees them after the header."""
    text = [f'"{user}","{artist}","{track}","{playlist}"' for user, artist, track, playlist in rows]
    parsed = extract.parse_lines(extract.data_lines(lines(spark, HEADER, *text), HEADER))
    return parsed.where("reject_reason is null").select(*extract.EXPECTED_COLUMNS, "line_order")


def test_songs_merge_spellings_count_distinct_playlists_and_drop_rare_songs(spark):
    accepted = _accepted(
        spark,
        [
            (USER, "Simon & Garfunkel", "The Boxer", "Folk"),
            (USER, "Simon & Garfunkel", "The Boxer", "Folk"),  # a duplicate row: still one playlist
            (USER, "Simon and Garfunkel", "The Boxer (Live)", "Evening"),
            (OTHER_USER, "Simon & Garfunkel", "The Boxer", "Folk"),  # another user's "Folk": another playlist
            (USER, "Only Once", "Rare Song", "Folk"),
        ],
    )
    spellings = extract.song_spellings(accepted)
    assert spellings.count() == 3  # two spellings of The Boxer, one of Rare Song
    pairs = extract.playlist_song_pairs(accepted, spellings)
    songs = extract.songs_table(spellings, extract.playlist_counts(pairs), min_playlists=2)
    assertDataFrameEqual(
        songs.drop("track_id", "artist_id"), [Row(artist="Simon & Garfunkel", track="The Boxer", playlist_count=3)]
    )
    playlist_tracks = extract.playlist_tracks_table(pairs, songs)
    assert playlist_tracks.count() == 3
    assert playlist_tracks.select("track_id").distinct().count() == 1


def test_spellings_are_counted_and_a_shared_spelling_id_is_refused(spark):
    accepted = _accepted(
        spark,
        [
            (USER, "Simon & Garfunkel", "The Boxer", "Folk"),
            (USER, "Simon and Garfunkel", "The Boxer", "Folk"),
            (OTHER_USER, "Simon & Garfunkel", "The Boxer", "Evening"),
        ],
    )
    spellings = extract.song_spellings(accepted)
    assert extract.check_spelling_ids(spellings) == 2
    # Two spellings given one id, as a 64-bit collision would: their rows would join both songs.
    colliding = spellings.withColumn("spelling_id", F.lit(7).cast("long"))
    with pytest.raises(ValueError, match="1 pair\\(s\\) of distinct spellings share a 64-bit spelling id"):
        extract.check_spelling_ids(colliding)


def test_ids_are_stable_hashes_of_the_normalised_key(spark):
    first = _accepted(spark, [(USER, "Simon & Garfunkel", "The Boxer", "Folk")])
    again = _accepted(spark, [(OTHER_USER, "simon and garfunkel", "The Boxer [Mono]", "Other")])
    assert extract.song_spellings(first).first()["track_id"] == extract.song_spellings(again).first()["track_id"]
    first_pair = extract.playlist_song_pairs(first, extract.song_spellings(first)).first()
    again_pair = extract.playlist_song_pairs(again, extract.song_spellings(again)).first()
    assert first_pair["track_id"] == again_pair["track_id"]
    assert first_pair["playlist_id"] != again_pair["playlist_id"]
    first_artist = extract.song_spellings(first).first()["artist_id"]
    assert (
        first_artist
        == extract.song_spellings(_accepted(spark, [(USER, "SIMON AND  GARFUNKEL", "X", "Y")])).first()["artist_id"]
    )


def test_display_name_is_the_most_frequent_spelling(spark):
    accepted = _accepted(
        spark,
        [
            (USER, "SIMON & GARFUNKEL", "The Boxer", "A"),
            (USER, "Simon & Garfunkel", "The Boxer", "B"),
            (USER, "Simon & Garfunkel", "The Boxer", "C"),
        ],
    )
    assert extract.display_names(extract.song_spellings(accepted)).first()["artist"] == "Simon & Garfunkel"


def test_rejects_table_keeps_the_line_and_reason(spark):
    parsed = extract.parse_lines(lines(spark, f'"{USER}","A","B","C"', "garbage"))
    assertDataFrameEqual(extract.rejects_table(parsed), [Row(line="garbage", reject_reason="malformed_line")])


def test_lines_keep_the_order_of_the_file(spark):
    text = [f'"{USER}","Artist {i}","Song {i}","P"' for i in range(200)]
    ordered = extract.data_lines(spark.createDataFrame([(v,) for v in text], "value string").repartition(1), HEADER)
    # one partition: the ids grow with the lines' places
    rows = ordered.collect()
    assert [row["value"] for row in sorted(rows, key=lambda row: row["line_order"])] == text


def test_held_out_playlists_follow_the_hash_of_their_id(spark):
    import numpy as np

    from evaluation.holdout import held_out

    ids = list(range(-500, 500))
    expected = set(np.array(ids)[held_out(np.array(ids), 0.3)].tolist())
    frame = spark.createDataFrame([(i,) for i in ids], "playlist_id long")
    chosen = {row["playlist_id"] for row in extract.held_out_playlists(frame, 0.3).collect()}
    assert chosen == expected
    assert 200 < len(chosen) < 400  # about 30%
    assert extract.held_out_playlists(frame, 0.0).count() == 0
    assert extract.held_out_playlists(frame, 1.0).count() == len(ids)


def test_a_cap_keeps_the_held_out_playlists_the_hash_ranks_first(spark):
    import numpy as np

    from evaluation.holdout import unit_hash

    ids = np.arange(-500, 500, dtype=np.int64)
    units = unit_hash(ids)
    under_fraction = ids[units < 0.3]
    ranked = under_fraction[np.argsort(units[units < 0.3], kind="stable")].tolist()  # ids ascend: ties to the smaller
    frame = spark.createDataFrame([(int(i),) for i in ids], "playlist_id long").repartition(3)

    def chosen(cap):
        return {row["playlist_id"] for row in extract.held_out_playlists(frame, 0.3, cap).collect()}

    assert chosen(25) == set(ranked[:25])
    assert chosen(1) == {ranked[0]}
    assert chosen(25) < chosen(26)  # nested: a larger cap only adds playlists
    assert chosen(len(ranked) + 10) == set(ranked)  # a cap above the fraction's count takes them all
    assert chosen(None) == set(ranked)


@pytest.mark.parametrize(
    ("flags", "message"),
    [
        (["--holdout-max-playlists", "0"], "--holdout-max-playlists must be at least 1"),
        (["--holdout-max-playlists", "-3"], "--holdout-max-playlists must be at least 1"),
        (["--holdout-max-playlists", "2.5"], "invalid int value"),
        (["--holdout-fraction", "1.5"], "--holdout-fraction must be a share from 0 to 1"),
    ],
)
def test_extract_refuses_a_bad_hold_out_setting(flags, message, capsys):
    with pytest.raises(SystemExit):
        extract.parse_args(["--source-zip", "a.zip", "--run-dir", "run", *flags])
    assert message in capsys.readouterr().err


def test_the_hold_out_has_no_cap_unless_asked():
    args = extract.parse_args(["--source-zip", "a.zip", "--run-dir", "run"])
    assert args.holdout_max_playlists is None
    capped = extract.parse_args(["--source-zip", "a.zip", "--run-dir", "run", "--holdout-max-playlists", "2500"])
    assert capped.holdout_max_playlists == 2500


def test_the_hold_out_is_disjoint_from_training_and_keeps_the_playlist_order(spark):
    accepted = _accepted(
        spark,
        [
            (USER, "C", "Third", "Mix"),
            (USER, "A", "First", "Train"),
            (USER, "A", "First", "Mix"),
            (OTHER_USER, "A", "First", "Other"),
            (USER, "B", "Second", "Mix"),
            (USER, "C", "Third", "Mix"),  # repeated: keeps its first place
            (USER, "D", "Only held out", "Mix"),
        ],
    )
    spellings = extract.song_spellings(accepted)
    pairs = extract.playlist_song_pairs(accepted, spellings)
    mix = pairs.join(
        spark.createDataFrame([(USER, "Mix")], "user_id string, playlistname string").select(
            extract.playlist_id(F.col("user_id"), F.col("playlistname")).alias("playlist_id")
        ),
        "playlist_id",
        "left_semi",
    )
    held_out_ids = mix.select("playlist_id").distinct()
    training, holdout = extract.split_holdout(pairs, held_out_ids)
    assert training.count() == 2 and holdout.count() == 4  # nothing lost: 6 distinct pairs in all
    assert training.join(held_out_ids, "playlist_id", "left_semi").count() == 0
    counts = extract.playlist_counts(training)
    table = extract.holdout_tracks_table(holdout, counts, extract.song_artists(spellings))
    names = {row["track_id"]: row["track"] for row in extract.display_names(spellings).collect()}
    got = [(row["position"], names[row["track_id"]], row["training_playlists"]) for row in table.collect()]
    assert sorted(got) == [(1, "Third", 0), (2, "First", 2), (3, "Second", 0), (4, "Only held out", 0)]
