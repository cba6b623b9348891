"""A small regression's ``by_hand`` and ``model`` sheets: the parameters as numbers to type or as a
step of the descent, every point's prediction, the loss and a chart of the curve through the points.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Sequence

import numpy as np
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ... import numerics
from ...regression import Dataset, Fit, kind
from ...regression.sheet_values import CURVE_POINTS, NUDGE, FitSheetValues
from .descent import DescentSheet
from .grid import Block
from .style import PARAM_FILL, Page, Styles, set_up_page
from .xlsx import chart_text

#: The regression books' font (the data sheet shows at most 4 decimals in it).
FONT = {"font_name": "Calibri", "font_size": 11}


def formula_text(result: Fit) -> str:
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


@dataclasses.dataclass(frozen=True)
class DataBlocks:
    """Where the data sheet keeps the design matrix, the target, and the raw x columns (0-based)."""

    x: Block
    y: Block
    x_cols: list[int]


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
    blocks: DataBlocks  # the data sheet's columns the points read
    nudges: bool = False  # the by_hand sheet: a gradient and nudge table right of the parameters
    top: int = 4  # the parameters' heading row; the row above holds the yellow step (or h) cell

    @classmethod
    def of(cls, result: Fit, blocks: DataBlocks, nudges: bool = False, lines: int = 2) -> _Layout:
        data = result.data
        n, width = result.phi.shape
        linear = result.model != "relu"
        units = 1 if linear else result.units
        cols = [*data.x_names, data.y_name]
        if not linear:
            cols += [f"Lin{k + 1}" for k in range(units)] + [f"ReLU{k + 1}" for k in range(units)]
        cols += ["prediction", "loss"]
        return cls(n, width, units, linear, len(data.x_names), tuple(cols), blocks, nudges, top=lines + 2)

    @property
    def total_row(self) -> int:
        return self.top + 1 + self.units + 2 * self.linear + 1

    @property
    def header(self) -> int:
        below_nudges = self.top + 2 + self.units * self.width if self.nudges else 0
        return max(self.total_row + 2 + self.linear + (self.d_x > 1), below_nudges)

    @property
    def nudge_col(self) -> int:
        """The gradient and nudge table's first column: clear of the parameters and the loss rows."""
        return max(self.width + 2, 4)

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


def write_fit_sheet(
    page: Page,
    result: Fit,
    values: FitSheetValues,
    blocks: DataBlocks,
    descent: DescentSheet | None,
    notes: Sequence[str],
) -> None:
    """The ``model`` sheet (``descent`` given: parameters from its rows) or ``by_hand`` (typed
    parameters), caching ``values`` (:func:`~workbench.regression.sheet_values.fit_sheet_values`)."""
    book, ws, st = page.book, page.ws, page.st
    steps, params = result.trajectory.epochs, values.params
    if descent is None:
        ws.write_string(0, 0, f"by_hand: {formula_text(result)}, parameters typed by you", st.title)
        lines = [
            "Type numbers into the yellow cells: the loss and the chart follow (the spreadsheet twin of the"
            f" lesson's sliders). {start_sentence(result.data, params)} Descent never changes them.",
            "Right: each parameter's gradient by formula, and the loss with the parameter nudged up and down"
            " by h: (loss at +h minus loss at -h) / 2h is what nudging estimates, the derivative.",
            *notes,
        ]
    else:
        ws.write_string(0, 0, f"model: {formula_text(result)}", st.title)
        lines = [
            "The parameters are one row of the descent sheet: type a step number"
            f" (0 to {steps}) into the yellow cell and the chart draws that step; change descent's lr and"
            " this sheet follows. To try parameters of your own, use the by_hand sheet.",
        ]
    lines.append(result.data.recipe)
    lay = _Layout.of(result, blocks, nudges=descent is None, lines=len(lines))
    for k, line in enumerate(lines):
        ws.write_string(1 + k, 0, line, st.note)
    typed = {"bg_color": PARAM_FILL, "border": 1, "border_color": "#808080", **FONT}
    _control_row(ws, st, lay, descent, steps, book.add_format({**typed, "num_format": "General"}))
    _parameter_rows(ws, st, lay, result, descent, values)
    for j, head in enumerate(lay.cols):
        ws.write_string(lay.header, j, head, st.header)
    for i in range(lay.n):
        cached = (values.lin[:, i], values.preds[i], values.losses[i])
        _point_row(ws, st, lay, result, i, cached)
    _totals(ws, st, lay, values.mse, values.best_loss)
    if descent is None:
        _nudge_table(ws, st, lay, result, values)
    _model_chart(Page(book, ws, st), lay, result, values.curve)
    ws.set_column(0, 0, 18)
    ws.set_column(1, max(lay.loss_col, lay.width) + 4, 11)
    ws.set_column(1, 1, 17)  # the total loss, with 8 decimals (41,020.12345678 at speed's start)
    if lay.d_x == 1:
        ws.set_column(lay.loss_col + 2, lay.loss_col + 3, 15)
    if descent is None:
        ws.set_column(lay.nudge_col, lay.nudge_col + 5, 13)
    ws.freeze_panes(lay.first, 0)
    set_up_page(ws, header_row=lay.header)


