"""The lesson's sheets with the formulas left out: the learner types every one (``titanic_clean.xlsx``).

fastbook ships each chapter twice, full and "clean"; this is the clean copy of the lesson's
spreadsheet. Each sheet keeps the raw passengers as values, every column header, the parameter
block (yellow, holding a random start) and the labels; the cells the learner fills are empty and
green, and each header's comment says in plain words what goes there. :data:`LAYOUT` says where
everything is, so :mod:`workbench.sheets.read.grade` finds the same cells.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.worksheet import Worksheet

from ...titanic.features import COLUMNS, DERIVED, FEATURES, RAW
from .grid import ref
from .style import MINE_FILL, Styles, set_up_page

#: What the learner types in each column, in plain words (a comment on its header).
TODO = {
    "Age_N": "Age divided by the largest Age: =Age / the Max cell, the Max cell fixed with $ signs",
    "log_Fare": "LOG10(Fare + 1): the +1 keeps a fare of 0 at 0",
    "Pclass_1": "1 if Pclass is 1, else 0: =IF(Pclass=1,1,0)",
    "Pclass_2": "1 if Pclass is 2, else 0 (third class is the one with no column)",
    "Embark_S": 'IF Embarked is "S" then 1, else 0',
    "Embark_C": 'IF Embarked is "C" then 1, else 0 (Q is the one with no column)',
    "Male": 'IF Sex is "male" then 1, else 0',
    "Ones": "the number 1 in every row: its parameter is the constant",
    "Preds": "SUMPRODUCT of the row's inputs (SibSp to Ones) and the parameters (fixed with $ signs)",
    "Lin1": "SUMPRODUCT of the row's inputs and the first parameter row (fixed with $ signs)",
    "Lin2": "SUMPRODUCT of the row's inputs and the second parameter row (fixed with $ signs)",
    "ReLU1": "Lin1 if it is above 0, else 0: =IF(Lin1<0,0,Lin1) or =MAX(0,Lin1)",
    "ReLU2": "Lin2 if it is above 0, else 0",
    "Loss": "the squared error: (Preds - Survived)^2",
    "Lin1:Lin2": "one MMULT for every row at once: select every row's Lin1:Lin2 cells, type"
    " =MMULT(the inputs SibSp to Ones of every row, the yellow 10 x 2 parameters) and press"
    " Ctrl+Shift+Enter",
}


@dataclass(frozen=True)
class CleanSheet:
    """Where a clean model sheet keeps things (0-based rows and columns)."""

    name: str
    units: int  # parameter rows: 1 for linear, 2 for nnet
    columns: tuple[str, ...]  # the model's columns right of the inputs
    derived_done: bool  # the derived columns are given as values (done on an earlier sheet)
    mmult: bool = False  # the parameters are 10 x units columns, and one MMULT fills every Lin

    param_top: int = 3  # the parameter rows start one below this header row
    max_row: int = 7
    header: int = 8

    @property
    def all_columns(self) -> tuple[str, ...]:
        return (*COLUMNS, *self.columns)

    @property
    def first(self) -> int:
        return self.header + 1

    @property
    def first_input(self) -> int:
        return COLUMNS.index(FEATURES[0])

    def col(self, name: str) -> int:
        """The column of a header, raw, derived or the model's."""
        return COLUMNS.index(name) if name in COLUMNS else len(COLUMNS) + self.columns.index(name)

    @property
    def params(self) -> tuple[int, int, int, int]:
        """The yellow block: first row, first column, last row, last column."""
        return self.block("params")

    def block(self, name: str) -> tuple[int, int, int, int]:
        """The ``params`` (yellow) or ``start`` (grey) block: a row per unit, or on an MMULT sheet
        a column per unit, the start beside the parameters."""
        first, c0, at = self.param_top + 1, self.first_input, ("params", "start").index(name)
        if self.mmult:
            c = c0 + at * (self.units + 1)
            return first, c, first + len(FEATURES) - 1, c + self.units - 1
        r = first + at * self.units
        return r, c0, r + self.units - 1, c0 + len(FEATURES) - 1

    @property
    def total(self) -> tuple[int, int]:
        """The ``Total loss:`` value cell."""
        return self.param_top + 1, self.col("Loss")

    @property
    def max_cell(self) -> tuple[int, int]:
        return self.max_row, COLUMNS.index("Age")


