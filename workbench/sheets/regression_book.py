"""A workbook per small regression: ``data``, ``model`` and ``descent`` sheets, with charts.

:func:`write_regression_book` turns a :class:`~workbench.regression.Fit` into
``workbooks/<name>.xlsx``:

* ``data``: the target and the design matrix the parameters multiply (``x``, a
  column of ones, and for the quadratic an ``x^2`` column computed by formula).
* ``model``: the parameters, linked to the last row of ``descent``; each point's
  prediction (SUMPRODUCT, or ReLUs of SUMPRODUCTs added up) and squared error; the
  total loss; the least-squares optimum for comparison; and a chart of the points
  with the fitted curve (a curve of 41 evenly spaced x, computed by formulas).
* ``descent``: the spreadsheet's own gradient descent (:mod:`workbench.sheets.descent`),
  with its loss chart. Type a new learning rate there and the model sheet's curve
  follows.
* ``held_out`` (``relu`` only, given :class:`~workbench.regression.MoreUnits`): sums of 1, 2,
  4, 8 ReLUs fitted on the points and scored on new ones (:mod:`workbench.sheets.held_out_sheet`).

Every formula caches the value Python computed. :func:`write_regression_outputs`
writes every lesson dataset's workbook and pictures, for ``workbench build``.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
import xlsxwriter
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from .. import numerics
from ..errors import WorkbenchError
from ..regression import Fit, MoreUnits, kind, max_stable_lr
from .descent import Block, DescentSheet, write_descent_sheet
from .held_out_sheet import add_held_out_sheet
from .style import Styles, set_up_page, styles
from .xlsx import chart_text, check_rows, new_workbook

#: Points on the model sheet's fitted curve.
CURVE_POINTS = 41


_DATA_TOP = 3  # the data sheet's header row
_FONT = {"font_name": "Calibri", "font_size": 11}


def write_regression_book(
    result: Fit, path: str | os.PathLike[str], *, notes: Sequence[str] = (), held_out: MoreUnits | None = None
) -> Path:
    """Write ``result``'s workbook to ``path`` (whole or not at all) and return the path.

    ``notes`` are extra lines for the descent sheet. The fit must have run with
    correctly zeroed gradients (the sheet recomputes correct descent only).
    ``held_out``: sums of more ReLUs fitted on the same points and scored on new ones, for a
    ``held_out`` sheet (:mod:`workbench.sheets.held_out_sheet`).
    """
    data = result.data
    if not result.trajectory.zero_grad:
        raise WorkbenchError("the descent sheet redoes correct descent; fit with zero_grad=True")
    check_rows(len(result.phi), _DATA_TOP + 1, sheet="data")
    with new_workbook(path, title=f"{data.name}: gradient descent in a spreadsheet") as book:
        # Data as typed, but at most 4 decimals on screen (the cell keeps every digit).
        st = dataclasses.replace(styles(book), number=book.add_format({**_FONT, "num_format": "0.0###"}))
        data_ws = book.add_worksheet("data")
        model_ws = book.add_worksheet("model")  # filled once the descent sheet says where its last row is
        x_block, y_block, x_cols = _data_sheet(data_ws, st, result)
        descent = write_descent_sheet(
            book,
            result.trajectory,
            inputs=x_block,
            target=y_block,
            data=(result.phi, result.data.y),
            param_names=result.param_names,
            title=f"descent: {_formula_text(result)} trained by the spreadsheet, step by step",
            notes=[data.recipe, *notes],
            stable_lr=None if result.model == "relu" else max_stable_lr(result.phi),
        )
        _model_sheet(book, model_ws, st, result, x_block, y_block, x_cols, descent)
        if held_out is not None:
            x = Block("data", x_block.first_row, x_cols[0], x_block.last_row, x_cols[0])
            add_held_out_sheet(book, st, held_out, x, y_block)
    return Path(path)


def _formula_text(result: Fit) -> str:
    """The model in words, e.g. ``y = a x^2 + b x + c``."""
    d = result.data
    if result.model == "quadratic":
        return f"{d.y_name} = a {d.x_names[0]}^2 + b {d.x_names[0]} + c"
    if result.model == "relu":
        units = " + ".join(f"relu(m{k + 1} {d.x_names[0]} + b{k + 1})" for k in range(min(result.units, 2)))
        more = " + ..." if result.units > 2 else ""
        return (
            f"{d.y_name} = {units}{more}"
            if len(d.x_names) == 1
            else f"{d.y_name} = a sum of {result.units} ReLUs"
        )
    terms = [f"{p} {x}" for p, x in zip(result.param_names, d.x_names, strict=False)]
    return f"{d.y_name} = " + " + ".join([*terms, result.param_names[-1]])


def _data_sheet(ws: Worksheet, st: Styles, result: Fit) -> tuple[Block, Block, list[int]]:
    """Target in column A, then the design matrix; returns its blocks and the raw x columns."""
    data = result.data
    n, width = result.phi.shape
    ws.write_string(0, 0, f"data: {data.name}", st.title)
    ws.write_string(1, 0, data.recipe, st.note)
    ws.write_string(_DATA_TOP, 0, data.y_name, st.header)
    for j, head in enumerate(result.phi_names):
        ws.write_string(_DATA_TOP, 1 + j, head, st.header)
    square = result.model == "quadratic"  # x^2 in column B, computed from x in column C
    x_cols = [2] if square else list(range(1, width))
    for i in range(n):
        r = _DATA_TOP + 1 + i
        ws.write_number(r, 0, data.y[i], st.number)
        for j in range(width):
            if square and j == 0:
                ws.write_formula(r, 1, f"={xl_rowcol_to_cell(r, 2)}^2", st.number, result.phi[i, 0])
            else:
                ones = result.phi_names[j] == "Ones"
                ws.write_number(r, 1 + j, result.phi[i, j], st.whole if ones else st.number)
    ws.set_column(0, width, 12)
    ws.freeze_panes(_DATA_TOP + 1, 0)
    set_up_page(ws, header_row=_DATA_TOP)
    first, last = _DATA_TOP + 1, _DATA_TOP + n
    return Block("data", first, 1, last, width), Block("data", first, 0, last, 0), x_cols


@dataclasses.dataclass(frozen=True)
class _Layout:
    """Where the model sheet puts things, computed once from the fit.

    From the top: the parameters (one row per unit), for a linear model the
    least-squares optimum and what each parameter multiplies, the total loss (then
    the least-squares loss, and with several inputs the ideal line's ends), a blank
    row, and the table of points.
    """

    n: int
    width: int  # the design matrix's columns
    units: int
    linear: bool
    d_x: int  # the data's x columns
    cols: tuple[str, ...]  # the points table's headings
    top: int = 4  # the parameters' heading row

    @classmethod
    def of(cls, result: Fit) -> _Layout:
        data = result.data
        n, width = result.phi.shape
        linear = result.model != "relu"
        units = 1 if linear else result.units
        cols = [*data.x_names, data.y_name]
        if not linear:
            cols += [f"Lin{k + 1}" for k in range(units)] + [f"ReLU{k + 1}" for k in range(units)]
        cols += ["prediction", "loss"]
        return cls(n, width, units, linear, len(data.x_names), tuple(cols))

    @property
    def total_row(self) -> int:
        return self.top + 1 + self.units + 2 * self.linear + 1

    @property
    def header(self) -> int:
        return self.total_row + 2 + self.linear + (self.d_x > 1)

    @property
    def first(self) -> int:
        return self.header + 1

    @property
    def last(self) -> int:
        return self.header + self.n

    @property
    def y_col(self) -> int:
        return self.d_x

    @property
    def pred_col(self) -> int:
        return len(self.cols) - 2

    @property
    def loss_col(self) -> int:
        return self.pred_col + 1

    def unit_row(self, k: int) -> str:
        """Unit k's parameters (k = units: the least-squares row)."""
        return f"{_abs(self.top + 1 + k, 1)}:{_abs(self.top + 1 + k, self.width)}"


def _model_sheet(
    book: xlsxwriter.Workbook,
    ws: Worksheet,
    st: Styles,
    result: Fit,
    x_block: Block,
    y_block: Block,
    x_cols: list[int],
    descent: DescentSheet,
) -> None:
    lay = _Layout.of(result)
    ws.write_string(0, 0, f"model: {_formula_text(result)}", st.title)
    ws.write_string(
        1,
        0,
        "The parameters are the last row of the descent sheet: change its lr and this sheet follows.",
        st.note,
    )
    ws.write_string(2, 0, result.data.recipe, st.note)
    _parameter_rows(ws, st, lay, result, descent)
    for j, head in enumerate(lay.cols):
        ws.write_string(lay.header, j, head, st.header)
    preds = result.predict()
    losses = (preds - result.data.y) ** 2
    lin = result.params.reshape(lay.units, lay.width) @ result.phi.T  # (units, n)
    for i in range(lay.n):
        cached = (lin[:, i], preds[i], losses[i])
        _point_row(ws, st, lay, result, i, x_block.first_row + i, x_cols, cached)
    _totals(ws, st, lay, result, x_block, y_block, float(np.mean(losses)))
    _model_chart(book, ws, st, lay, result)
    ws.set_column(0, 0, 18)
    ws.set_column(1, max(lay.loss_col, lay.width) + 4, 11)
    ws.set_column(1, 1, 14)  # the total loss, with 8 decimals
    if lay.d_x == 1:
        ws.set_column(lay.loss_col + 2, lay.loss_col + 3, 15)
    ws.freeze_panes(lay.first, 0)
    set_up_page(ws, header_row=lay.header)


def _parameter_rows(ws: Worksheet, st: Styles, lay: _Layout, result: Fit, descent: DescentSheet) -> None:
    """One row per unit, linked to the descent sheet's last row; then the least-squares optimum."""
    params = result.params.reshape(lay.units, lay.width)
    names = np.array(result.param_names).reshape(lay.units, lay.width)
    top, width = lay.top, lay.width
    for j in range(width):
        head = names[0, j] if lay.units == 1 else f"on {result.phi_names[j]}"
        ws.write_string(top, 1 + j, head, st.header)
    for k in range(lay.units):
        label = "fitted:" if lay.units == 1 else f"unit {k + 1} ({', '.join(names[k])}):"
        ws.write_string(top + 1 + k, 0, label, st.label)
        for j in range(width):
            ref = descent.final_params[k * width + j]
            ws.write_formula(top + 1 + k, 1 + j, f"={ref}", st.param, params[k, j])
    if lay.linear:
        row = top + 1 + lay.units
        ws.write_string(row, 0, "least squares:", st.label)
        for j, b in enumerate(_least_squares(result)):
            ws.write_number(row, 1 + j, b, st.start)
        ws.write_string(row + 1, 0, "multiplies:", st.label)
        for j in range(width):
            ws.write_string(row + 1, 1 + j, result.phi_names[j], st.category)


def _least_squares(result: Fit) -> np.ndarray:
    return np.linalg.lstsq(result.phi, result.data.y, rcond=None)[0]


def _point_row(
    ws: Worksheet,
    st: Styles,
    lay: _Layout,
    result: Fit,
    i: int,
    src: int,
    x_cols: list[int],
    cached: tuple[np.ndarray, float, float],
) -> None:
    """Point i (row ``src`` of the data sheet): x, y, (Lin, ReLU per unit), prediction, squared error.

    ``cached`` holds Python's values of its Lin cells, prediction and squared error.
    """
    lin, pred, loss = cached
    data, r, y_col, units = result.data, lay.first + i, lay.y_col, lay.units
    for j, c in enumerate(x_cols):
        ws.write_formula(r, j, f"=data!{xl_rowcol_to_cell(src, c)}", st.number, data.x[i, j])
    ws.write_formula(r, y_col, f"=data!{xl_rowcol_to_cell(src, 0)}", st.number, data.y[i])
    inputs = f"data!{xl_rowcol_to_cell(src, 1)}:{xl_rowcol_to_cell(src, lay.width)}"
    if lay.linear:
        formula = numerics.PREDICT_EXCEL.format(inputs=inputs, params=lay.unit_row(0))
        ws.write_formula(r, lay.pred_col, formula, st.value, pred)
    else:
        for k in range(units):
            formula = numerics.PREDICT_EXCEL.format(inputs=inputs, params=lay.unit_row(k))
            ws.write_formula(r, y_col + 1 + k, formula, st.value, lin[k])
            relu = numerics.RELU_EXCEL.format(lin=xl_rowcol_to_cell(r, y_col + 1 + k))
            ws.write_formula(r, y_col + 1 + units + k, relu, st.value, max(lin[k], 0.0))
        added = "=" + "+".join(xl_rowcol_to_cell(r, y_col + 1 + units + k) for k in range(units))
        ws.write_formula(r, lay.pred_col, added, st.value, pred)
    squared = numerics.LOSS_EXCEL.format(
        pred=xl_rowcol_to_cell(r, lay.pred_col), target=xl_rowcol_to_cell(r, y_col)
    )
    ws.write_formula(r, lay.loss_col, squared, st.value, loss)


def _totals(
    ws: Worksheet, st: Styles, lay: _Layout, result: Fit, x_block: Block, y_block: Block, mse: float
) -> None:
    """The total loss under the parameters; for a linear model, the least-squares loss too."""
    ws.write_string(lay.total_row, 0, "Total loss (MSE):", st.label)
    loss_range = f"{_abs(lay.first, lay.loss_col)}:{_abs(lay.last, lay.loss_col)}"
    ws.write_formula(lay.total_row, 1, numerics.MSE_EXCEL.format(losses=loss_range), st.total, mse)
    if lay.linear:
        r = lay.total_row + 1
        ws.write_string(r, 0, "least-squares loss:", st.label)
        best_row = lay.unit_row(lay.units)
        formula = f"{{=SUMXMY2(MMULT({x_block},TRANSPOSE({best_row})),{y_block})/ROWS({y_block})}}"
        best_loss = float(np.mean((result.phi @ _least_squares(result) - result.data.y) ** 2))
        ws.write_array_formula(r, 1, r, 1, formula, st.total, best_loss)
        ws.write_string(r, 2, "the lowest loss any parameters reach (numpy's lstsq)", st.note)


def _model_chart(book: xlsxwriter.Workbook, ws: Worksheet, st: Styles, lay: _Layout, result: Fit) -> None:
    """One input: the points and the fitted curve; several: predictions against the truth."""
    data, first, last, y_col = result.data, lay.first, lay.last, lay.y_col
    if lay.d_x == 1:
        curve_col = lay.loss_col + 2
        _curve(ws, st, result, (lay.header, curve_col), (first, last), lay.top + 1)
        points = {"categories": ["model", first, 0, last, 0], "values": ["model", first, y_col, last, y_col]}
        curve = [lay.header + 1, lay.header + CURVE_POINTS]
        fitted = {
            "name": "fitted",
            "categories": ["model", curve[0], curve_col, curve[1], curve_col],
            "values": ["model", curve[0], curve_col + 1, curve[1], curve_col + 1],
        }
        points, chart_col, x_name = {"name": "data", **points}, curve_col + 3, data.x_names[0]
    else:
        points = {
            "name": "prediction",
            "categories": ["model", first, y_col, last, y_col],
            "values": ["model", first, lay.pred_col, last, lay.pred_col],
        }
        ideal = lay.total_row + 2 - (not lay.linear)  # under the least-squares loss, if any
        ws.write_string(ideal, 0, "ideal line from, to:", st.label)
        y_range = f"{_abs(first, y_col)}:{_abs(last, y_col)}"
        ws.write_formula(ideal, 1, f"=MIN({y_range})", st.value, float(data.y.min()))
        ws.write_formula(ideal, 2, f"=MAX({y_range})", st.value, float(data.y.max()))
        fitted = {
            "name": "prediction = truth",
            "categories": ["model", ideal, 1, ideal, 2],
            "values": ["model", ideal, 1, ideal, 2],
        }
        chart_col, x_name = lay.loss_col + 2, f"true {data.y_name}"
    chart = book.add_chart({"type": "scatter"})
    marker = {"type": "circle", "size": 5, "fill": {"color": "#ED7D31"}, "border": {"none": True}}
    chart.add_series({**points, "marker": marker})
    chart.add_series({**fitted, "line": {"width": 2.25, "color": "#2F5597"}, "marker": {"type": "none"}})
    what = "the points and the fitted curve" if lay.d_x == 1 else "predictions against the truth"
    # Names from the user's CSV (its file name, its header) stay text: see chart_text.
    chart.set_title({"name": chart_text(f"{data.name}: {what}"), "name_font": {"size": 12}})
    chart.set_x_axis({"name": chart_text(x_name), "major_gridlines": {"visible": False}})
    chart.set_y_axis({"name": chart_text(data.y_name if lay.d_x == 1 else f"predicted {data.y_name}")})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 380})
    ws.insert_chart(lay.header, chart_col, chart)


