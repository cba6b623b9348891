"""The ``descent`` sheet: gradient descent done by the spreadsheet itself.

One row per step. Row t holds the parameters, their loss (MSE) and the loss's
gradient; row t + 1's parameters are formulas on row t::

    params[t + 1] = params[t] - lr * grad[t]

with ``lr`` one cell at the top of the sheet. Nothing else is needed: no Solver,
no macro. Type a new learning rate and Excel, LibreOffice or Google Sheets redoes
the whole descent; type a big one and the loss column explodes.

The formulas read a design matrix ``X`` (n x p, adjacent columns on a data sheet)
and the targets ``Y`` (n x 1). For a model linear in its parameters ``w`` the rows
never need revisiting: the MSE and its gradient multiply out into sums of the data
that do not change while descending, computed once in a block beside the steps::

    X^T X         MMULT(TRANSPOSE(X), X)    (p x p: each input column times each, summed)
    X^T y         MMULT(TRANSPOSE(Y), X)    (1 x p: each input column times the target, summed)
    y^T y         SUMSQ(Y)
    gradient      2 * (MMULT(w, X^T X) - X^T y) / n          = 2/n X^T (X w - y)
    loss          (SUMPRODUCT(MMULT(w, X^T X), w) - 2 * SUMPRODUCT(w, X^T y) + y^T y) / n
                                                             = mean of (X w - y)^2

so a step costs p x p multiplications, not n x p, and typing a learning rate
recomputes the whole descent at once, whatever n. A check cell computes the last
step's loss the long way, from every row's prediction, beside the sums.

For a sum of ReLUs (unit k with its own row of weights ``w_k``) which rows count
changes with ``w``, so each step reads the rows::

    z_k           MMULT(X, TRANSPOSE(w_k))
    predictions   IF(z_1<0,0,z_1) + IF(z_2<0,0,z_2) + ...
    gradient k    2 * MMULT(TRANSPOSE((predictions - Y) * (z_k>0)), X) / n

one array formula per unit filling its gradient cells (the errors computed once a
step). Each is written as an array formula, so Excel evaluates the nested MMULT and
TRANSPOSE element by element as LibreOffice and Google Sheets do. Every cell caches
the value Python computed (:func:`workbench.regression.fits.descend`, and numpy for
the sums), and a forced LibreOffice recalculation reproduces it to 1e-9.

The writer knows nothing of Titanic: :func:`workbench.sheets.books.titanic.add_titanic_descent_sheet`
gives it the lesson's ``linear`` model (10 parameters, 712 rows), and the regression
workbooks give it theirs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from itertools import product

import numpy as np
import xlsxwriter
from numpy.typing import ArrayLike
from xlsxwriter.format import Format
from xlsxwriter.utility import quote_sheetname, xl_cell_to_rowcol, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ... import numerics
from ...errors import WorkbenchError
from ...regression import Trajectory
from ...regression.sheet_values import DescentValues
from .grid import Block, write_rows
from .style import PARAM_FILL, Styles, set_up_page, styles
from .xlsx import check_rows

#: Fastbook chapter 4's seven steps, and where each happens on a banded sheet (for a notes sheet).
SEVEN_STEPS = (
    "The bands over the columns are fastbook chapter 4's seven steps: 1 initialise (step 0's"
    " parameters), 2 predict (each point's prediction at the step in view), 3 loss (the loss column),"
    " 4 gradient, 5 step (each row's parameters from the row above), 6 repeat (row after row),"
    " 7 stop (after the last row)."
)

#: The one sentence over the extra area of a linear model's sheet.
SHORTCUT = (
    "Shortcut (extra): the loss and gradient of every row above come from these sums of the data,"
    " made once, so a step never goes back over all the points; the block of predictions shows"
    " what they stand for."
)


@dataclass(frozen=True)
class DescentSheet:
    """Where a written ``descent`` sheet keeps things (sheet-qualified absolute references)."""

    lr: str  # the learning-rate cell
    header_row: int  # 0-based row of the column headings; step t is on header_row + 1 + t
    final_params: tuple[str, ...]  # the last row's parameter cells, in param_names order
    param_columns: tuple[str, ...] = ()  # each parameter's cells from step 0 to the last, for INDEX
    step_in_view: str = ""  # the yellow cell choosing which step's predictions the sheet shows
    view_columns: tuple[str, ...] = ()  # target, prediction, error, error^2 of every point
    view_loss: str = ""  # the mean of the squared errors at the step in view
    view_params: str = ""  # the parameters at the step in view, one row
    sheet: str = "descent"
    notes: tuple[str, ...] = ()  # the longer words, for the book's notes sheet
    trajectory: Trajectory | None = None


@dataclass(frozen=True)
class Points:
    """The points a descent sheet's formulas read, on another sheet, and their numbers.

    ``inputs``: the n x p design matrix, e.g. ``"data!$B$2:$C$101"``; ``target``: the n
    targets, one column, e.g. ``"data!$A$2:$A$101"``; ``data``: the numbers in those ranges,
    ``(X, y)``, cached in the cells that read them; ``param_names``: a heading per parameter,
    flattened row by row (p, or K * p for K ReLUs).
    """

    inputs: str | Block
    target: str | Block
    data: tuple[ArrayLike, ArrayLike]
    param_names: Sequence[str]


@dataclass(frozen=True)
class Look:
    """How a descent sheet shows itself.

    ``name``: the sheet's; ``title``: its first line; ``notes``: the longer words about this
    descent, returned in :attr:`DescentSheet.notes` (with the sheet's own) for the book's notes
    sheet when ``notes_sheet``, else put in the title's comment; ``chart``: a chart of the loss
    by step; ``bands``: name the column bands above the headings by the seven steps of fastbook
    chapter 4 (initialise, predict, loss, gradient, step, repeat, stop).
    """

    name: str = "descent"
    title: str | None = None
    notes: Sequence[str] = ()
    chart: bool = True
    bands: bool = False
    notes_sheet: bool = False


def write_descent_sheet(
    book: xlsxwriter.Workbook,
    trajectory: Trajectory,
    points: Points,
    look: Look = Look(),
    *,
    values: DescentValues,
) -> DescentSheet:
    """Add a sheet that redoes ``trajectory`` with formulas, one row per step.

    Above the rows: the title, one line, the learning rate and the step in view (yellow);
    beside the rows: every point's prediction, error and squared error at the step in
    view; further right, for a linear model, the shortcut the rows compute from.

    Args:
        book: an open XlsxWriter workbook (see :func:`workbench.sheets.write.xlsx.new_workbook`).
        trajectory: the descent to redo (:func:`workbench.regression.fits.descend`); its
            values are cached in the cells, its ``lr`` goes into the lr cell and its
            first row of parameters is the start.
        points: the design matrix and targets the steps read (:class:`Points`).
        look: the sheet's name, title, notes, chart and bands (:class:`Look`).
        values: every other number the sheet caches, computed before
            (:func:`~workbench.regression.sheet_values.descent_values`): each point's prediction
            at the last step, the sums of the data; ``stable_lr`` is shown as the learning rate
            above which descent diverges; a ``floor`` (or a text saying why there is none) adds
            the rows ``Final loss:`` (the last step's loss) and ``Least-squares floor:``, each
            value in the cell right of its label.

    Raises:
        WorkbenchError: ranges or names that do not fit the trajectory's shape.
    """
    x, y = _block(points.inputs), _block(points.target)
    name, param_names = look.name, tuple(points.param_names)
    how = "from sums of the data (right)" if trajectory.kind == "linear" else "from the data"
    more = [
        f"Each row computes its loss (MSE) and gradient {how}. Type a learning rate too big"
        " and the loss column explodes.",
        *look.notes,
        *([SEVEN_STEPS] if look.bands else []),
    ]
    where = "on the notes sheet" if look.notes_sheet else "in the title's comment"
    line = (
        "Each row steps from the row above: parameters minus lr times gradient."
        f" Type another lr or step in view (yellow); more {where}."
    )
    floor = values.floor
    lay = _Layout.of(trajectory, (x, y), param_names, name, summary=floor is not None)
    arrays = _arrays(points.data, x, y)
    ws = book.add_worksheet(name)
    page = _Page(ws, styles(book), _formats(book), lay, trajectory, (x, y), arrays, param_names, values)
    st = page.st
    ws.write_string(0, 0, look.title or "descent: gradient descent done by the spreadsheet", st.title)
    if not look.notes_sheet:
        ws.write_comment(0, 0, "\n\n".join(more), _COMMENT)
    ws.write_string(1, 0, line, st.note)
    _lr_rows(page)
    if floor is not None:
        _summary_rows(page)
    if look.bands:
        _bands(ws, book, lay, linear=trajectory.kind == "linear")
    _headings(page)
    view = _view_block(page)
    sums, chart_row = None, lay.header_row
    if trajectory.kind == "linear":
        sums = _sums_block(page)
        chart_row = lay.header_row + lay.width + 7
        _long_way(page)
    for t in range(lay.steps):
        _step_row(page, t, sums)
    ws.set_column(0, 0, 19 if floor is not None else 16)
    # Wide enough for every heading, such as "grad log_Fare".
    ws.set_column(1, lay.sums_col + lay.width, max(11, 1 + max(len(f"grad {p}") for p in param_names)))
    ws.set_column(lay.view_col, lay.view_col, 13)
    ws.set_column(lay.sums_col, lay.sums_col, 16)
    ws.freeze_panes(lay.first_step, 1)
    set_up_page(ws, header_row=lay.header_row)
    # Printed: the steps, one to a row (the step in view's rows and the shortcut stand to the right).
    ws.print_area(0, 0, lay.last + 1, lay.view_col - 1)
    if look.chart:
        at = (chart_row, lay.sums_col if sums is not None else lay.view_col + len(_VIEW_HEADS) + 1)
        _loss_chart(book, ws, name, (lay.header_row, lay.last), lay.loss_col, at)
    q = quote_sheetname(name)
    return DescentSheet(
        lr=f"{q}!{lay.lr_cell}",
        header_row=lay.header_row,
        final_params=tuple(f"{q}!{_abs(lay.last, 1 + j)}" for j in range(lay.width)),
        param_columns=tuple(
            f"{q}!{_abs(lay.first_step, 1 + j)}:{_abs(lay.last, 1 + j)}" for j in range(lay.width)
        ),
        step_in_view=f"{q}!{lay.view_cell}",
        view_columns=tuple(f"{q}!{v}" for v in view),
        view_loss=f"{q}!{lay.view_loss_cell}",
        view_params=f"{q}!{_abs(lay.header_row - 2, lay.view_col + 1)}:"
        f"{_abs(lay.header_row - 2, lay.view_col + lay.width)}",
        sheet=name,
        notes=tuple(more),
        trajectory=trajectory,
    )


#: Comments must name an author: Gnumeric drops a comment without one.
_COMMENT = {"x_scale": 3, "y_scale": 3, "author": "workbench"}

#: The columns of the block of points at the step in view.
_VIEW_HEADS = ("point", "target", "prediction", "error", "error^2")


@dataclass(frozen=True)
class _Layout:
    """Where a descent sheet puts things: computed once, checked against the trajectory's shape."""

    steps: int
    width: int  # parameters per step, all units flattened
    units: int
    lr_row: int
    header_row: int

    @classmethod
    def of(
        cls,
        trajectory: Trajectory,
        xy: tuple[Block, Block],
        param_names: Sequence[str],
        name: str,
        *,
        summary: bool,
    ) -> _Layout:
        """Under the title and one line: the lr rows, the final loss and the floor (``summary``), the
        bands' row, the headings."""
        (x, y), steps = xy, len(trajectory.losses)
        width = trajectory.params.reshape(steps, -1).shape[1]
        units = 1 if trajectory.kind == "linear" else trajectory.params.shape[1]
        if not trajectory.zero_grad:
            raise WorkbenchError(
                "a descent sheet redoes correct descent; the trajectory piled up its gradients"
            )
        if trajectory.kind not in ("linear", "relu_sum"):
            raise WorkbenchError(
                f"a descent sheet computes 'linear' or 'relu_sum' models; got {trajectory.kind!r}"
            )
        if x.cols * units != width:
            raise WorkbenchError(
                f"the inputs {x} have {x.cols} columns, but the parameters come in {units} row(s) of"
                f" {width // units}: they must match"
            )
        if y.cols != 1 or y.rows != x.rows:
            raise WorkbenchError(
                f"the target {y} must be one column of {x.rows} rows, as many as the inputs {x}"
            )
        if len(param_names) != width:
            raise WorkbenchError(f"{len(param_names)} parameter names for {width} parameters")
        lay = cls(steps, width, units, lr_row=3, header_row=6 + 2 * summary)
        check_rows(max(steps, x.rows), lay.first_step, sheet=name)  # the steps, and the points in view
        return lay

    @property
    def first_step(self) -> int:
        return self.header_row + 1

    @property
    def last(self) -> int:
        return self.first_step + self.steps - 1

    @property
    def per_unit(self) -> int:
        return self.width // self.units

    @property
    def loss_col(self) -> int:
        return 1 + self.width

    @property
    def grad_col(self) -> int:
        return 2 + self.width

    @property
    def view_col(self) -> int:
        """The block of points at the step in view: right of the gradients, clear of the lr row's cells."""
        return max(self.grad_col + self.width + 1, 9)

    @property
    def sums_col(self) -> int:
        return self.view_col + max(len(_VIEW_HEADS), self.width + 1) + 1

    @property
    def view_cell(self) -> str:
        """The yellow step-in-view cell, in the lr row."""
        return _abs(self.lr_row, 7)

    @property
    def shown_cell(self) -> str:
        """The step shown: the yellow cell's, made a whole number from 0 to the last step."""
        return _abs(self.header_row - 3, self.view_col + 1)

    @property
    def view_loss_cell(self) -> str:
        return _abs(self.header_row - 3, self.view_col + 3)

    @property
    def lr_cell(self) -> str:
        return _abs(self.lr_row, 1)

    @property
    def n_cell(self) -> str:
        return _abs(self.lr_row, 4)


@dataclass(frozen=True)
class _Formats:
    general: Format
    lr: Format


@dataclass(frozen=True)
class _Page:
    """What every part of one descent sheet reads: the sheet, its styles and layout, the descent,
    the points' blocks ``xy`` on another sheet and their numbers ``data`` (X, y), the parameters' names."""

    ws: Worksheet
    st: Styles
    fmt: _Formats
    lay: _Layout
    trajectory: Trajectory
    xy: tuple[Block, Block]
    data: tuple[np.ndarray, np.ndarray]
    names: tuple[str, ...]
    values: DescentValues


def _arrays(data, x: Block, y: Block) -> tuple[np.ndarray, np.ndarray]:
    """``data`` (X, y) as float arrays, checked against the blocks they fill."""
    xs, ys = (np.asarray(a, dtype=float) for a in data)
    if xs.shape != (x.rows, x.cols) or ys.shape != (y.rows,):
        raise WorkbenchError(f"data of shapes {xs.shape} and {ys.shape} for the ranges {x} and {y}")
    return xs, ys


def _formats(book: xlsxwriter.Workbook) -> _Formats:
    # General shows as many digits as the column fits and switches to 1E+30 style when a
    # typed learning rate makes the descent explode; fixed decimals would show ####.
    font = {"font_name": "Calibri", "font_size": 11}
    general = book.add_format({**font, "num_format": "General"})
    lr = book.add_format({**font, "num_format": "General", "bg_color": PARAM_FILL, "border": 1})
    return _Formats(general, lr)


def _lr_rows(page: _Page) -> None:
    stable_lr = page.values.stable_lr
    ws, st, fmt, lay, lr, y = page.ws, page.st, page.fmt, page.lay, page.trajectory.lr, page.xy[1]
    ws.write_string(lay.lr_row, 0, "lr:", st.label)
    ws.write_number(lay.lr_row, 1, lr, fmt.lr)
    ws.write_string(lay.lr_row, 3, "n:", st.label)
    ws.write_formula(lay.lr_row, 4, f"=ROWS({y})", st.whole, y.rows)
    if stable_lr is not None:
        ws.write_string(lay.lr_row + 1, 0, "diverges above lr:", st.label)
        ws.write_number(lay.lr_row + 1, 1, stable_lr, fmt.general)
        ws.write_comment(
            lay.lr_row + 1, 0,
            "2 / how sharply the loss bends along its steepest direction. A step longer than this"
            " overshoots the bottom of the valley by more than it started from, so every step lands"
            " higher: the loss grows without end. In the textbooks' words: 2 / the largest eigenvalue of"
            " the loss's Hessian (its matrix of second derivatives, here 2/n X^T X).",
            _COMMENT,
        )  # fmt: skip
    _step_in_view(page)


def _step_in_view(page: _Page) -> None:
    """The yellow cell choosing the step whose predictions the block of points shows (the last at first)."""
    ws, st, fmt, lay = page.ws, page.st, page.fmt, page.lay
    last = lay.steps - 1
    r, c = xl_cell_to_rowcol(lay.view_cell)
    ws.write_string(r, c - 1, "step in view:", st.label)
    ws.write_number(r, c, last, fmt.lr)
    ws.write_comment(
        r, c - 1,
        f"Which row's parameters predict every point in the block right of the gradients (2 predict):"
        f" 0 (the start) to {last} (the last). A number outside shows the nearest step.",
        _COMMENT,
    )  # fmt: skip
    rule = {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": last}
    message = f"type a whole step number from 0 to {last}"
    ws.data_validation(
        r, c, r, c, rule | {"error_title": "Not a step of this sheet", "error_message": message}
    )


def _summary_rows(page: _Page) -> None:
    """``Final loss:`` (the last row's loss) and ``Least-squares floor:``, each value right of its label."""
    ws, st, fmt, lay, final = page.ws, page.st, page.fmt, page.lay, page.trajectory.losses[-1]
    floor = page.values.floor
    r = lay.lr_row + 2
    ws.write_string(r, 0, "Final loss:", st.label)
    ws.write_formula(r, 1, f"={_abs(lay.last, lay.loss_col)}", fmt.general, final)
    ws.write_string(r, 3, "7 stop", st.note)
    ws.write_comment(r, 3, "Step 7, stop: the loss after the last step (the last row).", _COMMENT)
    ws.write_string(r + 1, 0, "Least-squares floor:", st.label)
    if isinstance(floor, str):
        ws.write_string(r + 1, 1, floor, st.note)
        return
    ws.write_number(r + 1, 1, floor, fmt.general)
    ws.write_string(r + 1, 3, "final / floor:", st.label)
    ws.write_formula(r + 1, 4, f"={_abs(r, 1)}/{_abs(r + 1, 1)}", fmt.general, page.values.ratio)
    ws.write_comment(
        r + 1,
        0,
        "The floor: the lowest loss any parameters reach (least squares, solved by numpy).",
        _COMMENT,
    )


def _bands(ws: Worksheet, book: xlsxwriter.Workbook, lay: _Layout, *, linear: bool) -> None:
    """Fastbook's seven steps over the column groups that do them, in the row above the headings."""
    band = book.add_format(
        {"font_name": "Calibri", "font_size": 10, "italic": True, "align": "center", "bg_color": "#E2EFDA"}
        | {"border": 1, "border_color": "#A9D08E"}
    )
    r = lay.header_row - 1
    groups = [
        (0, 0, "6 repeat"),
        (1, lay.width, "1 initialise, 5 step"),
        (lay.loss_col, lay.loss_col, "3 loss"),
        (lay.grad_col, lay.grad_col + lay.width - 1, "4 gradient"),
        (lay.view_col, lay.view_col + len(_VIEW_HEADS) - 1, "2 predict"),
        *([(lay.sums_col, lay.sums_col, "extra")] if linear else []),
    ]
    for first, last, text in groups:
        if first == last:
            ws.write_string(r, first, text, band)
        else:
            ws.merge_range(r, first, r, last, text, band)


def _view_block(page: _Page) -> tuple[str, ...]:
    """Step 2, predict, made visible: every point's prediction, error and squared error at the step in view.

    The rows' loss column computes the same loss without them (from sums, for a linear model); this block
    is the long way for one step, and its mean squared error equals that step's loss. Returns the ranges
    of its target, prediction, error and squared-error columns.
    """
    ws, st, fmt, lay, trajectory = page.ws, page.st, page.fmt, page.lay, page.trajectory
    (x, y), (_, ys), v = page.xy, page.data, page.values
    c, h, last = lay.view_col, lay.header_row, lay.steps - 1
    w, pred, err = trajectory.params[last].reshape(lay.units, lay.per_unit), v.preds, v.errors
    shown = lay.shown_cell
    ws.write_string(h - 3, c, "step shown:", st.label)
    ws.write_formula(h - 3, c + 1, f"=MIN(MAX(INT({lay.view_cell}),0),{last})", st.whole, last)
    ws.write_string(h - 3, c + 2, "loss:", st.label)
    err2 = f"{_abs(lay.first_step, c + 4)}:{_abs(lay.first_step + y.rows - 1, c + 4)}"
    ws.write_formula(h - 3, c + 3, numerics.MSE_EXCEL.format(losses=err2), fmt.general, v.view_loss)
    ws.write_string(h - 2, c, "parameters:", st.label)
    for j in range(lay.width):
        column = f"{_abs(lay.first_step, 1 + j)}:{_abs(lay.last, 1 + j)}"
        ws.write_formula(h - 2, c + 1 + j, f"=INDEX({column},{shown}+1)", fmt.general, w.ravel()[j])
    for j, head in enumerate(_VIEW_HEADS):
        ws.write_string(h, c + j, head, st.header)
    units = [f"{_abs(h - 2, c + 1 + k * lay.per_unit)}:{_abs(h - 2, c + (k + 1) * lay.per_unit)}"
             for k in range(lay.units)]  # fmt: skip
    q = quote_sheetname(x.sheet)
    at = xl_rowcol_to_cell

    def point(i: int) -> None:
        r, src = lay.first_step + i, x.first_row + i
        row = f"{q}!{_abs(src, x.first_col)}:{_abs(src, x.last_col)}"
        ws.write_number(r, c, i + 1, st.whole)
        ws.write_formula(r, c + 1, f"={q}!{_abs(y.first_row + i, y.first_col)}", fmt.general, ys[i])
        lins = [numerics.PREDICT_EXCEL[1:].format(inputs=row, params=u) for u in units]
        if trajectory.kind == "linear":
            formula = "=" + lins[0]
        else:
            formula = "=" + "+".join(numerics.RELU_EXCEL[1:].format(lin=z) for z in lins)
        ws.write_formula(r, c + 2, formula, fmt.general, pred[i])
        ws.write_formula(r, c + 3, f"={at(r, c + 2)}-{at(r, c + 1)}", fmt.general, err[i])
        loss = numerics.LOSS_EXCEL.format(pred=at(r, c + 2), target=at(r, c + 1))
        ws.write_formula(r, c + 4, loss, fmt.general, err[i] ** 2)

    write_rows(ws, lay.first_step, y.rows, point)
    n = y.rows
    return tuple(f"{_abs(lay.first_step, c + j)}:{_abs(lay.first_step + n - 1, c + j)}" for j in range(1, 5))


def _headings(page: _Page) -> None:
    ws, st, lay, param_names = page.ws, page.st, page.lay, page.names
    ws.write_string(lay.header_row, 0, "step", st.header)
    for j, head in enumerate(param_names):
        ws.write_string(lay.header_row, 1 + j, head, st.header)
        ws.write_string(lay.header_row, lay.grad_col + j, f"grad {head}", st.header)
    ws.write_string(lay.header_row, lay.loss_col, "loss (MSE)", st.header)


@dataclass(frozen=True)
class _Sums:
    """Where the sums of the data a linear model's steps read are (absolute references)."""

    xtx: str
    xty: str
    yty: str


def _sums_block(page: _Page) -> _Sums:
    """X^T X, X^T y and y^T y, right of the steps: formulas on the data, numpy's values cached."""
    ws, st, fmt, lay, names = page.ws, page.st, page.fmt, page.lay, page.names
    x, y = page.xy
    p, c, h = lay.width, lay.sums_col, lay.header_row
    xtx, xty = page.values.xtx, page.values.xty
    ws.write_string(h, c, "X^T X", st.header)
    for j, head in enumerate(names):
        ws.write_string(h, c + 1 + j, head, st.header)
        ws.write_string(h + 1 + j, c, head, st.label)
    ws.write_array_formula(
        h + 1, c + 1, h + p, c + p, f"{{=MMULT(TRANSPOSE({x}),{x})}}", fmt.general, xtx[0, 0]
    )
    for i, j in product(range(p), range(p)):
        if (i, j) != (0, 0):  # the array's other cells: its values, as Excel stores them
            ws.write_number(h + 1 + i, c + 1 + j, xtx[i, j], fmt.general)
    r = h + p + 1
    ws.write_string(r, c, "X^T y", st.label)
    ws.write_array_formula(r, c + 1, r, c + p, f"{{=MMULT(TRANSPOSE({y}),{x})}}", fmt.general, xty[0])
    for j in range(1, p):
        ws.write_number(r, c + 1 + j, xty[j], fmt.general)
    ws.write_string(r + 1, c, "y^T y", st.label)
    ws.write_formula(r + 1, c + 1, f"=SUMSQ({y})", fmt.general, page.values.yty)
    ws.write_string(r + 2, c, SHORTCUT, st.note)
    ws.write_comment(
        h, c,
        "X^T X: each input column times each, summed over the rows; X^T y: each input column times"
        " the target, summed; y^T y: the targets squared, summed. gradient = 2/n (w X^T X - X^T y)"
        " = 2/n X^T (X w - y): predictions for every row, minus the targets, times each input column,"
        " averaged, doubled; loss = (w X^T X w - 2 w X^T y + y^T y)/n.",
        _COMMENT,
    )  # fmt: skip
    return _Sums(
        xtx=f"{_abs(h + 1, c + 1)}:{_abs(h + p, c + p)}",
        xty=f"{_abs(r, c + 1)}:{_abs(r, c + p)}",
        yty=_abs(r + 1, c + 1),
    )


def _long_way(page: _Page) -> None:
    """Under the sums: the last step's loss from every row's prediction, the lesson's way."""
    ws, st, fmt, lay, loss = page.ws, page.st, page.fmt, page.lay, page.trajectory.losses[-1]
    (x, y), r, c = page.xy, lay.header_row + lay.width + 4, lay.sums_col
    w = f"{_abs(lay.last, 1)}:{_abs(lay.last, lay.width)}"
    pred = numerics.MMULT_EXCEL[1:].format(inputs=x, params=f"TRANSPOSE({w})")
    ws.write_array_formula(r, c, r, c, f"{{=SUMXMY2({pred},{y})/{lay.n_cell}}}", fmt.general, loss)
    ws.write_string(r, c + 1, "the last step's loss from every row's prediction, the lesson's way", st.note)


def _step_row(page: _Page, t: int, sums: _Sums | None) -> None:
    """Step t: its parameters (the start, or a step from the row above), its loss and gradient."""
    ws, st, fmt, lay, trajectory = page.ws, page.st, page.fmt, page.lay, page.trajectory
    params = trajectory.params.reshape(lay.steps, -1)
    grads = trajectory.grads.reshape(params.shape)
    r = lay.first_step + t
    ws.write_number(r, 0, t, st.whole)
    for j in range(lay.width):
        if t == 0:
            ws.write_number(r, 1 + j, params[0, j], st.start)
        else:
            above, grad_above = xl_rowcol_to_cell(r - 1, 1 + j), xl_rowcol_to_cell(r - 1, lay.grad_col + j)
            ws.write_formula(r, 1 + j, f"={above}-{lay.lr_cell}*{grad_above}", fmt.general, params[t, j])
    cells = [xl_rowcol_to_cell(r, 1 + j) for j in range(lay.width)]
    if sums is not None:
        w = f"{cells[0]}:{cells[-1]}"
        wxtx = f"MMULT({w},{sums.xtx})"
        loss = f"{{=(SUMPRODUCT({wxtx},{w})-2*SUMPRODUCT({w},{sums.xty})+{sums.yty})/{lay.n_cell}}}"
        gradients = [f"2*({wxtx}-{sums.xty})"]
    else:
        loss, gradients = _relu_formulas(lay, cells, *page.xy)
    ws.write_array_formula(r, lay.loss_col, r, lay.loss_col, loss, fmt.general, trajectory.losses[t])
    for k, gradient in enumerate(gradients):
        c, g = lay.grad_col + k * lay.per_unit, grads[t, k * lay.per_unit : (k + 1) * lay.per_unit]
        formula = f"{{={gradient}/{lay.n_cell}}}"
        ws.write_array_formula(r, c, r, c + lay.per_unit - 1, formula, fmt.general, g[0])
        for j in range(1, lay.per_unit):  # the array's other cells: its values, as Excel stores them
            ws.write_number(r, c + j, g[j], fmt.general)


def _relu_formulas(lay: _Layout, cells: list[str], x: Block, y: Block) -> tuple[str, list[str]]:
    """A sum of ReLUs: the loss, and each unit's gradient times n, from every row (one array per unit)."""
    k_rows = [f"{cells[k * lay.per_unit]}:{cells[(k + 1) * lay.per_unit - 1]}" for k in range(lay.units)]
    z = [numerics.MMULT_EXCEL[1:].format(inputs=x, params=f"TRANSPOSE({u})") for u in k_rows]
    pred = "(" + "+".join(numerics.RELU_EXCEL[1:].format(lin=zk) for zk in z) + ")"
    loss = f"{{=SUMXMY2({pred},{y})/{lay.n_cell}}}"
    return loss, [f"2*MMULT(TRANSPOSE(({pred}-{y})*({zk}>0)),{x})" for zk in z]


def _abs(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)


def _block(ref: str | Block) -> Block:
    return ref if isinstance(ref, Block) else Block.parse(ref)


def _loss_chart(
    book: xlsxwriter.Workbook,
    ws: Worksheet,
    name: str,
    rows: tuple[int, int],
    loss_col: int,
    at: tuple[int, int],
) -> None:
    header_row, last = rows
    first_step = header_row + 1
    chart = book.add_chart({"type": "scatter", "subtype": "straight"})
    chart.add_series(
        {
            "name": "loss (MSE)",
            "categories": [name, first_step, 0, last, 0],
            "values": [name, first_step, loss_col, last, loss_col],
            "line": {"width": 2, "color": "#C00000"},
        }
    )
    chart.set_title({"name": "Loss by step", "name_font": {"size": 12}})
    chart.set_x_axis(
        {"name": "step", "min": 0, "max": last - first_step, "major_gridlines": {"visible": False}}
    )
    chart.set_y_axis({"name": "MSE (log scale)", "log_base": 10})
    chart.set_legend({"none": True})
    chart.set_size({"width": 620, "height": 360})
    ws.insert_chart(*at, chart)
