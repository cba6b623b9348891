"""Read a CSV file's header and rows, or raise a DataError that says where it is wrong.

Both readers of user files (:func:`workbench.load_titanic` and
:func:`workbench.read_dataset`) start the same way: open as UTF-8 (a byte-order mark
is fine), skip blank lines, check the header names each column once and every row
has as many fields as the header. What each column must hold is theirs to check.
"""

from __future__ import annotations

import csv
import math
from pathlib import Path

from .errors import DataError


def read_csv(path: Path, *, rows_are: str) -> tuple[list[str], list[list[str]], list[int]]:
    """Return the header, the data rows (fields stripped) and each row's line number.

    ``rows_are`` names what the rows hold (e.g. ``"passenger rows"``) in the
    messages about an empty file or a file with a header only.
    """
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            records = [(reader.line_num, r) for r in reader if any(v.strip() for v in r)]
    except FileNotFoundError:
        raise DataError(f"{path}: no such file", path=path) from None
    except IsADirectoryError:
        raise DataError(f"{path}: is a folder, not a CSV file", path=path) from None
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
