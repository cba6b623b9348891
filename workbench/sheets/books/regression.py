"""A workbook per small regression: ``data``, ``by_hand``, ``model`` and ``descent`` sheets, with charts.

:func:`write_regression_book` turns a :class:`~workbench.regression.Fit` into
``workbooks/<name>.xlsx``:

* ``data``: the target and the design matrix the parameters multiply (``x``, a
  column of ones, and for the quadratic an ``x^2`` column computed by formula).
* ``by_hand``: yellow parameter cells holding numbers (the lesson's start) that the
  learner types into, and nothing else drives; each point's prediction and squared
  error, the total loss, a chart; and each parameter's gradient by formula beside the
  loss with that parameter nudged up and down by h (the 2019 lesson's "what if we
  moved it a little"), whose centred difference estimates the same derivative.
* ``model``: the same table and chart for one row of ``descent``, chosen by a yellow
  step-number cell (``INDEX`` into the descent's columns; the last step at first):
  type 0, 1, 2 ... and the chart replays the descent.
* ``descent``: the spreadsheet's own gradient descent (:mod:`workbench.sheets.write.descent`),
  with its loss chart, ``Final loss:`` beside ``Least-squares floor:``, and its
  columns banded by fastbook's seven steps. Type a new learning rate there and the
  model sheet follows.
* optional: ``descent_scaled`` (the descent on inputs scaled to -1..1, for
  ``speed``), ``minibatch`` (:mod:`workbench.sheets.write.minibatch`, for ``line``), and
  ``pile_up`` (:mod:`workbench.sheets.write.pile_up`, for ``quadratic``: forgetting ``a.grad.zero_()``).
* ``notes``: the descent sheets' longer words, under each sheet's name.
* ``held_out`` (``relu`` only, given :class:`~workbench.regression.MoreUnits`): sums of 1, 2,
  4, 8 ReLUs fitted on the points and scored on new ones (:mod:`workbench.sheets.write.held_out_sheet`).

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
from xlsxwriter.format import Format
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ... import numerics
from ...errors import WorkbenchError
from ...regression import Dataset, Fit, MoreUnits, SGDSteps, kind, max_stable_lr, scale_of, unscaled_params
from ..write.descent import Block, DescentSheet, write_descent_sheet
from ..write.held_out_sheet import add_held_out_sheet
from ..write.minibatch import write_minibatch_sheet
from ..write.notes import write_notes_sheet
from ..write.pile_up import write_pile_up_sheet
from ..write.style import PARAM_FILL, Styles, set_up_page, styles
from ..write.xlsx import chart_text, check_rows, new_workbook

#: Points on the model sheet's fitted curve.
CURVE_POINTS = 41
#: The by_hand sheet's first nudge: each parameter moved up and down by this much.
NUDGE = 0.01


_DATA_TOP = 3  # the data sheet's header row
_FONT = {"font_name": "Calibri", "font_size": 11}


def write_regression_book(
    result: Fit,
    path: str | os.PathLike[str],
    *,
    notes: Sequence[str] = (),
    by_hand_notes: Sequence[str] = (),
    scaled: Fit | None = None,
    minibatch: SGDSteps | None = None,
    held_out: MoreUnits | None = None,
    pile_up: tuple[Fit, Fit] | None = None,
) -> Path:
    """Write ``result``'s workbook to ``path`` (whole or not at all) and return the path.

    Args:
        result: the fit; it must have run with correctly zeroed gradients (the sheet
            recomputes correct descent only).
        notes: extra lines for the descent sheet.
        by_hand_notes: extra lines for the by_hand sheet.
        scaled: a fit of :func:`workbench.regression.scaled` of ``result``'s data:
            adds the scaled columns to the data sheet and a ``descent_scaled`` sheet.
        minibatch: :func:`workbench.regression.sgd_steps` on ``result``'s data: adds a
            ``minibatch`` sheet (models linear in their parameters).
        held_out: sums of more ReLUs fitted on ``result``'s points and scored on new ones
            (:func:`workbench.regression.more_units`): adds a ``held_out`` sheet.
        pile_up: a few steps of ``result``'s descent, and the same with ``zero_grad=False``
            (forgetting ``a.grad.zero_()``): adds a ``pile_up`` sheet, the two side by side.

    Raises:
        WorkbenchError: piled-up gradients, or a scaled fit or mini-batch record of other data.
    """
    data = result.data
    if not result.trajectory.zero_grad:
        raise WorkbenchError("the descent sheet redoes correct descent; fit with zero_grad=True")
    _check_extras(result, scaled, minibatch)
    check_rows(len(result.phi), _DATA_TOP + 3, sheet="data")
    with new_workbook(path, title=f"{data.name}: gradient descent in a spreadsheet") as book:
        # Data as typed, but at most 4 decimals on screen (the cell keeps every digit).
        st = dataclasses.replace(styles(book), number=book.add_format({**_FONT, "num_format": "0.0###"}))
        data_ws = book.add_worksheet("data")
        hand_ws = book.add_worksheet("by_hand")
        model_ws = book.add_worksheet("model")  # filled once the descent sheet says where its rows are
        blocks = _data_sheet(data_ws, st, result)
        scaled_block = _scaled_columns(data_ws, st, result, scaled) if scaled is not None else None
        centre_half = _centre_half(result) if scaled is not None else None
        descent = write_descent_sheet(
            book,
            result.trajectory,
            inputs=blocks.x,
            target=blocks.y,
            data=(result.phi, result.data.y),
            param_names=result.param_names,
            title=f"descent: {_formula_text(result)} trained by the spreadsheet, step by step",
            notes=[data.recipe, *notes, *_stall_notes(result, scaled)],
            stable_lr=None if result.model == "relu" else max_stable_lr(result.phi),
            floor=_floor(result),
            bands=True,
            notes_sheet=True,
        )
        notes = [("descent", descent.notes)]
        _model_sheet(book, hand_ws, st, result, blocks, None, by_hand_notes)
        _model_sheet(book, model_ws, st, result, blocks, descent, ())
        if scaled is not None:
            sheet = _scaled_descent(book, result, scaled, scaled_block, blocks.y)
            _in_raw_units(book, st, sheet, (result, scaled), centre_half)
            notes.append(("descent_scaled", sheet.notes))
        if minibatch is not None:
            more = write_minibatch_sheet(
                book,
                st,
                minibatch,
                inputs=blocks.x,
                target=blocks.y,
                data=(result.phi, data.y),
                param_names=result.param_names,
                input_names=result.phi_names,
                floor=result.floor,
            )
            notes.append(("minibatch", more))
        if pile_up is not None:
            more = write_pile_up_sheet(
                book, st, pile_up[0].trajectory, pile_up[1].trajectory, inputs=blocks.x, target=blocks.y,
                param_names=result.param_names,
            )  # fmt: skip
            notes.append(("pile_up", more))
        if held_out is not None:
            x = Block("data", blocks.x.first_row, blocks.x_cols[0], blocks.x.last_row, blocks.x_cols[0])
            add_held_out_sheet(book, st, held_out, x, blocks.y)
        write_notes_sheet(book, st, f"notes: {data.name}'s descent sheets at more length", notes)
    return Path(path)


def _scaled_descent(
    book: xlsxwriter.Workbook, result: Fit, scaled: Fit, inputs: Block, target: Block
) -> DescentSheet:
    """The ``descent_scaled`` sheet: the same descent on the scaled columns of the data sheet."""
    return write_descent_sheet(
        book,
        scaled.trajectory,
        inputs=inputs,
        target=target,
        data=(scaled.phi, scaled.data.y),
        param_names=scaled.param_names,
        name="descent_scaled",
        title=f"descent_scaled: {_formula_text(scaled)}, the same descent on scaled inputs",
        notes=[scaled.data.recipe, *_stall_notes(scaled, result), _lr_words(scaled), _RAW_UNITS_WORDS],
        stable_lr=None if scaled.model == "relu" else max_stable_lr(scaled.phi),
        floor=_floor(scaled),
        bands=True,
        notes_sheet=True,
    )


_RAW_UNITS_WORDS = (
    "unscaled: the parameters at the step in view, turned back into the units of the data's own x"
    " (undoing x -> (x - centre) / half-range): with x itself they draw the very curve the scaled"
    " parameters draw with scaled x."
)


def _lr_words(scaled: Fit) -> str:
    """The scaled descent's learning rate in plain words: one over the steepest direction's bend."""
    bend = _eigen(scaled.phi)[1]
    lr = scaled.trajectory.lr
    if not np.isclose(lr * bend, 1, rtol=1e-9):
        return f"Its learning rate is {lr:.4g}; one over the steepest direction's bend is {1 / bend:.4g}."
    return (
        f"Its learning rate, {lr:.4g}, is 1 / {_plain(bend)}: one over the steepest direction's bend (how"
        " sharply the loss bends along its steepest direction). Along that direction one step lands right"
        " at the bottom; along the flatter ones it moves less far but never overshoots. Twice that rate"
        " and the loss explodes."
    )


def _centre_half(result: Fit) -> list[tuple[str, str]]:
    """Each x column's centre and half-range cells under the data sheet's scaled columns (absolute)."""
    n, width = result.phi.shape
    last, c0 = _DATA_TOP + n, width + 2
    cols = [c0 + 1] if result.model == "quadratic" else [c0 + j for j in range(result.data.x.shape[1])]
    return [(f"data!{_abs(last + 2, c)}", f"data!{_abs(last + 3, c)}") for c in cols]


def _in_raw_units(
    book: xlsxwriter.Workbook,
    st: Styles,
    sheet: DescentSheet,
    fits: tuple[Fit, Fit],
    centre_half: list[tuple[str, str]],
) -> None:
    """Right of the scaled parameters at the step in view, the same parameters in the data's own units.

    With s = (x - c) / h: a s^2 + b s + k = (a/h^2) x^2 + (b/h - 2ac/h^2) x + (ac^2/h^2 - bc/h + k), and a
    unit m s + k (linear, or inside a ReLU) is (m/h) x + (k - mc/h), summed over the x columns.
    """
    result, scaled = fits
    ws = book.get_worksheet_by_name(sheet.sheet)
    first, last = (xl_cell_to_rowcol(c.replace("$", "")) for c in sheet.view_params.split("!")[1].split(":"))
    row = first[0]
    p = [_abs(row, c) for c in range(first[1], last[1] + 1)]
    raw = unscaled_params(scaled.model, scaled.trajectory.params[-1], *scale_of(result.data.x)).ravel()
    at = last[1] + 2
    ws.write_string(row, at, "unscaled:", st.label)
    ws.write_comment(row, at, _RAW_UNITS_WORDS, {"x_scale": 3, "y_scale": 2, "author": "workbench"})
    for j, formula in enumerate(_raw_formulas(scaled, p, centre_half)):
        ws.write_formula(row, at + 1 + j, formula, st.value, raw[j])


def _raw_formulas(scaled: Fit, p: list[str], centre_half: list[tuple[str, str]]) -> list[str]:
    """The formulas of :func:`_in_raw_units`, reading the scaled parameter cells ``p``."""
    if scaled.model == "quadratic":
        (c, h), (a, b, k) = centre_half[0], p
        return [f"={a}/{h}^2", f"={b}/{h}-2*{a}*{c}/{h}^2", f"={a}*{c}^2/{h}^2-{b}*{c}/{h}+{k}"]
    d = len(centre_half)
    out = []
    for u in range(len(p) // (d + 1)):
        m, k = p[u * (d + 1) : u * (d + 1) + d], p[u * (d + 1) + d]
        out += [f"={mj}/{h}" for mj, (_, h) in zip(m, centre_half, strict=True)]
        out.append(f"={k}" + "".join(f"-{mj}*{c}/{h}" for mj, (c, h) in zip(m, centre_half, strict=True)))
    return out


def _check_extras(result: Fit, scaled: Fit | None, minibatch: SGDSteps | None) -> None:
    data = result.data
    if scaled is not None:
        centre, half = scale_of(data.x)
        same = scaled.model == result.model and scaled.units == result.units
        if not same or scaled.data.x.shape != data.x.shape or not np.array_equal(scaled.data.y, data.y):
            raise WorkbenchError(
                f"the scaled fit is not of {data.name}'s points with the {result.model} model"
            )
        if not np.array_equal(scaled.data.x, (data.x - centre) / half):
            raise WorkbenchError(
                f"the scaled fit's x is not {data.name}'s x centred and divided by its half-range"
            )
    if minibatch is not None:
        if result.model == "relu":
            raise WorkbenchError("the minibatch sheet computes models linear in their parameters, not ReLUs")
        if minibatch.rows.max() >= data.n or minibatch.params.shape[1] != result.phi.shape[1]:
            raise WorkbenchError(f"the mini-batch record is not of {data.name}'s points and model")


def _floor(result: Fit) -> float | str:
    floor = result.floor
    return "none: no formula for ReLUs" if floor is None else floor


def _stall_notes(result: Fit, other: Fit | None) -> list[str]:
    """Why descent stalls on the raw inputs and not on the scaled ones (or nothing without a pair)."""
    if other is None or result.floor is None:
        return []
    raw, scaled = (other, result) if result.data.name.endswith("_scaled") else (result, other)
    lo_r, hi_r = _eigen(raw.phi)
    lo_s, hi_s = _eigen(scaled.phi)
    near = result.losses[-1] <= 1.01 * result.floor
    if result is raw:
        ends = "ends near the floor" if near else "stays far above the floor"
        return [
            f"Why it stalls: {raw.phi_names[0]} runs up to {_plain(raw.phi[:, 0].max())} while the ones"
            f" column is 1, so the loss bends {_plain(hi_r / lo_r)} times more sharply one way than another"
            f" (its bend runs from {_plain(lo_r)} along the flattest direction to {_plain(hi_r)} along the"
            f" steepest). Any lr above 2/{_plain(hi_r)} explodes along the steep way, and a lr below it"
            f" barely moves along the flat way: the final loss {ends}. The descent_scaled sheet scales the"
            " inputs first.",
        ]
    ends = "ends within 1% of the floor" if near else "gets nearer the floor with every step"
    return [
        "Why it does not stall: scaled, the columns are of one size and the loss bends only"
        f" {_plain(hi_s / lo_s)} times more sharply one way than another (its bend runs from {_plain(lo_s)}"
        f" to {_plain(hi_s)}, against {_plain(lo_r)} to {_plain(hi_r)} unscaled), so a lr of"
        f" {scaled.trajectory.lr:.4g} moves every way at once: the final loss {ends}. The Titanic lesson"
        " divides Age by its maximum for the same reason.",
    ]


def _plain(v: float) -> str:
    """A number as a reader writes it: 56,513 or 0.259, never 5.65e+04."""
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


def _eigen(phi: np.ndarray) -> tuple[float, float]:
    values = np.linalg.eigvalsh(2 / len(phi) * phi.T @ phi)
    return float(values[0]), float(values[-1])


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


@dataclasses.dataclass(frozen=True)
class _Blocks:
    """Where the data sheet keeps the design matrix, the target, and the raw x columns (0-based)."""

    x: Block
    y: Block
    x_cols: list[int]


def _data_sheet(ws: Worksheet, st: Styles, result: Fit) -> _Blocks:
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
    return _Blocks(Block("data", first, 1, last, width), Block("data", first, 0, last, 0), x_cols)


def _scaled_columns(ws: Worksheet, st: Styles, result: Fit, scaled: Fit) -> Block:
    """The scaled design right of the raw one, with each x column's centre and half-range under it.

    ``scaled x = (x - centre) / half-range``, with ``centre = (MAX + MIN) / 2`` and
    ``half-range = (MAX - MIN) / 2`` of the raw column: the same operations as
    :func:`workbench.regression.scaled`, so the cells hold Python's numbers exactly.
    """
    n, width = scaled.phi.shape
    first, last = _DATA_TOP + 1, _DATA_TOP + n
    c0 = width + 2  # one empty column between the raw design and the scaled one
    centre, half = scale_of(result.data.x)
    square = scaled.model == "quadratic"
    s_cols = [c0 + 1] if square else [c0 + j for j in range(scaled.data.x.shape[1])]
    ws.write_string(_DATA_TOP - 1, c0, "scaled inputs: each from -1 to 1", st.heading)
    for j, head in enumerate(scaled.phi_names):
        ws.write_string(_DATA_TOP, c0 + j, head, st.header)
    ws.write_string(last + 2, c0 - 1, "centre:", st.label)
    ws.write_string(last + 3, c0 - 1, "half-range:", st.label)
    for j, s_col in enumerate(s_cols):
        col = xl_col_to_name(2 if square else 1 + j)
        rng = f"${col}${first + 1}:${col}${last + 1}"
        ws.write_formula(last + 2, s_col, f"=(MAX({rng})+MIN({rng}))/2", st.number, centre[j])
        ws.write_formula(last + 3, s_col, f"=(MAX({rng})-MIN({rng}))/2", st.number, half[j])
    for i in range(n):
        r = first + i
        for j in range(width):
            c = c0 + j
            if scaled.phi_names[j] == "Ones":
                ws.write_number(r, c, 1, st.whole)
            elif square and j == 0:
                ws.write_formula(r, c, f"={xl_rowcol_to_cell(r, c + 1)}^2", st.number, scaled.phi[i, 0])
            else:
                k = s_cols.index(c)
                raw = xl_rowcol_to_cell(r, 2 if square else 1 + k)
                formula = f"=({raw}-{_abs(last + 2, c)})/{_abs(last + 3, c)}"
                ws.write_formula(r, c, formula, st.number, scaled.phi[i, j])
    ws.set_column(c0, c0 + width - 1, 15)
    return Block("data", first, c0, last, c0 + width - 1)


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
    nudges: bool = False  # the by_hand sheet: a gradient and nudge table right of the parameters
    top: int = 4  # the parameters' heading row; the row above holds the yellow step (or h) cell

    @classmethod
    def of(cls, result: Fit, nudges: bool = False, lines: int = 2) -> _Layout:
        data = result.data
        n, width = result.phi.shape
        linear = result.model != "relu"
        units = 1 if linear else result.units
        cols = [*data.x_names, data.y_name]
        if not linear:
            cols += [f"Lin{k + 1}" for k in range(units)] + [f"ReLU{k + 1}" for k in range(units)]
        cols += ["prediction", "loss"]
        return cls(n, width, units, linear, len(data.x_names), tuple(cols), nudges, top=lines + 2)

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


def _model_sheet(
    book: xlsxwriter.Workbook,
    ws: Worksheet,
    st: Styles,
    result: Fit,
    blocks: _Blocks,
    descent: DescentSheet | None,
    notes: Sequence[str],
) -> None:
    """The ``model`` sheet (``descent`` given: parameters from its rows) or ``by_hand`` (typed parameters)."""
    steps = result.trajectory.epochs
    if descent is None:
        params = result.trajectory.params[0]
        ws.write_string(0, 0, f"by_hand: {_formula_text(result)}, parameters typed by you", st.title)
        lines = [
            "Type numbers into the yellow cells: the loss and the chart follow (the spreadsheet twin of the"
            f" lesson's sliders). {start_sentence(result.data, params)} Descent never changes them.",
            "Right: each parameter's gradient by formula, and the loss with the parameter nudged up and down"
            " by h: (loss at +h minus loss at -h) / 2h is what nudging estimates, the derivative.",
            *notes,
        ]
    else:
        params = result.trajectory.params[-1]
        ws.write_string(0, 0, f"model: {_formula_text(result)}", st.title)
        lines = [
            "The parameters are one row of the descent sheet: type a step number"
            f" (0 to {steps}) into the yellow cell and the chart draws that step; change descent's lr and"
            " this sheet follows. To try parameters of your own, use the by_hand sheet.",
        ]
    lines.append(result.data.recipe)
    lay = _Layout.of(result, nudges=descent is None, lines=len(lines))
    for k, line in enumerate(lines):
        ws.write_string(1 + k, 0, line, st.note)
    typed = {"bg_color": PARAM_FILL, "border": 1, "border_color": "#808080", **_FONT}
    _control_row(ws, st, lay, descent, steps, book.add_format({**typed, "num_format": "General"}))
    params = np.asarray(params, dtype="float64").reshape(lay.units, lay.width)
    _parameter_rows(ws, st, lay, result, descent, params)
    for j, head in enumerate(lay.cols):
        ws.write_string(lay.header, j, head, st.header)
    preds = result.predict(params.reshape(np.shape(result.params)))
    losses = (preds - result.data.y) ** 2
    lin = params @ result.phi.T  # (units, n)
    for i in range(lay.n):
        cached = (lin[:, i], preds[i], losses[i])
        _point_row(ws, st, lay, result, i, blocks.x.first_row + i, blocks.x_cols, cached)
    _totals(ws, st, lay, result, blocks.x, blocks.y, float(np.mean(losses)))
    if descent is None:
        _nudge_table(ws, st, lay, result, blocks.x, params)
    _model_chart(book, ws, st, lay, result, params)
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
    ws: Worksheet, st: Styles, lay: _Layout, result: Fit, descent: DescentSheet | None, params: np.ndarray
) -> None:
    """One row per unit: typed numbers (by_hand) or one row of descent; then the least-squares optimum."""
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
        for j, b in enumerate(_least_squares(result)):
            ws.write_number(row, 1 + j, b, st.start)
        ws.write_string(row + 1, 0, "multiplies:", st.label)
        for j in range(width):
            ws.write_string(row + 1, 1 + j, result.phi_names[j], st.category)


def _nudge_table(
    ws: Worksheet, st: Styles, lay: _Layout, result: Fit, x_block: Block, params: np.ndarray
) -> None:
    """Each parameter's gradient by formula beside the loss nudged up and down by h, and their estimate.

    ``(loss at +h - loss at -h) / 2h`` is the lesson's "what if we moved it a little"
    turned into a number: the centred estimate of the derivative. The cached values
    are numpy's, computed as the formulas compute them.
    """
    c, top, width = lay.nudge_col, lay.top, lay.width
    heads = ["parameter", "value", "gradient", "loss at +h", "loss at -h", "(+h - -h) / 2h"]
    for j, head in enumerate(heads):
        ws.write_string(top, c + j, head, st.header)
    y_rng, h = _rows(lay, lay.y_col), _abs(top - 1, 1)
    phi, y, n = result.phi, result.data.y, lay.n
    lin = phi @ params.T  # (n, units): each unit's Lin column
    pred = lin[:, 0] if lay.linear else np.maximum(lin, 0).sum(1)
    for k, j in ((k, j) for k in range(lay.units) for j in range(width)):
        r, col = top + 1 + k * width + j, str(x_block.column(j))
        active = np.ones(n) if lay.linear else (lin[:, k] > 0).astype(float)
        slope = "" if lay.linear else f"*({_rows(lay, lay.y_col + 1 + k)}>0)"
        grad = 2 * np.sum((pred - y) * active * phi[:, j]) / n
        plus, minus = (
            np.sum((_moved_values(lay, lin, k, s * NUDGE * phi[:, j]) - y) ** 2) / n for s in (1, -1)
        )
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


def _moved_values(lay: _Layout, lin: np.ndarray, k: int, shift: np.ndarray) -> np.ndarray:
    """:func:`_moved` in numpy: ``lin`` is (n, units), ``shift`` the shift of each row."""
    if lay.linear:
        return lin[:, 0] + shift
    relu = np.maximum(lin, 0)
    return relu.sum(1) - relu[:, k] + np.maximum(lin[:, k] + shift, 0)


def _least_squares(result: Fit) -> np.ndarray:
    return numerics.least_squares(result.phi, result.data.y)


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
        floor_words = "the lowest loss any parameters reach (least squares, solved by numpy)"
        ws.write_string(r, 2, floor_words, st.note)


def _model_chart(
    book: xlsxwriter.Workbook, ws: Worksheet, st: Styles, lay: _Layout, result: Fit, params: np.ndarray
) -> None:
    """One input: the points and the model's curve; several: predictions against the truth."""
    data, first, last, y_col, name = result.data, lay.first, lay.last, lay.y_col, ws.name
    if lay.d_x == 1:
        curve_col = lay.loss_col + 2
        _curve(ws, st, result, (lay.header, curve_col), (first, last), (lay.top + 1, params))
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
    parameters: tuple[int, np.ndarray],
) -> None:
    """41 evenly spaced x between the data's min and max, and the model's formula at each.

    ``parameters``: the row of the first unit's parameters (one row per unit), and their values.
    """
    param_row, params = parameters
    header, col = at
    first, last = points
    data = result.data
    x_range = f"{_abs(first, 0)}:{_abs(last, 0)}"
    ws.write_string(header, col, f"curve {data.x_names[0]}", st.header)
    ws.write_string(header, col + 1, "curve prediction", st.header)
    lo, hi = float(data.x.min()), float(data.x.max())
    grid = np.array([lo + (hi - lo) * i / (CURVE_POINTS - 1) for i in range(CURVE_POINTS)])
    values = result.predict(params.reshape(np.shape(result.params)), x=grid)
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
