"""What every sheet writer shares: A1 references, row templates, rows written in order.

A data column is one formula template (a marker for the row number) and Python's values;
:func:`write_plan` writes such columns a block of rows at a time, top to bottom, so
``constant_memory`` streams; :class:`RowOrdered` collects a heading's few cells so their order
does not matter.
"""

from __future__ import annotations

import heapq
import math
import re
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import numpy as np
import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_cell_to_rowcol, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ...errors import WorkbenchError
from ...titanic import models
from .style import Styles


def ref(row: int, col: int, *, absolute: bool = False) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def span(r1: int, c1: int, r2: int, c2: int, *, absolute: bool = False) -> str:
    return f"{ref(r1, c1, absolute=absolute)}:{ref(r2, c2, absolute=absolute)}"


# A 0-based row far below any sheet's last row: its number, "987654321", marks where a
# row's own number goes in a formula template (see row_template).
MARK_ROW = 987_654_320
MARK = str(MARK_ROW + 1)


# The rows per block the writers turn into Python objects at a time (fast to write; 4 times
# numpy's memory), so memory stays bounded in rows. Any size writes the same bytes, and as fast.
BLOCK_ROWS = 10_000


def row_blocks(n: int) -> Iterator[slice]:
    """Rows 0..n-1 in slices of ``BLOCK_ROWS``."""
    return (slice(lo, min(lo + BLOCK_ROWS, n)) for lo in range(0, n, BLOCK_ROWS))


def row_template(formula: Callable[[int], str], row: int) -> str:
    """``formula(r)`` for every row ``r`` at once: the formula of the marker row.

    ``template.replace(MARK, str(r + 1))`` is then ``formula(r)``, checked here on ``row``.
    """
    template = formula(MARK_ROW)
    if template.replace(MARK, str(row + 1)) != formula(row):
        raise AssertionError(f"{formula(row)!r} is not a formula of its row number alone")
    return template


_RANGE = re.compile(
    r"^(?:(?P<sheet>'(?:[^']|'')+'|[^'!]+)!)?(?P<a>\$?[A-Z]{1,3}\$?\d+):(?P<b>\$?[A-Z]{1,3}\$?\d+)$"
)


@dataclass(frozen=True)
class Block:
    """A rectangular range of cells on a named sheet (0-based rows and columns, inclusive)."""

    sheet: str
    first_row: int
    first_col: int
    last_row: int
    last_col: int

    @classmethod
    def parse(cls, ref: str) -> Block:
        """``"data!$B$2:$C$101"`` (or ``'my data'!B2:C101``) as a Block."""
        m = _RANGE.match(ref.strip())
        if m is None or m.group("sheet") is None:
            raise WorkbenchError(f"expected a range on a named sheet such as data!$B$2:$C$101; got {ref!r}")
        sheet = m.group("sheet")
        if sheet.startswith("'"):
            sheet = sheet[1:-1].replace("''", "'")
        (r1, c1), (r2, c2) = xl_cell_to_rowcol(m.group("a")), xl_cell_to_rowcol(m.group("b"))
        return cls(sheet, min(r1, r2), min(c1, c2), max(r1, r2), max(c1, c2))

    @property
    def rows(self) -> int:
        return self.last_row - self.first_row + 1

    @property
    def cols(self) -> int:
        return self.last_col - self.first_col + 1

    def column(self, j: int) -> Block:
        """The j-th column of the block."""
        c = self.first_col + j
        return Block(self.sheet, self.first_row, c, self.last_row, c)

    def __str__(self) -> str:
        a = xl_rowcol_to_cell(self.first_row, self.first_col, row_abs=True, col_abs=True)
        b = xl_rowcol_to_cell(self.last_row, self.last_col, row_abs=True, col_abs=True)
        return f"{quote_sheetname(self.sheet)}!{a}:{b}"


