"""The ``pile_up`` sheet: descent with and without ``a.grad.zero_()``, side by side, by formulas.

The 2022 lesson's loop for the quadratic never zeroed its gradients: torch adds each
backward pass's gradient to the one already there, so step t moved by the sum of every
gradient so far. Left, correct descent; right, the same start and learning rate with the
gradients piling up::

    left:   params[t + 1] = params[t] - lr * grad[t]
    right:  summed[t] = summed[t - 1] + grad[t];   params[t + 1] = params[t] - lr * summed[t]

Each row's loss and gradient are computed from every point (``MMULT`` over the data), so the
sheet follows a typed learning rate. The cells cache the two trajectories Python computed
(:func:`workbench.regression.fit_dataset` with ``zero_grad`` True and False).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ...errors import WorkbenchError
from ...regression import Trajectory
from .descent import Points
from .grid import Block
from .style import Styles, set_up_page

#: The steps after which the sheet's line compares the two descents (the video's "few steps").
COMPARE_AT = 6


@dataclass(frozen=True)
class _Layout:
    """Where the sheet puts things, and the blocks ``xy`` (inputs, target) its formulas read."""

    width: int
    steps: int
    xy: tuple[Block, Block]
    lr_row: int = 3
    header: int = 6

    @property
    def first(self) -> int:
        return self.header + 1

    def left(self, j: int) -> int:
        """Column j of the left block: parameters, loss, gradient."""
        return 1 + j

    def right(self, j: int) -> int:
        """Column j of the right block: parameters, loss, gradient, summed gradient."""
        return 2 * self.width + 3 + j


def pile_up_line(correct: Trajectory, piled: Trajectory, at: int = COMPARE_AT) -> str:
    """The sheet's one line: where each descent is after ``at`` steps and what the piled-up loss does."""
    three = ", ".join

    def where(t: Trajectory) -> str:
        return f"({three(f'{v:.2f}' for v in t.params[at])}), loss {t.losses[at]:.2f}"

    low = int(np.argmin(piled.losses))
    after = piled.losses[low + 1 :]
    if low == 0:
        trend = "the loss never falls below the start"
    elif after.size and after[0] > piled.losses[low]:
        trend = f"the loss is lowest at step {low} ({piled.losses[low]:.2f}), then rises: the steps overshoot"
    else:
        trend = f"the loss is still falling at step {low}"
    return f"After {at} steps: left {where(correct)}; right {where(piled)}. Piled up, {trend}."


def write_pile_up_sheet(
    book: xlsxwriter.Workbook,
    st: Styles,
    correct: Trajectory,
    piled: Trajectory,
    points: Points,
) -> tuple[str, ...]:
    """Add the sheet; returns its longer words, for the book's notes sheet. ``points``: the
    design matrix and targets on the data sheet (their numbers are not needed), the parameters' names.

    Raises:
        WorkbenchError: trajectories that are not the same start, rate and steps, one zeroing
            and one piling up, or inputs that do not fit them.
    """
    inputs, target, param_names, name = points.inputs, points.target, points.param_names, "pile_up"
    steps, width = correct.params.shape
    same = correct.params.shape == piled.params.shape and correct.lr == piled.lr
    if not same or not np.array_equal(correct.params[0], piled.params[0]):
        raise WorkbenchError("the two descents must share their start, learning rate and number of steps")
    if not correct.zero_grad or piled.zero_grad or correct.kind != "linear":
        raise WorkbenchError("a pile_up sheet compares a linear model's correct descent with a piled-up one")
    if inputs.cols != width or len(param_names) != width or steps <= COMPARE_AT:
        raise WorkbenchError(f"the inputs {inputs} do not fit {width} parameters over {steps} steps")
    lay = _Layout(width, steps, (inputs, target))
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, "pile_up: what forgetting a.grad.zero_() does", st.title)
    ws.write_string(1, 0, pile_up_line(correct, piled), st.note)
    ws.write_string(lay.lr_row, 0, "lr:", st.label)
    ws.write_number(lay.lr_row, 1, correct.lr, st.param)
    ws.write_string(lay.lr_row, 3, "n:", st.label)
    ws.write_formula(lay.lr_row, 4, f"=ROWS({target})", st.whole, target.rows)
    _headings(ws, book, st, lay, param_names)
    summed = np.cumsum(piled.grads, axis=0)
    for t in range(steps):
        _row(ws, st, lay, t, correct, None)
        _row(ws, st, lay, t, piled, summed)
    ws.set_column(0, 0, 8)
    ws.set_column(1, lay.right(3 * width), 11)
    ws.freeze_panes(lay.first, 1)
    set_up_page(ws, header_row=lay.header)
    return (
        "Left: correct descent, each step by its own gradient (the loop calls a.grad.zero_() after each"
        " step). Right: the 2022 lesson's quadratic loop, which never did, so torch added each new gradient"
        " to the ones before: each step moved by all the gradients so far, summed (the last columns).",
        "Like a ball that keeps its speed, the piled-up steps grow while the slope points the same way,"
        " run past the bottom and swing back: its loss falls fast, then rises. That is how the video's"
        " parameters reached 3.2, 1.9 and 2.0 within a few steps.",
    )


