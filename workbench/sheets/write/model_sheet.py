"""The lesson's model sheets (``linear``, ``nnet``, ``mmult``, ``sigmoid``): one writer for all.

Raw columns are values; each derived column is the formula of
:data:`workbench.titanic.features.DERIVED`; predictions, ReLUs, losses, the total loss and the
accuracy are the ``*_EXCEL`` templates of :mod:`workbench.titanic.models`. Every model formula
reads one block of parameters, the yellow cells Solver changes (plain numbers, fitted when
built); below them, read by nothing, their random ``Start`` and the ``Fitted`` values (grey, to
paste back) and a ``New start`` of ``=RAND()-0.5``. Any table's book places the same sheets by
another :class:`~workbench.sheets.write.grid.Grid`.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import quote_sheetname
from xlsxwriter.worksheet import Worksheet

from ...numerics import uniform_start
from ...titanic import models
from ...titanic.features import COLUMNS, DERIVED, FEATURES, RAW
from ...titanic.sheet_values import SheetValues
from ..model_sheets import MODEL_SHEETS, RESULTS
from .grid import Column, Grid, Plan, RowOrdered, ref, row_template, span, write_plan
from .solver_names import define_solver
from .style import Styles, set_up_page
from .xlsx import check_rows


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
        " 0 and 1; Loss and Total loss as on linear.",
        "linear, then 1/(1+EXP(-z))",
    ),
}

#: The model sheets, and the model each one evaluates.
if list(SHEETS) != list(MODEL_SHEETS) or any(SHEETS[s].model.name != m for s, m in MODEL_SHEETS.items()):
    raise ImportError("SHEETS and model_sheets.MODEL_SHEETS must list the same sheets and models")


# ---------------------------------------------------------------------------------------------
# Sheet geometry shared by the model sheets: raw columns A:H, derived columns I:P.

COL = {name: j for j, name in enumerate(COLUMNS)}
_INPUT_COLS = [COL[f] for f in FEATURES]
if list(range(_INPUT_COLS[0], _INPUT_COLS[0] + len(FEATURES))) != _INPUT_COLS:
    raise ImportError("the 10 model inputs must be adjacent columns for SUMPRODUCT/MMULT ranges")
FIRST_INPUT, LAST_INPUT = _INPUT_COLS[0], _INPUT_COLS[-1]  # G and P
_LABEL_COL = FIRST_INPUT - 1  # F: labels of the parameter rows
PARAM_LABELS = [*FEATURES[:-1], "Const"]  # the parameter of Ones is the intercept
AFTER = len(COLUMNS)  # Q: the first model column


TITANIC_GRID = Grid(FIRST_INPUT, LAST_INPUT, AFTER, tuple(PARAM_LABELS))


@dataclass(frozen=True)
class SheetInfo:
    """Where a model sheet keeps its results, for the summary's live formulas."""

    sheet: str
    cells: dict[str, str]  # label of RESULTS -> absolute A1 reference of its value
    preds: str  # absolute range of the predictions
    values: dict[str, float]  # label -> Python's value
    predictions: np.ndarray
    notes: tuple[str, ...] = ()  # the sheet's longer words, on the notes sheet


#: The parameter blocks of a model sheet, in order: the parameters (yellow, Solver's cells, plain
#: numbers that every model formula reads, fitted when built), then, read by nothing, their random
#: start (grey), a copy of the fitted values to paste back (grey) and a live RAND()-0.5 draw.
BLOCKS = ("params", "start", "fitted", "new")

#: The seed of the cached values of the RAND()-0.5 cells (a spreadsheet draws anew on opening).
NEW_DRAW_SEED = 2022


