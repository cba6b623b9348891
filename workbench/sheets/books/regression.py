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
* ``held_out`` (``relu`` only, given :class:`~workbench.regression.HeldOut`): sums of 1, 2,
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
from xlsxwriter.utility import xl_cell_to_rowcol, xl_col_to_name, xl_rowcol_to_cell
from xlsxwriter.worksheet import Worksheet

from ...errors import WorkbenchError
from ...regression import Fit, HeldOut, Trajectory, max_stable_lr, scale_of, unscaled_params
from ...regression.sheet_values import CURVE_POINTS, NUDGE, descent_values, fit_sheet_values, minibatch_values  # noqa: F401  (the tests)
from ..write.descent import DescentSheet, Look, Points, write_descent_sheet
from ..write.fit_sheets import FONT, DataBlocks, formula_text, write_fit_sheet
from ..write.grid import Block, ref
from ..write.held_out_sheet import add_held_out_sheet
from ..write.minibatch import write_minibatch_sheet
from ..write.notes import write_notes_sheet
from ..write.pile_up import write_pile_up_sheet
from ..write.style import Page, Styles, set_up_page, styles
from ..write.xlsx import check_rows, new_workbook

_DATA_TOP = 3  # the data sheet's header row


@dataclasses.dataclass(frozen=True)
class Extras:
    """What a lesson adds to its book, each computed before the book is written (None: not added).

    Attributes:
        by_hand_notes: extra lines for the by_hand sheet.
        scaled: a fit of :func:`workbench.regression.scaled` of the book's data:
            adds the scaled columns to the data sheet and a ``descent_scaled`` sheet.
        minibatch: :func:`workbench.regression.sgd_steps` on the book's data: adds a
            ``minibatch`` sheet (models linear in their parameters).
        held_out: sums of more ReLUs fitted on the book's points and scored on new ones
            (:func:`workbench.regression.held_out_scores`): adds a ``held_out`` sheet.
        pile_up: a few steps of the book's descent, and the same with ``zero_grad=False``
            (forgetting ``a.grad.zero_()``): adds a ``pile_up`` sheet, the two side by side.
    """

    by_hand_notes: Sequence[str] = ()
    scaled: Fit | None = None
    minibatch: Trajectory | None = None
    held_out: HeldOut | None = None
    pile_up: tuple[Fit, Fit] | None = None


def write_regression_book(
    result: Fit, path: str | os.PathLike[str], *, notes: Sequence[str] = (), extras: Extras = Extras()
) -> Path:
    """Write ``result``'s workbook to ``path`` (whole or not at all) and return the path.

    Args:
        result: the fit; it must have run with correctly zeroed gradients (the sheet
            recomputes correct descent only).
        notes: extra lines for the descent sheet.
        extras: the sheets a lesson adds (:class:`Extras`).

    Raises:
        WorkbenchError: piled-up gradients, or a scaled fit or mini-batch record of other data.
    """
    data, by_hand_notes, scaled = result.data, extras.by_hand_notes, extras.scaled
    minibatch, held_out, pile_up = extras.minibatch, extras.held_out, extras.pile_up
    if not result.trajectory.zero_grad:
        raise WorkbenchError("the descent sheet redoes correct descent; fit with zero_grad=True")
    _check_extras(result, scaled, minibatch)
    check_rows(len(result.phi), _DATA_TOP + 3, sheet="data")
    # Every number the by_hand and model sheets cache, before the book is opened.
    hand_values = fit_sheet_values(result, result.trajectory.params[0], nudges=True)
    model_values = fit_sheet_values(result, result.trajectory.params[-1], nudges=False)
    with new_workbook(path, title=f"{data.name}: gradient descent in a spreadsheet") as book:
        # Data as typed, but at most 4 decimals on screen (the cell keeps every digit).
        st = dataclasses.replace(styles(book), number=book.add_format({**FONT, "num_format": "0.0###"}))
        data_ws = book.add_worksheet("data")
        hand_ws = book.add_worksheet("by_hand")
        model_ws = book.add_worksheet("model")  # filled once the descent sheet says where its rows are
        blocks = _data_sheet(data_ws, st, result)
        scaled_block = _scaled_columns(data_ws, st, result, scaled) if scaled is not None else None
        centre_half = _centre_half(result) if scaled is not None else None
        points = Points(blocks.x, blocks.y, (result.phi, data.y), result.param_names)
        descent = write_descent_sheet(
            book,
            result.trajectory,
            points,
            Look(
                title=f"descent: {formula_text(result)} trained by the spreadsheet, step by step",
                notes=[data.recipe, *notes, *_stall_notes(result, scaled)],
                bands=True,
                notes_sheet=True,
            ),
            values=descent_values(
                result.trajectory,
                points.data,
                stable_lr=None if result.model == "relu" else max_stable_lr(result.phi),
                floor=_floor(result),
            ),
        )
        notes = [("descent", descent.notes)]
        write_fit_sheet(Page(book, hand_ws, st), result, hand_values, blocks, None, by_hand_notes)
        write_fit_sheet(Page(book, model_ws, st), result, model_values, blocks, descent, ())
        if scaled is not None:
            sheet = _scaled_descent(book, result, scaled, scaled_block, blocks.y)
            _in_raw_units(book, st, sheet, (result, scaled), centre_half)
            notes.append(("descent_scaled", sheet.notes))
        if minibatch is not None:
            values = minibatch_values(minibatch, points.data, result.floor)
            more = write_minibatch_sheet(book, st, minibatch, points, result.phi_names, values)
            notes.append(("minibatch", more))
        if pile_up is not None:
            more = write_pile_up_sheet(book, st, pile_up[0].trajectory, pile_up[1].trajectory, points)
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
        Points(inputs, target, (scaled.phi, scaled.data.y), scaled.param_names),
        Look(
            name="descent_scaled",
            title=f"descent_scaled: {formula_text(scaled)}, the same descent on scaled inputs",
            notes=[scaled.data.recipe, *_stall_notes(scaled, result), _lr_words(scaled), _RAW_UNITS_WORDS],
            bands=True,
            notes_sheet=True,
        ),
        values=descent_values(
            scaled.trajectory,
            (scaled.phi, scaled.data.y),
            stable_lr=None if scaled.model == "relu" else max_stable_lr(scaled.phi),
            floor=_floor(scaled),
        ),
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
    return [
        (f"data!{ref(last + 2, c, absolute=True)}", f"data!{ref(last + 3, c, absolute=True)}") for c in cols
    ]


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
    p = [ref(row, c, absolute=True) for c in range(first[1], last[1] + 1)]
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


def _check_extras(result: Fit, scaled: Fit | None, minibatch: Trajectory | None) -> None:
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
        if minibatch.rows is None:
            raise WorkbenchError("the minibatch sheet needs a mini-batch record (sgd_steps), not full batch")
        if max(r.max() for r in minibatch.rows) >= data.n or minibatch.params.shape[1] != result.phi.shape[1]:
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


def _data_sheet(ws: Worksheet, st: Styles, result: Fit) -> DataBlocks:
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
    return DataBlocks(Block("data", first, 1, last, width), Block("data", first, 0, last, 0), x_cols)


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
                formula = f"=({raw}-{ref(last + 2, c, absolute=True)})/{ref(last + 3, c, absolute=True)}"
                ws.write_formula(r, c, formula, st.number, scaled.phi[i, j])
    ws.set_column(c0, c0 + width - 1, 15)
    return Block("data", first, c0, last, c0 + width - 1)
