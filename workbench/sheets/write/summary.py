"""``titanic.xlsx``'s ``summary`` and ``notes`` sheets, and any table's: every model side by side."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import xlsxwriter
from numpy.typing import ArrayLike
from xlsxwriter.utility import quote_sheetname
from xlsxwriter.worksheet import Worksheet

from ...titanic.split import VALID_PCT
from ..model_sheets import RESULTS
from .grid import wrapped
from .model_sheet import OPENS_AT_FITTED, SHEETS, SheetInfo
from .notes import write_notes_sheet
from .style import HEADER_FILL, Styles, set_up_page
from .trend import loss_trend
from .xlsx import chart_text, check_rows


def notes_sheet(book: xlsxwriter.Workbook, st: Styles, notes: Sequence[tuple[str, Sequence[str]]]) -> None:
    """The model sheets' longer words, a heading per sheet: what the sheets leave out above their rows."""
    write_notes_sheet(
        book,
        st,
        "notes: how to run Solver on each sheet, where its start came from, what to try",
        notes,
        intro="Each model sheet keeps one line above its rows; its longer words are here, under its name.",
        lead=(OPENS_AT_FITTED,),
    )


def split_note(infos: Sequence[SheetInfo], share: float, splits: int) -> str:
    """Valid loss below train loss, said where the losses are: the luck of one split, measured."""
    below = [i.sheet for i in infos if i.values["Valid loss:"] < i.values["Train loss:"]]
    linear = next(i for i in infos if i.sheet == "linear").values
    if len(below) == len(infos):
        who = "Every model sheet has its valid loss below its train loss"
    elif below:
        who = f"{', '.join(below)} {'has' if len(below) == 1 else 'have'} a valid loss below the train loss"
    else:
        who = "No model sheet has its valid loss below its train loss"
    return (
        f"{who} (linear: {linear['Valid loss:']:.3f} against {linear['Train loss:']:.3f})."
        " A valid loss below the train loss is mostly the luck of which rows one split holds out: over"
        f" {splits:,} random {1 - VALID_PCT:.0%}/{VALID_PCT:.0%} splits of these rows (seeded), the linear"
        f" model's valid loss came out below its train loss on {share:.0%} of them."
    )


@dataclass(frozen=True)
class Summary:
    """What a summary sheet shows beside the model sheets' live results.

    ``comparison``: one row per training run; ``histories``: each run's training loss per step;
    ``choice``: which model was chosen, and why; ``units``: the over-fitting sweep; ``lines``:
    sentences under the results (default: the lesson's numbers beside ours); ``luck``: how much the
    valid losses owe to the split; ``results``: the labels of the sheets' results.
    """

    comparison: pd.DataFrame | None = None
    histories: Mapping[str, np.ndarray] | None = None
    choice: str | None = None
    units: pd.DataFrame | None = None
    lines: Sequence[str] = ()
    luck: str = ""
    results: Sequence[tuple[str, str]] = RESULTS


