"""What a learner reads on the sheets: no jargon in cells, no heading cut off by its column.

* ``jargon(path)``: every cell text of a workbook holding a word a learner of the lesson does not
  know yet (the technical term belongs in a cell's note, beside a plain name).
* ``clipped_headings(path)``: every heading cell (the pale blue header style) whose text is longer
  than its column is wide (or, wrapped, than its rows are tall): Excel would cut it off.
"""

from __future__ import annotations

import math
import re

import openpyxl

#: Words that must not appear in a cell's text (formulas are not text).
JARGON = re.compile(r"hessian|eigenvalue|lstsq|gd\+gn\+lbfgs|\bgap\b", re.IGNORECASE)
HEADER_FILL = "FFDDEBF7"  # workbench.sheets.write.style.HEADER_FILL, as openpyxl reads it back
PADDING = 0.7109375  # XlsxWriter stores a column of width w as w + 5 pixels (0.7109375)


def cell_texts(path):
    """(sheet, cell, text) for every text cell of the workbook."""
    for ws in openpyxl.load_workbook(path).worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if cell.data_type == "s" and isinstance(cell.value, str):
                    yield ws.title, cell.coordinate, cell.value


def jargon(path) -> list[str]:
    return [f"{s}!{c}: {t[:80]!r}" for s, c, t in cell_texts(path) if JARGON.search(t)]


def _widths(ws) -> dict[int, float]:
    widths = {}
    for dim in ws.column_dimensions.values():
        if dim.width and dim.min:
            for col in range(dim.min, dim.max + 1):
                widths[col] = dim.width - PADDING
    return widths


def clipped_headings(path) -> list[str]:
    out = []
    for ws in openpyxl.load_workbook(path).worksheets:
        widths = _widths(ws)
        merged = {
            (m.min_row, m.min_col): sum(widths.get(c, 8.43) for c in range(m.min_col, m.max_col + 1))
            for m in ws.merged_cells.ranges
        }
        for row in ws.iter_rows(max_row=min(ws.max_row, 200)):
            for cell in row:
                if not isinstance(cell.value, str) or cell.fill.fgColor.rgb != HEADER_FILL:
                    continue
                width = merged.get((cell.row, cell.column), widths.get(cell.column, 8.43))
                lines = 1
                if cell.alignment.wrap_text:  # 15 points a line; a line holds about width - 2 characters
                    lines = (ws.row_dimensions[cell.row].height or 15) // 15
                    width -= 2
                if math.ceil(len(cell.value) / width) > lines:
                    out.append(f"{ws.title}!{cell.coordinate}: {cell.value!r} in width {width:g}")
    return out
