"""The lesson's Titanic workbook: every number a live formula, with Python's value cached beside it.

:func:`write_titanic_book` writes ``workbooks/titanic.xlsx``:

* ``all_rows``: the CSV's passengers, the lesson's 8 columns, blanks blank, autofilter.
* ``features``: each derived column's reason, Excel formula and pandas line, the largest values,
  the n-1 dummy rule, two charts (:mod:`workbench.sheets.features_sheet`).
* ``linear``, ``nnet``, ``mmult``: the lesson's sheets (docs/LESSON.md). Raw columns are
  values; each derived column is the formula of :data:`workbench.titanic.features.DERIVED`;
  predictions, ReLUs, losses, the total loss and the accuracy are the ``*_EXCEL``
  templates of :mod:`workbench.titanic.models`. So Python and the workbook cannot drift apart.
  Each model sheet's formulas read the parameters ``In use``, which its ``Parameters:`` switch
  picks: the fitted ones (yellow, Solver's cells), their random start (grey) or the learner's own
  (green, named ``Mine``); a ``New start`` row of ``=RAND()-0.5`` beside them is read by nothing.
* ``sigmoid``: the linear model squashed into 0..1, with its own parameters.
* any extra sheets (for example the ``descent`` sheet), then ``summary``: every model
  sheet's live total loss and accuracy, a comparison of training runs and a chart of
  their loss curves.

Each formula cell stores the value Python computed (float64), so viewers that do not
recalculate show the right numbers; LibreOffice or Excel recomputes the same ones.
The writer fits nothing: it takes the feature table and the parameters (fitted and
starting) as arguments. Rows are written strictly top to bottom, so
``constant_memory=True`` streams even a sheet of a million rows.
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
import xlsxwriter
from numpy.typing import ArrayLike
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ..errors import WorkbenchError
from ..numerics import uniform_start
from ..regression import Trajectory, descend, max_stable_lr
from ..titanic import models
from ..titanic.features import COLUMNS, DERIVED, FEATURES, RAW
from ..titanic.split import LUCK_SPLITS, VALID_PCT, valid_below_train, validation_split
from ..titanic.submission import Params
from .descent import Block, write_descent_sheet
from .features_sheet import write_features_sheet
from .model_sheets import MODEL_SHEETS, RESULTS
from .solver_names import NAMES as SOLVER_NAMES
from .solver_names import define_solver
from .style import HEADER_FILL, Styles, set_up_page, styles
from .trend import loss_trend
from .xlsx import chart_text, check_rows, new_workbook

if TYPE_CHECKING:
    from ..titanic.train import Fit


@dataclass(frozen=True)
class ModelSheet:
    """A model sheet: the registry's model it evaluates, squashed by a sigmoid or not, and its text."""

    name: str
    model: models.Model
    sigmoid: bool
    title: str
    note: str
    what: str  # its line on the summary sheet


#: The model sheets: one per model of the registry (:data:`workbench.titanic.models.MODELS`),
#: then ``sigmoid``, the linear model squashed into 0..1.
SHEETS: dict[str, ModelSheet] = {
    **{m.sheet: ModelSheet(m.sheet, m, False, m.title, m.note, m.what) for m in models.MODELS.values()},
    "sigmoid": ModelSheet(
        "sigmoid",
        models.MODELS["linear"],
        True,
        "sigmoid: the linear model squashed into 0..1",
        "Lin = SUMPRODUCT of the inputs and the parameters; Preds = 1/(1+EXP(-Lin)) always lies between"
        " 0 and 1; Loss and Total loss as on linear. Its parameters are fitted for this sheet's loss.",
        "linear, then 1/(1+EXP(-z))",
    ),
}

#: The model sheets, and the model each one evaluates.
if list(SHEETS) != list(MODEL_SHEETS) or any(SHEETS[s].model.name != m for s, m in MODEL_SHEETS.items()):
    raise ImportError("SHEETS and model_sheets.MODEL_SHEETS must list the same sheets and models")

#: A sheet writer called with the open workbook, e.g. the ``descent`` sheet's.
SheetWriter = Callable[[xlsxwriter.Workbook], object]


#: The name :class:`~workbench.titanic.submission.Params` had here before (``Fitted(params, start)``).
Fitted = Params


# ---------------------------------------------------------------------------------------------
# Sheet geometry shared by the model sheets: raw columns A:H, derived columns I:P.

_COL = {name: j for j, name in enumerate(COLUMNS)}
_INPUT_COLS = [_COL[f] for f in FEATURES]
if list(range(_INPUT_COLS[0], _INPUT_COLS[0] + len(FEATURES))) != _INPUT_COLS:
    raise ImportError("the 10 model inputs must be adjacent columns for SUMPRODUCT/MMULT ranges")
_FIRST_INPUT, _LAST_INPUT = _INPUT_COLS[0], _INPUT_COLS[-1]  # G and P
_LABEL_COL = _FIRST_INPUT - 1  # F: labels of the parameter rows
_PARAM_LABELS = [*FEATURES[:-1], "Const"]  # the parameter of Ones is the intercept
_AFTER = len(COLUMNS)  # Q: the first model column


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
        span = _span(r1, first, r2, last)
        return f"{quote_sheetname(self.data_sheet)}!{span}" if self.data_sheet else span


TITANIC_GRID = Grid(_FIRST_INPUT, _LAST_INPUT, _AFTER, tuple(_PARAM_LABELS))


def _ref(row: int, col: int, *, absolute: bool = False) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=absolute, col_abs=absolute)


def _span(r1: int, c1: int, r2: int, c2: int, *, absolute: bool = False) -> str:
    return f"{_ref(r1, c1, absolute=absolute)}:{_ref(r2, c2, absolute=absolute)}"


# A 0-based row far below any sheet's last row: its number, "987654321", marks where a
# row's own number goes in a formula template (see _row_template).
_MARK_ROW = 987_654_320
_MARK = str(_MARK_ROW + 1)


# The rows per block the writers turn into Python objects at a time (fast to write; 4 times
# numpy's memory), so memory stays bounded in rows. Any size writes the same bytes.
BLOCK_ROWS = 50_000


def _blocks(n: int) -> Iterator[slice]:
    """Rows 0..n-1 in slices of ``BLOCK_ROWS``."""
    return (slice(lo, min(lo + BLOCK_ROWS, n)) for lo in range(0, n, BLOCK_ROWS))


def _row_template(formula: Callable[[int], str], row: int) -> str:
    """``formula(r)`` for every row ``r`` at once: the formula of the marker row.

    ``template.replace(_MARK, str(r + 1))`` is then ``formula(r)``, checked here on ``row``.
    """
    template = formula(_MARK_ROW)
    if template.replace(_MARK, str(row + 1)) != formula(row):
        raise AssertionError(f"{formula(row)!r} is not a formula of its row number alone")
    return template


class _RowOrdered:
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


@dataclass(frozen=True)
class _SheetInfo:
    """Where a model sheet keeps its results, for the summary's live formulas."""

    sheet: str
    cells: dict[str, str]  # label of RESULTS -> absolute A1 reference of its value
    preds: str  # absolute range of the predictions
    values: dict[str, float]  # label -> Python's value
    predictions: np.ndarray
    notes: tuple[str, ...] = ()  # the sheet's longer words, on the notes sheet