def summary_sheet(
    book: xlsxwriter.Workbook, st: Styles, infos: Sequence[SheetInfo], summary: Summary
) -> None:
    """Top to bottom: the model sheets' live results, the lines about them and the luck of the
    split, the choice, the runs, the over-fitting table, the loss per step; the charts to the right."""
    s, results = summary, summary.results
    ws = book.add_worksheet("summary")
    ws.write_string(0, 0, "summary: every model side by side", st.title)
    tables = [("Training runs (fitted on train, scored on valid)", s.comparison, _runs_chart)]
    units = s.units
    if units is not None:
        known = not units.empty and {"units", "train_loss", "valid_loss"} <= set(units.columns)
        margin = units.get("valid_margin")
        trend = (
            f": {loss_trend(units.units, units.train_loss, units.valid_loss, margin=margin)}" if known else ""
        )
        tables.append((f"More ReLUs{trend}", units, _units_chart))
    tables = [(h, df if isinstance(df.index, pd.RangeIndex) else df.reset_index(), chart)
              for h, df, chart in tables if df is not None and not df.empty]  # fmt: skip
    # Every column as wide as its longest heading (the loss-per-step table's headings wrap instead).
    heads = [_sheets_heads(results), *(list(map(str, df.columns)) for _, df, _ in tables)]
    width = max(8, *(len(h) for h in heads))
    widths = [
        12,
        36,
        *(max([15, *(len(h[j]) + 2 for h in heads if j < len(h))]) for j in range(2, width + 1)),
    ]
    note = (
        "Train: the rows the parameters were fitted on; valid: the rows held out (20%), never seen while"
        " fitting. A model that does better on train but worse on valid has learnt its training rows"
        " rather than what generalises (over-fitting)."
    )
    wrapped(ws, st, 1, note, widths)
    row = _sheets_table(ws, st, infos, widths, s)
    if s.luck:
        wrapped(ws, st, row - 1, s.luck, widths)
        row += 1
    if s.choice:
        ws.write_string(row, 0, "Chosen for Kaggle's test set", st.heading)
        wrapped(ws, st, row + 1, s.choice, widths)
        row += 3
    charts = []
    for heading, df, chart in tables:
        _table(ws, st, heading, df, row)
        drawn = chart(book, row + 2, row + 1 + len(df), list(map(str, df.columns)))
        charts += [drawn] if drawn is not None else []
        row += len(df) + 3
    if s.histories:
        charts.insert(0, _loss_per_step(book, ws, st, s.histories, row))
    for i, chart in enumerate(charts):
        ws.insert_chart(3 + 22 * i, width + 1, chart)
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    set_up_page(ws)
    # Print the tables and the charts, not the (possibly long) chart data below them.
    ws.print_area(0, 0, max(row, 3 + 22 * len(charts)), width + 13)


_HEADS = {
    "Total loss:": "Total loss (all rows)",
    "Accuracy:": "Accuracy (all rows)",
    "RMSE:": "RMSE (all rows)",
}


def _sheets_heads(results: Sequence[tuple[str, str]] = RESULTS) -> list[str]:
    """The headings of the summary's table of the model sheets' live ``results``."""
    labels = [x for pair in zip(*results, strict=True) for x in pair]  # losses, then accuracies
    return ["Sheet", "Model", *(_HEADS.get(x, x.rstrip(":")) for x in labels)]


def _sheets_table(ws: Worksheet, st: Styles, infos: Sequence[SheetInfo], widths: Sequence, s: Summary) -> int:
    """Under the title and its note, in columns ``widths`` wide: each model sheet's live results
    (``s.results``), then ``s.lines`` (the lesson's by default); returns the row below."""
    row, results, lines = 3, s.results, s.lines or _LESSON_LINES
    ws.write_string(row, 0, "The model sheets (live formulas)", st.heading)
    labels = [label for pair in zip(*results, strict=True) for label in pair]  # losses, then accuracies
    for j, head in enumerate(_sheets_heads(results)):
        ws.write_string(row + 1, j, head, st.header)
    for i, info in enumerate(infos):
        r = row + 2 + i
        where = quote_sheetname(info.sheet)
        ws.write_string(r, 0, info.sheet, st.text)
        ws.write_string(r, 1, SHEETS[info.sheet].what, st.text)
        for j, label in enumerate(labels, start=2):
            fmt = st.percent if "accuracy" in label.lower() else st.total
            ws.write_formula(r, j, f"={where}!{info.cells[label]}", fmt, info.values[label])
    r = row + 2 + len(infos)
    nnet, mmult = (next(i for i in infos if i.sheet == s) for s in ("nnet", "mmult"))
    gap = float(np.max(np.abs(nnet.predictions - mmult.predictions)))
    ws.write_string(r, 1, "nnet vs mmult: largest difference", st.text)
    ws.write_comment(r, 1, _SAME_NET_NOTE, {"x_scale": 2, "author": "workbench"})
    formula = f"=MAX(ABS(nnet!{nnet.preds}-mmult!{mmult.preds}))"
    ws.write_array_formula(r, 2, r, 2, formula, st.small, gap)
    ws.write_string(r, 3, "between their predictions: the same net, so 0 but for rounding", st.note)
    for i, line in enumerate(lines, start=1):
        wrapped(ws, st, r + i, line, widths)
    return r + len(lines) + 2