#: A net's columns: its linear units, their ReLUs, the prediction (their sum), the loss.
NET = ("Lin1", "Lin2", "ReLU1", "ReLU2", "Preds", "Loss")

#: The clean sheets, in the video's order.
LAYOUT: dict[str, CleanSheet] = {
    "linear": CleanSheet("linear", 1, ("Preds", "Loss"), derived_done=False),
    "nnet": CleanSheet("nnet", 2, NET, derived_done=True),
    "mmult": CleanSheet("mmult", 2, NET, derived_done=True, mmult=True, header=15),
}

#: The tasks, in the video's order: (sheet, what to fill, how).
TASKS: tuple[tuple[str, str, str], ...] = (
    ("linear", "Max", "the largest Age, in the Max cell above the Age column: =MAX(the Age column)"),
    *(("linear", d.name, TODO[d.name]) for d in DERIVED),
    ("linear", "Preds", TODO["Preds"]),
    ("linear", "Loss", TODO["Loss"]),
    ("linear", "Total loss", "the mean of the Loss column: =AVERAGE(...)"),
    ("linear", "Solver", "Data > Solver: make Total loss smallest by changing the yellow cells"),
    *(("nnet", name, TODO[name]) for name in LAYOUT["nnet"].columns),
    ("nnet", "Total loss", "the mean of the Loss column"),
    ("nnet", "Solver", "Solver again, on this sheet's yellow cells; stuck at a high loss: another start"),
    ("mmult", "Lin1:Lin2", TODO["Lin1:Lin2"]),
    *(("mmult", name, TODO[name]) for name in ("ReLU1", "ReLU2", "Preds", "Loss")),
    ("mmult", "Total loss", "the mean of the Loss column: the same net as nnet's"),
)


def write_clean_sheet(
    book: xlsxwriter.Workbook, st: Styles, lay: CleanSheet, table: pd.DataFrame, start: np.ndarray
) -> None:
    """One clean model sheet: ``table``'s raw columns as values, ``start`` in the yellow cells."""
    ws = book.add_worksheet(lay.name)
    todo = book.add_format({"bg_color": MINE_FILL, "border": 1, "border_color": "#808080"})
    ws.write_string(
        0, 0, f"{lay.name}: type the formulas into the green cells (the tasks sheet lists them)", st.title
    )
    note = (
        "Each green column's header has a comment: what goes there. Yellow: the parameters your"
        " formulas read and Solver changes; grey: their random start."
    )
    ws.write_string(1, 0, note, st.note)
    _parameters(ws, st, lay, start)
    if not lay.derived_done:
        r, c = lay.max_cell
        ws.write_string(r, c - 1, "Max:", st.label)
        ws.write_blank(r, c, None, todo)
    r, c = lay.total
    ws.write_string(r, c - 1, "Total loss:", st.big_label)
    ws.write_blank(r, c, None, todo)
    fill = [*([] if lay.derived_done else [d.name for d in DERIVED]), *lay.columns]
    for j, name in enumerate([*COLUMNS, *lay.columns]):
        ws.write_string(lay.header, j, name, st.header)
        if name in fill:
            todo_text = TODO["Lin1:Lin2"] if lay.mmult and name.startswith("Lin") else TODO[name]
            ws.write_comment(lay.header, j, todo_text, {"author": "workbench", "x_scale": 2})
    _rows(ws, st, lay, table, [lay.col(name) for name in fill], todo)
    ws.set_column(0, len(COLUMNS) + len(lay.columns), 10)
    ws.set_column(lay.total[1] - 1, lay.total[1], 14)  # Total loss: its label and value, in the large font
    ws.freeze_panes(lay.first, 0)
    set_up_page(ws, header_row=lay.header)


