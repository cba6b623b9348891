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

import re
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
from .style import PARAM_FILL, Styles, set_up_page, styles
from .xlsx import check_rows

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


#: The note over a banded sheet: fastbook chapter 4's seven steps, and where each happens.
SEVEN_STEPS = (
    "The bands over the columns are fastbook chapter 4's seven steps: 1 initialise (step 0's"
    " parameters), 2 predict and 3 loss (the loss column), 4 gradient, 5 step (each row's"
    " parameters from the row above), 6 repeat (row after row), 7 stop (after the last row)."
)


@dataclass(frozen=True)
class DescentSheet:
    """Where a written ``descent`` sheet keeps things (sheet-qualified absolute references)."""

    lr: str  # the learning-rate cell
    header_row: int  # 0-based row of the column headings; step t is on header_row + 1 + t
    final_params: tuple[str, ...]  # the last row's parameter cells, in param_names order
    param_columns: tuple[str, ...] = ()  # each parameter's cells from step 0 to the last, for INDEX


def write_descent_sheet(
    book: xlsxwriter.Workbook,
    trajectory: Trajectory,
    *,
    inputs: str | Block,
    target: str | Block,
    data: tuple[ArrayLike, ArrayLike],
    param_names: Sequence[str],
    name: str = "descent",
    title: str | None = None,
    notes: Sequence[str] = (),
    stable_lr: float | None = None,
    chart: bool = True,
    floor: float | str | None = None,
    bands: bool = False,
) -> DescentSheet:
    """Add a sheet that redoes ``trajectory`` with formulas, one row per step.

    Args:
        book: an open XlsxWriter workbook (see :func:`workbench.sheets.write.xlsx.new_workbook`).
        trajectory: the descent to redo (:func:`workbench.regression.fits.descend`); its
            values are cached in the cells, its ``lr`` goes into the lr cell and its
            first row of parameters is the start.
        inputs: the n x p design matrix on another sheet, e.g. ``"data!$B$2:$C$101"``.
        target: the n targets, one column, e.g. ``"data!$A$2:$A$101"``.
        data: the numbers in those ranges, ``(X, y)``: the cached values of the sums
            of the data a linear model's steps read.
        param_names: a heading per parameter, flattened row by row (p, or K * p
            for K ReLUs).
        title, notes: the sheet's title and lines of explanation under it.
        stable_lr: shown as the learning rate above which descent diverges.
        chart: add a chart of the loss by step.
        floor: the least-squares floor (or a text saying why there is none): adds the
            rows ``Final loss:`` (the last step's loss) and ``Least-squares floor:``,
            each value in the cell right of its label.
        bands: name the column bands above the headings by the seven steps of
            fastbook chapter 4 (initialise, predict, loss, gradient, step, repeat, stop).

    Raises:
        WorkbenchError: ranges or names that do not fit the trajectory's shape.
    """
    x, y = _block(inputs), _block(target)
    lines = [
        "Each row's parameters are the row above's minus lr times the row above's gradient;"
        " each row computes its own loss (MSE) and gradient with formulas, "
        + ("from sums of the data (right)." if trajectory.kind == "linear" else "from the data."),
        "Type another learning rate into the yellow cell: the whole sheet descends again."
        " Too big a rate and the loss column explodes.",
        *notes,
    ]
    lines += [SEVEN_STEPS] if bands else []
    lay = _Layout.of(trajectory, x, y, param_names, name, len(lines), summary=floor is not None)
    st, fmt = styles(book), _formats(book)
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, title or "descent: gradient descent done by the spreadsheet", st.title)
    for i, line in enumerate(lines):
        ws.write_string(1 + i, 0, line, st.note)
    _lr_rows(ws, st, fmt, lay, trajectory.lr, y, stable_lr)
    if floor is not None:
        _summary_rows(ws, st, fmt, lay, trajectory.losses[-1], floor)
    if bands:
        _bands(ws, book, lay)
    _headings(ws, st, lay, param_names)
    sums, chart_row = None, lay.header_row
    if trajectory.kind == "linear":
        sums = _sums_block(ws, st, fmt, lay, (x, y), data, param_names)
        chart_row = lay.header_row + lay.width + 7
        _long_way(ws, st, fmt, lay, (x, y), trajectory.losses[-1])
    for t in range(lay.steps):
        _step_row(ws, st, fmt, lay, trajectory, t, (x, y), sums)
    ws.set_column(0, 0, 19 if floor is not None else 16)
    # Wide enough for every heading, such as "grad log_Fare".
    ws.set_column(1, lay.sums_col + lay.width, max(11, 1 + max(len(f"grad {p}") for p in param_names)))
    ws.set_column(lay.sums_col, lay.sums_col, 16)
    ws.freeze_panes(lay.first_step, 1)
    set_up_page(ws, header_row=lay.header_row)
    if chart:
        _loss_chart(book, ws, name, (lay.header_row, lay.last), lay.loss_col, (chart_row, lay.sums_col))
    q = quote_sheetname(name)
    return DescentSheet(
        lr=f"{q}!{lay.lr_cell}",
        header_row=lay.header_row,
        final_params=tuple(f"{q}!{_abs(lay.last, 1 + j)}" for j in range(lay.width)),
        param_columns=tuple(
            f"{q}!{_abs(lay.first_step, 1 + j)}:{_abs(lay.last, 1 + j)}" for j in range(lay.width)
        ),
    )


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
        x: Block,
        y: Block,
        param_names: Sequence[str],
        name: str,
        lines: int,
        *,
        summary: bool = False,
    ) -> _Layout:
        steps = len(trajectory.losses)
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
        # Under the lr rows: the final loss and the floor (``summary``), the bands' row, the headings.
        lay = cls(steps, width, units, lr_row=lines + 2, header_row=lines + 5 + 2 * summary)
        check_rows(steps, lay.first_step, sheet=name)
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
    def sums_col(self) -> int:
        return self.grad_col + self.width + 1

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


