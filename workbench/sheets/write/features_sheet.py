"""The ``features`` sheet of ``titanic.xlsx``: how each passenger becomes ten numbers, and why.

One row per derived column of :data:`workbench.titanic.features.DERIVED`: its reason, its
Excel formula (as on the model sheets) and its pandas line, both taken from the same record
that the workbook writer and Python use, so the sheet cannot drift from either. Then the
largest Age and Fare as live formulas on the ``linear`` sheet's rows, the rule for dummy
columns (n levels, n-1 columns) with each level counted live, and two native charts: Fare
against ``LOG10(Fare+1)`` and Age against ``Age/MAX(Age)``.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import numpy as np
import pandas as pd
import xlsxwriter
from xlsxwriter.utility import quote_sheetname, xl_rowcol_to_cell

from ...titanic.features import DERIVED
from .style import Styles, set_up_page
from .xlsx import chart_text

#: The lesson's largest Age and Fare (its sheet's ``Max:`` cells, ``=MAX(Table13[Age])`` and ``[Fare]``).
LESSON_MAX_AGE, LESSON_MAX_FARE = 80, 512.3292

#: The table's column widths: Column, Why (wrapped), Excel formula, as on linear, pandas.
WIDTHS = (14, 60, 22, 23, 38)

#: Readable stand-ins for a formula's cells: ``=Age/MAX(Age)`` rather than ``=E15/$E$13``.
_NAMES = {"Age": "Age", "Fare": "Fare", "Pclass": "Pclass", "Embarked": "Embarked", "Sex": "Sex"}

#: Each category the lesson turns into dummy columns: its levels, the baseline left without one.
DUMMIES = (
    ("Pclass", (1, 2, 3), 3, "Pclass_1, Pclass_2"),
    ("Embarked", ("S", "C", "Q"), "Q", "Embark_S, Embark_C"),
    ("Sex", ("male", "female"), "female", "Male"),
)

_DUMMY_NOTE = (
    "A category with n levels needs n-1 yes/no columns: the level left out (the baseline) is the row"
    " with 0 in all of them. A Pclass_3 column would always equal Ones - Pclass_1 - Pclass_2, so it would"
    " tell the model nothing new, and the parameters would have no single best value (the lesson, 1:23:00)."
)


def write_features_sheet(
    book: xlsxwriter.Workbook,
    st: Styles,
    table: pd.DataFrame,
    ranges: Mapping[str, tuple[str, int, int, int]],
    *,
    row_example: Mapping[str, str],
) -> None:
    """Add the ``features`` sheet.

    Args:
        table: the lesson table the model sheets hold, for the cached values.
        ranges: for each raw and derived column, where the ``linear`` sheet holds it:
            (sheet, first row, last row, column), 0-based.
        row_example: each derived column's formula as written on the ``linear`` sheet's first row.
    """
    ws = book.add_worksheet("features")
    wrap = book.add_format(
        {"font_name": "Calibri", "font_size": 11, "text_wrap": True, "valign": "top", "quote_prefix": True}
    )
    ws.write_string(0, 0, "features: how each passenger becomes ten numbers, and why", st.title)
    note = (
        "The model multiplies each input by a parameter and adds them up, so the inputs should be numbers"
        " of a similar size. Each column is computed on the model sheets by the Excel formula shown, and in"
        " Python by the pandas line beside it (workbench/titanic/features.py holds both). "
        + _counts_note(table)
    )
    _wrapped(ws, st, 1, note)
    heads = ("Column", "Why", "Excel formula", "On linear's first row", "pandas (rows: the table)")
    for j, head in enumerate(heads):
        ws.write_string(3, j, head, st.header)
    for i, d in enumerate(DERIVED):
        excel = d.formula(_NAMES | {"max_Age": "MAX(Age)"})
        ws.set_row(4 + i, 15 * math.ceil(len(d.why) / (WIDTHS[1] - 2)))  # the reason wraps
        for j, text in enumerate((d.name, d.why, excel, row_example[d.name], d.pandas)):
            ws.write_string(4 + i, j, text, wrap if j == 1 else st.text)
    row = 5 + len(DERIVED)
    row = _largest(ws, st, table, ranges, row)
    _dummies(ws, st, wrap, table, ranges, row + 1)
    for k, (x, y, title) in enumerate(
        (("Fare", "log_Fare", "Fare against LOG10(Fare+1)"), ("Age", "Age_N", "Age against Age/MAX(Age)"))
    ):
        ws.insert_chart(3 + 20 * k, len(heads) + 1, _scatter(book, ranges[x], ranges[y], x, y, title))
    for j, width in enumerate(WIDTHS):
        ws.set_column(j, j, width)
    set_up_page(ws)


def _counts_note(table: pd.DataFrame) -> str:
    """SibSp and Parch, used as they are, with the range each runs over on these rows."""
    sib, par = (f"{table[c].min():.0f} to {table[c].max():.0f}" for c in ("SibSp", "Parch"))
    return (
        f"SibSp (siblings or spouses aboard: {sib} on these {len(table)} rows) and Parch (parents or"
        f" children aboard: {par}) are used as they are."
    )


def _largest(ws, st: Styles, table: pd.DataFrame, ranges, row: int) -> int:
    """The largest Age, Fare and log_Fare, live; returns the next free row."""
    ws.write_string(row, 0, "The largest values (live, over the linear sheet's rows)", st.heading)
    lines = (
        ("Age", f"the lesson's: {LESSON_MAX_AGE}. Age_N divides every age by it, so the oldest gets 1"),
        ("Fare", f"the lesson's: {LESSON_MAX_FARE} (512.33). One fare 100 times the common 7 or 8 would"
         " swamp every other input: hence the log"),
        ("log_Fare", "LOG10(512.33+1) = 2.71: near the other inputs' size, so it is not scaled further"),
    )  # fmt: skip
    for i, (name, why) in enumerate(lines, start=1):
        ws.write_string(row + i, 0, f"Max {name}:", st.label)
        ws.write_formula(row + i, 1, f"=MAX({_range(ranges[name])})", st.feature, float(table[name].max()))
        ws.write_string(row + i, 2, why, st.text)
    return row + len(lines) + 2


def _dummies(ws, st: Styles, wrap, table: pd.DataFrame, ranges, row: int) -> None:
    """The n-1 rule, and each level counted live on the linear sheet."""
    ws.write_string(row, 0, "Dummy columns: n levels, n-1 columns", st.heading)
    _wrapped(ws, st, row + 1, _DUMMY_NOTE)
    for j, head in enumerate(("Category", "Level", "Passengers", "Its column")):
        ws.write_string(row + 2, j, head, st.header)
    r = row + 3
    for column, levels, baseline, dummies in DUMMIES:
        for level in levels:
            ws.write_string(r, 0, column, st.text)
            ws.write_string(r, 1, str(level), st.category)
            criterion = f'"{level}"' if isinstance(level, str) else str(level)
            count = int(np.sum(table[column].to_numpy() == level))
            ws.write_formula(r, 2, f"=COUNTIF({_range(ranges[column])},{criterion})", st.whole, count)
            name = dict(zip(levels, dummies.split(", "), strict=False)).get(level)
            text = f"none: the baseline (0 in {dummies})" if level == baseline else name
            ws.write_string(r, 3, text, st.text)
            r += 1


def _wrapped(ws, st: Styles, row: int, text: str) -> None:
    """A note wrapped across the table's columns, its row as tall as its lines."""
    ws.set_row(row, 15 * math.ceil(len(text) / sum(WIDTHS)))
    ws.merge_range(row, 0, row, len(WIDTHS) - 1, text, st.wrapped_note)


def _range(where: tuple[str, int, int, int]) -> str:
    sheet, first, last, col = where
    span = f"{xl_rowcol_to_cell(first, col, True, True)}:{xl_rowcol_to_cell(last, col, True, True)}"
    return f"{quote_sheetname(sheet)}!{span}"


def _scatter(book: xlsxwriter.Workbook, x: tuple, y: tuple, x_name: str, y_name: str, title: str):
    chart = book.add_chart({"type": "scatter"})
    (sheet, first, last, x_col), (_, _, _, y_col) = x, y
    chart.add_series(
        {
            "name": chart_text(y_name),
            "categories": [sheet, first, x_col, last, x_col],
            "values": [sheet, first, y_col, last, y_col],
            "marker": {"type": "circle", "size": 4},
        }
    )
    chart.set_title({"name": chart_text(title), "name_font": {"size": 12}})
    chart.set_x_axis({"name": chart_text(x_name), "major_gridlines": {"visible": False}})
    chart.set_y_axis({"name": chart_text(y_name), "major_gridlines": {"visible": True}})
    chart.set_legend({"none": True})
    chart.set_size({"width": 560, "height": 380})
    return chart
