"""Read any tabular CSV file into typed columns: numbers as float64, everything else as text.

The file is read with the project's bounded reader (:func:`workbench.csv_files.read_csv`: a regular
file of at most 1 GiB, text in UTF-8 or in Excel's Windows-1252 or UTF-16, every row as wide as the
header, its fields separated by commas or by the semicolons, tabs, bars or spaces that split its
first lines evenly or that a first line ``sep=;`` names). A column is numeric when every value that
is not a missing marker is a plain decimal number (or, where the comma is no decimal mark, one with
commas between groups of digits, ``1,234.5``); otherwise it is text. A column of numbers with a few
words in it (at least 90% numbers, at most 3 different words) is a category when it has at most
:data:`MAX_LEVELS` different values (Cylinders 4, 6, 8 and 'rotary'), and is otherwise refused,
naming the first word's row: the word marks a missing value (``na=["unknown"]``), is a typing slip,
or the column is an identifier (``136A``), which ``category=`` takes as levels and ``text=`` reads
as text. (Titanic's Ticket, 74% numbers and hundreds of different words, is text.) In a file
separated by semicolons, as spreadsheets save CSV where the comma is the decimal mark, a number may
have a decimal comma (``2,5``) as well as a point. Text is read in Unicode's composed form (NFC):
an accented letter typed as one character or as a letter and a combining mark is one level, as a
spreadsheet sees it.
"""

from __future__ import annotations

import os
import re
import unicodedata
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from ..csv_files import CONTROL, cell_text, decimal_point, grouped_float, read_csv, to_float, unit_of
from ..errors import DataError
from . import hints

#: What real files write for a missing value; ``na=`` adds more.
MISSING = ("", "NA", "N/A", "n/a", "#N/A", "NaN", "nan", "?")  # #N/A: what Excel shows for none
#: An infinite number as programs write it (inf, -Infinity): among a column's numbers, missing.
_INFINITE = re.compile(r"[+-]?(?:inf|infinity)", re.IGNORECASE)
#: Up to this many different values, a column is a category's levels, as the lesson's Pclass.
MAX_LEVELS = 10


