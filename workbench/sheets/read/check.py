"""``workbench check``: does a Titanic workbook still say what Python computes?

After Solver ran in Excel, or someone typed their own parameters, a workbook's
model sheets hold new parameters and (once the spreadsheet recalculated) new losses
and accuracies: on the train rows, the valid rows (the sheet's ``Set`` column) and every row.
:func:`check_workbook` reads each model sheet's parameters
(:func:`~workbench.sheets.read.read_book.read_params`: the yellow cells every formula reads)
and the passengers in the sheet itself,
recomputes the three losses and accuracies in Python (:func:`~workbench.titanic.models.mse`,
:func:`~workbench.titanic.models.accuracy`), and sets them beside the values stored in the
file; with ``recalc=True`` also beside LibreOffice's, recomputed from the formulas.
They agree when within :data:`TOLERANCE`.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import WorkbookError
from ...titanic.features import RAW, lesson_table
from ...titanic.models import accuracy, mse
from ..model_sheets import MODEL_SHEETS, RESULTS
from .read_book import check_model_sheets, read_params
from .xlsx_reader import Book, cell_name

#: Largest difference between Python's value and the file's that still counts as agreeing
#: (relative to the value beyond 1).
TOLERANCE = 1e-9


@dataclass(frozen=True)
class SheetCheck:
    """One model sheet's rows: Python's loss and accuracy beside the file's (and LibreOffice's).

    ``rows_in`` says which rows: ``"all"`` (the sheet's Total loss and Accuracy), whose
    ``sets`` then hold the same for the ``"train"`` and ``"valid"`` rows. A stored value is
    ``None`` when the file holds none (a program that does not calculate, such as openpyxl,
    saved it) or when LibreOffice was not asked.
    """

    sheet: str
    model: str
    rows: int
    loss: float
    accuracy: float
    file_loss: float | None
    file_accuracy: float | None
    libreoffice_loss: float | None = None
    libreoffice_accuracy: float | None = None
    rows_in: str = "all"
    sets: tuple[SheetCheck, ...] = ()

    @property
    def stored(self) -> list[tuple[float, float | None]]:
        """(Python's value, a stored value) for every stored value there is, these rows' and the sets'."""
        pairs = [
            (self.loss, self.file_loss),
            (self.accuracy, self.file_accuracy),
            (self.loss, self.libreoffice_loss),
            (self.accuracy, self.libreoffice_accuracy),
        ]
        mine = [(value, theirs) for value, theirs in pairs if theirs is not None]
        return mine + [pair for part in self.sets for pair in part.stored]

    @property
    def ok(self) -> bool:
        """Every stored value agrees with Python's, and there is at least one."""
        pairs = self.stored
        # relative beyond 1: a table's loss in squared dollars carries rounding of its own size
        return bool(pairs) and all(
            abs(mine - theirs) <= TOLERANCE * max(1.0, abs(mine)) for mine, theirs in pairs
        )


@dataclass(frozen=True)
class CheckResult:
    """Every model sheet of one workbook, checked."""

    path: Path
    sheets: tuple[SheetCheck, ...]
    recalculated: bool
    metric: str = "accuracy"  # or "rmse": a numeric target's (any table's workbook)

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sheets)

    def report(self) -> str:
        """A table of the values, sheet by sheet, and a verdict a learner can act on."""
        columns = ["Python", "file", *(["LibreOffice"] if self.recalculated else [])]
        head = [
            "sheet",
            "rows",
            *(f"loss ({c})" for c in columns),
            *(f"{self.metric} ({c})" for c in columns),
        ]
        head.append("")
        shown = _percent if self.metric == "accuracy" else _loss
        rows = []
        for sheet in self.sheets:
            for s in (sheet, *sheet.sets):  # every row, then the train and valid rows under it
                losses = [s.loss, s.file_loss, *([s.libreoffice_loss] if self.recalculated else [])]
                accs = [s.accuracy, s.file_accuracy, *([s.libreoffice_accuracy] if self.recalculated else [])]
                verdict = "agree" if s.ok else ("no stored values" if not s.stored else "DISAGREE")
                name = s.sheet if s.rows_in == "all" else f"  {s.rows_in}"
                rows.append([name, str(s.rows), *map(_loss, losses), *map(shown, accs), verdict])
        widths = [max(len(r[j]) for r in [head, *rows]) for j in range(len(head))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in [head, *rows]
        ]
        if self.ok:
            end = (
                f"every stored value agrees with Python within {TOLERANCE:g}"
                " (a sheet's first line: every row; then its train and valid rows)"
            )
        elif not all(s.stored for s in self.sheets):
            end = (
                "the file stores no calculated values for some sheets (a program that does not calculate,"
                " such as openpyxl, saved it): open and save it in Excel or LibreOffice, or use --recalc"
            )
        else:
            end = (
                f"the file and Python disagree (by more than {TOLERANCE:g}): the stored values were not"
                " recalculated after the parameters or data changed; recalculate and save it in Excel or"
                " LibreOffice, or see LibreOffice's numbers with --recalc"
            )
        return "\n".join([str(self.path), *lines, end])


def check_workbook(path: str | os.PathLike[str], *, recalc: bool = False) -> CheckResult:
    """Recompute every model sheet's loss and accuracy in Python and compare them with the file's.

    Python evaluates each sheet's parameters on the passengers in that same sheet
    (its raw columns, scaled as the sheet scales them), so a workbook built from any
    training CSV checks against itself.

    Args:
        path: a workbook written by ``workbench build`` (or :func:`~workbench.write_titanic_book`).
        recalc: also let LibreOffice recompute the file and compare its values too.

    Raises:
        WorkbookError: the file is missing, not an xlsx workbook, or not one of ours.
        WorkbenchError: ``recalc`` and LibreOffice is not installed or fails.
    """
    path = Path(path)
    params = read_params(path)  # also refuses files that are not our workbooks
    stored = _stored_values(path)
    recalculated = None
    if recalc:
        from ..engines.recalc import recalculate

        with tempfile.TemporaryDirectory(prefix="workbench-check-") as tmp:
            recalculated = _stored_values(recalculate(path, tmp))
    checks = []
    for sheet in MODEL_SHEETS:
        table, is_valid, in_file = stored[sheet]
        in_lo = {} if recalculated is None else recalculated[sheet][2]
        train, valid, every = (
            compared(
                sheet,
                rows_in,
                labels,
                _scored(sheet, params[sheet], rows),
                (in_file, in_lo),
            )
            for rows, rows_in, labels in zip(
                (table[~is_valid], table[is_valid], table), ("train", "valid", "all"), RESULTS, strict=True
            )
        )
        checks.append(replace(every, sets=(train, valid)))
    return CheckResult(path, tuple(checks), recalc)


def compared(
    sheet: str,
    rows_in: str,
    labels: tuple[str, str],
    python: tuple[int, float, float],
    stored: tuple[dict[str, float | None], dict[str, float | None]],
) -> SheetCheck:
    """Python's (rows, loss, metric) of one set of a sheet's rows beside the values stored under
    ``labels`` in the file and in LibreOffice's recalculation (``stored``)."""
    (loss, metric), (in_file, in_lo) = labels, stored
    rows, python_loss, python_metric = python
    return SheetCheck(
        sheet=sheet,
        model=MODEL_SHEETS.get(sheet, "linear"),
        rows=rows,
        loss=python_loss if rows else math.nan,
        accuracy=python_metric if rows else math.nan,
        file_loss=in_file.get(loss),
        file_accuracy=in_file.get(metric),
        libreoffice_loss=in_lo.get(loss),
        libreoffice_accuracy=in_lo.get(metric),
        rows_in=rows_in,
    )


def _scored(sheet: str, params: np.ndarray, rows: pd.DataFrame) -> tuple[int, float, float]:
    """The rows, then the loss and accuracy of the sheet's model with ``params`` on them."""
    if not len(rows):
        return 0, math.nan, math.nan
    model, squash = MODEL_SHEETS[sheet], sheet == "sigmoid"
    return len(rows), mse(model, params, rows, sigmoid=squash), accuracy(model, params, rows, sigmoid=squash)


Stored = tuple[pd.DataFrame, np.ndarray, dict[str, float | None]]


def read_lesson_table(path: str | os.PathLike[str], sheet: str = "linear") -> pd.DataFrame:
    """The passengers of a workbench Titanic workbook's model sheet, as a lesson table (its raw
    columns, derived again as the lesson derives them)."""
    with Book(Path(path)) as book:
        check_model_sheets(book)
        return _sheet_values(book, sheet)[0]


def _stored_values(path: Path) -> dict[str, Stored]:
    """Per model sheet: its passengers as a lesson table, which are valid rows, its stored results."""
    with Book(path) as book:
        check_model_sheets(book)
        return {sheet: _sheet_values(book, sheet) for sheet in MODEL_SHEETS}


def _sheet_values(book: Book, sheet: str) -> Stored:
    """Stream the sheet once: the result cells above the header (label, value to its right),
    and the raw columns and ``Set`` below it."""
    path = book.path
    book.range(sheet, "solver_opt", "Solver objective")  # refuses a broken Solver model
    names = (*RAW, "Set")
    block = book.block(sheet, names, lambda cells: cells.get(1) == "Survived", until="Survived")
    if block is None:
        raise WorkbookError(f"{path}: sheet {sheet!r} has no header row starting with 'Survived'")
    if not block.columns["Survived"]:
        raise WorkbookError(f"{path}: sheet {sheet!r} has no passengers below its header row")
    labels = {label for pair in RESULTS for label in pair}
    found: dict[str, tuple[int, int]] = {}
    for (r, c), v in sorted(block.above.items()):
        if v in labels and v not in found:
            found[v] = (r, c + 1)
    missing = sorted(labels - set(found))
    if missing:
        raise WorkbookError(
            f"{path}: sheet {sheet!r} has no cell labelled {missing[0]!r} above its header row"
        )
    columns = {
        name: [
            _raw_value(path, sheet, name, block.where[name], block.header + 1 + i, v)
            for i, v in enumerate(block.columns[name])
        ]
        for name in names
    }
    above = block.above
    n = len(columns["Survived"])
    is_valid = np.array([s == "valid" for s in columns.pop("Set")])
    table = lesson_table(pd.DataFrame({"PassengerId": np.arange(1, n + 1), **columns}))
    return table, is_valid, {label: _number(above.get(found[label])) for label in labels}


def _raw_value(path: Path, sheet: str, name: str, col: int, row: int, v: object) -> object:
    """A raw value: text for Sex and Embarked, train or valid for Set, a number for the rest."""
    text = name in ("Sex", "Embarked", "Set")
    if name == "Set" and isinstance(v, str) and v.lower() in ("train", "valid"):
        return v.lower()  # the sheet's AVERAGEIF matches "Train" too
    if name == "Set" or v is None or isinstance(v, bool) or isinstance(v, str) != text:
        expected = '"train" or "valid"' if name == "Set" else "text" if text else "a number"
        raise WorkbookError(
            f"{path}: cell {sheet}!{cell_name(row, col)} ({name}) holds {v!r:.40}; expected {expected}"
        )
    return v


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _loss(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.12f}"


def _percent(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.4%}"