def write_titanic_book(
    path: str | os.PathLike[str],
    passengers: pd.DataFrame,
    table: pd.DataFrame,
    fits: Mapping[str, Fit | Params],
    *,
    comparison: pd.DataFrame | None = None,
    histories: Mapping[str, ArrayLike] | None = None,
    extra_sheets: Sequence[SheetWriter] = (),
    valid: ArrayLike | None = None,
    choice: str | None = None,
    units: pd.DataFrame | None = None,
    constant_memory: bool = False,
) -> Path:
    """Write the lesson's workbook to ``path`` (whole or not at all) and return the path.

    Args:
        passengers: the raw passengers (:func:`~workbench.load_titanic`), for ``all_rows``.
        table: the lesson's feature table (:func:`~workbench.lesson_table` of ``passengers``).
        fits: per sheet ``linear``, ``nnet``, ``sigmoid`` (and optionally ``mmult``): a
            :class:`~workbench.titanic.train.Fit` or a :class:`~workbench.titanic.submission.Params`,
            whose ``.params`` have the model's shape ((10,), (2, 10), (10,); ``mmult``
            (10, 2)) and ``.start`` the same shape, or None. ``mmult`` defaults to
            ``nnet``'s parameters transposed, as in the lesson. Parameters are stored to 16
            significant digits (all an xlsx number cell keeps), and the cached values are
            computed from exactly those.
        comparison: one row per training run (model, method, loss, accuracy, ...) for the
            ``summary`` sheet, written as given.
        histories: training loss per epoch, label -> 1-D sequence, drawn as the summary's chart.
        extra_sheets: writers of more sheets, called in order with the open workbook,
            between ``sigmoid`` and ``summary``.
        valid: the PassengerIds of the validation rows (each model sheet's ``Set`` column
            says ``valid`` for them, ``train`` for the rest); by default
            :func:`~workbench.titanic.split.validation_split`'s 20%, seed 42.
        choice: a sentence for the summary: which model was chosen on validation, and why.
        units: the over-fitting table (:func:`~workbench.titanic.train.more_units`) for the
            summary, drawn as a chart.
        constant_memory: stream rows to disk (for very large tables).

    Raises:
        WorkbenchError: a missing fit, parameters of the wrong shape, a table that is not a
            lesson table of ``passengers``, or more rows than an Excel sheet holds. Nothing
            is written then.
    """
    params, starts = _check_fits(fits)
    _check_table(table, passengers)
    is_valid = _valid_rows(table, valid)
    # Refuse what would fail half-way before writing a million rows of the other sheets.
    for sheet in MODEL_SHEETS:
        check_rows(len(table), _Layout.of(SHEETS[sheet]).first, sheet=sheet)
    histories = {k: _curve(k, v) for k, v in (histories or {}).items()}
    with new_workbook(
        path, title="Titanic: fast.ai lesson 3", constant_memory=constant_memory, hidden_names=SOLVER_NAMES
    ) as book:
        st = styles(book)
        _all_rows_sheet(book, st, passengers)
        _features(book, st, table)
        infos = [
            _model_sheet(book, st, sheet, table, params[sheet], starts[sheet], is_valid)
            for sheet in MODEL_SHEETS
        ]
        for write in extra_sheets:
            write(book)
        luck = _split_note(infos, valid_below_train(table), LUCK_SPLITS)
        _summary_sheet(book, st, infos, comparison, histories, choice, units, luck=luck)
        notes_sheet(book, st, [(i.sheet, i.notes) for i in infos])
    return Path(path)


def notes_sheet(book: xlsxwriter.Workbook, st: Styles, notes: Sequence[tuple[str, Sequence[str]]]) -> None:
    """The model sheets' longer words, a heading per sheet: what the sheets leave out above their rows."""
    ws = book.add_worksheet("notes")
    title = "notes: how to run Solver on each sheet, where its start came from, what to try"
    ws.write_string(0, 0, title, st.title)
    widths = [14] * 10
    intro = "Each model sheet keeps one line above its rows; its longer words are here, under its name."
    ws.write_string(1, 0, intro, st.note)
    row = 2
    for sheet, lines in notes:
        ws.write_string(row, 0, sheet, st.heading)
        for line in lines:
            row += 1
            _wrapped(ws, st, row, line, widths)
        row += 2
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    set_up_page(ws)


def _split_note(infos: Sequence[_SheetInfo], share: float, splits: int) -> str:
    """Valid loss below train loss, said where the losses are: the luck of one split, measured."""
    below = [i.sheet for i in infos if i.values["Valid loss:"] < i.values["Train loss:"]]
    linear = next(i for i in infos if i.sheet == "linear").values
    if len(below) == len(infos):
        who = "Every model sheet has its valid loss below its train loss"
    elif below:
        who = f"{', '.join(below)} {'has' if len(below) == 1 else 'have'} a valid loss below the train loss"
    else:
        who = "No model sheet has its valid loss below its train loss"
    return (
        f"{who} (linear: {linear['Valid loss:']:.3f} against {linear['Train loss:']:.3f})."
        " A valid loss below the train loss is mostly the luck of which rows one split holds out: over"
        f" {splits:,} random {1 - VALID_PCT:.0%}/{VALID_PCT:.0%} splits of these rows (seeded), the linear"
        f" model's valid loss came out below its train loss on {share:.0%} of them."
    )


def _features(book: xlsxwriter.Workbook, st: Styles, table: pd.DataFrame) -> None:
    """The ``features`` sheet, reading the ``linear`` sheet's columns."""
    lay, last = _Layout.of(SHEETS["linear"]), _Layout.of(SHEETS["linear"]).first + len(table) - 1
    ranges = {name: ("linear", lay.first, last, _COL[name]) for name in COLUMNS}
    refs = {name: _ref(lay.first, _COL[name]) for name in RAW}
    refs["max_Age"] = _ref(lay.max_row, _COL["Age"], absolute=True)
    write_features_sheet(book, st, table, ranges, row_example={d.name: d.formula(refs) for d in DERIVED})


def input_ranges(rows: int, sheet: str = "linear") -> tuple[str, str]:
    """Where a model sheet of ``rows`` passengers keeps its inputs and targets.

    Returns absolute ranges ``(inputs, target)``: the ``rows`` x 10 block of the
    :data:`~workbench.titanic.features.FEATURES` columns and the ``Survived`` column, e.g.
    ``("linear!$G$11:$P$722", "linear!$A$11:$A$722")`` for the lesson's 712 rows.
    Another sheet computing from these cells (such as the ``descent`` sheet, given to
    :func:`write_titanic_book` in ``extra_sheets``) follows any edit of the data.
    """
    if sheet not in MODEL_SHEETS:
        raise WorkbenchError(f"no model sheet is called {sheet!r}; the sheets are {', '.join(MODEL_SHEETS)}")
    first = _Layout.of(SHEETS[sheet]).first
    where = quote_sheetname(sheet)
    inputs = _span(first, _FIRST_INPUT, first + rows - 1, _LAST_INPUT, absolute=True)
    return f"{where}!{inputs}", f"{where}!{_span(first, 0, first + rows - 1, 0, absolute=True)}"


def add_model_sheet(
    book: xlsxwriter.Workbook,
    sheet: str,
    table: pd.DataFrame,
    fits: Mapping[str, Fit | Params],
    valid: ArrayLike | None = None,
) -> None:
    """The model sheet ``sheet`` of :func:`write_titanic_book`, alone in the open ``book``.

    ``table``, ``fits`` and ``valid`` as :func:`write_titanic_book` takes them (every sheet's
    fits are checked, as there); for example to time one sheet kind (bench/recalc_cost.py).
    """
    params, starts = _check_fits(fits)
    if sheet not in MODEL_SHEETS:
        raise WorkbenchError(f"no model sheet is called {sheet!r}; the sheets are {', '.join(MODEL_SHEETS)}")
    _model_sheet(book, styles(book), sheet, table, params[sheet], starts[sheet], _valid_rows(table, valid))


#: The parameter blocks of a model sheet, in order: the fitted parameters (yellow, Solver's
#: cells), their random start (grey), the learner's own (green), a live RAND()-0.5 draw, and
#: the parameters in use (formulas that follow the switch), which every model formula reads.
BLOCKS = ("fitted", "start", "mine", "new", "used")

#: What the switch cell may say: which block the sheet computes with.
SWITCH = ("fitted", "start", "mine")

#: The seed of the cached values of the RAND()-0.5 cells (a spreadsheet draws anew on opening).
NEW_DRAW_SEED = 2022


