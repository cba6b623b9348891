"""Reading a written sheet back in the tests: a labelled value, as a reader finds it."""

from __future__ import annotations


def right_of(ws, label: str):
    """The value right of the first cell holding ``label`` (an openpyxl worksheet)."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == label:
                return ws.cell(cell.row, cell.column + 1).value
    raise KeyError(label)
