"""The ``minibatch`` sheet: the 2019 lesson's SGD done by the spreadsheet, one mini-batch per row.

Row t lists the points of step t's batch (drawn by a seeded shuffle, every point once
per epoch), reads their inputs and targets with ``INDEX``, and computes the batch's
loss and gradient; beside it, the gradient on every point, which the batch's
estimates. The next row's parameters are ``params - lr * batch gradient``::

    error_k        w . x(point_k) - y(point_k)           for the b points of the batch
    batch loss     SUMSQ(errors) / b
    batch grad j   2 * SUMPRODUCT(errors, x_j(points)) / b
    full grad      2 * MMULT(TRANSPOSE(MMULT(X, TRANSPOSE(w)) - Y), X) / n

Models linear in their parameters only (the line, the quadratic). The cells cache
:func:`workbench.regression.sgd_steps`'s numbers.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ...errors import WorkbenchError
from ...regression import Trajectory
from ...regression.sheet_values import MinibatchValues
from .descent import Points
from .style import Styles, set_up_page
from .xlsx import check_rows


@dataclass(frozen=True)
class _Layout:
    """Columns, left to right: step, the batch's points, parameters, batch loss and gradient,
    full gradient and loss; then the chart; then each batch point's inputs and error."""

    steps: int
    batch: int
    width: int
    x_cols: tuple[int, ...]  # the design columns that are not the ones column
    lr_row: int

    @property
    def header(self) -> int:
        return self.lr_row + 4

    @property
    def first(self) -> int:
        return self.header + 1

    @property
    def last(self) -> int:
        return self.first + self.steps

    def param(self, j: int) -> int:
        return 1 + self.batch + j

    @property
    def batch_loss(self) -> int:
        return 1 + self.batch + self.width

    def batch_grad(self, j: int) -> int:
        return self.batch_loss + 1 + j

    def full_grad(self, j: int) -> int:
        return self.batch_loss + 1 + self.width + j

    @property
    def full_loss(self) -> int:
        return self.batch_loss + 1 + 2 * self.width

    def x_at(self, m: int, k: int) -> int:
        """The m-th non-ones input of the batch's k-th point."""
        return self.full_loss + 11 + m * self.batch + k

    def error(self, k: int) -> int:
        return self.x_at(len(self.x_cols), k)


def write_minibatch_sheet(
    book: xlsxwriter.Workbook,
    st: Styles,
    record: Trajectory,
    points: Points,
    input_names: Sequence[str],
    values: MinibatchValues,
) -> tuple[str, ...]:
    """Add a sheet that redoes ``record`` (mini-batch SGD) with formulas, one step per row.

    ``points``: the design matrix and targets on the data sheet, their numbers and the
    parameters' names; ``input_names`` the design's column headings; ``values`` each step's
    batch errors and the least-squares floor shown beside the final loss
    (:func:`~workbench.regression.sheet_values.minibatch_values`). Returns the sheet's longer words, for
    the book's notes sheet: the line above the rows points there.

    Raises:
        WorkbenchError: a design matrix that does not fit the record.
    """
    inputs, target, name, param_names = points.inputs, points.target, "minibatch", points.param_names
    phi = np.asarray(points.data[0], dtype="float64")
    steps, width = len(record.rows), record.params.shape[1]
    if phi.shape != (inputs.rows, inputs.cols) or width != inputs.cols or len(param_names) != width:
        raise WorkbenchError(f"the mini-batch record has {width} parameters; the inputs {inputs} do not fit")
    ones = [j for j in range(width) if np.all(phi[:, j] == 1)]
    x_cols = tuple(j for j in range(width) if j not in ones)
    epoch = -(-len(phi) // record.batch_size)  # steps per epoch
    more = (
        f"Mini-batch SGD: each step takes {record.batch_size} points (listed left; a shuffle seeded with"
        f" {record.seed} visits every point once per epoch, so an epoch is {epoch}"
        " steps), computes the loss and gradient on those points only, and steps: the row below's parameters"
        " are these minus lr times the batch gradient.",
        "Beside the batch gradient, the full gradient on every point: the batch's is a noisy estimate of it."
        " Type another lr into the yellow cell and the whole sheet descends again.",
    )
    line = (
        "Each row steps by a mini-batch's gradient (its points listed left); all points' gradient is"
        " beside it. Type another lr (yellow); more on the notes sheet."
    )
    lay = _Layout(steps, record.batch_size, width, x_cols, lr_row=3)
    check_rows(steps + 1, lay.first, sheet=name)
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, "minibatch: stochastic gradient descent, one batch per row", st.title)
    ws.write_string(1, 0, line, st.note)
    _top_rows(ws, st, lay, record, (inputs, target), values.floor)
    _bands_and_headings(ws, book, st, lay, (param_names, input_names))
    for t in range(steps + 1):
        _step_row(ws, st, lay, record, t, (points, values))
    _chart(book, ws, name, lay)
    ws.set_column(0, 0, 19)
    ws.set_column(1, lay.batch, 6)
    ws.set_column(lay.param(0), lay.error(lay.batch - 1), 11)
    ws.set_column(lay.batch_grad(0), lay.full_loss, 13)
    ws.freeze_panes(lay.first, 1)
    set_up_page(ws, header_row=lay.header)
    return more