def start_sentence(data: Dataset, start: np.ndarray) -> str:
    """Where the by_hand sheet's yellow cells start: the lesson's own start, or how they were drawn."""
    start = np.asarray(start, dtype="float64").ravel()
    nums = ", ".join(f"{v:.3g}" for v in start)
    lesson = data.lesson_start
    if lesson is not None and np.array_equal(start, np.asarray(lesson, dtype="float64")):
        return f"They start at the lesson's start, {nums} ({data.start_from})."
    if lesson is not None:
        theirs = ", ".join(f"{v:.3g}" for v in lesson)
        return (
            f"They start at {nums}, where descent starts, not at the lesson's {theirs} ({data.start_from})."
        )
    how = f": {data.start_from}" if data.start_from else ""
    return f"They start at {nums}, where descent starts{how}."


def _control_row(
    ws: Worksheet, st: Styles, lay: _Layout, descent: DescentSheet | None, steps: int, typed: Format
) -> None:
    """Above the parameters: the step number the model sheet draws, or the by_hand sheet's nudge h."""
    r = lay.top - 1
    if descent is None:
        ws.write_string(r, 0, "nudge h:", st.label)
        ws.write_number(r, 1, NUDGE, typed)
        ws.write_string(r, 2, "how far each parameter is nudged up and down", st.note)
        rule = {"validate": "decimal", "criteria": ">", "value": 0}
        ws.data_validation(r, 1, r, 1, rule | _refusal("h must be a number above 0"))
    else:
        ws.write_string(r, 0, "show step:", st.label)
        ws.write_number(r, 1, steps, typed)
        ws.write_string(r, 2, f"0 (the start) to {steps} (the last): which row of descent to draw", st.note)
        rule = {"validate": "integer", "criteria": "between", "minimum": 0, "maximum": steps}
        ws.data_validation(r, 1, r, 1, rule | _refusal(f"type a whole step number from 0 to {steps}"))


def _refusal(message: str) -> dict[str, object]:
    """A data validation's message: Excel and LibreOffice refuse the typed value and say why."""
    return {"error_title": "Not a value this sheet can use", "error_message": message}


def _step_shown(lay: _Layout, steps: int) -> str:
    """The step the model sheet draws: the yellow cell's, made a whole number from 0 to ``steps``
    (a pasted 101 or -1 draws the last or the first step rather than an error)."""
    return f"MIN(MAX(INT({_abs(lay.top - 1, 1)}),0),{steps})"


def _parameter_rows(
    ws: Worksheet, st: Styles, lay: _Layout, result: Fit, descent: DescentSheet | None, values: FitSheetValues
) -> None:
    """One row per unit: typed numbers (by_hand) or one row of descent; then the least-squares optimum."""
    params = values.params
    names = np.array(result.param_names).reshape(lay.units, lay.width)
    top, width = lay.top, lay.width
    for j in range(width):
        head = names[0, j] if lay.units == 1 else f"on {result.phi_names[j]}"
        ws.write_string(top, 1 + j, head, st.header)
    for k in range(lay.units):
        label = "yours:" if descent is None else "at that step:"
        if lay.units > 1:
            label = f"unit {k + 1} ({', '.join(names[k])}):"
        ws.write_string(top + 1 + k, 0, label, st.label)
        for j in range(width):
            if descent is None:
                ws.write_number(top + 1 + k, 1 + j, params[k, j], st.param)
            else:
                column = descent.param_columns[k * width + j]
                formula = f"=INDEX({column},{_step_shown(lay, result.trajectory.epochs)}+1)"
                ws.write_formula(top + 1 + k, 1 + j, formula, st.value, params[k, j])
    if lay.linear:
        row = top + 1 + lay.units
        ws.write_string(row, 0, "least squares:", st.label)
        for j, b in enumerate(values.best):
            ws.write_number(row, 1 + j, b, st.start)
        ws.write_string(row + 1, 0, "multiplies:", st.label)
        for j in range(width):
            ws.write_string(row + 1, 1 + j, result.phi_names[j], st.category)