@dataclass(frozen=True)
class Layout:
    """Where a model sheet puts things (0-based rows), computed once from the sheet alone.

    Title on row 0, then two lines of notes, a blank row, the parameter blocks of :data:`BLOCKS`
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
    first_input: int = FIRST_INPUT

    @classmethod
    def of(
        cls, sheet: ModelSheet, inputs: int = len(FEATURES), extra: int = 0, first_input: int = FIRST_INPUT
    ) -> Layout:
        """``inputs``: the model's inputs, whose columns start at ``first_input``; ``extra``: rows
        between the parameters and ``Max:``."""
        notes = 2  # the sheet's own line, and the learner's path with a pointer to the notes sheet
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
        return span(*self.block(name), absolute=True)


#: The one line under a model sheet's own note: the learner's path, and where the longer words are.
POINTER = (
    "Yellow: the parameters, which Solver changes to make Train loss smallest. Fit again: paste Start"
    " or New start onto them (Paste Special > Values), run Solver. More: the notes sheet."
)

#: The same, on a sheet fitted in closed form, without a random start.
POINTER_WITHOUT_START = POINTER.replace("paste Start or New start", "paste New start")

#: Where the model sheets open, and why; on the notes sheet.
OPENS_AT_FITTED = (
    "The model sheets open at the fitted parameters, so that the summary compares every model's losses"
    " and workbench check can vouch for the numbers; to redo the video's single Solve, paste Start onto"
    " the yellow cells and run Solver once."
)

#: Cell comments naming the lessons' words beside the losses and the accuracies.
VALID_COMMENT = (
    "Valid: the validation set, the rows marked valid in column Set. The fit never sees them, so their"
    " loss tells how the model does on new rows."
)
METRIC_COMMENT = (
    "The metric: the number we judge the model by, for people to read; the loss is what Solver makes"
    " smallest."
)

#: How the MMULT is entered, for the mmult sheet's notes.
ARRAY_NOTE = (
    "The MMULT is a legacy array formula (Ctrl+Shift+Enter), for Excel 2010-2019 and LibreOffice:"
    " Excel 365 shows it in braces, {=MMULT(...)}, where the lesson typed a spilled dynamic array."
)

SOLVER_NOTE = (
    "Yellow: the parameters every formula reads, fitted on the train rows only (column Set). Solver"
    " changes them to make the Train loss smallest. Excel: Data > Solver (turn it on: File > Options >"
    " Add-ins), GRG Nonlinear,"
    " ready set up. LibreOffice 7.4's Tools > Solver cannot finish it: its linear engines answer"
    ' "The model is not linear", its Swarm engine runs off to huge numbers, and even with the yellow'
    " cells limited stops short of the best. Use workbench solve FILE --sheet SHEET instead: LibreOffice"
    " recalculating this sheet, downhill steps as Excel's. Total loss and Accuracy (Preds > 0.5 matches"
    " Survived) use every row, valid rows too."
)

#: The lesson video's starting loss on its linear sheet: the sum, then the average (2022 lesson 3, 1:15:06).
VIDEO_START_SUM, VIDEO_START_AVERAGE = 55.78, 1.03


def _start_note(spec: ModelSheet, n: int, average: float | None, floor: float) -> str:
    """Grey: the random start; its loss (``average``) as a sum and as the average, beside the video's."""
    if average is None:
        return "No random start: fitted in closed form."
    ours = (
        "Start (grey): the random start they were fitted from (RAND()-0.5, pasted as values). With Start"
        f" pasted onto the yellow cells, the losses of all {n} rows add up to {average * n:.2f},"
        f" {average:.2f} on average (Total loss:)."
    )
    if spec.name != "linear":
        return ours + " (The video's starting loss: see the linear sheet.)"
    rows = VIDEO_START_SUM / VIDEO_START_AVERAGE
    return ours + (
        f" The video's linear sheet started at a sum of {VIDEO_START_SUM} and an average of"
        f" {VIDEO_START_AVERAGE}: another random draw. Our guess, as the video does not say: its sum"
        f" covered only about {rows:.0f} rows ({VIDEO_START_SUM} / {VIDEO_START_AVERAGE}), since over all"
        f" {n} rows a sum of {VIDEO_START_SUM} would average {VIDEO_START_SUM / n:.3f}, below the best any"
        f" line reaches there, {floor:.3f}."
    )


#: Why some nets stop early, for a sheet of two or more ReLUs (:func:`path_note`).
DEAD_RELUS = (
    " Solver stops in the first dip below its start. From 200 random starts, 1 in 5 ended near 0.39"
    " (both ReLUs below 0 on every row, dead: every prediction 0, and Solver cannot move), 2 in 3 near"
    " the linear model's loss, 1 in 100 lower than 0.135. So run it from several New starts and keep"
    " the lowest; the yellow cells came from a longer search."
)


def path_note(spec: ModelSheet, dead: str = DEAD_RELUS, has_start: bool = True) -> str:
    """The learner's path from a random start to Solver, in two steps; ``dead``: why some nets stop
    early, added on a sheet of more than one unit."""
    which = "Start (to redo the fit) or New start" if has_start else "New start"
    note = (
        f"Your turn, in two steps: copy {which} (RAND()-0.5, drawn again at every recalculation, F9:"
        " a fresh try), paste it onto the yellow cells as values only (Paste Special > Values), then run"
        " Solver, which changes the yellow cells, the ones every formula reads. Fitted (grey) keeps the"
        " parameters as built: paste it back the same way."
    )
    return note + (dead if spec.model.units > 1 else "")


