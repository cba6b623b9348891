"""Read any table's workbook back (``workbench build --data F --target C``): its recipe, and a
model sheet's parameters: the yellow cells (Solver's) that every model formula reads.

The file is read by :mod:`workbench.sheets.read.xlsx_reader`, which trusts nothing in it; the
recipe is the JSON of :mod:`workbench.tabular.stored`, kept on the hidden sheet ``recipe``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from ...errors import WorkbookError
from ...tabular.stored import SHEET as RECIPE_SHEET
from ...tabular.stored import Recipe, loads
from .xlsx_reader import Book, cell_name

#: The model sheets of a table's workbook, and the shape of their parameters for ``p`` features.
SHAPES = {
    "linear": lambda p: (1, p),
    "nnet": lambda p: (2, p),
    "mmult": lambda p: (p, 2),
    "sigmoid": lambda p: (1, p),
}


def is_table_book(path: str | os.PathLike[str]) -> bool:
    """Whether ``path`` is a workbook with a recipe sheet (any table's, not Titanic's)."""
    with Book(path) as book:
        return RECIPE_SHEET in book.sheetnames


def read_recipe(path: str | os.PathLike[str]) -> Recipe:
    """The recipe kept in a table's workbook."""
    with Book(path) as book:
        if RECIPE_SHEET not in book.sheetnames:
            raise WorkbookError(
                f"{path}: has no {RECIPE_SHEET!r} sheet: it is not a workbook of any table's build"
            )
        text = "".join(
            str(cells.get(1, "")) for _, cells in book.rows(RECIPE_SHEET) if isinstance(cells.get(1), str)
        )
    return loads(text, f"{path}, sheet {RECIPE_SHEET!r}")


def read_sheet_params(path: str | os.PathLike[str], sheet: str, features: int) -> np.ndarray:
    """A model sheet's parameters in the model's shape (linear and sigmoid (p,), nnet (2, p),
    mmult (p, 2), returned as nnet's (2, p)), from its yellow cells (Solver's, ``solver_adj``)."""
    if sheet not in SHAPES:
        raise WorkbookError(f"{path}: no model sheet {sheet!r}; choose one of {', '.join(SHAPES)}")
    with Book(path) as book:
        if sheet not in book.sheetnames:
            raise WorkbookError(f"{path}: has no sheet {sheet!r} (a 0/1 target's book alone has sigmoid)")
        block = _block(book, sheet, SHAPES[sheet](features))
    params = block.T if sheet == "mmult" else block
    return params[0] if sheet in ("linear", "sigmoid") else params


def _block(book: Book, sheet: str, shape: tuple[int, int]) -> np.ndarray:
    row1, col1, row2, col2 = book.range(sheet, "solver_adj", "Solver parameter range")
    if (row2 - row1 + 1, col2 - col1 + 1) != shape:
        raise WorkbookError(
            f"{book.path}: sheet {sheet!r}: Solver's parameter range {cell_name(row1, col1)}:"
            f"{cell_name(row2, col2)} is not {shape[0]} x {shape[1]} cells, as its recipe's features need"
        )
    values = np.full(shape, np.nan)
    for row, cells in book.rows(sheet, last=row2):
        for col in range(col1, col2 + 1):
            if row >= row1 and isinstance(cells.get(col), float):
                values[row - row1, col - col1] = cells[col]
    for i, j in zip(*np.nonzero(~np.isfinite(values)), strict=True):
        raise WorkbookError(
            f"{Path(book.path)}: parameter cell {sheet}!{cell_name(row1 + i, col1 + j)} is empty or not"
            " a number"
        )
    return values
