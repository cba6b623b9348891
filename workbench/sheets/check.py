"""``workbench check``: does a Titanic workbook still say what Python computes?

After Solver ran in Excel, or someone typed their own parameters, a workbook's
model sheets hold new parameters and (once the spreadsheet recalculated) new total
losses and accuracies. :func:`check_workbook` reads each model sheet's parameters
(:func:`~workbench.sheets.read_book.read_params`) and the passengers in the sheet itself,
recomputes the loss and accuracy in Python (:func:`~workbench.titanic.models.mse`,
:func:`~workbench.titanic.models.accuracy`), and sets them beside the values stored in the
file; with ``recalc=True`` also beside LibreOffice's, recomputed from the formulas.
They agree when within :data:`TOLERANCE`.
"""

from __future__ import annotations

import math
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ..errors import WorkbookError
from ..titanic.features import RAW, lesson_table
from ..titanic.models import accuracy, mse
from .model_sheets import MODEL_SHEETS
from .read_book import check_model_sheets, read_params
from .xlsx_reader import Book, cell_name

#: Largest difference between Python's value and the file's that still counts as agreeing.
TOLERANCE = 1e-9


@dataclass(frozen=True)
class SheetCheck:
    """One model sheet: Python's loss and accuracy beside the file's (and LibreOffice's).

    A stored value is ``None`` when the file holds none (a program that does not
    calculate, such as openpyxl, saved it) or when LibreOffice was not asked.
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

    @property
    def stored(self) -> list[tuple[float, float | None]]:
        """(Python's value, a stored value) for every stored value there is."""
        pairs = [
            (self.loss, self.file_loss),
            (self.accuracy, self.file_accuracy),
            (self.loss, self.libreoffice_loss),
            (self.accuracy, self.libreoffice_accuracy),
        ]
        return [(mine, theirs) for mine, theirs in pairs if theirs is not None]

    @property
    def ok(self) -> bool:
        """Every stored value agrees with Python's, and there is at least one."""
        pairs = self.stored
        return bool(pairs) and all(abs(mine - theirs) <= TOLERANCE for mine, theirs in pairs)


@dataclass(frozen=True)
class CheckResult:
    """Every model sheet of one workbook, checked."""

    path: Path
    sheets: tuple[SheetCheck, ...]
    recalculated: bool

    @property
    def ok(self) -> bool:
        return all(s.ok for s in self.sheets)

    def report(self) -> str:
        """A table of the values, sheet by sheet, and a verdict a learner can act on."""
        columns = ["Python", "file", *(["LibreOffice"] if self.recalculated else [])]
        head = ["sheet", "rows", *(f"loss ({c})" for c in columns), *(f"accuracy ({c})" for c in columns), ""]
        rows = []
        for s in self.sheets:
            losses = [s.loss, s.file_loss, *([s.libreoffice_loss] if self.recalculated else [])]
            accs = [s.accuracy, s.file_accuracy, *([s.libreoffice_accuracy] if self.recalculated else [])]
            verdict = "agree" if s.ok else ("no stored values" if not s.stored else "DISAGREE")
            rows.append([s.sheet, str(s.rows), *map(_loss, losses), *map(_percent, accs), verdict])
        widths = [max(len(r[j]) for r in [head, *rows]) for j in range(len(head))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(r, widths, strict=True)).rstrip()
            for r in [head, *rows]
        ]
        if self.ok:
            end = f"every stored value agrees with Python within {TOLERANCE:g}"
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
        from .recalc import recalculate

        with tempfile.TemporaryDirectory(prefix="workbench-check-") as tmp:
            recalculated = _stored_values(recalculate(path, tmp))
    checks = []
    for sheet, model in MODEL_SHEETS.items():
        table, file_loss, file_acc = stored[sheet]
        squash = sheet == "sigmoid"
        lo_loss, lo_acc = (None, None) if recalculated is None else recalculated[sheet][1:]
        checks.append(
            SheetCheck(
                sheet=sheet,
                model=model,
                rows=len(table),
                loss=mse(model, params[sheet], table, sigmoid=squash),
                accuracy=accuracy(model, params[sheet], table, sigmoid=squash),
                file_loss=file_loss,
                file_accuracy=file_acc,
                libreoffice_loss=lo_loss,
                libreoffice_accuracy=lo_acc,
            )
        )
    return CheckResult(path, tuple(checks), recalc)


def _stored_values(path: Path) -> dict[str, tuple[pd.DataFrame, float | None, float | None]]:
    """Per model sheet: its passengers as a lesson table, and its stored total loss and accuracy."""
    with Book(path) as book:
        check_model_sheets(book)
        return {sheet: _sheet_values(book, sheet) for sheet in MODEL_SHEETS}


def _sheet_values(book: Book, sheet: str) -> tuple[pd.DataFrame, float | None, float | None]:
    """Stream the sheet once, keeping only the raw columns below the header and three cells."""
    path = book.path
    row, col, _, _ = book.range(sheet, "solver_opt", "Solver objective")
    wanted = {(row, col - 1), (row, col), (row + 1, col - 1), (row + 1, col)}
    seen: dict[tuple[int, int], object] = {}
    names: dict[str, int] | None = None
    columns: dict[str, list[object]] = {name: [] for name in RAW}
    header = ended = 0
    for r, cells in book.rows(sheet):
        seen.update({(r, c): cells.get(c) for rr, c in wanted if rr == r})
        if names is None:
            if cells.get(1) == "Survived":
                header = r
                names = {v: c for c, v in sorted(cells.items(), reverse=True) if isinstance(v, str)}
                missing = [name for name in RAW if name not in names]
                if missing:
                    raise WorkbookError(
                        f"{path}: sheet {sheet!r} has no column {missing[0]!r} in its header row"
                    )
        elif not ended:
            if r != header + 1 + len(columns["Survived"]) or cells.get(1) is None:
                ended = r  # the passengers end at the first empty row
            else:
                for name in RAW:
                    columns[name].append(
                        _raw_value(path, sheet, name, names[name], r, cells.get(names[name]))
                    )
    if names is None:
        raise WorkbookError(f"{path}: sheet {sheet!r} has no header row starting with 'Survived'")
    if not columns["Survived"]:
        raise WorkbookError(f"{path}: sheet {sheet!r} has no passengers below its header row")
    n = len(columns["Survived"])
    table = lesson_table(pd.DataFrame({"PassengerId": np.arange(1, n + 1), **columns}))
    label = seen.get((row + 1, col - 1))
    if label != "Accuracy:":
        raise WorkbookError(
            f"{path}: sheet {sheet!r}: expected 'Accuracy:' below the total loss's label; found {label!r:.40}"
        )
    return table, _number(seen.get((row, col))), _number(seen.get((row + 1, col)))


def _raw_value(path: Path, sheet: str, name: str, col: int, row: int, v: object) -> object:
    """A passenger's raw value: text for Sex and Embarked, a finite number for the rest."""
    text = name in ("Sex", "Embarked")
    if v is None or isinstance(v, bool) or isinstance(v, str) != text:
        raise WorkbookError(
            f"{path}: cell {sheet}!{cell_name(row, col)} ({name}) holds {v!r:.40};"
            f" expected {'text' if text else 'a number'}"
        )
    return v


def _number(value: object) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


def _loss(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.12f}"


def _percent(value: float | None) -> str:
    return "-" if value is None or math.isnan(value) else f"{value:.4%}"
