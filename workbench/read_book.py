"""Read a Titanic workbook back: the parameter cells, as a user (or Excel's Solver) left them.

:func:`read_params` finds each model sheet's parameter cells through the sheet's
Solver model (the hidden defined name ``solver_adj``, which Excel keeps up to date
when rows are inserted or Solver is rerun) and returns them in the models' shapes,
so Python can evaluate what was found in Excel::

    params = wb.read_params("workbooks/titanic.xlsx")
    wb.mse("nnet", params["nnet"], wb.lesson_table())
"""

from __future__ import annotations

import os
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
from openpyxl.utils.cell import get_column_letter, range_boundaries

from .errors import WorkbookError
from .models import param_shape
from .titanic_book import MODEL_SHEETS


def open_workbook(path: Path) -> openpyxl.Workbook:
    """Open an xlsx file read-only with its stored values, or raise a WorkbookError saying why not."""
    if not path.is_file():
        raise WorkbookError(f"{path}: no such workbook")
    if not zipfile.is_zipfile(path):
        raise WorkbookError(f"{path}: is not an .xlsx workbook (an xlsx file is a zip archive; this is not)")
    try:
        return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except Exception as e:  # openpyxl raises many kinds for a damaged or foreign file
        raise WorkbookError(
            f"{path}: cannot be read as an .xlsx workbook ({type(e).__name__}: {e})"
        ) from None


def read_params(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The parameters of every model sheet of a workbook written by ``write_titanic_book``.

    Returns:
        sheet -> float64 array in the model's shape: ``linear`` and ``sigmoid`` (10,),
        ``nnet`` (2, 10), ``mmult`` (10, 2). ``sigmoid`` holds parameters of the
        ``linear`` model, evaluated with ``sigmoid=True``.

    Raises:
        WorkbookError: the file is missing or not an xlsx workbook, a model sheet or its
            Solver parameter range is missing or has the wrong size, or a parameter cell
            is empty or not a number (the message names the cell).
    """
    path = Path(path)
    book = open_workbook(path)
    try:
        missing = [s for s in MODEL_SHEETS if s not in book.sheetnames]
        if missing:
            raise WorkbookError(
                f"{path}: is not a workbench Titanic workbook: it has no sheet {missing[0]!r}"
                f" (its sheets: {', '.join(book.sheetnames)}); write one with write_titanic_book()"
            )
        return {sheet: _sheet_params(path, book, sheet, model) for sheet, model in MODEL_SHEETS.items()}
    finally:
        book.close()


def _sheet_params(path: Path, book: openpyxl.Workbook, sheet: str, model: str) -> np.ndarray:
    ws = book[sheet]
    name = getattr(ws, "defined_names", {}).get("solver_adj")
    if name is None:
        raise WorkbookError(
            f"{path}: sheet {sheet!r} has no Solver parameter range (the defined name solver_adj),"
            " so it is not a workbench Titanic workbook"
        )
    destinations = list(name.destinations)
    if len(destinations) != 1 or destinations[0][0] != sheet:
        raise WorkbookError(
            f"{path}: sheet {sheet!r}: Solver's parameter range {name.attr_text!r} should be one block"
            f" of cells on the sheet {sheet!r}"
        )
    min_col, min_row, max_col, max_row = range_boundaries(destinations[0][1].replace("$", ""))
    shape = param_shape("mmult" if sheet == "mmult" else model)
    block = (max_row - min_row + 1, max_col - min_col + 1)
    if block != (shape if len(shape) == 2 else (1, *shape)):
        raise WorkbookError(
            f"{path}: sheet {sheet!r}: Solver's parameter range {destinations[0][1]} has"
            f" {block[0]} x {block[1]} cells; {model} needs {' x '.join(map(str, shape))}"
        )
    values = np.empty(block, dtype="float64")
    rows = ws.iter_rows(min_row=min_row, max_row=max_row, min_col=min_col, max_col=max_col, values_only=True)
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            cell = f"{sheet}!{get_column_letter(min_col + j)}{min_row + i}"
            if value is None:
                raise WorkbookError(f"{path}: parameter cell {cell} is empty; expected a number")
            if isinstance(value, bool) or not isinstance(value, (int, float)):
                raise WorkbookError(f"{path}: parameter cell {cell} holds {value!r}; expected a number")
            if not np.isfinite(value):
                raise WorkbookError(
                    f"{path}: parameter cell {cell} holds {value!r}; expected a finite number"
                )
            values[i, j] = value
    return values.reshape(shape)
