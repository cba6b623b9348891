"""Read Kaggle's Titanic CSV files and check every value a model will use.

:func:`load_titanic` returns the raw passengers, one row per CSV row, with numeric
columns parsed. Nothing is dropped or filled here: that is the job of the two
policies in :mod:`workbench.titanic.features`.

Every problem raises :class:`~workbench.errors.DataError` naming the file, the
column and the first offending row (rows count from 1 below the header, so row 1
is line 2 of a file without quoted line breaks).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from importlib.resources import files
from pathlib import Path

import numpy as np
import pandas as pd

from ..csv_files import CsvRows, read_csv, to_float, to_whole
from ..errors import DataError

# Kaggle's files (the repository's data/titanic/) ship inside the wheel as the package
# workbench.data (setup.py), so an installed wheel has them.
DATA_DIR = Path(str(files("workbench.data").joinpath("titanic")))
TRAIN_CSV = DATA_DIR / "train.csv"
TEST_CSV = DATA_DIR / "test.csv"

#: Columns every file must have. ``Survived`` is extra in the training layout;
#: ``Name``, ``Ticket`` and ``Cabin`` are kept when present but never needed.
REQUIRED = ("PassengerId", "Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked")
SEXES = ("male", "female")
PORTS = ("S", "C", "Q")  # Southampton, Cherbourg, Queenstown

#: The largest value a real passenger list holds, with room to spare: the Titanic's oldest
#: passenger was 80, its dearest ticket 512.33 pounds, its largest family 8 siblings and
#: 9 parents or children. Larger values are typing mistakes (or attacks) that would wreck
#: the fits' scaling, so the loader names them. PassengerId must be exact in a double.
LIMITS = {"Age": 150, "Fare": 10_000, "SibSp": 20, "Parch": 20, "PassengerId": 2**53}


def load_titanic(path: str | os.PathLike[str] | None = None) -> pd.DataFrame:
    """Read a Kaggle Titanic CSV (``train.csv`` or ``test.csv`` layout).

    Args:
        path: the CSV to read; the bundled ``train.csv`` (inside the package) by default.
            LF or CRLF line endings, UTF-8 with or without a byte-order mark.

    Returns:
        One row per passenger in file order. ``PassengerId``, ``Pclass``,
        ``SibSp``, ``Parch`` (and ``Survived`` when present) are ``int64``;
        ``Age`` and ``Fare`` are ``float64`` with NaN for an empty field; text
        columns keep their text, NaN when empty.

    Raises:
        DataError: the file is missing or empty, a required column is missing, or
            a value is not what the column needs (a number, a whole number, 0/1,
            one of the known categories, a unique PassengerId).
    """
    path = TRAIN_CSV if path is None else Path(path)
    return _parse(path, _read_rows(path))


def _read_rows(path: Path) -> CsvRows:
    """The header, the data rows (fields stripped), each row's line number, the separator."""
    read = read_csv(path, rows_are="passenger rows")
    header, rows = read.header, read.rows
    missing = [c for c in REQUIRED if c not in header]
    if missing:
        raise DataError(
            f"{path}: missing column {missing[0]!r}; a Kaggle Titanic file has "
            f"{', '.join(REQUIRED)} (found: {', '.join(header) or 'nothing'})",
            path=path,
            column=missing[0],
        )
    if not rows:
        raise DataError(f"{path}: has a header but no passenger rows", path=path)
    return read