_SAME_NET_NOTE = (
    "The largest of |nnet's prediction - mmult's prediction| over every row. The two sheets hold the"
    " same parameters (mmult's are nnet's, transposed) and compute the same sums in another order, so"
    " they differ only in the last digits a computer rounds (about 1e-16)."
)

#: The lesson's own numbers beside ours, and why they differ.
_LESSON_LINES = (
    "The lesson's own workbook ended with Total loss 0.1442 on linear and 0.1432 on nnet and mmult"
    " (every row). Ours differ for two reasons:",
    "linear: the yellow parameters are fitted on the train rows only, so on every row the loss is a little"
    " above the lowest any line reaches there (0.1442, which the lesson's Solver found).",
    "nnet: the lesson's Solver stopped in a local minimum: a dip where every small change of the"
    " parameters raises the loss, though deeper dips exist elsewhere. Which dip Solver ends in depends on"
    " the random start; workbench tries 256 starts and jumps between dips, and finds a lower one (Total"
    " loss above).",
)

#: Plain names for the fitting methods in the comparison table, and the technical term, in a note.
METHOD_NAMES = {
    "lstsq": ("least squares", "lstsq: the exact best line, solved directly (scipy.linalg.lstsq)"),
    "lbfgs": (
        "descent using past slopes",
        "lbfgs (L-BFGS): steps that also use how the slope changed lately",
    ),
    "gd": ("gradient descent", "gd: the lesson's loop: step against the slope, again and again"),
    "search": (
        "many starts, exact minima",
        "search: 256 random starts, Gauss-Newton steps, the exact minimum of each start's activation"
        " pattern, then hops across kinks while the loss falls",
    ),
}


#: What a column of the summary's tables holds, where its name cannot say it: its header's comment.
COLUMN_NOTES = {
    "valid_margin": (
        "How far above the lowest valid loss this net's may lie and still be as low, as far as the"
        " valid rows can tell: twice the standard error of the difference between the two nets'"
        " squared errors, passenger by passenger. Holding out other rows would move that difference"
        " by about half of this. The heading counts the nets within their margin as equally good."
    ),
}


def _table(ws: Worksheet, st: Styles, heading: str, df: pd.DataFrame, row: int) -> None:
    ws.write_string(row, 0, heading, st.heading)
    for j, name in enumerate(df.columns):
        ws.write_string(row + 1, j, str(name), st.header)
        if name in COLUMN_NOTES:
            ws.write_comment(
                row + 1, j, COLUMN_NOTES[name], {"x_scale": 2, "y_scale": 2, "author": "workbench"}
            )
    fmts = [_summary_format(st, str(name), df[name]) for name in df.columns]
    for i, values in enumerate(df.itertuples(index=False)):
        for j, v in enumerate(values):
            if df.columns[j] == "method" and v in METHOD_NAMES:
                plain, note = METHOD_NAMES[v]
                ws.write_string(row + 2 + i, j, plain, fmts[j])
                ws.write_comment(row + 2 + i, j, note, {"x_scale": 2, "author": "workbench"})
            else:
                _write_value(ws, row + 2 + i, j, v, fmts[j])


def _bars(book: xlsxwriter.Workbook, kind: dict, title: str, x_name: str) -> Any:
    chart = book.add_chart(kind)
    chart.set_title({"name": chart_text(title), "name_font": {"size": 12}})
    chart.set_x_axis({"name": chart_text(x_name)})
    chart.set_y_axis({"name": "MSE", "major_gridlines": {"visible": True}})
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 420})
    return chart


def _runs_chart(book: xlsxwriter.Workbook, first: int, last: int, columns: list[str]) -> Any | None:
    """Each run's train and valid loss, side by side (model and method label the bars)."""
    if not {"train_loss", "valid_loss"} <= set(columns):
        return None
    chart = _bars(book, {"type": "column"}, "Train and valid loss of each run", "run (model, method)")
    for name in ("train_loss", "valid_loss"):
        j = columns.index(name)
        where = {"categories": ["summary", first, 0, last, 1], "values": ["summary", first, j, last, j]}
        chart.add_series({"name": chart_text(name.split("_")[0]), **where})
    return chart


