"""A ``notes`` sheet: the longer words of a book's sheets, under each sheet's name.

A sheet keeps one line above its rows; what it explains at more length (where its numbers came
from, why a descent stalls, what the lesson's video showed) is here, a heading per sheet.
"""

from __future__ import annotations

from collections.abc import Sequence

import xlsxwriter

from .grid import wrapped
from .style import Styles, set_up_page

_WIDTHS = [14] * 10


def write_notes_sheet(
    book: xlsxwriter.Workbook,
    st: Styles,
    title: str,
    notes: Sequence[tuple[str, Sequence[str]]],
    *,
    intro: str = "Each sheet keeps one line above its rows; its longer words are here, under its name.",
    lead: Sequence[str] = (),
) -> None:
    """Add ``notes``: ``title``, ``intro`` and the ``lead`` lines, then for each (sheet, lines) the
    sheet's name and its lines, wrapped."""
    ws = book.add_worksheet("notes")
    ws.write_string(0, 0, title, st.title)
    ws.write_string(1, 0, intro, st.note)
    for k, line in enumerate(lead):
        wrapped(ws, st, 2 + k, line, _WIDTHS)
    row = 3 + len(lead)
    for sheet, lines in notes:
        ws.write_string(row, 0, sheet, st.heading)
        for line in lines:
            row += 1
            wrapped(ws, st, row, line, _WIDTHS)
        row += 2
    for j, w in enumerate(_WIDTHS):
        ws.set_column(j, j, w)
    set_up_page(ws)