class RowOrdered:
    """Cells of a sheet's heading area, written out sorted by row.

    With ``constant_memory`` XlsxWriter keeps only the current row, so a cell written
    above it is lost; collecting the few heading cells first makes order not matter.
    """

    def __init__(self) -> None:
        self._cells: list[tuple[int, int, str, tuple[Any, ...]]] = []

    def put(self, row: int, col: int, method: str, *args: Any) -> None:
        self._cells.append((row, col, method, args))

    def flush(self, ws: Worksheet) -> None:
        for row, col, method, args in sorted(self._cells, key=lambda c: c[0]):  # stable: keeps col order
            getattr(ws, method)(row, col, *args)
        self._cells.clear()


class OneWriter(RowOrdered):
    """A model sheet's heading cells, each written once: a table's feature count moves the blocks,
    the losses and the example, and a cell written twice would hide one of them (a yellow
    parameter overwritten by a label reads as text, and every formula reading it says #VALUE!)."""

    def __init__(self) -> None:
        super().__init__()
        self._taken: dict[tuple[int, int], str] = {}

    def put(self, row: int, col: int, method: str, *args) -> None:
        # (An array formula's other cells are written next, with its values: they count as its own.)
        last_row, last_col = args[:2] if method == "merge_range" else (row, col)
        for r in range(row, last_row + 1):
            for c in range(col, last_col + 1):
                if (r, c) in self._taken:
                    raise RuntimeError(f"layout: {ref(r, c)} written by {self._taken[r, c]}, then {method}")
                self._taken[r, c] = method
        super().put(row, col, method, *args)


class RowSortedBook:
    """``book`` whose sheets keep their cells until :meth:`flush`, then write them sorted by row.

    With ``constant_memory`` XlsxWriter keeps only the current row and drops a cell written
    above it; the descent sheet writes its sums beside steps it has already written. Its few
    hundred cells are kept here instead. Anything but a cell (columns, panes, charts) goes
    straight to the sheet."""

    def __init__(self, book: xlsxwriter.Workbook) -> None:
        self._book = book
        self._sheets: list[RowSortedSheet] = []

    def add_worksheet(self, name: str | None = None) -> RowSortedSheet:
        sheet = RowSortedSheet(self._book.add_worksheet(name))
        self._sheets.append(sheet)
        return sheet

    def flush(self) -> None:
        for sheet in self._sheets:
            sheet.flush()

    def __getattr__(self, name: str):
        return getattr(self._book, name)


class RowSortedSheet(RowOrdered):
    """A sheet's cells (``write_*``, ``merge_range``, ``write_comment``), kept, then written by row;
    rows given to :func:`write_rows` are written at the flush, in their place among the kept cells."""

    _KEPT = ("write", "merge_range")

    def __init__(self, ws) -> None:
        super().__init__()
        self._ws = ws
        self._later: list[tuple[int, int, Callable[[int], None]]] = []
        self._flushing = False

    def put(self, row: int, col: int, method: str, *args: Any) -> None:
        if self._flushing:  # a row of write_rows, written in its turn
            getattr(self._ws, method)(row, col, *args)
        else:
            super().put(row, col, method, *args)

    def later(self, first: int, count: int, write_row: Callable[[int], None]) -> None:
        self._later.append((first, count, write_row))

    def flush(self) -> None:  # type: ignore[override]
        kept = sorted(self._cells, key=lambda c: c[0])  # stable: keeps col order
        cells = ((row, partial(getattr(self._ws, m), row, col, *args)) for row, col, m, args in kept)
        rows = [((first + i, partial(write, i)) for i in range(count)) for first, count, write in self._later]
        self._flushing = True
        try:
            for _, write in heapq.merge(cells, *rows, key=lambda c: c[0]):
                write()
        finally:
            self._flushing = False
            self._cells.clear()
            self._later.clear()

    def __getattr__(self, name: str):
        if name.startswith(self._KEPT):
            return lambda row, col, *args: self.put(row, col, name, *args)
        return getattr(self._ws, name)


def write_rows(ws, first: int, count: int, write_row: Callable[[int], None]) -> None:
    """``write_row(i)`` writes the cells of row ``first + i``, for i = 0 .. count - 1: now, or on a
    :class:`RowSortedSheet` at its flush, after the cells it keeps above each row, so that a long
    run of rows is never held in memory."""
    if isinstance(ws, RowSortedSheet):
        ws.later(first, count, write_row)
    else:
        for i in range(count):
            write_row(i)