class _Checker:
    """Turns 'value i of column c is wrong' into a DataError that says where."""

    def __init__(self, path: Path, lines: list[int], decimal_comma: bool) -> None:
        self.path, self.lines, self.decimal_comma = path, lines, decimal_comma

    def fail(self, column: str, i: int, problem: str) -> DataError:
        return DataError(
            f"{self.path}: column {column!r}, row {i + 1} (line {self.lines[i]}) {problem}",
            path=self.path,
            column=column,
            row=i + 1,
        )

    def numbers(self, name: str, values: list[str]) -> pd.Series:
        """Decimal numbers (with a decimal comma, ``22,5``, in a file separated by semicolons); an
        empty field is NaN (missing)."""
        parsed = np.full(len(values), np.nan)
        for i, v in enumerate(values):
            if not v:
                continue
            x = to_float(v, decimal_comma=self.decimal_comma)
            if x is None:
                raise self.fail(
                    name, i, f"has {v!r}; expected a number (leave the field empty when it is missing)"
                )
            parsed[i] = x
        return pd.Series(parsed, dtype="float64")

    def whole_numbers(self, name: str, values: list[str]) -> pd.Series:
        """Whole numbers; no field may be empty."""
        parsed = np.zeros(len(values), dtype=np.int64)
        for i, v in enumerate(values):
            x = to_whole(v) if v else None
            if x is None:
                found = "is empty" if not v else f"has {v[:40]!r}"
                raise self.fail(name, i, f"{found}; expected a whole number (at most 2**53)")
            parsed[i] = x
        return pd.Series(parsed, dtype="int64")

    def category(self, name: str, values: list[str], allowed: Sequence[str], *, blank_ok: bool) -> pd.Series:
        # Exact, case-sensitive match: Excel's "=" on text ignores case, Python's does
        # not, so accepting "Male" would let the workbook and Python disagree.
        for i, v in enumerate(values):
            if v not in allowed and (v or not blank_ok):
                expected = ", ".join(repr(a) for a in allowed) + (" or empty" if blank_ok else "")
                raise self.fail(name, i, f"has {v!r}; expected one of {expected}")
        return pd.Series([v if v else np.nan for v in values], dtype=object)

    def one_of(self, name: str, col: pd.Series, allowed: tuple[int, ...]) -> None:
        bad = (~col.isin(allowed)).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise self.fail(name, i, f"has {col.iloc[i]}; expected one of {', '.join(map(str, allowed))}")

    def at_most(self, name: str, col: pd.Series, limit: float) -> None:
        bad = (col > limit).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise self.fail(
                name, i, f"has {col.iloc[i]:g}; no passenger list has a {name} above {limit:,} (see LIMITS)"
            )

    def not_negative(self, name: str, col: pd.Series) -> None:
        bad = (col < 0).to_numpy()
        if bad.any():
            i = int(np.argmax(bad))
            raise self.fail(name, i, f"has {col.iloc[i]:g}; it cannot be negative")


def _parse(path: Path, read: CsvRows) -> pd.DataFrame:
    header, rows, lines = read.header, read.rows, read.lines
    check = _Checker(path, lines, decimal_comma=read.decimal_comma)
    out: dict[str, pd.Series] = {}
    for j, name in enumerate(header):
        values = [r[j] for r in rows]
        if name in ("PassengerId", "Pclass", "SibSp", "Parch", "Survived"):
            out[name] = check.whole_numbers(name, values)
        elif name in ("Age", "Fare"):
            out[name] = check.numbers(name, values)
        elif name == "Sex":
            out[name] = check.category(name, values, SEXES, blank_ok=False)
        elif name == "Embarked":
            out[name] = check.category(name, values, PORTS, blank_ok=True)
        else:
            out[name] = pd.Series([v if v else np.nan for v in values], dtype=object)

    check.one_of("Pclass", out["Pclass"], (1, 2, 3))
    if "Survived" in out:
        check.one_of("Survived", out["Survived"], (0, 1))
    for name in ("SibSp", "Parch", "Age", "Fare"):
        check.not_negative(name, out[name])
    for name, limit in LIMITS.items():
        check.at_most(name, out[name], limit)
    ids = out["PassengerId"].to_numpy()
    _, first = np.unique(ids, return_index=True)
    if len(first) < len(ids):
        i = int(np.setdiff1d(np.arange(len(ids)), first)[0])
        earlier = int(np.argmax(ids == ids[i]))
        raise check.fail(
            "PassengerId", i, f"repeats id {ids[i]} of row {earlier + 1}; each passenger needs a unique id"
        )
    return pd.DataFrame(out)
