"""Read a CSV file's header and rows, or raise a DataError that says where it is wrong.

Both readers of user files (:func:`workbench.load_titanic` and
:func:`workbench.read_dataset`) start the same way: open as UTF-8 (a byte-order mark
is fine), skip blank lines, check the header names each column once and every row
has as many fields as the header. What each column must hold is theirs to check.
"""

from __future__ import annotations

import csv
import io
import math
import re
from pathlib import Path

from .errors import DataError, WorkbenchError
from .limits import check_memory, open_regular

#: The largest CSV file read, and the memory reading one takes per byte of file (its rows as
#: Python strings, then as columns: measured about 14 bytes per byte for Kaggle's layout).
MAX_CSV_BYTES = 1 * 2**30
MEMORY_PER_BYTE = 20


def read_csv(path: Path, *, rows_are: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Return the header, the data rows (fields stripped) and each row's line number.

    ``rows_are`` names what the rows hold (e.g. ``"passenger rows"``) in the
    messages about an empty file or a file with a header only.
    """
    try:
        raw = open_regular(path, what="a CSV file", max_bytes=MAX_CSV_BYTES)
        size = raw.seek(0, io.SEEK_END)
        raw.seek(0)
        check_memory(size * MEMORY_PER_BYTE, f"reading {path} ({size:,} bytes)", "the size of the file")
    except DataError:
        raise
    except WorkbenchError as e:
        raise DataError(str(e), path=path) from None
    try:
        with raw, io.TextIOWrapper(raw, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            records = [(reader.line_num, r) for r in reader if any(v.strip() for v in r)]
    except UnicodeDecodeError as e:
        raise DataError(
            f"{path}: is not UTF-8 text (byte 0x{e.object[e.start]:02x} at offset {e.start});"
            " save it as 'CSV UTF-8'",
            path=path,
        ) from None
    except csv.Error as e:
        raise DataError(f"{path}: not a readable CSV file ({e})", path=path) from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})", path=path) from None

    if not records:
        raise DataError(f"{path}: the file is empty; expected a header and {rows_are}", path=path)
    header = [h.strip() for h in records[0][1]]
    for i, name in enumerate(header):
        if name in header[:i]:
            raise DataError(f"{path}: the header names column {name!r} twice", path=path, column=name)
    rows, lines = [], []
    for i, (line, values) in enumerate(records[1:], start=1):
        if len(values) != len(header):
            raise DataError(
                f"{path}: row {i} (line {line}) has {len(values)} fields, the header has {len(header)}",
                path=path,
                row=i,
            )
        rows.append([v.strip() for v in values])
        lines.append(line)
    return header, rows, lines


_INTEGER = re.compile(r"[+-]?\d{1,30}")


def to_whole(v: str, limit: int = 2**53) -> int | None:
    """A whole number of magnitude at most ``limit``, kept exact, or None.

    Digits are read as an exact int (a float would round 9007199254740993); a decimal such
    as ``3.0`` is also whole.
    """
    if _INTEGER.fullmatch(v):
        x = int(v)
    else:
        f = to_float(v)
        if f is None or f != round(f) or abs(f) > limit:
            return None
        x = int(f)
    return x if abs(x) <= limit else None


def to_float(v: str) -> float | None:
    """A plain finite decimal number, or None (also for an empty field)."""
    # float() also takes '1_000', 'nan' and 'infinity'; a CSV number is plainer.
    if not v or "_" in v:
        return None
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None