def _parameters(ws: Worksheet, st: Styles, lay: CleanSheet, start: np.ndarray) -> None:
    """The parameter names, and the yellow cells holding ``start`` (one row per linear unit)."""
    if lay.mmult:
        return _columns_of_parameters(ws, st, lay, start)
    first, c0, _, _ = lay.params
    labels = [*FEATURES[:-1], "Const"]
    for j, label in enumerate(labels):
        ws.write_string(lay.param_top, c0 + j, label, st.header)
    rows = np.asarray(start, dtype="float64").reshape(lay.units, len(FEATURES))
    # Yellow: the parameters the formulas read, which Solver changes; grey below: the same start,
    # kept (pasted RAND()-0.5 values, as the lesson does), read by nothing.
    for block, (label, fmt) in enumerate((("Params", st.param), ("Start", st.start))):
        for k, values in enumerate(rows):
            r = first + block * lay.units + k
            ws.write_string(r, c0 - 1, f"{label}:" if lay.units == 1 else f"{label} {k + 1}:", st.label)
            for j, v in enumerate(values):
                ws.write_number(r, c0 + j, float(v), fmt)


def _columns_of_parameters(ws: Worksheet, st: Styles, lay: CleanSheet, start: np.ndarray) -> None:
    """The MMULT sheet's parameters: a 10 x 2 column block (nnet's rows as columns), start beside."""
    columns = np.asarray(start, dtype="float64").reshape(lay.units, len(FEATURES)).T
    first, c0, _, _ = lay.params
    for i, label in enumerate([*FEATURES[:-1], "Const"]):
        ws.write_string(first + i, c0 - 1, label, st.label)
    for name, fmt in (("params", st.param), ("start", st.start)):
        r1, c1, _, _ = lay.block(name)
        for k in range(lay.units):
            ws.write_string(lay.param_top, c1 + k, f"{name.title()} {k + 1}", st.header)
            for i in range(len(FEATURES)):
                ws.write_number(r1 + i, c1 + k, float(columns[i, k]), fmt)


def _rows(
    ws: Worksheet, st: Styles, lay: CleanSheet, table: pd.DataFrame, todo_cols: Sequence[int], todo
) -> None:
    """The passengers: raw values (and derived ones when given), green blanks where formulas go."""
    given = list(RAW) + ([d.name for d in DERIVED] if lay.derived_done else [])
    columns = [(COLUMNS.index(name), table[name].tolist()) for name in given]
    decimals = {COLUMNS.index(name): st.number for name in ("Age", "Fare")}
    decimals |= {COLUMNS.index(name): st.feature for name in ("Age_N", "log_Fare")}  # 0.000, all digits kept
    for i in range(len(table)):
        r = lay.first + i
        for c, values in columns:
            v = values[i]
            if isinstance(v, str):
                ws.write_string(r, c, v, st.category)
            else:
                ws.write_number(r, c, float(v), decimals.get(c, st.whole))
        for c in todo_cols:
            ws.write_blank(r, c, None, todo)


def cell(row: int, col: int, *, absolute: bool = False) -> str:
    """A1 name of a 0-based cell (for messages and the tasks sheet)."""
    return ref(row, col, absolute=absolute)


def tasks_sheet(book: xlsxwriter.Workbook, st: Styles, tasks: Sequence[tuple[str, str, str]] = TASKS) -> None:
    """The tasks in the video's order, each with its sheet and column, then how it is graded."""
    ws = book.add_worksheet("tasks")
    ws.write_string(0, 0, "Rebuild the lesson's spreadsheet: the tasks, in the video's order", st.title)
    then = "Then: workbench check --grade FILE says which are right, and the first slip of the rest."
    ws.write_string(1, 0, then, st.note)
    for j, head in enumerate(("#", "sheet", "fill in", "how")):
        ws.write_string(3, j, head, st.header)
    for i, (sheet, what, how) in enumerate(tasks, start=1):
        ws.write_number(3 + i, 0, i, st.whole)
        ws.write_string(3 + i, 1, sheet, st.text)
        ws.write_string(3 + i, 2, what, st.text)
        ws.write_string(3 + i, 3, how, st.text)
    for j, width in enumerate((4, 8, 11, 100)):
        ws.set_column(j, j, width)
    set_up_page(ws)