def _curve(
    ws: Worksheet, st: Styles, result: Fit, at: tuple[int, int], points: tuple[int, int], param_row: int
) -> None:
    """41 evenly spaced x between the data's min and max, and the model's formula at each.

    ``param_row`` is the row of the first unit's parameters (one row per unit).
    """
    header, col = at
    first, last = points
    data = result.data
    x_range = f"{_abs(first, 0)}:{_abs(last, 0)}"
    ws.write_string(header, col, f"curve {data.x_names[0]}", st.header)
    ws.write_string(header, col + 1, "curve prediction", st.header)
    lo, hi = float(data.x.min()), float(data.x.max())
    grid = np.array([lo + (hi - lo) * i / (CURVE_POINTS - 1) for i in range(CURVE_POINTS)])
    values = result.predict(x=grid)
    units = result.units if result.model == "relu" else 1
    for i in range(CURVE_POINTS):
        r = header + 1 + i
        x_formula = f"=MIN({x_range})+(MAX({x_range})-MIN({x_range}))*{i}/{CURVE_POINTS - 1}"
        ws.write_formula(r, col, x_formula, st.number, grid[i])
        x = xl_rowcol_to_cell(r, col)
        terms = [f"{x}^2", x, None] if result.model == "quadratic" else [x, None]  # None: the ones column
        lins = [
            "+".join(
                f"{_abs(param_row + k, 1 + j)}*{term}" if term else _abs(param_row + k, 1 + j)
                for j, term in enumerate(terms)
            )
            for k in range(units)
        ]
        if kind(result.model) == "linear":
            formula = "=" + lins[0]
        else:
            formula = "=" + "+".join(numerics.RELU_EXCEL[1:].format(lin=f"({lin})") for lin in lins)
        ws.write_formula(r, col + 1, formula, st.value, values[i])


def _abs(row: int, col: int) -> str:
    return xl_rowcol_to_cell(row, col, row_abs=True, col_abs=True)


# --- everything for `workbench build` --------------------------------------------------------
