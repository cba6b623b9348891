"""The ``held_out`` sheet: sums of 1, 2, 4, 8 ReLUs fitted on the data, scored on new points.

The lessons warn that a wiggly enough function fits any points, and then fails on new
ones. This sheet shows it with live formulas, from a
:class:`~workbench.regression.HeldOut`:

* the fitted slopes ``m`` and intercepts ``b`` of each sum of ReLUs (numbers: type over
  them to try others);
* every point's prediction, ``SUMPRODUCT((m*x+b>0)*(m*x+b))``: the ReLUs of one sum, added
  up, for the data sheet's points (linked) and for the held-out points;
* each sum's train loss and held-out loss side by side, with a chart.
"""

from __future__ import annotations

from xlsxwriter.utility import xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.workbook import Workbook

from ...regression import HeldOut
from .grid import Block
from .style import Styles, set_up_page
from .trend import loss_trend

SHEET = "held_out"
_SUMMARY, _PARAMS = 5, 11  # first rows (0-based) of the losses table and of the parameters


def _notes(more: HeldOut) -> tuple[str, ...]:
    """The sheet's notes; what the losses do is computed from them (:func:`loss_trend`)."""
    trend = loss_trend(more.units, more.train_loss, more.valid_loss, valid_name="held-out")
    return (
        "The new points lie between the data's x, one in each gap, on the same curve with the same kind"
        " of noise (the recipe's numpy seed + 1). No fit saw them.",
        f"Here: {trend}. Too few ReLUs fit neither set (under-fitting); bends that follow the noise of"
        " the points fitted would show as a held-out loss that rises with more ReLUs (over-fitting).",
        "Each prediction is SUMPRODUCT((m*x+b>0)*(m*x+b)): every ReLU of the sum, relu(m x + b), added up."
        " Type other m and b to see both losses move.",
    )


def add_held_out_sheet(book: Workbook, st: Styles, more: HeldOut, x_train: Block, y_train: Block) -> None:
    """Write the ``held_out`` sheet; ``x_train``, ``y_train``: the data sheet's x and y columns."""
    ws = book.add_worksheet(SHEET)
    n_train, n_valid = x_train.rows, len(more.y_valid)
    most = max(more.units)
    top = _PARAMS + most + 2  # the points table's header row
    first_train, first_valid = top + 1, top + 1 + n_train
    title = (
        f"{SHEET}: sums of {_words(more.units)} ReLUs fitted on the data sheet's points, scored on new ones"
    )
    ws.write_string(0, 0, title, st.title)
    for row, note in enumerate(_notes(more), start=1):
        ws.write_string(row, 0, note, st.note)
    _parameters(ws, st, more)
    _points_header(ws, st, more, top)
    _points(ws, st, more, first_train, links=(x_train, y_train))
    _points(ws, st, more, first_valid)
    _summary(ws, st, more, (first_train, first_train + n_train - 1), (first_valid, first_valid + n_valid - 1))
    _chart(book, ws, more)
    ws.set_column(0, 0, 12)
    ws.set_column(1, max(2 * len(more.units), 4), 21)  # "held-out minus train", "prediction, 8 ReLUs"
    set_up_page(ws, header_row=top)


def _ref(block: Block, i: int) -> str:
    """The ``i``-th cell of a one-column block, with its sheet: ``data!$B5``."""
    return f"{block.sheet}!{xl_rowcol_to_cell(block.first_row + i, block.first_col, col_abs=True)}"


def _words(units: tuple[int, ...]) -> str:
    names = [str(u) for u in units]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _param_cols(i: int) -> tuple[int, int]:
    """The columns of sum ``i``'s slopes m and intercepts b."""
    return 1 + 2 * i, 2 + 2 * i


def _parameters(ws, st: Styles, more: HeldOut) -> None:
    ws.write_string(_PARAMS - 1, 0, "ReLU", st.header)
    for i, (k, fit) in enumerate(zip(more.units, more.fits, strict=True)):
        cm, cb = _param_cols(i)
        ws.write_string(_PARAMS - 1, cm, f"m ({_label(k)})", st.header)
        ws.write_string(_PARAMS - 1, cb, f"b ({_label(k)})", st.header)
        for j, (m, b) in enumerate(fit.params.reshape(k, 2)):
            ws.write_number(_PARAMS + j, cm, float(m), st.param)
            ws.write_number(_PARAMS + j, cb, float(b), st.param)
    for j in range(max(more.units)):
        ws.write_number(_PARAMS + j, 0, j + 1, st.whole)