def _formats(book: xlsxwriter.Workbook) -> _Formats:
    # General shows as many digits as the column fits and switches to 1E+30 style when a
    # typed learning rate makes the descent explode; fixed decimals would show ####.
    font = {"font_name": "Calibri", "font_size": 11}
    general = book.add_format({**font, "num_format": "General"})
    lr = book.add_format({**font, "num_format": "General", "bg_color": PARAM_FILL, "border": 1})
    return _Formats(general, lr)


def _lr_rows(
    ws: Worksheet, st: Styles, fmt: _Formats, lay: _Layout, lr: float, y: Block, stable_lr: float | None
) -> None:
    ws.write_string(lay.lr_row, 0, "lr:", st.label)
    ws.write_number(lay.lr_row, 1, lr, fmt.lr)
    ws.write_string(lay.lr_row, 3, "n:", st.label)
    ws.write_formula(lay.lr_row, 4, f"=ROWS({y})", st.whole, y.rows)
    if stable_lr is not None:
        ws.write_string(lay.lr_row + 1, 0, "diverges above lr:", st.label)
        ws.write_number(lay.lr_row + 1, 1, stable_lr, fmt.general)
        plain = "= 2 / how sharply the loss curves along its steepest direction (the note says more)"
        ws.write_string(lay.lr_row + 1, 3, plain, st.note)
        ws.write_comment(
            lay.lr_row + 1, 3,
            "In the textbooks' words: 2 / the largest eigenvalue of the loss's Hessian (its matrix of"
            " second derivatives, here 2/n X^T X). A step longer than this overshoots the bottom of the"
            " valley by more than it started from, so every step lands higher: the loss grows without end.",
            {"x_scale": 3, "y_scale": 2, "author": "workbench"},  # Gnumeric drops a comment without one
        )  # fmt: skip


def _summary_rows(
    ws: Worksheet, st: Styles, fmt: _Formats, lay: _Layout, final: float, floor: float | str
) -> None:
    """``Final loss:`` (the last row's loss) and ``Least-squares floor:``, each value right of its label."""
    r = lay.lr_row + 2
    ws.write_string(r, 0, "Final loss:", st.label)
    ws.write_formula(r, 1, f"={_abs(lay.last, lay.loss_col)}", fmt.general, final)
    ws.write_string(r, 3, "7 stop: the loss after the last step (the last row)", st.note)
    ws.write_string(r + 1, 0, "Least-squares floor:", st.label)
    if isinstance(floor, str):
        ws.write_string(r + 1, 1, floor, st.note)
        return
    ws.write_number(r + 1, 1, floor, fmt.general)
    ws.write_string(r + 1, 3, "final / floor:", st.label)
    ws.write_formula(r + 1, 4, f"={_abs(r, 1)}/{_abs(r + 1, 1)}", fmt.general, final / floor)
    ws.write_string(
        r + 1, 5, "the floor: the lowest loss any parameters reach (least squares, solved by numpy)", st.note
    )