@dataclass(frozen=True)
class Column:
    """A model column: header, per-row formula (None: filled by an array formula) and cached values."""

    name: str
    formula: Callable[[int], str] | None
    values: np.ndarray
    fmt: Any


#: A sheet's data columns: (column, row template or None for values, values, format).
Plan = list[tuple[int, str | None, np.ndarray, Any]]


def write_plan(
    ws: Worksheet,
    first: int,
    plan: Plan,
    columns: Sequence[Column],
    array: tuple[str, int] | None,
    after: int,
) -> None:
    """Write ``plan``, then the model ``columns`` from ``after``: their rows from ``first``."""
    plan, n = list(plan), len(columns[0].values)
    for j, col in enumerate(columns, start=after):
        template = None if col.formula is None else row_template(col.formula, first)
        values = col.values if col.values.dtype == object else np.asarray(col.values, dtype="float64")
        plan.append((j, template, values, col.fmt))
    array_col = after if array is not None else -1
    # A template's rows differ from it digit for digit: XlsxWriter's test of a formula, once per column.
    plain = getattr(ws, "plain_formula", lambda _: False)
    write = {t: ws.formula_column(t, MARK) if plain(t) else _rows_of(ws, t) for _, t, _, _ in plan if t}
    for rows in row_blocks(n):  # Python's floats and strings, a block of rows at a time
        block = [(j, template, values[rows].tolist(), fmt) for j, template, values, fmt in plan]
        for i in range(rows.stop - rows.start):
            r = first + rows.start + i
            row = str(r + 1)
            for j, template, values, fmt in block:
                if template is not None:
                    write[template](r, j, row, fmt, values[i])
                elif j == array_col and r == first:
                    formula, width = array
                    ws.write_array_formula(
                        first, after, first + n - 1, after + width - 1, formula, fmt, values[i]
                    )
                elif values[i] is None:  # a blank cell (a value missing in a table's file)
                    continue
                elif isinstance(values[i], str):
                    ws.write_string(r, j, values[i], fmt)
                else:  # raw numbers, and the array's other cells: its values, as Excel stores them
                    ws.write_number(r, j, float(values[i]), fmt)


def _rows_of(ws: Worksheet, template: str) -> Callable[..., int]:
    """``write(row, col, number, cell_format, value)``: ``template``'s formula for the row ``number``,
    by XlsxWriter's own ``write_formula``."""
    return lambda row, col, number, fmt, value: ws.write_formula(
        row, col, template.replace(MARK, number), fmt, value
    )


def wrapped(ws: Worksheet, st: Styles, row: int, text: str, widths: Sequence[float]) -> None:
    """A note wrapped across the columns of ``widths``, its row as tall as its lines."""
    ws.set_row(row, 15 * math.ceil(len(text) / sum(widths)))  # first: constant_memory flushes rows
    ws.merge_range(row, 0, row, len(widths) - 1, text, st.wrapped_note)


@dataclass(frozen=True)
class Grid:
    """Where a model sheet's inputs and model columns are: the Titanic sheets' or another table's.

    The parameters sit above columns ``first_input .. last_input``, where the inputs are
    (SUMPRODUCT and MMULT read them as one range), or, with ``data_sheet``, the inputs are that
    sheet's columns ``data_cols`` on the same rows. The target is column A, the model's columns
    start at ``after``; ``labels`` head the parameter columns, and ``sigmoid_excel`` is the
    sigmoid sheet's template.
    """

    first_input: int
    last_input: int
    after: int
    labels: tuple[str, ...]
    sigmoid_excel: str = models.SIGMOID_EXCEL
    data_sheet: str = ""
    data_cols: tuple[int, int] | None = None

    @property
    def label_col(self) -> int:
        return self.first_input - 1

    def inputs(self, r1: int, r2: int) -> str:
        """The inputs of rows ``r1 .. r2`` (relative references)."""
        first, last = self.data_cols or (self.first_input, self.last_input)
        cells = span(r1, first, r2, last)
        return f"{quote_sheetname(self.data_sheet)}!{cells}" if self.data_sheet else cells