@dataclass(frozen=True)
class _Layout:
    """Where a model sheet puts things (0-based rows), computed once from the sheet alone.

    Title on row 0, then the notes, a blank row, the parameter blocks of :data:`BLOCKS`
    from ``top`` (a header row, then a row per linear unit for each block, one under the
    other; for an MMULT model 10 x units blocks side by side), ``Max:`` on ``max_row``,
    the column headers on ``header``, the data from ``first``.
    """

    notes: int
    top: int
    max_row: int
    header: int
    first: int
    units: int
    mmult: bool
    inputs: int = len(FEATURES)
    first_input: int = _FIRST_INPUT

    @classmethod
    def of(
        cls, sheet: ModelSheet, inputs: int = len(FEATURES), extra: int = 0, first_input: int = _FIRST_INPUT
    ) -> _Layout:
        """``inputs``: the model's inputs, whose columns start at ``first_input``; ``extra``: rows
        between the parameters and ``Max:``."""
        notes = 4  # the sheet's note, Solver's, the start's, the learner's path
        top = 1 + notes + 1
        units, mmult = sheet.model.units, sheet.model.lin_excel == "mmult"
        max_row = (top + inputs + 1 if mmult else top + len(BLOCKS) * units + 1) + extra
        return cls(notes, top, max_row, max_row + 1, max_row + 2, units, mmult, inputs, first_input)

    def block(self, name: str) -> tuple[int, int, int, int]:
        """The 0-based (first row, first column, last row, last column) of a parameter block."""
        b = BLOCKS.index(name)
        if self.mmult:  # inputs x units blocks side by side, a blank column between them
            col = self.first_input + b * (self.units + 1)
            return self.top + 1, col, self.top + self.inputs, col + self.units - 1
        row = self.top + 1 + b * self.units
        return row, self.first_input, row + self.units - 1, self.first_input + self.inputs - 1

    def cells(self, name: str) -> str:
        """A parameter block's absolute range, e.g. ``$G$7:$P$7``."""
        return _span(*self.block(name), absolute=True)


def _check_fits(
    fits: Mapping[str, Fit | Params],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray | None]]:
    missing = [s for s in ("linear", "nnet", "sigmoid") if s not in fits]
    if missing:
        raise WorkbenchError(
            f"write_titanic_book needs parameters for the sheet {missing[0]!r}"
            f" (got {', '.join(map(repr, fits)) or 'none'}; mmult may be left out)"
        )
    unknown = [s for s in fits if s not in MODEL_SHEETS]
    if unknown:
        raise WorkbenchError(
            f"no model sheet is called {unknown[0]!r}; the sheets are {', '.join(MODEL_SHEETS)}"
        )
    params: dict[str, np.ndarray] = {}
    starts: dict[str, np.ndarray | None] = {}
    for sheet, model in MODEL_SHEETS.items():
        if sheet in fits:
            fit, transpose = fits[sheet], False
        else:  # the lesson's mmult sheet reuses nnet's parameters, transposed
            fit, transpose = fits["nnet"], True
        start = getattr(fit, "start", None)
        params[sheet] = _as_params(sheet, model, fit.params, transpose, "fitted")
        starts[sheet] = None if start is None else _as_params(sheet, model, start, transpose, "starting")
    return params, starts


def _as_params(sheet: str, model: str, value: Any, transpose: bool, what: str) -> np.ndarray:
    array = np.asarray(value.detach() if isinstance(value, torch.Tensor) else value, dtype="float64")
    array = array.T if transpose else array
    try:
        models.as_params(model, array)
    except WorkbenchError as e:
        raise WorkbenchError(f"sheet {sheet!r}, {what} parameters: {e}") from None
    # What the cell will hold: an xlsx number keeps 16 significant digits.
    return np.vectorize(lambda v: float(f"{v:.16g}"), otypes=["float64"])(array)


def _check_table(table: pd.DataFrame, passengers: pd.DataFrame) -> None:
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise WorkbenchError(
            f"the feature table has no column {missing[0]!r}; build it with lesson_table(passengers)"
        )
    if table.empty:
        raise WorkbenchError("the feature table has no rows")
    blank = table[list(COLUMNS)].isna().any()
    if blank.any():
        column = blank.index[blank][0]
        raise WorkbenchError(
            f"the feature table has a blank {column!r}; the lesson's sheets need every value"
        )
    # The sheet computes every derived column from its raw cells, with Age scaled by the
    # sheet's own MAX(Age): the cached values must be what those formulas give.
    max_age = float(table["Age"].max())
    for d in DERIVED:
        expected = np.broadcast_to(np.asarray(d.python(table, max_age), dtype="float64"), (len(table),))
        if not np.allclose(table[d.name].to_numpy(dtype="float64"), expected, rtol=1e-12, atol=0):
            raise WorkbenchError(
                f"the feature table's {d.name!r} is not {d.excel} on its own rows (for Age_N, Age must be"
                " scaled by the table's own maximum); build it with lesson_table(passengers)"
            )
    for column in ("PassengerId", "Survived", *RAW):
        if column not in passengers:
            raise WorkbenchError(f"the passengers have no column {column!r}; read them with load_titanic()")
    unknown = ~table.index.isin(passengers["PassengerId"])
    if unknown.any():
        raise WorkbenchError(
            f"the feature table has PassengerId {table.index[unknown][0]}, which is not among the"
            " passengers; pass the passengers the table was built from"
        )


def _valid_rows(table: pd.DataFrame, valid: ArrayLike | None) -> np.ndarray:
    """``True`` for the table's validation rows; both sets must have rows (else AVERAGEIF divides by 0)."""
    if valid is None:
        return table.index.isin(validation_split(table)[1].index)
    ids = pd.Index(np.asarray(valid).ravel())
    unknown = ~ids.isin(table.index)
    if unknown.any():
        raise WorkbenchError(f"valid: PassengerId {ids[unknown][0]} is not a row of the feature table")
    mask = table.index.isin(ids)
    if mask.all() or not mask.any():
        raise WorkbenchError(
            f"valid: {int(mask.sum())} of {len(table)} rows are validation rows; the train and valid"
            " sets each need at least one row"
        )
    return mask


# ---------------------------------------------------------------------------------------------
# all_rows