def _bands(ws: Worksheet, book: xlsxwriter.Workbook, lay: _Layout) -> None:
    """Fastbook's seven steps over the column groups that do them, in the row above the headings."""
    band = book.add_format(
        {"font_name": "Calibri", "font_size": 10, "italic": True, "align": "center", "bg_color": "#E2EFDA"}
        | {"border": 1, "border_color": "#A9D08E"}
    )
    r = lay.header_row - 1
    groups = [
        (0, 0, "6 repeat"),
        (1, lay.width, "1 initialise (step 0), 5 step"),
        (lay.loss_col, lay.loss_col, "2 predict, 3 loss"),
        (lay.grad_col, lay.grad_col + lay.width - 1, "4 gradient"),
    ]
    for first, last, text in groups:
        if first == last:
            ws.write_string(r, first, text, band)
        else:
            ws.merge_range(r, first, r, last, text, band)


def _headings(ws: Worksheet, st: Styles, lay: _Layout, param_names: Sequence[str]) -> None:
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


def _sums_block(
    ws: Worksheet, st: Styles, fmt: _Formats, lay: _Layout, xy: tuple[Block, Block], data, names
) -> _Sums:
    """X^T X, X^T y and y^T y, right of the steps: formulas on the data, numpy's values cached."""
    (x, y), (xs, ys) = xy, (np.asarray(a, dtype=float) for a in data)
    if xs.shape != (x.rows, x.cols) or ys.shape != (y.rows,):
        raise WorkbenchError(f"data of shapes {xs.shape} and {ys.shape} for the ranges {x} and {y}")
    p, c, h = lay.width, lay.sums_col, lay.header_row
    xtx, xty = xs.T @ xs, ys @ xs
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
    ws.write_formula(r + 1, c + 1, f"=SUMSQ({y})", fmt.general, float(ys @ ys))
    ws.write_string(
        r + 2,
        c,
        "X^T X: each input column times each, summed over the rows; X^T y: each input column times"
        " the target, summed; y^T y: the targets squared, summed.",
        st.note,
    )
    ws.write_string(
        r + 3,
        c,
        "gradient = 2/n (w X^T X - X^T y) = 2/n X^T (X w - y): predictions for every row, minus the"
        " targets, times each input column, averaged, doubled; loss = (w X^T X w - 2 w X^T y + y^T y)/n.",
        st.note,
    )
    return _Sums(
        xtx=f"{_abs(h + 1, c + 1)}:{_abs(h + p, c + p)}",
        xty=f"{_abs(r, c + 1)}:{_abs(r, c + p)}",
        yty=_abs(r + 1, c + 1),
    )


def _long_way(ws: Worksheet, st: Styles, fmt: _Formats, lay: _Layout, xy: tuple[Block, Block], loss: float):
    """Under the sums: the last step's loss from every row's prediction, the lesson's way."""
    (x, y), r, c = xy, lay.header_row + lay.width + 5, lay.sums_col
    w = f"{_abs(lay.last, 1)}:{_abs(lay.last, lay.width)}"
    pred = numerics.MMULT_EXCEL[1:].format(inputs=x, params=f"TRANSPOSE({w})")
    ws.write_array_formula(r, c, r, c, f"{{=SUMXMY2({pred},{y})/{lay.n_cell}}}", fmt.general, loss)
    ws.write_string(r, c + 1, "the last step's loss from every row's prediction, the lesson's way", st.note)


def _step_row(
    ws: Worksheet,
    st: Styles,
    fmt: _Formats,
    lay: _Layout,
    trajectory: Trajectory,
    t: int,
    xy: tuple[Block, Block],
    sums: _Sums | None,
) -> None:
    """Step t: its parameters (the start, or a step from the row above), its loss and gradient."""
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
        loss, gradients = _relu_formulas(lay, cells, *xy)
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
