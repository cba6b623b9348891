"""``workbench check`` for any table's workbook: does each model sheet still say what Python computes?

As :mod:`workbench.sheets.read.check` does for ``titanic.xlsx``: each model sheet's parameters (its
yellow cells, after Solver or pasting) are evaluated in Python on the rows of
the ``linear`` sheet itself (its columns as read, through the book's own recipe), and the losses
and accuracies (or RMSEs) of the train, valid and all rows are set beside the values stored in
the file, and LibreOffice's with ``recalc=True``.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import replace
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import WorkbookError
from ...tabular.stored import Recipe, apply
from ...titanic.sheet_values import scores
from ..model_sheets import RESULTS, RMSE_RESULTS
from .check import CheckResult, compared
from .table_reader import SHAPES, read_recipe, read_sheet_params
from .xlsx_reader import Book, cell_name


def check_table_book(path: str | os.PathLike[str], *, recalc: bool = False) -> CheckResult:
    """Recompute every model sheet of a table's workbook in Python and compare with the file's values."""
    path = Path(path)
    recipe = read_recipe(path)
    binary = recipe.target.kind == "binary"
    results = RESULTS if binary else RMSE_RESULTS
    x, y, is_valid = _rows(path, recipe)
    stored = _stored(path, results)
    theirs = {}
    if recalc:
        from ..engines.recalc import recalculate

        with tempfile.TemporaryDirectory(prefix="workbench-check-") as tmp:
            theirs = _stored(recalculate(path, tmp), results)
    checks = []
    for sheet, in_file in stored.items():
        params = read_sheet_params(path, sheet, x.shape[1])
        preds = _predict(sheet, params, x)
        parts = [
            compared(
                sheet,
                rows_in,
                labels,
                _scored(preds[m], y[m], binary),
                (in_file, theirs.get(sheet, {})),
            )
            for m, rows_in, labels in zip(
                (~is_valid, is_valid, np.ones_like(is_valid)), ("train", "valid", "all"), results, strict=True
            )
        ]
        checks.append(replace(parts[2], sets=(parts[0], parts[1])))
    return CheckResult(path, tuple(checks), recalc, "accuracy" if binary else "rmse")


def _predict(sheet: str, params: np.ndarray, x: np.ndarray) -> np.ndarray:
    if sheet in ("nnet", "mmult"):
        return np.maximum(x @ params[0], 0) + np.maximum(x @ params[1], 0)
    z = x @ params
    # the sheet's sigmoid clamps z to -300..300: beyond, it is 0 or 1 to 1e-130 and EXP would overflow
    return 1 / (1 + np.exp(-np.clip(z, -300, 300))) if sheet == "sigmoid" else z


def _scored(preds: np.ndarray, y: np.ndarray, binary: bool) -> tuple[int, float, float]:
    """The rows, then the loss and the metric (accuracy, or RMSE for a number) of ``preds``."""
    return (len(y), *scores(preds, y, binary=binary)) if len(y) else (0, math.nan, math.nan)


def _stored(path: Path, results) -> dict[str, dict[str, float | None]]:
    """Per model sheet in the file: each result label's value (the cell to its right)."""
    labels = {label for pair in results for label in pair}
    out = {}
    with Book(path) as book:
        for sheet in (s for s in SHAPES if s in book.sheetnames):
            found: dict[str, float | None] = {}
            for _, cells in book.rows(sheet, last=60):
                for c, v in cells.items():
                    if v in labels and v not in found:
                        right = cells.get(c + 1)
                        found[v] = float(right) if isinstance(right, float) else None
            out[sheet] = found
    return out


def _typed(values: list, index: pd.Index) -> pd.Series:
    """A column as read: numbers (NaN where empty) when every cell is a number or empty, else text."""
    if all(v is None or isinstance(v, float) for v in values):
        return pd.Series([np.nan if v is None else v for v in values], index=index, dtype="float64")
    return pd.Series([np.nan if v is None else v for v in values], index=index, dtype=object)


def _rows(path: Path, recipe: Recipe) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The linear sheet's rows: the features (by the recipe, from the columns as read), the
    target, and which rows are valid (its Set column)."""
    names = [recipe.target.name, *dict.fromkeys(f.source for f in recipe.features if f.source), "Set"]
    with Book(path) as book:
        block = book.block("linear", names, lambda row: {"Set", "Preds"} <= set(row.values()), until="Set")
    if block is None or not block.columns["Set"]:
        raise WorkbookError(
            f"{path}: sheet 'linear' has no header row with Preds and Set, or no rows below it"
        )
    header, where, columns = block.header, block.where, dict(block.columns)
    sets = [str(s).lower() for s in columns.pop("Set")]
    bad = next((i for i, s in enumerate(sets) if s not in ("train", "valid")), None)
    if bad is not None:
        cell = cell_name(header + 1 + bad, where["Set"])
        raise WorkbookError(
            f"{path}: cell linear!{cell} (Set) holds {sets[bad]!r:.40}; expected train or valid"
        )
    index = pd.RangeIndex(header + 1, header + 1 + len(sets), name="row")
    raw = pd.DataFrame({n: _typed(v, index) for n, v in columns.items()}, index=index)
    x, _ = apply(recipe, raw.drop(columns=[recipe.target.name]), f"{path}, sheet 'linear'")
    y = np.asarray(recipe.target.python(raw), dtype="float64")
    return x, y, np.array([s == "valid" for s in sets])