def _nudge_table(ws: Worksheet, st: Styles, lay: _Layout, result: Fit, values: FitSheetValues) -> None:
    """Each parameter's gradient by formula beside the loss nudged up and down by h, and their estimate.

    ``(loss at +h - loss at -h) / 2h`` is the lesson's "what if we moved it a little"
    turned into a number: the centred estimate of the derivative.
    """
    c, top, width, x_block, params = lay.nudge_col, lay.top, lay.width, lay.blocks.x, values.params
    heads = ["parameter", "value", "gradient", "loss at +h", "loss at -h", "(+h - -h) / 2h"]
    for j, head in enumerate(heads):
        ws.write_string(top, c + j, head, st.header)
    y_rng, h = _rows(lay, lay.y_col), _abs(top - 1, 1)
    for k, j in ((k, j) for k in range(lay.units) for j in range(width)):
        r, col = top + 1 + k * width + j, str(x_block.column(j))
        slope = "" if lay.linear else f"*({_rows(lay, lay.y_col + 1 + k)}>0)"
        grad, plus, minus = values.nudges[k * width + j]
        ws.write_string(r, c, result.param_names[k * width + j], st.category)
        ws.write_formula(r, c + 1, f"={_abs(top + 1 + k, 1 + j)}", st.value, params[k, j])
        formula = f"{{=2*SUMPRODUCT(({_rows(lay, lay.pred_col)}-{y_rng}){slope},{col})/ROWS({y_rng})}}"
        ws.write_array_formula(r, c + 2, r, c + 2, formula, st.value, grad)
        for d, (sign, value) in enumerate((("+", plus), ("-", minus))):
            formula = f"{{=SUMXMY2({_moved(lay, k, f'{sign}{h}*{col}')},{y_rng})/ROWS({y_rng})}}"
            ws.write_array_formula(r, c + 3 + d, r, c + 3 + d, formula, st.value, value)
        estimate = f"=({xl_rowcol_to_cell(r, c + 3)}-{xl_rowcol_to_cell(r, c + 4)})/(2*{h})"
        ws.write_formula(r, c + 5, estimate, st.value, (plus - minus) / (2 * NUDGE))
    exact = (
        "The loss is a parabola in each parameter, so the estimate equals the gradient for any h."
        if lay.linear
        else "With ReLUs it is close while no point's Lin crosses 0 between -h and +h."
    )
    note = f"gradient = 2/n times the sum of (prediction - y) times what the parameter multiplies. {exact}"
    ws.write_string(top + 1 + lay.units * width, c, note, st.note)


def _rows(lay: _Layout, col: int) -> str:
    """Column ``col`` of the points table, as an absolute range."""
    return f"{_abs(lay.first, col)}:{_abs(lay.last, col)}"


def _moved(lay: _Layout, k: int, shift: str) -> str:
    """The predictions over the rows (a formula) with unit k's Lin column shifted by ``shift``."""
    if lay.linear:
        return f"{_rows(lay, lay.pred_col)}{shift}"
    z = f"{_rows(lay, lay.y_col + 1 + k)}{shift}"
    return f"{_rows(lay, lay.pred_col)}-{_rows(lay, lay.y_col + 1 + lay.units + k)}+IF({z}<0,0,{z})"


def _point_row(
    ws: Worksheet, st: Styles, lay: _Layout, result: Fit, i: int, cached: tuple[np.ndarray, float, float]
) -> None:
    """Point i (from its row of the data sheet): x, y, (Lin, ReLU per unit), prediction, squared error.

    ``cached`` holds Python's values of its Lin cells, prediction and squared error.
    """
    (lin, pred, loss), src, x_cols = cached, lay.blocks.x.first_row + i, lay.blocks.x_cols
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