def _headings(ws: Worksheet, book: xlsxwriter.Workbook, st: Styles, lay: _Layout, names) -> None:
    band = book.add_format(
        {"font_name": "Calibri", "font_size": 10, "italic": True, "align": "center", "bg_color": "#E2EFDA"}
        | {"border": 1, "border_color": "#A9D08E"}
    )
    w, r = lay.width, lay.header - 1
    ws.merge_range(r, lay.left(0), r, lay.left(2 * w), "a.grad.zero_() each step", band)
    ws.merge_range(r, lay.right(0), r, lay.right(3 * w), "forgotten: gradients pile up", band)
    heads = [*names, "loss (MSE)", *(f"grad {p}" for p in names)]
    ws.write_string(lay.header, 0, "step", st.header)
    for j, head in enumerate(heads):
        ws.write_string(lay.header, lay.left(j), head, st.header)
        ws.write_string(lay.header, lay.right(j), head, st.header)
    for j, p in enumerate(names):
        ws.write_string(lay.header, lay.right(2 * w + 1 + j), f"summed {p}", st.header)


def _row(
    ws: Worksheet,
    st: Styles,
    lay: _Layout,
    t: int,
    run: Trajectory,
    summed: np.ndarray | None,
) -> None:
    """Step t of one descent: parameters, loss and gradient over every point (and the running sum)."""
    (x, y), w, r = lay.xy, lay.width, lay.first + t
    col = lay.left if summed is None else lay.right
    lr, n = _abs(lay.lr_row, 1), _abs(lay.lr_row, 4)
    ws.write_number(r, 0, t, st.whole)
    for j in range(w):
        if t == 0:
            ws.write_number(r, col(j), run.params[0, j], st.start)
        else:
            moved_by = col(2 * w + 1 + j) if summed is not None else col(w + 1 + j)
            above = f"{xl_rowcol_to_cell(r - 1, col(j))}-{lr}*{xl_rowcol_to_cell(r - 1, moved_by)}"
            ws.write_formula(r, col(j), f"={above}", st.number, run.params[t, j])
    params = f"{xl_rowcol_to_cell(r, col(0))}:{xl_rowcol_to_cell(r, col(w - 1))}"
    pred = f"MMULT({x},TRANSPOSE({params}))"
    ws.write_array_formula(r, col(w), r, col(w), f"{{=SUMXMY2({pred},{y})/{n}}}", st.number, run.losses[t])
    grad = f"{{=2*MMULT(TRANSPOSE({pred}-{y}),{x})/{n}}}"
    ws.write_array_formula(r, col(w + 1), r, col(2 * w), grad, st.number, run.grads[t, 0])
    for j in range(1, w):  # the array's other cells: its values, as Excel stores them
        ws.write_number(r, col(w + 1 + j), run.grads[t, j], st.number)
    if summed is None:
        return
    for j in range(w):
        g = xl_rowcol_to_cell(r, col(w + 1 + j))
        formula = f"={g}" if t == 0 else f"={xl_rowcol_to_cell(r - 1, col(2 * w + 1 + j))}+{g}"
        ws.write_formula(r, col(2 * w + 1 + j), formula, st.number, summed[t, j])


def _abs(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)