def read_table(
    path: str | os.PathLike[str],
    *,
    na: Iterable[str] = (),
    text: Iterable[str] = (),
    category: Iterable[str] = (),
    grouped: Iterable[str] = (),
) -> pd.DataFrame:
    """Read a CSV file with a header row into a DataFrame of typed columns.

    Args:
        path: the CSV file (UTF-8, with or without a byte-order mark).
        na: more values that mean "missing", besides :data:`MISSING`
            (empty, ``NA``, ``N/A``, ``n/a``, ``#N/A``, ``NaN``, ``nan``, ``?``).
        text: columns read as text whatever they hold (a column to leave out, or whose levels
            were text when its recipe was made).
        category: columns taken as categories: a few words among their many numbers are levels
            too (an identifier written with digits and, here and there, a letter: ``136A``).
        grouped: columns whose points group digits where the comma is the decimal mark, even
            where no value shows it (a recipe's columns that were read so: new rows' ``1.234``
            is 1234 as the book's was).

    Returns:
        One row per data row, in file order, indexed 1, 2, ... (``row``, as in error
        messages). Numeric columns are float64 with NaN where missing; other columns hold
        text (``str``) with NaN where missing. ``attrs["source"]`` is the file's path, so
        :func:`~workbench.tabular.prepare` can name the file in its messages; ``attrs["read_as"]``
        says how it was read when that was not the usual way (fields separated by semicolons,
        tabs, bars or spaces, text not in UTF-8, numbers with decimal commas or with commas between
        groups of digits, a few words among a category's numbers), else is empty;
        ``attrs["grouped"]`` lists the columns whose digits were grouped.

    Raises:
        DataError: not a readable regular CSV file, a header without data rows, an unnamed
            column, or a column of many numbers with a few words in it (naming column and row).
    """
    path = Path(path)
    read = read_csv(path, rows_are="data rows", rename=True)
    header, rows, lines = read.header, read.rows, read.lines
    if not rows:
        raise DataError(f"{path}: has a header but no data rows", path=path)
    markers = missing_markers(na)
    index = pd.RangeIndex(1, len(rows) + 1, name="row")
    commas, text, category, grouped = read.decimal_comma, set(text), set(category), set(grouped)
    columns = {
        name: typed_column(
            [r[j] for r in rows],
            name,
            markers,
            source=str(path),
            index=index,
            lines=lines,
            decimal_comma=commas,
            text=name in text,
            words=name in category,
            grouped=name in grouped,
        )
        for j, name in enumerate(header)
    }
    frame = pd.DataFrame(columns, index=index)
    frame.attrs["source"] = str(path)
    frame.attrs["grouped"] = [n for n, col in columns.items() if col.attrs.get("grouped")]
    frame.attrs["units"] = {n: col.attrs["unit"] for n, col in columns.items() if col.attrs.get("unit")}
    decimal = [
        n
        for j, n in enumerate(header)
        if commas and columns[n].dtype == "float64" and any("," in r[j] for r in rows)
    ]
    said = [read.read_as] + ([f"decimal commas in {', '.join(decimal)}"] if decimal else [])
    if grouped := frame.attrs["grouped"]:
        example = (
            "points between groups of digits (1.234,5)"
            if commas
            else "commas between groups of digits (1,234)"
        )
        said.append(f"{example} in {', '.join(grouped)}")
    units = frame.attrs["units"]
    if money := [n for n, u in units.items() if u != "%"]:
        said.append(f"money without its symbol in {', '.join(f'{n} ({units[n]})' for n in money)}")
    if percents := [n for n, u in units.items() if u == "%"]:
        said.append(f"percents as a spreadsheet reads them (12% is 0.12) in {', '.join(percents)}")
    for name, col in columns.items():
        if infinite := col.attrs.get("infinite"):
            shown = ", ".join(map(repr, infinite))
            said.append(f"{shown} as missing in {name} (no spreadsheet cell holds an infinite number)")
        if words := col.attrs.get("words"):
            shown = ", ".join(map(repr, words))
            said.append(
                f"{name} as categories, {shown} a level among its numbers (if it marks a missing"
                f" value, pass {hints.option('na', words)})"
            )
    frame.attrs["read_as"] = "; ".join(w for w in said if w)
    return frame


def missing_markers(na: Iterable[str]) -> frozenset[str]:
    """:data:`MISSING` plus the user's ``na`` values (a single string counts as one value)."""
    extra = (na,) if isinstance(na, str) else tuple(na)
    for v in extra:
        if not isinstance(v, str):
            raise DataError(f"na= takes text values such as 'unknown'; got {v!r}")
    return frozenset(MISSING) | frozenset(v.strip() for v in extra)


def _one_spelling(v: str) -> str:
    """One spelling of a text, as every spreadsheet engine reads it back from a cell
    (:func:`~workbench.csv_files.cell_text`), in Unicode's composed form (NFC): Gnumeric's EXACT
    takes an accent typed as one character or as a letter and a combining mark to be the same
    text, where pandas would make them two levels."""
    v = cell_text(v)
    return v if v.isascii() else unicodedata.normalize("NFC", v)