def _all_rows_sheet(book: xlsxwriter.Workbook, st: Styles, passengers: pd.DataFrame) -> None:
    ws = book.add_worksheet("all_rows")
    columns = [c for c in ("PassengerId", "Name") if c in passengers]
    columns += ["Survived", "Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
    formats = {
        "Name": st.text,
        "Sex": st.category,
        "Embarked": st.category,
        "Age": st.number,
        "Fare": st.money,
    }
    widths = {"Name": 46, "PassengerId": 11, "Survived": 9, "Embarked": 10}
    n = len(passengers)
    header = 4
    check_rows(n, header + 1, sheet="all_rows")

    missing = ", ".join(f"{int(passengers[c].isna().sum())} {c}" for c in ("Age", "Embarked"))
    ws.write_string(0, 0, "all_rows: every passenger of Kaggle's Titanic train.csv", st.title)
    notes = (
        f"{n} passengers; the 8 columns the lesson keeps, with PassengerId and Name for reference."
        " A blank cell is missing in the CSV.",
        f"Missing here: {missing}. The model sheets drop those rows."
        " Use the filter buttons on the header row to explore.",
    )
    for i, note in enumerate(notes, start=1):
        ws.write_string(i, 0, note, st.note)
    for j, name in enumerate(columns):
        ws.set_column(j, j, widths.get(name, 8))
        ws.write_string(header, j, name, st.header)

    # Per column: its values, its blanks, its formats for text and numbers.
    data = [
        (passengers[c].to_numpy(), pd.isna(passengers[c]).to_numpy(),
         formats.get(c, st.text), formats.get(c, st.whole))
        for c in columns
    ]  # fmt: skip
    for rows in _blocks(n):
        block = [(values[rows].tolist(), blank[rows].tolist(), *fmts) for values, blank, *fmts in data]
        for i in range(rows.stop - rows.start):
            r = header + 1 + rows.start + i
            for j, (values, blank, text_fmt, number_fmt) in enumerate(block):
                if blank[i]:
                    continue
                value = values[i]
                if isinstance(value, str):  # text stays text, never a formula, even after F2 Enter in Excel
                    ws.write_string(r, j, value, st.text if value[:1] in "=+-@" else text_fmt)
                else:
                    ws.write_number(r, j, float(value), number_fmt)
    ws.autofilter(header, 0, header + n, len(columns) - 1)
    ws.freeze_panes(header + 1, 0)
    set_up_page(ws, header_row=header)


# ---------------------------------------------------------------------------------------------
# linear, nnet, mmult, sigmoid

#: The one line under a model sheet's own note: the colours, and where the longer words are.
POINTER = (
    "Yellow: fitted on the train rows (column Set). Grey: the random start. Green: yours"
    " (Parameters: mine). How to run Solver, what to try: the notes sheet."
)

#: How the MMULT is entered, for the mmult sheet's notes.
ARRAY_NOTE = (
    "The MMULT is a legacy array formula (Ctrl+Shift+Enter), for Excel 2010-2019 and LibreOffice:"
    " Excel 365 shows it in braces, {=MMULT(...)}, where the lesson typed a spilled dynamic array."
)

_SOLVER_NOTE = (
    "Yellow: the parameters, fitted on the train rows only (column Set). Solver changes them to make the"
    " Train loss smallest. Excel: Data > Solver (turn it on: File > Options > Add-ins), GRG Nonlinear,"
    " ready set up. LibreOffice 7.4's Tools > Solver cannot finish it: its linear engines answer"
    ' "The model is not linear", its Swarm engine runs off to huge numbers, and even with the yellow'
    " cells limited stops short of the best. Use workbench solve FILE --sheet SHEET instead: LibreOffice"
    " recalculating this sheet, downhill steps as Excel's. Total loss and Accuracy (Preds > 0.5 matches"
    " Survived) use every row, valid rows too."
)

#: The lesson video's starting loss on its linear sheet: the sum, then the average (2022 lesson 3, 1:15:06).
VIDEO_START_SUM, VIDEO_START_AVERAGE = 55.78, 1.03


def _start_note(spec: ModelSheet, table: pd.DataFrame, start: np.ndarray | None) -> str:
    """Grey: the random start; its loss as a sum and as the average, beside the video's."""
    if start is None:
        return "No random start: fitted in closed form."
    model, n = spec.model.name, len(table)
    average = models.mse(model, start, table, sigmoid=spec.sigmoid)
    ours = (
        "Grey: the random start they were fitted from (RAND()-0.5, pasted as values). With Parameters: set to"
        f" start, the losses of all {n} rows add up to {average * n:.2f} (Sum of losses:), {average:.2f} on"
        " average (Total loss:)."
    )
    if spec.name != "linear":
        return ours + " (The video's starting loss: see the linear sheet.)"
    rows, floor = (
        VIDEO_START_SUM / VIDEO_START_AVERAGE,
        _floor(models.inputs(table).numpy(), models.targets(table).numpy()),
    )
    return ours + (
        f" The video's linear sheet started at a sum of {VIDEO_START_SUM} and an average of"
        f" {VIDEO_START_AVERAGE}: another random draw. Our guess, as the video does not say: its sum"
        f" covered only about {rows:.0f} rows ({VIDEO_START_SUM} / {VIDEO_START_AVERAGE}), since over all"
        f" {n} rows a sum of {VIDEO_START_SUM} would average {VIDEO_START_SUM / n:.3f}, below the best any"
        f" line reaches there, {floor:.3f}."
    )


#: Why some nets stop early, for a sheet of two or more ReLUs (:func:`_path_note`).
DEAD_RELUS = (
    " Solver stops in the first dip below its start. From 200 random starts, 1 in 5 ended near 0.39"
    " (both ReLUs below 0 on every row, dead: every prediction 0, and Solver cannot move), 2 in 3 near"
    " the linear model's loss, 1 in 100 lower than 0.135. So run it from several New starts and keep"
    " the lowest; the yellow cells came from a longer search."
)


def _path_note(spec: ModelSheet, dead: str = DEAD_RELUS) -> str:
    """The learner's path from a random start to Solver, without copying the sheet's cells by hand;
    ``dead``: why some nets stop early, added on a sheet of more than one unit."""
    note = (
        "Your turn: set Parameters: (the green cell at the top right) to start to see the random start's"
        " loss, to mine to use your own cells (green, plain numbers; they begin as the start), or back to"
        " fitted. Solver from your cells: Parameters: mine, then in Solver's dialog change the variable"
        " cells to Mine (the green cells' name). A new start: copy the New start cells (RAND()-0.5, drawn"
        " again at every recalculation, F9), paste them onto the green cells as values only (Paste"
        " Special > Values), and run Solver again."
    )
    return note + (dead if spec.model.units > 1 else "")


def _switch(ws: Worksheet, cells: _RowOrdered, st: Styles, row: int, col: int) -> str:
    """The switch cell (``fitted``, ``start`` or ``mine``, a drop-down list) at (row, col); its reference."""
    cells.put(row, col - 1, "write_string", "Parameters:", st.label)
    cells.put(row, col, "write_string", SWITCH[0], st.mine)
    message = "fitted: the yellow cells (Solver's); start: the grey random start; mine: your green cells."
    rule = {"validate": "list", "source": list(SWITCH), "input_title": "Parameters in use"}
    ws.data_validation(row, col, row, col, rule | {"input_message": message})
    return _ref(row, col, absolute=True)


@dataclass(frozen=True)
class _Column:
    """A model column: header, per-row formula (None: filled by an array formula) and cached values."""

    name: str
    formula: Callable[[int], str] | None
    values: np.ndarray
    fmt: Any


def _model_sheet(
    book: xlsxwriter.Workbook,
    st: Styles,
    sheet: str,
    table: pd.DataFrame,
    params: np.ndarray,
    start: np.ndarray | None,
    is_valid: np.ndarray,
) -> _SheetInfo:
    spec, lay, n = SHEETS[sheet], _Layout.of(SHEETS[sheet]), len(table)
    check_rows(n, lay.first, sheet=sheet)
    ws = book.add_worksheet(sheet)
    cells = _RowOrdered()
    values = _Values.of(spec, table, params, is_valid)
    columns = _model_columns(spec, st, lay, values)
    names = [col.name for col in columns]
    pred_col, loss_col = _AFTER + names.index("Preds"), _AFTER + names.index("Loss")
    last = lay.first + n - 1
    preds_range = _span(lay.first, pred_col, last, pred_col, absolute=True)
    switch = _switch(ws, cells, st, lay.top, loss_col)
    _parameter_block(cells, st, lay, params, start, switch)
    if lay.mmult:
        _teaching_example(cells, st, lay.top + 6, loss_col - 1)
    results = _totals(cells, st, lay, n, pred_col, loss_col, values)
    loss_sum = f"=SUM({_span(lay.first, loss_col, last, loss_col, absolute=True)})"
    cells.put(lay.top + 4, loss_col - 1, "write_string", "Sum of losses:", st.label)
    cells.put(lay.top + 4, loss_col, "write_formula", loss_sum, st.value, float(np.sum(values.loss)))
    max_cell = _max_age(cells, st, lay, table)

    # Above the passengers, only what the sheet computes and where the rest is (the lesson's sheets
    # had no notes at all): how to run Solver, the start, the learner's path go to the notes sheet.
    more = (
        *((ARRAY_NOTE,) if lay.mmult else ()),
        _SOLVER_NOTE,
        _start_note(spec, table, start),
        _path_note(spec),
    )
    ws.write_string(0, 0, spec.title, st.title)
    right = loss_col + (7 if lay.mmult else 2)  # the accuracies' values; on mmult, the MMULT example
    widths = _widths(names, loss_col)
    for i, note in enumerate((spec.note, POINTER)):  # wrapped across the sheet's width
        ws.set_row(1 + i, 15 * math.ceil(len(note) / sum(widths[: right + 1])))
        ws.merge_range(1 + i, 0, 1 + i, right, note, st.wrapped_note)
    ws.write_comment(2, 0, "\n\n".join(more), {"x_scale": 6, "y_scale": 8, "author": "workbench"})
    cells.flush(ws)
    for j, name in enumerate([*COLUMNS, *names]):
        ws.write_string(lay.header, j, name, st.header)
    mmult = models.MMULT_EXCEL.format(
        inputs=_span(lay.first, _FIRST_INPUT, last, _LAST_INPUT), params=lay.cells("used")
    )
    array = (mmult, spec.model.units) if lay.mmult else None
    _write_rows(ws, st, lay, table, columns, max_cell, array)

    for j, width in enumerate(widths):
        ws.set_column(j, j, width)
    ws.freeze_panes(lay.first, 0)
    set_up_page(ws, header_row=lay.header)
    ws.print_area(0, 0, last, right)
    fitted_cells = lay.cells("fitted")
    # Names a learner can type (Solver's variable cells: Mine) and check finds the blocks by.
    where = quote_sheetname(sheet)
    for name in ("Start", "Mine"):
        if name != "Start" or start is not None:
            book.define_name(f"{where}!{name}", f"={where}!{lay.cells(name.lower())}")
    define_solver(book, sheet, objective=results["Train loss:"], changing=fitted_cells)
    return _SheetInfo(sheet, results, preds_range, values.results, values.preds, more)


def _widths(names: Sequence[str], loss_col: int) -> list[float]:
    """Every column's width, from A to the MMULT example's last column."""
    fixed = {"Survived": 8, "Embarked": 9, "Pclass": 7, "Sex": 7, "Age": 6, "SibSp": 7, "Parch": 7}
    widths = [fixed.get(name, 9) for name in COLUMNS] + [11] * (loss_col + 8 - len(COLUMNS))
    widths[loss_col - 1] = widths[loss_col + 1] = 15  # the losses' labels; Set and the accuracies' labels
    widths[loss_col + 2 :] = [11, 8.43, 8.43, 8.43, 10, 10]  # on mmult: the example's MMULT under its heading
    return widths


@dataclass(frozen=True)
class _Values:
    """Python's numbers for a model sheet, computed with the model code the fits use."""

    lin: np.ndarray  # (units, n): every linear unit's value
    preds: np.ndarray
    loss: np.ndarray
    sets: np.ndarray  # "train" or "valid" per row
    results: dict[str, float]  # label of RESULTS -> value

    @classmethod
    def of(cls, spec: ModelSheet, table: pd.DataFrame, params: np.ndarray, is_valid: np.ndarray) -> _Values:
        model, squash = spec.model.name, spec.sigmoid
        x = models.inputs(table)
        y = table["Survived"].to_numpy(dtype="float64")
        # One parameter row per linear unit (an MMULT model's columns as rows), so every sheet's
        # Lin columns come from the same product, computed as nnet computes them.
        w = models.as_params(model, params)
        w_rows = w.T.contiguous() if spec.model.lin_excel == "mmult" else w
        with torch.no_grad():
            lin = (w_rows @ x.T).numpy().reshape(-1, len(table))
        preds = models.predict(model, params, table, sigmoid=squash)
        results = {}
        for (loss, accuracy), rows in zip(RESULTS, (table[~is_valid], table[is_valid], table), strict=True):
            results[loss] = models.mse(model, params, rows, sigmoid=squash)
            results[accuracy] = models.accuracy(model, params, rows, sigmoid=squash)
        sets = np.where(is_valid, "valid", "train").astype(object)
        return cls(lin, preds, (preds - y) ** 2, sets, results)


def _model_columns(
    spec: ModelSheet, st: Styles, lay: _Layout, v: _Values, grid: Grid = TITANIC_GRID
) -> list[_Column]:
    """The model's columns right of the data: Lin (or Preds), ReLUs or the sigmoid, Preds, Loss."""
    c, units, first, last = grid.after, spec.model.units, grid.first_input, grid.last_input

    def sumproduct(k: int) -> Callable[[int], str]:  # unit k's parameter row, for SUMPRODUCT
        row = lay.block("used")[0] + k  # the parameters in use, which follow the switch
        params = _span(row, first, row, last, absolute=True)
        return lambda r: models.PREDICT_EXCEL.format(inputs=grid.inputs(r, r), params=params)

    columns: list[_Column] = []
    if units == 1 and not spec.sigmoid:
        columns.append(_Column("Preds", sumproduct(0), v.preds, st.value))
    elif spec.sigmoid:
        columns.append(_Column("Lin", sumproduct(0), v.lin[0], st.value))
        sigmoid = lambda r: grid.sigmoid_excel.format(z=_ref(r, c))
        columns.append(_Column("Preds", sigmoid, v.preds, st.value))
    else:
        by_array = spec.model.lin_excel == "mmult"  # then one array formula fills the Lin columns
        for k in range(units):
            columns.append(_Column(f"Lin{k + 1}", None if by_array else sumproduct(k), v.lin[k], st.value))
        for k in range(units):
            relu = lambda r, k=k: models.RELU_EXCEL.format(lin=_ref(r, c + k))
            columns.append(_Column(f"ReLU{k + 1}", relu, np.maximum(v.lin[k], 0), st.value))
        added = lambda r: "=" + "+".join(_ref(r, c + units + k) for k in range(units))
        columns.append(_Column("Preds", added, v.preds, st.value))
    pred_col = c + len(columns) - 1
    squared = lambda r: models.LOSS_EXCEL.format(pred=_ref(r, pred_col), target=_ref(r, 0))
    columns.append(_Column("Loss", squared, v.loss, st.value))
    columns.append(_Column("Set", None, v.sets, st.category))
    return columns


def _totals(
    cells: _RowOrdered,
    st: Styles,
    lay: _Layout,
    n: int,
    pred_col: int,
    loss_col: int,
    v: _Values,
    results: Sequence[tuple[str, str]] = RESULTS,
) -> dict[str, str]:
    """The losses (left) and accuracies (right) of :data:`RESULTS` beside the parameters, a row
    each for train, valid and every row; returns each value's absolute reference by its label.

    ``results`` whose right-hand labels name an RMSE get ``=SQRT(loss)`` there instead (a
    numeric target)."""
    first, last = lay.first, lay.first + n - 1
    column = lambda c: _span(first, c, last, c, absolute=True)
    preds, survived, losses, sets = column(pred_col), column(0), column(loss_col), column(loss_col + 1)
    refs = {}
    for i, (loss, accuracy) in enumerate(results):
        r, name = lay.top + 1 + i, loss.split()[0].lower()  # "train", "valid", "total"
        if name == "total":
            mse = models.MSE_EXCEL.format(losses=losses)
            acc = models.ACCURACY_EXCEL.format(preds=preds, targets=survived)
        else:
            mse = models.SET_MSE_EXCEL.format(sets=sets, name=name, losses=losses)
            acc = models.SET_ACCURACY_EXCEL.format(preds=preds, targets=survived, sets=sets, name=name)
        if "RMSE" in accuracy:
            acc = f"=SQRT({_ref(r, loss_col, absolute=True)})"
        for c, label, formula, fmt in (
            (loss_col, loss, mse, st.total),
            (loss_col + 2, accuracy, acc, st.percent if "RMSE" not in accuracy else st.total),
        ):
            cells.put(r, c - 1, "write_string", label, st.label)
            cells.put(r, c, "write_formula", formula, fmt, v.results[label])
            refs[label] = _ref(r, c, absolute=True)
    return refs


def _max_age(cells: _RowOrdered, st: Styles, lay: _Layout, table: pd.DataFrame) -> str:
    """``Max:`` just above the data, as in the lesson; returns the cell Age_N divides by."""
    age, last = _COL["Age"], lay.first + len(table) - 1
    cells.put(lay.max_row, age - 1, "write_string", "Max:", st.label)
    formula = f"=MAX({_span(lay.first, age, last, age)})"
    cells.put(lay.max_row, age, "write_formula", formula, st.number, float(table["Age"].max()))
    return _ref(lay.max_row, age, absolute=True)


def _write_rows(
    ws: Worksheet,
    st: Styles,
    lay: _Layout,
    table: pd.DataFrame,
    columns: Sequence[_Column],
    max_cell: str,
    array: tuple[str, int] | None,
) -> None:
    """The data, one row at a time (constant_memory writes rows in order).

    Each data cell is a value or a formula that differs from row to row only in its row
    number, so every formula column is built once, for a marker row, and a row's number
    replaces the marker: on a million rows, building references cell by cell cost more
    than writing. ``array``: an MMULT formula and its width, filling the first model
    columns of every row at once.
    """
    first, n = lay.first, len(table)
    raw_fmt = {"Sex": st.category, "Embarked": st.category, "Age": st.number, "Fare": st.money}
    plan: Plan = []
    for name in RAW:
        plan.append((_COL[name], None, table[name].to_numpy(), raw_fmt.get(name, st.whole)))
    refs = lambda r: {name: _ref(r, _COL[name]) for name in RAW} | {"max_Age": max_cell}
    for d in DERIVED:
        formula = d.formula(refs(first))
        fmt = st.whole if d.name not in ("Age_N", "log_Fare") else st.feature
        if formula.startswith("="):
            template = _row_template(lambda r, d=d: d.formula(refs(r)), first)
            plan.append((_COL[d.name], template, table[d.name].to_numpy(dtype="float64"), fmt))
        else:  # a constant such as Ones
            plan.append((_COL[d.name], None, np.broadcast_to(float(formula), (n,)), fmt))
    write_plan(ws, first, n, plan, columns, array, _AFTER)


#: A sheet's data columns: (column, row template or None for values, values, format).
Plan = list[tuple[int, str | None, np.ndarray, Any]]


def write_plan(
    ws: Worksheet,
    first: int,
    n: int,
    plan: Plan,
    columns: Sequence[_Column],
    array: tuple[str, int] | None,
    after: int,
) -> None:
    """Write ``plan``, then the model ``columns`` from ``after``: ``n`` rows from ``first``."""
    plan = list(plan)
    for j, col in enumerate(columns, start=after):
        template = None if col.formula is None else _row_template(col.formula, first)
        values = col.values if col.values.dtype == object else np.asarray(col.values, dtype="float64")
        plan.append((j, template, values, col.fmt))
    array_col = after if array is not None else -1
    # A template's rows differ from it digit for digit: XlsxWriter's test of a formula, once per column.
    plain = getattr(ws, "plain_formula", lambda _: False)
    write = {t: ws.write_plain_formula if plain(t) else ws.write_formula for _, t, _, _ in plan if t}
    for rows in _blocks(n):  # Python's floats and strings, a block of rows at a time
        block = [(j, template, values[rows].tolist(), fmt) for j, template, values, fmt in plan]
        for i in range(rows.stop - rows.start):
            r = first + rows.start + i
            row = str(r + 1)
            for j, template, values, fmt in block:
                if template is not None:
                    write[template](r, j, template.replace(_MARK, row), fmt, values[i])
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


def _parameter_block(
    cells: _RowOrdered,
    st: Styles,
    lay: _Layout,
    params: np.ndarray,
    start: np.ndarray | None,
    switch: str,
    grid: Grid = TITANIC_GRID,
) -> None:
    """The parameter blocks of :data:`BLOCKS`, from row ``lay.top`` down.

    Fitted (yellow, Solver's plain-number cells), start (grey), mine (green, plain numbers
    that begin as the start, or as the fitted parameters without one), new (``=RAND()-0.5``,
    read by nothing: the learner pastes its values where they want them), and used:
    ``=IF(switch="start",start,IF(switch="mine",mine,fitted))`` cell by cell, which the model
    formulas read. ``switch`` is the switch cell's absolute reference.
    """
    shape = (lay.inputs, lay.units) if lay.mmult else (lay.units, lay.inputs)
    params, start = params.reshape(shape), None if start is None else start.reshape(shape)
    mine = params if start is None else start
    draw = uniform_start(shape, NEW_DRAW_SEED)
    content = {"fitted": (params, st.param), "start": (start, st.start), "mine": (mine, st.mine)}
    content |= {"new": (draw, st.start), "used": (params, st.value)}
    heads = {"fitted": "Param", "start": "Start", "mine": "Mine", "new": "New", "used": "In use "}
    labels = {"fitted": "Fitted", "start": "Start", "mine": "Mine", "new": "New start", "used": "In use"}
    if lay.mmult:
        cells.put(lay.top, grid.label_col, "write_string", "Input", st.header)
        for i, label in enumerate(grid.labels):
            cells.put(lay.top + 1 + i, grid.label_col, "write_string", label, st.label)
    else:
        for j, label in enumerate(grid.labels):
            cells.put(lay.top, grid.first_input + j, "write_string", label, st.header)
    for name in BLOCKS:
        values, fmt = content[name]
        if values is None:  # no random start: fitted in closed form
            continue
        r0, c0, _, _ = lay.block(name)
        for k in range(lay.units):
            if lay.mmult:
                cells.put(lay.top, c0 + k, "write_string", f"{heads[name]}{k + 1}", st.header)
            else:
                label = f"{labels[name]}:" if lay.units == 1 else f"{labels[name]} {k + 1}:"
                cells.put(r0 + k, grid.label_col, "write_string", label, st.label)
        for i in range(shape[0]):
            for j in range(shape[1]):
                r, c = r0 + i, c0 + j
                if name == "new":
                    cells.put(r, c, "write_formula", "=RAND()-0.5", fmt, values[i, j])
                elif name == "used":
                    fitted, first, mine = (_ref(*_at(lay, b, i, j)) for b in SWITCH)
                    formula = f'=IF({switch}="start",{first},IF({switch}="mine",{mine},{fitted}))'
                    cells.put(r, c, "write_formula", formula, fmt, values[i, j])
                else:
                    cells.put(r, c, "write_number", values[i, j], fmt)


def _at(lay: _Layout, name: str, i: int, j: int) -> tuple[int, int]:
    """The cell (i, j) of a parameter block."""
    r0, c0, _, _ = lay.block(name)
    return r0 + i, c0 + j


def _teaching_example(cells: _RowOrdered, st: Styles, row: int, col: int) -> None:
    """The lesson's MMULT by hand: 3 data rows times 2 coefficient sets (docs/LESSON.md)."""
    data = np.array([[1.0, 2, 1], [0, 1, 1], [2, 3, 1]])
    coefs = np.array([[2.0, 5], [6, 7], [1, 8]])  # the sets [2,6,1] and [5,7,8], as columns
    product = data @ coefs
    cells.put(row, col, "write_string", "MMULT in small: 3 data rows times 2 coefficient sets", st.heading)
    blocks = (("Data", col, data), ("Coefs", col + 4, coefs), ("MMULT(Data, Coefs)", col + 7, product))
    for head, c0, block in blocks:
        cells.put(row + 1, c0, "merge_range", row + 1, c0 + block.shape[1] - 1, head, st.header)
    for i in range(3):
        for head, c0, block in blocks[:2]:
            for j, v in enumerate(block[i]):
                cells.put(row + 2 + i, c0 + j, "write_number", v, st.param if head == "Coefs" else st.whole)
    c0 = blocks[2][1]
    formula = models.MMULT_EXCEL.format(
        inputs=_span(row + 2, col, row + 4, col + 2, absolute=True),
        params=_span(row + 2, col + 4, row + 4, col + 5, absolute=True),
    )
    cells.put(row + 2, c0, "write_array_formula", row + 4, c0 + 1, formula, st.whole, product[0, 0])
    for i in range(3):
        for j in range(2):
            if (i, j) != (0, 0):
                cells.put(row + 2 + i, c0 + j, "write_number", product[i, j], st.whole)


# ---------------------------------------------------------------------------------------------
# summary


def _summary_sheet(
    book: xlsxwriter.Workbook,
    st: Styles,
    infos: Sequence[_SheetInfo],
    comparison: pd.DataFrame | None,
    histories: Mapping[str, ArrayLike] | None,
    choice: str | None,
    units: pd.DataFrame | None,
    results: Sequence[tuple[str, str]] = RESULTS,
    lines: Sequence[str] = (),
    luck: str = "",
) -> None:
    """Top to bottom: the model sheets' live results, ``lines`` about them (default: the lesson's
    numbers beside ours) and ``luck`` (how much their valid losses owe to the split), the choice,
    the runs, the over-fitting table, the loss per step; the charts to the right."""
    ws = book.add_worksheet("summary")
    ws.write_string(0, 0, "summary: every model side by side", st.title)
    tables = [("Training runs (fitted on train, scored on valid)", comparison, _runs_chart)]
    if units is not None:
        known = not units.empty and {"units", "train_loss", "valid_loss"} <= set(units.columns)
        trend = f": {loss_trend(units.units, units.train_loss, units.valid_loss)}" if known else ""
        tables.append((f"More ReLUs{trend}", units, _units_chart))
    tables = [(h, df if isinstance(df.index, pd.RangeIndex) else df.reset_index(), chart)
              for h, df, chart in tables if df is not None and not df.empty]  # fmt: skip
    # Every column as wide as its longest heading (the loss-per-step table's headings wrap instead).
    heads = [_sheets_heads(results), *(list(map(str, df.columns)) for _, df, _ in tables)]
    width = max(8, *(len(h) for h in heads))
    widths = [
        12,
        36,
        *(max([15, *(len(h[j]) + 2 for h in heads if j < len(h))]) for j in range(2, width + 1)),
    ]
    note = (
        "Train: the rows the parameters were fitted on; valid: the rows held out (20%), never seen while"
        " fitting. A model that does better on train but worse on valid has learnt its training rows"
        " rather than what generalises (over-fitting)."
    )
    _wrapped(ws, st, 1, note, widths)
    row = _sheets_table(ws, st, infos, 3, widths, results, lines or _LESSON_LINES)
    if luck:
        _wrapped(ws, st, row - 1, luck, widths)
        row += 1
    if choice:
        ws.write_string(row, 0, "Chosen for Kaggle's test set", st.heading)
        _wrapped(ws, st, row + 1, choice, widths)
        row += 3
    charts = []
    for heading, df, chart in tables:
        _table(ws, st, heading, df, row)
        drawn = chart(book, row + 2, row + 1 + len(df), list(map(str, df.columns)))
        charts += [drawn] if drawn is not None else []
        row += len(df) + 3
    if histories:
        charts.insert(0, _loss_per_step(book, ws, st, histories, row))
    for i, chart in enumerate(charts):
        ws.insert_chart(3 + 22 * i, width + 1, chart)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    set_up_page(ws)
    # Print the tables and the charts, not the (possibly long) chart data below them.
    ws.print_area(0, 0, max(row, 3 + 22 * len(charts)), width + 13)


def _wrapped(ws: Worksheet, st: Styles, row: int, text: str, widths: Sequence[float]) -> None:
    """A note wrapped across the columns of ``widths``, its row as tall as its lines."""
    ws.set_row(row, 15 * math.ceil(len(text) / sum(widths)))  # first: constant_memory flushes rows
    ws.merge_range(row, 0, row, len(widths) - 1, text, st.wrapped_note)


_HEADS = {
    "Total loss:": "Total loss (all rows)",
    "Accuracy:": "Accuracy (all rows)",
    "RMSE:": "RMSE (all rows)",
}


def _sheets_heads(results: Sequence[tuple[str, str]] = RESULTS) -> list[str]:
    """The headings of the summary's table of the model sheets' live ``results``."""
    labels = [x for pair in zip(*results, strict=True) for x in pair]  # losses, then accuracies
    return ["Sheet", "Model", *(_HEADS.get(x, x.rstrip(":")) for x in labels)]


def _sheets_table(
    ws: Worksheet,
    st: Styles,
    infos: Sequence[_SheetInfo],
    row: int,
    widths: Sequence[float],
    results: Sequence[tuple[str, str]] = RESULTS,
    lines: Sequence[str] = (),
) -> int:
    """Each model sheet's live results (:data:`RESULTS`), then ``lines``; returns the row below."""
    ws.write_string(row, 0, "The model sheets (live formulas)", st.heading)
    labels = [label for pair in zip(*results, strict=True) for label in pair]  # losses, then accuracies
    for j, head in enumerate(_sheets_heads(results)):
        ws.write_string(row + 1, j, head, st.header)
    for i, info in enumerate(infos):
        r = row + 2 + i
        where = quote_sheetname(info.sheet)
        ws.write_string(r, 0, info.sheet, st.text)
        ws.write_string(r, 1, SHEETS[info.sheet].what, st.text)
        for j, label in enumerate(labels, start=2):
            fmt = st.percent if "accuracy" in label.lower() else st.total
            ws.write_formula(r, j, f"={where}!{info.cells[label]}", fmt, info.values[label])
    r = row + 2 + len(infos)
    nnet, mmult = (next(i for i in infos if i.sheet == s) for s in ("nnet", "mmult"))
    gap = float(np.max(np.abs(nnet.predictions - mmult.predictions)))
    ws.write_string(r, 1, "nnet vs mmult: largest difference", st.text)
    ws.write_comment(r, 1, _SAME_NET_NOTE, {"x_scale": 2, "author": "workbench"})
    formula = f"=MAX(ABS(nnet!{nnet.preds}-mmult!{mmult.preds}))"
    ws.write_array_formula(r, 2, r, 2, formula, st.small, gap)
    ws.write_string(r, 3, "between their predictions: the same net, so 0 but for rounding", st.note)
    for i, line in enumerate(lines, start=1):
        _wrapped(ws, st, r + i, line, widths)
    return r + len(lines) + 2


_SAME_NET_NOTE = (
    "The largest of |nnet's prediction - mmult's prediction| over every row. The two sheets hold the"
    " same parameters (mmult's are nnet's, transposed) and compute the same sums in another order, so"
    " they differ only in the last digits a computer rounds (about 1e-16)."
)

#: The lesson's own numbers beside ours, and why they differ.
_LESSON_LINES = (
    "The lesson's own workbook ended with Total loss 0.1442 on linear and 0.1432 on nnet and mmult"
    " (every row). Ours differ for two reasons:",
    "linear: the yellow parameters are fitted on the train rows only, so on every row the loss is a little"
    " above the lowest any line reaches there (0.1442, which the lesson's Solver found).",
    "nnet: the lesson's Solver stopped in a local minimum: a dip where every small change of the"
    " parameters raises the loss, though deeper dips exist elsewhere. Which dip Solver ends in depends on"
    " the random start; workbench tries 256 starts and jumps between dips, and finds a lower one (Total"
    " loss above).",
)

#: Plain names for the fitting methods in the comparison table, and the technical term, in a note.
METHOD_NAMES = {
    "lstsq": ("least squares", "lstsq: the exact best line, solved directly (scipy.linalg.lstsq)"),
    "lbfgs": (
        "descent using past slopes",
        "lbfgs (L-BFGS): steps that also use how the slope changed lately",
    ),
    "gd": ("gradient descent", "gd: the lesson's loop: step against the slope, again and again"),
    "search": (
        "many starts, exact minima",
        "search: 256 random starts, Gauss-Newton steps, the exact minimum of each start's activation"
        " pattern, then hops across kinks while the loss falls",
    ),
}


def _table(ws: Worksheet, st: Styles, heading: str, df: pd.DataFrame, row: int) -> None:
    ws.write_string(row, 0, heading, st.heading)
    for j, name in enumerate(df.columns):
        ws.write_string(row + 1, j, str(name), st.header)
    fmts = [_summary_format(st, str(name), df[name]) for name in df.columns]
    for i, values in enumerate(df.itertuples(index=False)):
        for j, v in enumerate(values):
            if df.columns[j] == "method" and v in METHOD_NAMES:
                plain, note = METHOD_NAMES[v]
                ws.write_string(row + 2 + i, j, plain, fmts[j])
                ws.write_comment(row + 2 + i, j, note, {"x_scale": 2, "author": "workbench"})
            else:
                _write_value(ws, row + 2 + i, j, v, fmts[j])


def _bars(book: xlsxwriter.Workbook, kind: dict, title: str, x_name: str) -> Any:
    chart = book.add_chart(kind)
    chart.set_title({"name": chart_text(title), "name_font": {"size": 12}})
    chart.set_x_axis({"name": chart_text(x_name)})
    chart.set_y_axis({"name": "MSE", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 420})
    return chart


def _runs_chart(book: xlsxwriter.Workbook, first: int, last: int, columns: list[str]) -> Any | None:
    """Each run's train and valid loss, side by side (model and method label the bars)."""
    if not {"train_loss", "valid_loss"} <= set(columns):
        return None
    chart = _bars(book, {"type": "column"}, "Train and valid loss of each run", "run (model, method)")
    for name in ("train_loss", "valid_loss"):
        j = columns.index(name)
        where = {"categories": ["summary", first, 0, last, 1], "values": ["summary", first, j, last, j]}
        chart.add_series({"name": chart_text(name.split("_")[0]), **where})
    return chart


def _units_chart(book: xlsxwriter.Workbook, first: int, last: int, columns: list[str]) -> Any | None:
    """Train and valid loss against the number of ReLUs."""
    if not {"units", "train_loss", "valid_loss"} <= set(columns):
        return None
    kind = {"type": "scatter", "subtype": "straight_with_markers"}
    chart = _bars(book, kind, "Train and valid loss by the number of ReLUs", "ReLUs summed")
    chart.set_x_axis({"name": "ReLUs summed (log scale)", "log_base": 2})
    u = columns.index("units")
    for name in ("train_loss", "valid_loss"):
        j = columns.index(name)
        where = {"categories": ["summary", first, u, last, u], "values": ["summary", first, j, last, j]}
        chart.add_series({"name": chart_text(name.split("_")[0]), **where})
    return chart


def _loss_per_step(
    book: xlsxwriter.Workbook,
    ws: Worksheet,
    st: Styles,
    histories: Mapping[str, ArrayLike],
    row: int,
) -> Any:
    """Each run's loss per step, a column each from ``row`` down; returns their chart."""
    curves = {str(k): _curve(k, v) for k, v in histories.items()}
    longest = max(len(v) for v in curves.values())
    check_rows(longest, row + 2, sheet="summary")
    ws.write_string(row, 0, "Training loss per step (the chart's data)", st.heading)
    ws.write_string(row + 1, 0, "step", st.header)
    wrapped = book.add_format(
        {"font_name": "Calibri", "font_size": 11, "bold": True, "bg_color": HEADER_FILL, "bottom": 1}
        | {"align": "center", "valign": "vcenter", "text_wrap": True}
    )
    for j, name in enumerate(curves, start=1):
        ws.write_string(row + 1, j, name, wrapped)
    # Tall enough for the longest name wrapped in a column 15 wide (15 points a line).
    ws.set_row(row + 1, 15 * math.ceil(max(map(len, curves)) / 13))
    series = list(curves.values())
    for e in range(longest):
        ws.write_number(row + 2 + e, 0, e, st.whole)
        for j, curve in enumerate(series, start=1):
            if e < len(curve):
                ws.write_number(row + 2 + e, j, curve[e], st.value)
    chart = book.add_chart({"type": "scatter", "subtype": "straight"})
    for j, (name, curve) in enumerate(curves.items(), start=1):
        end = row + 1 + len(curve)
        chart.add_series(
            {
                "name": chart_text(name),
                "categories": ["summary", row + 2, 0, end, 0],
                "values": ["summary", row + 2, j, end, j],
                "line": {"width": 1.75},
            }
        )
    positive = all((curve > 0).all() for curve in series)
    chart.set_title({"name": "Training loss per step", "name_font": {"size": 12}})
    x_axis = {"name": "step (gd epoch, then Gauss-Newton step)", "min": 0, "max": longest - 1}
    chart.set_x_axis({**x_axis, "major_gridlines": {"visible": False}})
    # A log scale shows both the first big drop and the slow end; it needs positive losses.
    y_axis = {"name": "MSE (log scale)", "log_base": 10} if positive else {"name": "MSE"}
    chart.set_y_axis(y_axis)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 420})
    return chart