def write_model_sheet(
    book: xlsxwriter.Workbook,
    st: Styles,
    sheet: str,
    table: pd.DataFrame,
    values: SheetValues,
) -> SheetInfo:
    """The model sheet ``sheet`` of ``table``'s rows, holding ``values.params`` (yellow) and their
    start (grey); every number it caches comes from ``values``."""
    params, start = values.params, values.start
    spec, lay, n = SHEETS[sheet], Layout.of(SHEETS[sheet]), len(table)
    check_rows(n, lay.first, sheet=sheet)
    ws = book.add_worksheet(sheet)
    cells = RowOrdered()
    columns = model_columns(spec, st, lay, values)
    names = [col.name for col in columns]
    pred_col, loss_col = AFTER + names.index("Preds"), AFTER + names.index("Loss")
    last = lay.first + n - 1
    preds_range = span(lay.first, pred_col, last, pred_col, absolute=True)
    parameter_block(cells, st, lay, params, start)
    if lay.mmult:
        teaching_example(cells, st, lay.top + 6, loss_col - 1)
    results = totals(cells, st, lay, (pred_col, loss_col), values)
    name_results(ws, lay, loss_col)
    _max_age(cells, st, lay, table)

    # Above the passengers, only what the sheet computes and where the rest is (the lesson's sheets
    # had no notes at all): how to run Solver, the start, the learner's path go to the notes sheet.
    more = (
        *((ARRAY_NOTE,) if lay.mmult else ()),
        SOLVER_NOTE,
        _start_note(spec, len(table), values.start_loss, values.floor),
        path_note(spec),
    )
    ws.write_string(0, 0, spec.title, st.title)
    right = loss_col + (7 if lay.mmult else 2)  # the accuracies' values; on mmult, the MMULT example
    widths = _widths(names, loss_col)
    pointer = POINTER if start is not None else POINTER_WITHOUT_START
    for i, note in enumerate((spec.note, pointer)):  # wrapped across the sheet's width
        ws.set_row(1 + i, 15 * math.ceil(len(note) / sum(widths[: right + 1])))
        ws.merge_range(1 + i, 0, 1 + i, right, note, st.wrapped_note)
    ws.write_comment(2, 0, "\n\n".join(more), {"x_scale": 6, "y_scale": 8, "author": "workbench"})
    cells.flush(ws)
    for j, name in enumerate([*COLUMNS, *names]):
        ws.write_string(lay.header, j, name, st.header)
    mmult = models.MMULT_EXCEL.format(
        inputs=span(lay.first, FIRST_INPUT, last, LAST_INPUT), params=lay.cells("params")
    )
    array = (mmult, spec.model.units) if lay.mmult else None
    _write_rows(ws, st, lay, table, columns, array)

    for j, width in enumerate(widths):
        ws.set_column(j, j, width)
    ws.freeze_panes(lay.first, 0)
    set_up_page(ws, header_row=lay.header)
    ws.print_area(0, 0, last, right)
    name_blocks(book, sheet, lay, start is not None)
    define_solver(book, sheet, objective=results["Train loss:"], changing=lay.cells("params"))
    return SheetInfo(sheet, results, preds_range, values.results, values.preds, more)


def name_blocks(book: xlsxwriter.Workbook, sheet: str, lay: Layout, has_start: bool) -> None:
    """The grey blocks' names (``Start``, ``Fitted``), which a learner may type in the Name Box and
    ``workbench solve --from-start`` finds the start by; Solver's cells are ``solver_adj``."""
    where = quote_sheetname(sheet)
    for name in ("Start", "Fitted") if has_start else ("Fitted",):
        book.define_name(f"{where}!{name}", f"={where}!{lay.cells(name.lower())}")


def _widths(names: Sequence[str], loss_col: int) -> list[float]:
    """Every column's width, from A to the MMULT example's last column."""
    fixed = {"Survived": 8, "Embarked": 9, "Pclass": 7, "Sex": 7, "Age": 6, "SibSp": 7, "Parch": 7}
    widths = [fixed.get(name, 9) for name in COLUMNS] + [11] * (loss_col + 8 - len(COLUMNS))
    widths[loss_col - 1] = widths[loss_col + 1] = 15  # the losses' labels; Set and the accuracies' labels
    widths[loss_col] = LOSS_WIDTH  # Total loss's value, in its larger font
    widths[loss_col + 2 :] = [11, 8.43, 8.43, 8.43, 10, 10]  # on mmult: the example's MMULT under its heading
    return widths