def _units_chart(book: xlsxwriter.Workbook, first: int, last: int, columns: list[str]) -> Any | None:
    """Train and valid loss against the number of ReLUs."""
    if not {"units", "train_loss", "valid_loss"} <= set(columns):
        return None
    kind = {"type": "scatter", "subtype": "straight_with_markers"}
    chart = _bars(book, kind, "Train and valid loss by the number of ReLUs", "ReLUs summed")
    chart.set_x_axis({"name": "ReLUs summed (log scale)", "log_base": 2})
    u = columns.index("units")
    for name in ("train_loss", "valid_loss"):
        j = columns.index(name)
        where = {"categories": ["summary", first, u, last, u], "values": ["summary", first, j, last, j]}
        chart.add_series({"name": chart_text(name.split("_")[0]), **where})
    return chart


def _loss_per_step(
    book: xlsxwriter.Workbook,
    ws: Worksheet,
    st: Styles,
    histories: Mapping[str, ArrayLike],
    row: int,
) -> Any:
    """Each run's loss per step, a column each from ``row`` down; returns their chart."""
    curves = {str(k): np.asarray(v, dtype="float64") for k, v in histories.items()}
    longest = max(len(v) for v in curves.values())
    check_rows(longest, row + 2, sheet="summary")
    ws.write_string(row, 0, "Training loss per step (the chart's data)", st.heading)
    ws.write_string(row + 1, 0, "step", st.header)
    wrapped = book.add_format(
        {"font_name": "Calibri", "font_size": 11, "bold": True, "bg_color": HEADER_FILL, "bottom": 1}
        | {"align": "center", "valign": "vcenter", "text_wrap": True}
    )
    for j, name in enumerate(curves, start=1):
        ws.write_string(row + 1, j, name, wrapped)
    # Tall enough for the longest name wrapped in a column 15 wide (15 points a line).
    ws.set_row(row + 1, 15 * math.ceil(max(map(len, curves)) / 13))
    series = list(curves.values())
    for e in range(longest):
        ws.write_number(row + 2 + e, 0, e, st.whole)
        for j, curve in enumerate(series, start=1):
            if e < len(curve):
                ws.write_number(row + 2 + e, j, curve[e], st.value)
    chart = book.add_chart({"type": "scatter", "subtype": "straight"})
    for j, (name, curve) in enumerate(curves.items(), start=1):
        end = row + 1 + len(curve)
        chart.add_series(
            {
                "name": chart_text(name),
                "categories": ["summary", row + 2, 0, end, 0],
                "values": ["summary", row + 2, j, end, j],
                "line": {"width": 1.75},
            }
        )
    positive = all((curve > 0).all() for curve in series)
    chart.set_title({"name": "Training loss per step", "name_font": {"size": 12}})
    x_axis = {"name": "step (gd epoch, then Gauss-Newton step)", "min": 0, "max": longest - 1}
    chart.set_x_axis({**x_axis, "major_gridlines": {"visible": False}})
    # A log scale shows both the first big drop and the slow end; it needs positive losses.
    y_axis = {"name": "MSE (log scale)", "log_base": 10} if positive else {"name": "MSE"}
    chart.set_y_axis(y_axis)
    chart.set_legend({"position": "bottom"})
    chart.set_size({"width": 760, "height": 420})
    return chart


def _summary_format(st: Styles, name: str, column: pd.Series) -> Any:
    low = name.lower()
    if not pd.api.types.is_numeric_dtype(column):
        return st.text
    if "acc" in low:
        return st.percent
    if "floor" in low:
        return st.small
    if "loss" in low:
        return st.total
    if pd.api.types.is_integer_dtype(column):
        return st.whole
    return st.money if "second" in low else st.value


def _write_value(ws: Worksheet, r: int, c: int, value: Any, fmt: Any) -> None:
    if value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA:
        return
    if isinstance(value, (bool, np.bool_)):
        ws.write_boolean(r, c, bool(value), fmt)
    elif isinstance(value, (int, float, np.integer, np.floating)):
        if math.isfinite(float(value)):
            ws.write_number(r, c, float(value), fmt)
    else:
        ws.write_string(r, c, str(value), fmt)
