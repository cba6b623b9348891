"""``titanic.xlsx``'s ``all_rows`` sheet: every passenger of the CSV, blanks blank, with filters."""

from __future__ import annotations

import pandas as pd
import xlsxwriter

from .grid import row_blocks
from .style import Styles, set_up_page
from .xlsx import check_rows


def write_all_rows_sheet(book: xlsxwriter.Workbook, st: Styles, passengers: pd.DataFrame) -> None:
    ws = book.add_worksheet("all_rows")
    columns = [c for c in ("PassengerId", "Name") if c in passengers]
    columns += ["Survived", "Pclass", "Sex", "Age", "SibSp", "Parch", "Fare", "Embarked"]
    formats = {
        "Name": st.text,
        "Sex": st.category,
        "Embarked": st.category,
        "Age": st.number,
        "Fare": st.money,
    }
    widths = {"Name": 46, "PassengerId": 11, "Survived": 9, "Embarked": 10}
    n = len(passengers)
    header = 4
    check_rows(n, header + 1, sheet="all_rows")

    missing = ", ".join(f"{int(passengers[c].isna().sum())} {c}" for c in ("Age", "Embarked"))
    ws.write_string(0, 0, "all_rows: every passenger of Kaggle's Titanic train.csv", st.title)
    notes = (
        f"{n} passengers; the 8 columns the lesson keeps, with PassengerId and Name for reference."
        " A blank cell is missing in the CSV.",
        f"Missing here: {missing}. The model sheets drop those rows."
        " Use the filter buttons on the header row to explore.",
    )
    for i, note in enumerate(notes, start=1):
        ws.write_string(i, 0, note, st.note)
    for j, name in enumerate(columns):
        ws.set_column(j, j, widths.get(name, 8))
        ws.write_string(header, j, name, st.header)

    # Per column: its values, its blanks, its formats for text and numbers.
    data = [
        (passengers[c].to_numpy(), pd.isna(passengers[c]).to_numpy(),
         formats.get(c, st.text), formats.get(c, st.whole))
        for c in columns
    ]  # fmt: skip
    for rows in row_blocks(n):
        block = [(values[rows].tolist(), blank[rows].tolist(), *fmts) for values, blank, *fmts in data]
        for i in range(rows.stop - rows.start):
            r = header + 1 + rows.start + i
            for j, (values, blank, text_fmt, number_fmt) in enumerate(block):
                if blank[i]:
                    continue
                value = values[i]
                if isinstance(value, str):  # text stays text, never a formula, even after F2 Enter in Excel
                    ws.write_string(r, j, value, st.text if value[:1] in "=+-@" else text_fmt)
                else:
                    ws.write_number(r, j, float(value), number_fmt)
    ws.autofilter(header, 0, header + n, len(columns) - 1)
    ws.freeze_panes(header + 1, 0)
    set_up_page(ws, header_row=header)