def _top_rows(ws: Worksheet, st: Styles, lay: _Layout, record: Trajectory, xy, floor: float) -> None:
    r = lay.lr_row
    ws.write_string(r, 0, "lr:", st.label)
    ws.write_number(r, 1, record.lr, st.param)
    ws.write_string(r, 3, "batch size:", st.label)
    # Counted from the batch's point columns, not typed: each row lists exactly this many points.
    points = f"{_abs(lay.header, 1)}:{_abs(lay.header, lay.batch)}"
    ws.write_formula(r, 4, f"=COLUMNS({points})", st.whole, lay.batch)
    ws.write_string(r, 6, "n:", st.label)
    ws.write_formula(r, 7, f"=ROWS({xy[1]})", st.whole, xy[1].rows)
    final = float(record.losses[-1])
    ws.write_string(r + 1, 0, "Final loss:", st.label)
    ws.write_formula(r + 1, 1, f"={_abs(lay.last, lay.full_loss)}", st.value, final)
    ws.write_string(r + 1, 3, "7 stop", st.note)
    comment = {"x_scale": 3, "y_scale": 2, "author": "workbench"}  # Gnumeric drops a comment without one
    ws.write_comment(r + 1, 3, "Step 7, stop: the loss on all points after the last step.", comment)
    ws.write_string(r + 2, 0, "Least-squares floor:", st.label)
    ws.write_number(r + 2, 1, floor, st.value)
    ws.write_string(r + 2, 3, "final / floor:", st.label)
    ws.write_formula(r + 2, 4, f"={_abs(r + 1, 1)}/{_abs(r + 2, 1)}", st.value, final / floor)
    floor_words = "The floor: the lowest loss any parameters reach (least squares, solved by numpy)."
    ws.write_comment(r + 2, 0, floor_words, comment)


def _bands_and_headings(ws: Worksheet, book: xlsxwriter.Workbook, st: Styles, lay: _Layout, heads) -> None:
    names, inputs = heads
    band = book.add_format(
        {"font_name": "Calibri", "font_size": 10, "italic": True, "align": "center", "text_wrap": True}
        | {"bg_color": "#E2EFDA", "border": 1, "border_color": "#A9D08E"}
    )
    r, h = lay.header - 1, lay.header
    groups = [
        (0, 0, "6 repeat"),
        (1, lay.batch, "the batch: which points"),
        (lay.param(0), lay.param(lay.width - 1), "1 initialise, 5 step"),
        (lay.batch_loss, lay.batch_loss, "2 predict, 3 loss"),
        (lay.batch_grad(0), lay.batch_grad(lay.width - 1), "4 gradient (batch)"),
        (lay.full_grad(0), lay.full_loss, "all points"),
    ]
    for first, last, text in groups:
        if first == last:
            ws.write_string(r, first, text, band)
        else:
            ws.merge_range(r, first, r, last, text, band)
    ws.set_row(r, 30)
    ws.write_string(h, 0, "step", st.header)
    for k in range(lay.batch):
        ws.write_string(h, 1 + k, f"pt {k + 1}", st.header)
        ws.write_string(h, lay.error(k), f"error {k + 1}", st.header)
        for m, j in enumerate(lay.x_cols):
            ws.write_string(h, lay.x_at(m, k), f"{inputs[j]} at pt {k + 1}", st.header)
    for j, head in enumerate(names):
        ws.write_string(h, lay.param(j), head, st.header)
        ws.write_string(h, lay.batch_grad(j), f"batch grad {head}", st.header)
        ws.write_string(h, lay.full_grad(j), f"full grad {head}", st.header)
    ws.write_string(h, lay.batch_loss, "batch loss", st.header)
    ws.write_string(h, lay.full_loss, "loss, all points", st.header)