def _label(k: int) -> str:
    return f"{k} ReLU{'s' if k > 1 else ''}"


def _points_header(ws, st: Styles, more: HeldOut, top: int) -> None:
    for c, head in enumerate(["set", "x", "y", *(f"prediction, {_label(k)}" for k in more.units)]):
        ws.write_string(top, c, head, st.header)


def _points(ws, st: Styles, more: HeldOut, first: int, links: tuple[Block, Block] | None = None) -> None:
    """One row per point, from row ``first``: x and y, then each sum of ReLUs' prediction. The
    points fitted, their x and y formulas on the ``links`` blocks' cells; without links, the
    held-out points, their x and y numbers."""
    data = more.fits[0].data
    name, xs, ys, preds = (
        ("train", data.x[:, 0], data.y, more.train_pred)
        if links
        else ("held out", more.x_valid[:, 0], more.y_valid, more.valid_pred)
    )
    for i, (x, y) in enumerate(zip(xs, ys, strict=True)):
        r = first + i
        ws.write_string(r, 0, name)
        for c, v, block in ((1, x, links and links[0]), (2, y, links and links[1])):
            if block:
                ws.write_formula(r, c, f"={_ref(block, i)}", st.number, float(v))
            else:
                ws.write_number(r, c, float(v), st.number)
        x_cell = xl_rowcol_to_cell(r, 1, col_abs=True)
        for u, (k, pred) in enumerate(zip(more.units, preds, strict=True)):
            m, b = (_column(c, k) for c in _param_cols(u))
            formula = f"=SUMPRODUCT(({m}*{x_cell}+{b}>0)*({m}*{x_cell}+{b}))"
            ws.write_formula(r, 3 + u, formula, st.number, float(pred[i]))


def _column(col: int, k: int) -> str:
    c = xl_col_to_name(col)
    return f"${c}${_PARAMS + 1}:${c}${_PARAMS + k}"


def _summary(ws, st: Styles, more: HeldOut, train: tuple[int, int], valid: tuple[int, int]) -> None:
    heads = ["ReLUs", "parameters", "train loss", "held-out loss", "held-out minus train"]
    for c, head in enumerate(heads):
        ws.write_string(_SUMMARY - 1, c, head, st.header)
    for u, k in enumerate(more.units):
        r = _SUMMARY + u
        ws.write_number(r, 0, k, st.whole)
        ws.write_number(r, 1, 2 * k, st.whole)
        for c, (first, last), value in ((2, train, more.train_loss[u]), (3, valid, more.valid_loss[u])):
            pred = f"{xl_col_to_name(3 + u)}{first + 1}:{xl_col_to_name(3 + u)}{last + 1}"
            ys = f"C{first + 1}:C{last + 1}"
            ws.write_formula(r, c, f"=SUMXMY2({pred},{ys})/ROWS({ys})", st.value, float(value))
        gap = float(more.valid_loss[u] - more.train_loss[u])
        ws.write_formula(r, 4, f"={xl_rowcol_to_cell(r, 3)}-{xl_rowcol_to_cell(r, 2)}", st.value, gap)


def _chart(book: Workbook, ws, more: HeldOut) -> None:
    chart = book.add_chart({"type": "line"})
    last = _SUMMARY + len(more.units) - 1
    for col, name, colour in ((2, "train loss", "#2F5597"), (3, "held-out loss", "#ED7D31")):
        chart.add_series({
            "name": name,
            "categories": [SHEET, _SUMMARY, 0, last, 0],
            "values": [SHEET, _SUMMARY, col, last, col],
            "marker": {"type": "circle"},
            "line": {"color": colour},
        })  # fmt: skip
    chart.set_title({"name": "Loss by number of ReLUs", "name_font": {"size": 12}})
    chart.set_x_axis({"name": "ReLUs summed"})
    chart.set_y_axis({"name": "MSE (log scale)", "log_base": 10})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 520, "height": 300})
    ws.insert_chart(_SUMMARY - 1, 2 * len(more.units) + 2, chart)
