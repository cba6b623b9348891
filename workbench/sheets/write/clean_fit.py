"""A small regression's sheet with its formulas left out (``line_clean.xlsx``, ...): one step of
gradient descent for the learner to type, the lessons' seven steps in cells.

The points are values; the learner fills the design columns (the column of ones, ``x^2``), the
predictions, the errors and the losses, the mean squared error, its gradient, and the parameters
after one step of the learning rate. :class:`FitLayout` says where each is, for the grader.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import xlsxwriter

from .style import MINE_FILL, Styles, set_up_page

#: What the learner types in each column or cell, in plain words.
TODO = {
    "Ones": "the number 1 in every row: its parameter is the constant",
    "Preds": "SUMPRODUCT of the row's design cells (the columns under the parameters) and the parameters ($)",
    "Error": "Preds - y",
    "Loss": "the squared error: Error^2",
    "MSE": "the mean of the Loss column: =AVERAGE(...)",
    "Gradient": "under each parameter: 2 * SUMPRODUCT(the Error column, that parameter's column) / the rows",
    "Next": "under each parameter: the parameter - lr * its gradient (one step downhill)",
}


def what_goes(name: str) -> str:
    """What goes in a column or cell, in plain words (a design column ``t^2``: t squared)."""
    if name.endswith("^2"):
        return f"{name[:-2]} squared: ={name[:-2]}^2"
    return TODO[name]


@dataclass(frozen=True)
class FitLayout:
    """Where a clean fit sheet keeps things (0-based). Columns: y, then the design columns (the
    parameters stand above them, in their order), then Preds, Error, Loss."""

    design: tuple[str, ...]  # the design matrix's column names, e.g. ("x", "Ones")
    given: tuple[str, ...]  # which of them hold the data (the rest the learner fills)
    params: tuple[str, ...]  # the parameters' names, one per design column
    name: str = "fit"
    header: int = 10

    @property
    def columns(self) -> tuple[str, ...]:
        return ("y", *self.design, "Preds", "Error", "Loss")

    @property
    def all_columns(self) -> tuple[str, ...]:
        return self.columns

    @property
    def first(self) -> int:
        return self.header + 1

    def col(self, name: str) -> int:
        return self.columns.index(name)

    def row(self, name: str) -> int:
        """The row of the ``Params`` (yellow), ``Start`` (grey), ``Gradient`` and ``Next`` cells."""
        return {"Params": 4, "Start": 5, "Gradient": 7, "Next": 8}[name]

    @property
    def mse(self) -> tuple[int, int]:
        return 4, self.col("Loss")

    @property
    def lr(self) -> tuple[int, int]:
        return 5, self.col("Loss")

    @property
    def fill(self) -> tuple[str, ...]:
        return (*(d for d in self.design if d not in self.given), "Preds", "Error", "Loss")


def write_fit_sheet(
    book: xlsxwriter.Workbook, st: Styles, lay: FitLayout, data: dict[str, np.ndarray], start, lr: float
) -> None:
    """The clean fit sheet: ``data``'s given columns as values, ``start`` in yellow and grey."""
    ws = book.add_worksheet(lay.name)
    todo = book.add_format({"bg_color": MINE_FILL, "border": 1, "border_color": "#808080"})
    ws.write_string(0, 0, "fit: one step of gradient descent, typed into the green cells", st.title)
    note = "Predict, measure the loss, take its gradient, step downhill: the tasks sheet says how."
    ws.write_string(1, 0, note, st.note)
    c0 = lay.col(lay.design[0])
    for j, name in enumerate(lay.params):
        ws.write_string(3, c0 + j, name, st.header)
    for label, fmt, values in (("Params", st.param, start), ("Start", st.start, start)):
        ws.write_string(lay.row(label), c0 - 1, f"{label}:", st.label)
        for j, v in enumerate(values):
            ws.write_number(lay.row(label), c0 + j, float(v), fmt)
    for label in ("Gradient", "Next"):
        ws.write_string(lay.row(label), c0 - 1, f"{label}:", st.label)
        ws.write_comment(lay.row(label), c0 - 1, TODO[label], {"author": "workbench", "x_scale": 2})
        for j in range(len(lay.params)):
            ws.write_blank(lay.row(label), c0 + j, None, todo)
    r, c = lay.mse
    ws.write_string(r, c - 1, "MSE:", st.big_label)
    ws.write_blank(r, c, None, todo)
    r, c = lay.lr
    ws.write_string(r, c - 1, "lr:", st.label)
    ws.write_number(r, c, lr, st.number)
    for j, name in enumerate(lay.columns):
        ws.write_string(lay.header, j, name, st.header)
        if name in lay.fill:
            ws.write_comment(lay.header, j, what_goes(name), {"author": "workbench", "x_scale": 2})
    fill = [lay.col(name) for name in lay.fill]
    for i in range(len(data["y"])):
        for name in ("y", *lay.given):
            ws.write_number(lay.first + i, lay.col(name), float(data[name][i]), st.number)
        for c in fill:
            ws.write_blank(lay.first + i, c, None, todo)
    ws.set_column(0, len(lay.columns), 11)
    ws.freeze_panes(lay.first, 0)
    set_up_page(ws, header_row=lay.header)


#: The tasks of a fit sheet, in the lessons' order (initialise, predict, loss, gradient, step).
def fit_tasks(lay: FitLayout) -> tuple[tuple[str, str, str], ...]:
    made = tuple(("fit", d, what_goes(d)) for d in lay.design if d not in lay.given)
    rest = ("Preds", "Error", "Loss", "MSE", "Gradient", "Next")
    return (*made, *(("fit", name, TODO[name]) for name in rest))