def _step_row(
    ws: Worksheet, st: Styles, lay: _Layout, record: Trajectory, t: int, given: tuple[Points, MinibatchValues]
) -> None:
    """Step t: its batch's points, parameters, batch loss and gradient; the full gradient and loss."""
    points, values = given
    x, y = points.inputs, points.target
    phi = np.asarray(points.data[0], dtype="float64")
    r, w = lay.first + t, record.params[t]
    ws.write_number(r, 0, t, st.whole)
    lr, b, n = _abs(lay.lr_row, 1), _abs(lay.lr_row, 4), _abs(lay.lr_row, 7)
    for j in range(lay.width):
        c = lay.param(j)
        if t == 0:
            ws.write_number(r, c, w[j], st.start)
        else:
            above = f"{xl_rowcol_to_cell(r - 1, c)}-{lr}*{xl_rowcol_to_cell(r - 1, lay.batch_grad(j))}"
            ws.write_formula(r, c, f"={above}", st.number, w[j])
    w_row = f"{xl_rowcol_to_cell(r, lay.param(0))}:{xl_rowcol_to_cell(r, lay.param(lay.width - 1))}"
    pred = f"MMULT({x},TRANSPOSE({w_row}))"
    grad = f"{{=2*MMULT(TRANSPOSE({pred}-{y}),{x})/{n}}}"
    c = lay.full_grad(0)
    ws.write_array_formula(r, c, r, c + lay.width - 1, grad, st.number, record.grads[t, 0])
    for j in range(1, lay.width):  # the array's other cells: its values, as Excel stores them
        ws.write_number(r, c + j, record.grads[t, j], st.number)
    loss = f"{{=SUMXMY2({pred},{y})/{n}}}"
    ws.write_array_formula(r, lay.full_loss, r, lay.full_loss, loss, st.number, record.losses[t])
    if t == lay.steps:
        return
    rows = record.rows[t]
    errors = values.errors[t]
    for k, i in enumerate(rows):
        ws.write_number(r, 1 + k, int(i) + 1, st.whole)
        point = xl_rowcol_to_cell(r, 1 + k)
        for m, j in enumerate(lay.x_cols):
            formula = f"=INDEX({x.column(j)},{point})"
            ws.write_formula(r, lay.x_at(m, k), formula, st.number, phi[i, j])
        terms = [
            f"{xl_rowcol_to_cell(r, lay.param(j))}*{xl_rowcol_to_cell(r, lay.x_at(lay.x_cols.index(j), k))}"
            if j in lay.x_cols
            else xl_rowcol_to_cell(r, lay.param(j))
            for j in range(lay.width)
        ]
        formula = f"={'+'.join(terms)}-INDEX({y},{point})"
        ws.write_formula(r, lay.error(k), formula, st.number, errors[k])
    e_rng = f"{xl_rowcol_to_cell(r, lay.error(0))}:{xl_rowcol_to_cell(r, lay.error(lay.batch - 1))}"
    ws.write_formula(r, lay.batch_loss, f"=SUMSQ({e_rng})/{b}", st.number, record.batch_losses[t])
    for j in range(lay.width):
        if j in lay.x_cols:
            m = lay.x_cols.index(j)
            x_rng = (
                f"{xl_rowcol_to_cell(r, lay.x_at(m, 0))}:{xl_rowcol_to_cell(r, lay.x_at(m, lay.batch - 1))}"
            )
            formula = f"=2*SUMPRODUCT({e_rng},{x_rng})/{b}"
        else:
            formula = f"=2*SUM({e_rng})/{b}"
        ws.write_formula(r, lay.batch_grad(j), formula, st.number, record.batch_grads[t, j])


def _chart(book: xlsxwriter.Workbook, ws: Worksheet, name: str, lay: _Layout) -> None:
    chart = book.add_chart({"type": "scatter", "subtype": "straight"})
    q = quote_sheetname(name)
    for col, last, label, color in (
        (lay.batch_loss, lay.last - 1, "loss on the batch", "#ED7D31"),
        (lay.full_loss, lay.last, "loss on all points", "#C00000"),
    ):
        chart.add_series(
            {
                "name": label,
                "categories": f"={q}!{_abs(lay.first, 0)}:{_abs(last, 0)}",
                "values": f"={q}!{_abs(lay.first, col)}:{_abs(last, col)}",
                "line": {"width": 1.75, "color": color},
            }
        )
    chart.set_title({"name": "Loss by step", "name_font": {"size": 12}})
    chart.set_x_axis({"name": "step", "min": 0, "max": lay.steps, "major_gridlines": {"visible": False}})
    chart.set_y_axis({"name": "MSE (log scale)", "log_base": 10})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 360})
    ws.insert_chart(lay.header, lay.full_loss + 2, chart)


def _abs(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