def model_columns(
    spec: ModelSheet, st: Styles, lay: Layout, v: SheetValues, grid: Grid = TITANIC_GRID
) -> list[Column]:
    """The model's columns right of the data: Lin (or Preds), ReLUs or the sigmoid, Preds, Loss."""
    c, units, first, last = grid.after, spec.model.units, grid.first_input, grid.last_input

    def sumproduct(k: int) -> Callable[[int], str]:  # unit k's parameter row, for SUMPRODUCT
        row = lay.block("params")[0] + k  # the yellow cells, Solver's
        params = span(row, first, row, last, absolute=True)
        return lambda r: models.PREDICT_EXCEL.format(inputs=grid.inputs(r, r), params=params)

    columns: list[Column] = []
    if units == 1 and not spec.sigmoid:
        columns.append(Column("Preds", sumproduct(0), v.preds, st.value))
    elif spec.sigmoid:
        columns.append(Column("Lin", sumproduct(0), v.lin[0], st.value))
        sigmoid = lambda r: grid.sigmoid_excel.format(z=ref(r, c))
        columns.append(Column("Preds", sigmoid, v.preds, st.value))
    else:
        by_array = spec.model.lin_excel == "mmult"  # then one array formula fills the Lin columns
        for k in range(units):
            columns.append(Column(f"Lin{k + 1}", None if by_array else sumproduct(k), v.lin[k], st.value))
        for k in range(units):
            relu = lambda r, k=k: models.RELU_EXCEL.format(lin=ref(r, c + k))
            columns.append(Column(f"ReLU{k + 1}", relu, np.maximum(v.lin[k], 0), st.value))
        added = lambda r: "=" + "+".join(ref(r, c + units + k) for k in range(units))
        columns.append(Column("Preds", added, v.preds, st.value))
    pred_col = c + len(columns) - 1
    squared = lambda r: models.LOSS_EXCEL.format(pred=ref(r, pred_col), target=ref(r, 0))
    columns.append(Column("Loss", squared, v.loss, st.value))
    columns.append(Column("Set", None, v.sets, st.category))
    return columns


def totals(
    cells: RowOrdered,
    st: Styles,
    lay: Layout,
    cols: tuple[int, int],
    v: SheetValues,
    results: Sequence[tuple[str, str]] = RESULTS,
) -> dict[str, str]:
    """The losses (left) and accuracies (right) of :data:`RESULTS` beside the parameters, a row
    each: every row's (the lesson's ``Total loss:``, first and largest), train's and valid's;
    returns each value's absolute reference by its label.

    ``results`` whose right-hand labels name an RMSE get ``=SQRT(loss)`` there instead (a
    numeric target). ``cols``: the Preds and Loss columns of ``v``'s rows."""
    (pred_col, loss_col), n = cols, len(v.preds)
    first, last = lay.first, lay.first + n - 1
    column = lambda c: span(first, c, last, c, absolute=True)
    preds, survived, losses, sets = column(pred_col), column(0), column(loss_col), column(loss_col + 1)
    refs = {}
    for loss, accuracy in results:
        name = loss.split()[0].lower()  # "train", "valid", "total"
        r = lay.top + 1 + SHOWN.index(name)
        if name == "total":
            mse = models.MSE_EXCEL.format(losses=losses)
            acc = models.ACCURACY_EXCEL.format(preds=preds, targets=survived)
        else:
            mse = models.SET_MSE_EXCEL.format(sets=sets, name=name, losses=losses)
            acc = models.SET_ACCURACY_EXCEL.format(preds=preds, targets=survived, sets=sets, name=name)
        if "RMSE" in accuracy:
            acc = f"=SQRT({ref(r, loss_col, absolute=True)})"
        big = name == "total"
        for c, label, formula, fmt in (
            (loss_col, loss, mse, st.big_total if big else st.total),
            (loss_col + 2, accuracy, acc, st.percent if "RMSE" not in accuracy else st.total),
        ):
            cells.put(r, c - 1, "write_string", label, st.big_label if big and c == loss_col else st.label)
            cells.put(r, c, "write_formula", formula, fmt, v.results[label])
            refs[label] = ref(r, c, absolute=True)
    return refs