def typed_column(
    values: Sequence[str | None],
    name: str,
    markers: frozenset[str],
    *,
    source: str | None,
    index: pd.Index,
    lines: Sequence[int] | None = None,
    decimal_comma: bool = False,
    text: bool = False,
    words: bool = False,
    grouped: bool = False,
) -> pd.Series:
    """One column as float64 numbers when every present value is a number, else as text.

    ``None`` and the ``markers`` are missing. ``index`` labels the rows in messages (and
    ``lines`` gives their line in the file, when there is one). ``decimal_comma``: a comma may be a
    number's decimal mark (``-1,5``), as :func:`~workbench.csv_files.to_float` reads it. ``text``:
    read as text whatever the values are. A number may group its digits, as a spreadsheet saves a
    cell formatted so: with commas (``1,234.5``), or with points where the comma is the decimal mark
    (``1.234,5``; :func:`_grouped`): ``attrs["grouped"]``. So may every value carry one money or
    percent symbol (``$1,234.50``, ``12%``: 0.12; :func:`_with_unit`): ``attrs["unit"]``. An infinity
    among numbers (``inf``) is missing, as no spreadsheet cell holds it: ``attrs["infinite"]``.

    A few words among many numbers (at least 90% numbers, at most 3 different words) are a
    category's levels when the column has at most :data:`MAX_LEVELS` different values (Cylinders
    3, 4, 6, 8 and 'rotary'), or ``words`` says the column is a category: text, the words in
    ``attrs["words"]``. Among more, they are refused,
    naming the first word's row: a number column's missing marker or slip, or an identifier
    (``136A``); the message says which option passes each.
    """
    values = [v if v is None or (v.isascii() and not CONTROL.search(v)) else _one_spelling(v) for v in values]
    present = [v is not None and v not in markers for v in values]
    if text:
        return _text(values, present, index)
    kept = [v for v, p in zip(values, present, strict=True) if p]
    # (a column known to group digits with points reads each value below: 1.234 is 1234 there)
    fast = (
        None
        if grouped and decimal_comma
        else _all_numbers(list(map(decimal_point, kept)) if decimal_comma else kept)
    )
    if fast is not None:
        column = np.full(len(values), np.nan)
        column[np.asarray(present, dtype=bool)] = fast
        return pd.Series(column, index=index, dtype="float64")
    read = {v: to_float(v, decimal_comma=decimal_comma) for v in set(kept)}  # a category's levels, read once
    points = _grouped(read, decimal_comma, known=grouped)
    read |= points
    numbers = [read[v] if p else None for v, p in zip(values, present, strict=True)]
    n_present, n_numbers = sum(present), sum(x is not None for x in numbers)
    odd = {v for v, x, p in zip(values, numbers, present, strict=True) if p and x is None}
    if n_numbers and all(_INFINITE.fullmatch(v) for v in odd):  # numbers, but for infinities no cell holds
        column = pd.Series([np.nan if x is None else x for x in numbers], index=index, dtype="float64")
        column.attrs.update(grouped=bool(points), infinite=sorted(odd))
        return column
    if (money := _with_unit(values, present, kept, index, decimal_comma, grouped)) is not None:
        return money
    if not (odd and n_numbers >= 0.9 * n_present and len(odd) <= 3):
        return _text(values, present, index)
    if len(read) <= MAX_LEVELS or words:
        column = _text(values, present, index)
        column.attrs["words"] = sorted(odd)
        return column
    i = next(i for i, (x, p) in enumerate(zip(numbers, present, strict=True)) if p and x is None)
    where = f"row {index[i]}" + (f" (line {lines[i]})" if lines is not None else "")
    word = values[i][:40]
    raise DataError(
        f"{source or 'the table'}: column {name!r}, {where} has {word!r} where {n_numbers} of its"
        f" {n_present} values are numbers; if it marks a missing value pass {hints.option('na', [word])};"
        f" if the column is an identifier or a category, pass {hints.option('drop', [name])} or"
        f" {hints.option('category', [name])}; else correct it",
        path=source,
        column=name,
        row=int(index[i]) if isinstance(index[i], (int, np.integer)) else None,
    )