def _totals(ws: Worksheet, st: Styles, lay: _Layout, mse: float, best_loss: float | None) -> None:
    """The total loss under the parameters; for a linear model, the least-squares loss too."""
    x_block, y_block = lay.blocks.x, lay.blocks.y
    ws.write_string(lay.total_row, 0, "Total loss (MSE):", st.label)
    loss_range = f"{_abs(lay.first, lay.loss_col)}:{_abs(lay.last, lay.loss_col)}"
    ws.write_formula(lay.total_row, 1, numerics.MSE_EXCEL.format(losses=loss_range), st.total, mse)
    if lay.linear:
        r = lay.total_row + 1
        ws.write_string(r, 0, "least-squares loss:", st.label)
        best_row = lay.unit_row(lay.units)
        formula = f"{{=SUMXMY2(MMULT({x_block},TRANSPOSE({best_row})),{y_block})/ROWS({y_block})}}"
        ws.write_array_formula(r, 1, r, 1, formula, st.total, best_loss)
        floor_words = "the lowest loss any parameters reach (least squares, solved by numpy)"
        ws.write_string(r, 2, floor_words, st.note)


def _model_chart(page: Page, lay: _Layout, result: Fit, curve: tuple[np.ndarray, np.ndarray] | None) -> None:
    """One input: the points and the model's ``curve``; several: predictions against the truth."""
    book, ws, st = page.book, page.ws, page.st
    data, first, last, y_col, name = result.data, lay.first, lay.last, lay.y_col, ws.name
    if lay.d_x == 1:
        curve_col = lay.loss_col + 2
        _curve(ws, st, result, (lay.header, curve_col), (first, last), (lay.top + 1, curve))
        points = {"categories": [name, first, 0, last, 0], "values": [name, first, y_col, last, y_col]}
        curve = [lay.header + 1, lay.header + CURVE_POINTS]
        fitted = {
            "name": "yours" if lay.nudges else "at the step shown",
            "categories": [name, curve[0], curve_col, curve[1], curve_col],
            "values": [name, curve[0], curve_col + 1, curve[1], curve_col + 1],
        }
        points, chart_col, x_name = {"name": "data", **points}, curve_col + 3, data.x_names[0]
    else:
        points = {
            "name": "prediction",
            "categories": [name, first, y_col, last, y_col],
            "values": [name, first, lay.pred_col, last, lay.pred_col],
        }
        ideal = lay.total_row + 2 - (not lay.linear)  # under the least-squares loss, if any
        ws.write_string(ideal, 0, "ideal line from, to:", st.label)
        y_range = f"{_abs(first, y_col)}:{_abs(last, y_col)}"
        ws.write_formula(ideal, 1, f"=MIN({y_range})", st.value, float(data.y.min()))
        ws.write_formula(ideal, 2, f"=MAX({y_range})", st.value, float(data.y.max()))
        fitted = {
            "name": "prediction = truth",
            "categories": [name, ideal, 1, ideal, 2],
            "values": [name, ideal, 1, ideal, 2],
        }
        chart_col, x_name = lay.loss_col + 2, f"true {data.y_name}"
    chart = book.add_chart({"type": "scatter"})
    marker = {"type": "circle", "size": 5, "fill": {"color": "#ED7D31"}, "border": {"none": True}}
    chart.add_series({**points, "marker": marker})
    chart.add_series({**fitted, "line": {"width": 2.25, "color": "#2F5597"}, "marker": {"type": "none"}})
    what = "the points and the model's curve" if lay.d_x == 1 else "predictions against the truth"
    # Names from the user's CSV (its file name, its header) stay text: see chart_text.
    chart.set_title({"name": chart_text(f"{data.name}: {what}"), "name_font": {"size": 12}})
    # Each axis at the other's lowest value: at 0 (the default), x running from -2 to 2 would put
    # the y axis, its numbers and its name over the middle of the points.
    edge = {"crossing": "min"}
    chart.set_x_axis({"name": chart_text(x_name), "major_gridlines": {"visible": False}} | edge)
    chart.set_y_axis({"name": chart_text(data.y_name if lay.d_x == 1 else f"predicted {data.y_name}")} | edge)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 620, "height": 380})
    ws.insert_chart(lay.header, chart_col, chart)


def _curve(
    ws: Worksheet,
    st: Styles,
    result: Fit,
    at: tuple[int, int],
    points: tuple[int, int],
    parameters: tuple[int, tuple[np.ndarray, np.ndarray]],
) -> None:
    """41 evenly spaced x between the data's min and max, and the model's formula at each.

    ``parameters``: the row of the first unit's parameters (one row per unit), and the curve's x
    and predictions.
    """
    param_row, (grid, values) = parameters
    header, col = at
    first, last = points
    data = result.data
    x_range = f"{_abs(first, 0)}:{_abs(last, 0)}"
    ws.write_string(header, col, f"curve {data.x_names[0]}", st.header)
    ws.write_string(header, col + 1, "curve prediction", st.header)
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