def _curve(name: object, values: ArrayLike) -> np.ndarray:
    curve = np.asarray(values.detach() if isinstance(values, torch.Tensor) else values, dtype="float64")
    if curve.ndim != 1 or len(curve) == 0 or not np.isfinite(curve).all():
        raise WorkbenchError(
            f"the loss history {name!r} must be a non-empty list of finite numbers, one per epoch;"
            f" got shape {curve.shape}"
        )
    return curve


def _summary_format(st: Styles, name: str, column: pd.Series) -> Any:
    low = name.lower()
    if not pd.api.types.is_numeric_dtype(column):
        return st.text
    if "acc" in low:
        return st.percent
    if "floor" in low:
        return st.small
    if "loss" in low:
        return st.total
    if pd.api.types.is_integer_dtype(column):
        return st.whole
    return st.money if "second" in low else st.value


def _write_value(ws: Worksheet, r: int, c: int, value: Any, fmt: Any) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return
    if isinstance(value, (bool, np.bool_)):
        ws.write_boolean(r, c, bool(value), fmt)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        if math.isfinite(float(value)):
            ws.write_number(r, c, float(value), fmt)
    else:
        ws.write_string(r, c, str(value), fmt)


# ---------------------------------------------------------------------------------------------
# descent: the linear model trained by the spreadsheet (the generic writer is workbench.sheets.descent)