def _with_unit(
    values: list, present: list[bool], kept: list[str], index: pd.Index, decimal_comma: bool, grouped: bool
) -> pd.Series | None:
    """The column as numbers when every value carries one money or percent symbol ($1,234.50, 12%),
    read as a spreadsheet reads them (12% is 0.12), ``attrs["unit"]`` the symbol; else None."""
    units, symbols = {}, set()
    for v in set(kept):  # a text column's first value without a symbol ends the search
        units[v] = unit_of(v)
        symbols.add(units[v] and units[v][0])
        if None in symbols or len(symbols) > 1:
            return None
    if not symbols:
        return None
    (unit,) = symbols
    plain = [units[v][1] if p else None for v, p in zip(values, present, strict=True)]
    try:
        column = typed_column(plain, "", frozenset(), source=None, index=index, decimal_comma=decimal_comma,
                              grouped=grouped)  # fmt: skip
    except DataError:
        return None
    if column.dtype != "float64":
        return None
    grouped = column.attrs.get("grouped", False)
    if unit == "%":
        column = column / 100
    column.attrs.update(unit=unit, grouped=grouped)
    return column


def _grouped(read: dict[str, float | None], decimal_comma: bool, *, known: bool = False) -> dict[str, float]:
    """The values of a column (each as read plainly) that group their digits, as numbers.

    Where the comma is no decimal mark, a comma between groups of three digits (``1,234.5``).
    Where it is, a space (``1 234,5``), or a point: ``1.234`` alone could be either, so the points
    group digits only when one value shows it (``1.234,5``, ``1.234.567``), or ``known`` says the
    column's points do, and every value with a point is so grouped; then ``1.234`` is 1234, as a
    spreadsheet reading the column in that locale takes it.
    """
    if not decimal_comma:
        return {v: x for v in read if read[v] is None and (x := grouped_float(v)) is not None}
    spaced = {v: x for v in read if "." not in v and (x := grouped_float(v, decimal_comma=True)) is not None}
    pointed = [v for v in read if "." in v]
    grouped = {v: x for v in pointed if (x := grouped_float(v, decimal_comma=True)) is not None}
    if len(grouped) < len(pointed) or not (known or any(read[v] is None for v in grouped)):
        return spaced
    return spaced | grouped


def _text(values: Sequence[str | None], present: list[bool], index: pd.Index) -> pd.Series:
    return pd.Series(
        [v if p else np.nan for v, p in zip(values, present, strict=True)], index=index, dtype=object
    )


def _all_numbers(texts: list[str]) -> np.ndarray | None:
    """Every one of ``texts`` read as :func:`~workbench.csv_files.to_float` reads it, at once, or None
    when some text is not a plain finite number (the caller then reads value by value)."""
    if not texts:
        return None
    try:
        numbers = np.array(texts, dtype="float64")  # numpy reads text as Python's float() does
    except ValueError:
        return None
    if not np.isfinite(numbers).all() or any("_" in v for v in texts):
        return None
    return numbers


def sample_rows(frame: pd.DataFrame, n: int, seed: int) -> tuple[pd.DataFrame, str]:
    """A random sample of ``n`` of ``frame``'s rows, kept in file order, and the sentence that says so.

    The rows are ``numpy.random.default_rng(seed).choice(len(frame), n, replace=False)``, sorted:
    the same ``seed`` draws the same rows. Their index (the file's row numbers) is kept, so a
    message about a sampled row still names the file's row.

    Raises:
        DataError: ``n`` is not a whole number from 1 to the number of rows.
    """
    rows, source = len(frame), frame.attrs.get("source", "the table")
    if isinstance(n, bool) or not isinstance(n, (int, np.integer)) or not 1 <= n <= rows:
        raise DataError(
            f"{source}: {hints.keyword('sample')} takes a whole number of rows from 1 to the file's {rows:,};"
            f" got {n!r}"
        )
    picked = np.sort(np.random.default_rng(seed).choice(rows, size=int(n), replace=False))
    sample = frame.iloc[picked]
    sample.attrs = dict(frame.attrs)
    said = f"a random sample of {int(n):,} of the file's {rows:,} rows, drawn with seed {seed}"
    return sample, said
