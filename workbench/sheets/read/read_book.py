"""Read a Titanic workbook back: the parameter cells, as a user (or Excel's Solver) left them.

:func:`read_params` finds each model sheet's parameter cells through the sheet's
Solver model (the hidden defined name ``solver_adj``, which Excel keeps up to date
when rows are inserted or Solver is rerun) and returns them in the models' shapes,
so Python can evaluate what was found in Excel::

    params = wb.read_params("workbooks/titanic.xlsx")
    wb.mse("nnet", params["nnet"], wb.lesson_table())

The file is read by :mod:`workbench.sheets.read.xlsx_reader`, which trusts nothing in it: sizes
are bounded, XML entities refused, and only the rows down to the parameters are read.
Parameters are only ever the finite numbers in the named cells.

:func:`load_params` reads one model's parameters from either a workbook or the JSON
file ``workbench fit --json`` writes (:func:`workbench.titanic.submission.write_params`).
"""

from __future__ import annotations

import os
from collections.abc import Collection
from pathlib import Path

import numpy as np

from ...errors import WorkbenchError, WorkbookError
from ...files import open_regular
from ...titanic.models import param_shape
from ...titanic.submission import KINDS, MAX_JSON_BYTES, Params, params_from_json
from ..model_sheets import MODEL_SHEETS
from .xlsx_reader import MAX_FILE_BYTES, Book, cell_name


def read_params(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The parameters of every model sheet of a workbook written by ``write_titanic_book``.

    Returns:
        sheet -> float64 array in the model's shape: ``linear`` and ``sigmoid`` (10,),
        ``nnet`` (2, 10), ``mmult`` (10, 2). ``sigmoid`` holds parameters of the
        ``linear`` model, evaluated with ``sigmoid=True``.

    Raises:
        WorkbookError: the file is missing, not a regular file, not an xlsx workbook or
            a damaged one, a model sheet or its Solver parameter range is missing or has
            the wrong size, or a parameter cell is empty or not a finite number (the
            message names the cell).
    """
    with Book(path) as book:
        check_model_sheets(book)
        return {sheet: _sheet_params(book, sheet, model) for sheet, model in MODEL_SHEETS.items()}


def load_params(path: str | os.PathLike[str], kind: str | None = None) -> Params:
    """Read parameters from a JSON file (:func:`~workbench.write_params`) or a workbench workbook.

    Args:
        path: a ``.json`` written by ``workbench fit --json``, or an ``.xlsx`` written by
            ``workbench build`` (perhaps changed in Excel since).
        kind: which model: ``linear``, ``nnet``, ``mmult`` or ``sigmoid``. A workbook
            holds all four (default ``nnet``); a JSON file holds one, and ``kind`` must
            match it when given.

    Raises:
        WorkbenchError: a missing file, a file that is neither, an unknown or mismatched
            ``kind``, parameters of the wrong shape or fitted on other features.
    """
    if kind is not None and kind not in KINDS:
        raise WorkbenchError(f"unknown model {kind!r}; choose one of {', '.join(KINDS)}")
    path = Path(path)
    with open_regular(
        path, what="a parameter file or workbook", max_bytes=MAX_FILE_BYTES, missing="no such parameter file"
    ) as f:
        head = f.read(MAX_JSON_BYTES + 1)
    if head.startswith(b"PK"):  # a zip archive: a workbook
        sheet = kind or "nnet"
        model = "linear" if sheet == "sigmoid" else sheet
        return Params(
            read_params(path)[sheet], model=model, sigmoid=sheet == "sigmoid", source=f"{path}, sheet {sheet}"
        )
    if len(head) > MAX_JSON_BYTES:
        raise WorkbenchError(
            f"{path}: is larger than any JSON parameter file ({MAX_JSON_BYTES:,} bytes at most)"
        )
    return params_from_json(path, head, kind)


def read_starts(path: str | os.PathLike[str], sheets: Collection[str]) -> dict[str, np.ndarray]:
    """The grey random starts (the ``Start`` block) of the model sheets ``sheets`` of a workbook."""
    with Book(Path(path)) as book:
        check_model_sheets(book)
        return {sheet: _sheet_params(book, sheet, MODEL_SHEETS[sheet], "Start") for sheet in sheets}


def check_model_sheets(book: Book) -> None:
    """Refuse a workbook without every model sheet."""
    missing = [s for s in MODEL_SHEETS if s not in book.sheetnames]
    if missing:
        raise WorkbookError(
            f"{book.path}: is not a workbench Titanic workbook: it has no sheet {missing[0]!r}"
            f" (its sheets: {', '.join(book.sheetnames)[:200]}); write one with write_titanic_book()"
        )


def _sheet_params(book: Book, sheet: str, model: str, name: str = "solver_adj") -> np.ndarray:
    path: Path = book.path
    what = "Solver parameter range" if name == "solver_adj" else f"{name} parameter range"
    whose = "Solver's parameter range" if name == "solver_adj" else f"the {name} parameter range"
    row1, col1, row2, col2 = book.range(sheet, name, what)
    shape = param_shape("mmult" if sheet == "mmult" else model)
    block = (row2 - row1 + 1, col2 - col1 + 1)
    if block != (shape if len(shape) == 2 else (1, *shape)):
        raise WorkbookError(
            f"{path}: sheet {sheet!r}: {whose}"
            f" {cell_name(row1, col1)}:{cell_name(row2, col2)}"
            f" has {block[0]} x {block[1]} cells; {model} needs {' x '.join(map(str, shape))}"
        )
    values = np.full(block, np.nan)
    for row, cells in book.rows(sheet, last=row2):
        if row < row1:
            continue
        for col in range(col1, col2 + 1):
            value = cells.get(col)
            if isinstance(value, float):
                values[row - row1, col - col1] = value
            elif value is not None:
                raise WorkbookError(
                    f"{path}: parameter cell {sheet}!{cell_name(row, col)} holds {value!r:.40};"
                    " expected a number"
                )
    for i, j in zip(*np.nonzero(np.isnan(values)), strict=True):
        raise WorkbookError(
            f"{path}: parameter cell {sheet}!{cell_name(row1 + i, col1 + j)} is empty; expected a number"
        )
    return values.reshape(shape)
