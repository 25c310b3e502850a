"""The COPY streams publishing sends: PostgreSQL's binary rows byte for byte, CSV, and the stream's order."""

from __future__ import annotations

import struct

import pyarrow as pa
import pytest

from warehouse.copy_stream import (
    BINARY_HEADER,
    BINARY_TRAILER,
    EncodedStream,
    binary_fields,
    binary_rows,
    csv_rows,
)

RECOMMENDATION_TYPES = ["bigint", "bigint", "integer", "double precision", "integer"]


def test_only_tables_of_fixed_width_numbers_are_copied_in_the_binary_format():
    assert binary_fields(RECOMMENDATION_TYPES) == [
        (pa.int64(), ">i8"),
        (pa.int64(), ">i8"),
        (pa.int32(), ">i4"),
        (pa.float64(), ">f8"),
        (pa.int32(), ">i4"),
    ]
    assert binary_fields(["bigint", "text", "text", "integer"]) is None


def test_binary_rows_are_postgresqls_layout_with_nulls_as_a_length_of_minus_one():
    batch = pa.record_batch(
        {
            "track_id": pa.array([7, 2**40], pa.int64()),
            "rank": pa.array([1, None], pa.int32()),
            "similarity": pa.array([None, 0.25], pa.float64()),
        }
    )
    # Written by hand from the format's description: per row a 16-bit field count, then per field a
    # 32-bit length and the big-endian value, or the length -1 and no value for NULL.
    expected = (
        struct.pack(">h", 3)
        + struct.pack(">iq", 8, 7)
        + struct.pack(">ii", 4, 1)
        + struct.pack(">i", -1)
        + struct.pack(">h", 3)
        + struct.pack(">iq", 8, 2**40)
        + struct.pack(">i", -1)
        + struct.pack(">id", 8, 0.25)
    )
    assert binary_rows(batch, binary_fields(["bigint", "integer", "double precision"])) == expected


def test_a_value_out_of_its_columns_range_is_refused_not_wrapped():
    batch = pa.record_batch({"rank": pa.array([2**31], pa.int64())})
    with pytest.raises(pa.ArrowInvalid):
        binary_rows(batch, binary_fields(["integer"]))


def test_the_stream_sends_the_header_every_batch_in_order_and_the_trailer_whatever_the_read_size():
    batches = [pa.record_batch({"n": pa.array([1, 2], pa.int32())}), pa.record_batch({"n": pa.array([3], pa.int32())})]
    fields = binary_fields(["integer"])
    stream = EncodedStream(batches, lambda batch: binary_rows(batch, fields), BINARY_HEADER, BINARY_TRAILER)
    received = b"".join(iter(lambda: stream.read(5), b""))
    row = [struct.pack(">hii", 1, 4, n) for n in (1, 2, 3)]
    assert received == b"PGCOPY\n\xff\r\n\x00" + bytes(8) + b"".join(row) + b"\xff\xff"
    assert stream.rows == 3


def test_csv_rows_have_no_header_and_quote_what_needs_it():
    batch = pa.record_batch({"track_id": pa.array([1], pa.int64()), "track": pa.array(['Say "Hi", Bob'])})
    assert csv_rows(batch) == b'1,"Say ""Hi"", Bob"\n'
