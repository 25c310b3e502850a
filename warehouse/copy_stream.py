"""Arrow record batches as one ``COPY ... FROM STDIN`` stream: CSV, or PostgreSQL's binary format when
every column is a fixed-width number.

Input: record batches and, for the binary format, each column's PostgreSQL type (``binary_fields``
maps the types it can encode). Output: a readable byte stream that psycopg2's ``copy_expert`` reads
as COPY asks for more, each batch encoded when its turn comes.

Why binary: PostgreSQL reads a binary field as it is stored, while from CSV it parses every number
from text (a double precision slowest of all). The 31.4M recommendations of the 12.9M-row run went
in in 17.5 and 19.1 s as binary against 28.1 and 29.1 s as CSV (docs/performance.md). A batch is
encoded by numpy as one array of rows; psycopg's and pgcopy's binary writers pack row by row in
Python, which at that size costs more than the parsing saved.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.csv as pa_csv

# PostgreSQL type -> (the Arrow type a column is cast to, safely, and its big-endian field as numpy writes it)
BINARY_TYPES: dict[str, tuple[pa.DataType, str]] = {
    "smallint": (pa.int16(), ">i2"),
    "integer": (pa.int32(), ">i4"),
    "bigint": (pa.int64(), ">i8"),
    "real": (pa.float32(), ">f4"),
    "double precision": (pa.float64(), ">f8"),
}
# The binary format's signature, flags (no OIDs) and header extension length; and its end marker.
BINARY_HEADER = b"PGCOPY\n\xff\r\n\x00" + (0).to_bytes(4, "big") + (0).to_bytes(4, "big")
BINARY_TRAILER = (-1).to_bytes(2, "big", signed=True)
NULL_LENGTH = -1


class EncodedStream(io.RawIOBase):
    """``header``, then each batch as ``encode`` writes it, then ``trailer``: one byte stream, read in order.

    One COPY statement for the whole dataset lets PostgreSQL store what was sent while the next batch is
    encoded (a COPY per batch would wait for each to finish).
    """

    def __init__(
        self,
        batches: Iterable[pa.RecordBatch],
        encode: Callable[[pa.RecordBatch], bytes],
        header: bytes = b"",
        trailer: bytes = b"",
    ) -> None:
        self._batches: Iterator[pa.RecordBatch] = iter(batches)
        self._encode = encode
        self._pending = memoryview(header)
        self._trailer: bytes | None = trailer
        self.rows = 0

    def readable(self) -> bool:
        return True

    def readinto(self, target: Any) -> int:
        while not self._pending:
            batch = next(self._batches, None)
            if batch is not None:
                self._pending = memoryview(self._encode(batch))
                self.rows += batch.num_rows
            elif self._trailer is not None:
                self._pending, self._trailer = memoryview(self._trailer), None
            else:
                return 0
        size = min(len(target), len(self._pending))
        target[:size] = self._pending[:size]
        self._pending = self._pending[size:]
        return size


def csv_rows(batch: pa.RecordBatch) -> bytes:
    """The batch as CSV lines without a header. pyarrow writes a null as an empty field and an empty
    string as ``""``, which COPY's ``format csv`` reads as NULL and as an empty string."""
    encoded = io.BytesIO()
    pa_csv.write_csv(batch, encoded, write_options=pa_csv.WriteOptions(include_header=False))
    return encoded.getvalue()


def binary_fields(column_types: list[str]) -> list[tuple[pa.DataType, str]] | None:
    """Each column's Arrow type and numpy field for the binary format, or None when a column's PostgreSQL
    type is not one of ``BINARY_TYPES``."""
    if not all(name in BINARY_TYPES for name in column_types):
        return None
    return [BINARY_TYPES[name] for name in column_types]


def binary_rows(batch: pa.RecordBatch, fields: list[tuple[pa.DataType, str]]) -> bytes:
    """The batch's rows in PostgreSQL's binary COPY format: a field count, then each field's byte length
    and big-endian value, or the length -1 alone for NULL. ``fields`` as ``binary_fields`` gives them.

    Every row is laid out at full width in one numpy array; when a column holds NULLs, their value bytes
    are dropped from the flattened rows. A value out of its column's range raises (a safe Arrow cast).
    """
    row_fields: list[tuple[str, str]] = [("field_count", ">i2")]
    value_offsets = []  # where each value starts in a row laid out at full width
    for i, (_, fmt) in enumerate(fields):
        row_fields += [(f"length_{i}", ">i4"), (f"value_{i}", fmt)]
        value_offsets.append(np.dtype(row_fields[:-1]).itemsize)
    layout = np.dtype(row_fields)
    rows = np.zeros(batch.num_rows, layout)
    rows["field_count"] = len(fields)
    keep = None
    for i, (column, (arrow_type, fmt)) in enumerate(zip(batch.columns, fields, strict=True)):
        values = column.cast(arrow_type)
        width = np.dtype(fmt).itemsize
        if values.null_count:
            valid = values.is_valid().to_numpy(zero_copy_only=False)
            rows[f"length_{i}"] = np.where(valid, width, NULL_LENGTH)
            rows[f"value_{i}"] = values.fill_null(0).to_numpy()
            if keep is None:
                keep = np.ones((batch.num_rows, layout.itemsize), dtype=bool)
            keep[~valid, value_offsets[i] : value_offsets[i] + width] = False
        else:
            rows[f"length_{i}"] = width
            rows[f"value_{i}"] = values.to_numpy()
    row_bytes = rows.view(np.uint8).reshape(batch.num_rows, layout.itemsize)
    return (row_bytes if keep is None else row_bytes[keep]).tobytes()