#: The width of the Loss column, where Total loss's value shows in its larger font.
LOSS_WIDTH = 14

#: The order of the results' rows, from the top: the lesson's total loss, then train and valid.
SHOWN = ("total", "train", "valid")


def name_results(ws: Worksheet, lay: Layout, loss_col: int) -> None:
    """The lessons' words for the results, in cell comments: the validation set, the metric; and
    the total loss's row tall enough for its larger font."""
    ws.set_row(lay.top + 1 + SHOWN.index("total"), 21)
    valid = lay.top + 1 + SHOWN.index("valid")
    ws.write_comment(valid, loss_col - 1, VALID_COMMENT, {"x_scale": 2, "author": "workbench"})
    ws.write_comment(lay.top + 1, loss_col + 1, METRIC_COMMENT, {"x_scale": 2, "author": "workbench"})


def _max_age(cells: RowOrdered, st: Styles, lay: Layout, table: pd.DataFrame) -> None:
    """``Max:`` just above the data, as in the lesson: the cell Age_N divides by (:func:`_max_cell`)."""
    age, last = COL["Age"], lay.first + len(table) - 1
    cells.put(lay.max_row, age - 1, "write_string", "Max:", st.label)
    formula = f"=MAX({span(lay.first, age, last, age)})"
    cells.put(lay.max_row, age, "write_formula", formula, st.number, float(table["Age"].max()))


def _max_cell(lay: Layout) -> str:
    return ref(lay.max_row, COL["Age"], absolute=True)


def _write_rows(
    ws: Worksheet,
    st: Styles,
    lay: Layout,
    table: pd.DataFrame,
    columns: Sequence[Column],
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
        plan.append((COL[name], None, table[name].to_numpy(), raw_fmt.get(name, st.whole)))
    refs = lambda r: {name: ref(r, COL[name]) for name in RAW} | {"max_Age": _max_cell(lay)}
    for d in DERIVED:
        formula = d.formula(refs(first))
        fmt = st.whole if d.name not in ("Age_N", "log_Fare") else st.feature
        if formula.startswith("="):
            template = row_template(lambda r, d=d: d.formula(refs(r)), first)
            plan.append((COL[d.name], template, table[d.name].to_numpy(dtype="float64"), fmt))
        else:  # a constant such as Ones
            plan.append((COL[d.name], None, np.broadcast_to(float(formula), (n,)), fmt))
    write_plan(ws, first, plan, columns, array, AFTER)


def parameter_block(
    cells: RowOrdered,
    st: Styles,
    lay: Layout,
    params: np.ndarray,
    start: np.ndarray | None,
    grid: Grid = TITANIC_GRID,
) -> None:
    """The parameter blocks of :data:`BLOCKS`, from row ``lay.top`` down.

    The parameters (yellow, Solver's plain-number cells, which every model formula reads), their
    random start (grey; none for a fit in closed form), the fitted values again (grey, to paste
    back after trying another start) and a new start (``=RAND()-0.5``); the last three are read
    by nothing: the learner pastes their values onto the yellow cells.
    """
    shape = (lay.inputs, lay.units) if lay.mmult else (lay.units, lay.inputs)
    params, start = params.reshape(shape), None if start is None else start.reshape(shape)
    draw = uniform_start(shape, NEW_DRAW_SEED)
    content = {"params": (params, st.param), "start": (start, st.start), "fitted": (params, st.start)}
    content |= {"new": (draw, st.start)}
    heads = {"params": "Param", "start": "Start", "fitted": "Fitted", "new": "New"}
    labels = {"params": "Params", "start": "Start", "fitted": "Fitted", "new": "New start"}
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
                if name == "new":
                    cells.put(r0 + i, c0 + j, "write_formula", "=RAND()-0.5", fmt, values[i, j])
                else:
                    cells.put(r0 + i, c0 + j, "write_number", values[i, j], fmt)


def teaching_example(cells: RowOrdered, st: Styles, row: int, col: int) -> None:
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
        inputs=span(row + 2, col, row + 4, col + 2, absolute=True),
        params=span(row + 2, col + 4, row + 4, col + 5, absolute=True),
    )
    cells.put(row + 2, c0, "write_array_formula", row + 4, c0 + 1, formula, st.whole, product[0, 0])
    for i in range(3):
        for j in range(2):
            if (i, j) != (0, 0):
                cells.put(row + 2 + i, c0 + j, "write_number", product[i, j], st.whole)