#: The Titanic descent's defaults: lr 0.1 (it diverges above 0.209) for 100 steps.
TITANIC_LR = 0.1
TITANIC_EPOCHS = 100


def _floor(x: np.ndarray, y: np.ndarray) -> float:
    """The least-squares floor of the linear model on these rows."""
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    return float(np.mean((x @ w - y) ** 2))


def add_titanic_descent_sheet(
    book: xlsxwriter.Workbook,
    table: pd.DataFrame,
    *,
    lr: float = TITANIC_LR,
    epochs: int = TITANIC_EPOCHS,
    seed: int = 0,
    inputs: str | Block | None = None,
    target: str | Block | None = None,
    name: str = "descent",
) -> Trajectory:
    """Add a ``descent`` sheet for the lesson's Titanic ``linear`` model to ``book``.

    The start is the lesson's ``RAND()-0.5``, seeded (:func:`workbench.numerics.uniform_start`).

    Args:
        table: the lesson table (:func:`~workbench.lesson_table`).
        inputs, target: where the 712 x 10 inputs (``FEATURES``, adjacent, in order)
            and the ``Survived`` column already are, e.g. on the ``linear`` sheet. By
            default a sheet ``descent_data`` is added holding them as values.
        lr, epochs, seed: the descent.

    Returns:
        The descent torch computed, whose values the sheet caches.

    Raises:
        DivergenceError: ``lr`` is too large.
    """
    x, y = models.inputs(table).numpy(), models.targets(table).numpy()
    trajectory = descend(x, y, uniform_start((len(FEATURES),), seed), kind="linear", lr=lr, epochs=epochs)
    if (inputs is None) != (target is None):
        raise WorkbenchError("give both inputs and target ranges, or neither")
    if inputs is None:
        inputs, target = _titanic_data_sheet(book, x, y, f"{name}_data")
    write_descent_sheet(
        book,
        trajectory,
        inputs=inputs,
        target=target,
        data=(x, y),
        param_names=[*FEATURES[:-1], "Const"],
        name=name,
        title="descent: the linear model trained by the spreadsheet, step by step",
        notes=[
            f"Titanic, {len(x)} passengers (every row, train and valid), 10 inputs; start RAND()-0.5"
            f" (seed {seed}); the least-squares floor over these rows is MSE {_floor(x, y):.4f}. (The"
            " linear sheet's Solver minimises the train rows' loss instead.)"
        ],
        stable_lr=max_stable_lr(x),
        floor=_floor(x, y),
        bands=True,
    )
    return trajectory


def _titanic_data_sheet(
    book: xlsxwriter.Workbook, x: np.ndarray, y: np.ndarray, name: str
) -> tuple[Block, Block]:
    """A sheet with Survived and the 10 inputs as values; returns (inputs, target) blocks."""
    st = styles(book)
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, "Survived", st.header)
    for j, f in enumerate(FEATURES):
        ws.write_string(0, 1 + j, f, st.header)
    scaled = {FEATURES.index("Age_N"), FEATURES.index("log_Fare")}  # the rest are whole numbers
    for i in range(len(y)):
        ws.write_number(1 + i, 0, y[i], st.whole)
        for j in range(x.shape[1]):
            ws.write_number(1 + i, 1 + j, x[i, j], st.feature if j in scaled else st.whole)
    ws.set_column(0, len(FEATURES), 10)
    ws.freeze_panes(1, 0)
    set_up_page(ws, header_row=0)
    n = len(y)
    return Block(name, 1, 1, n, len(FEATURES)), Block(name, 1, 0, n, 0)
