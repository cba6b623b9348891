"""``workbench check --grade``: grade a learner's rebuilt ``titanic_clean.xlsx``, task by task.

Each task of :data:`~workbench.sheets.write.clean.TASKS` is right (every cell within
:data:`TOLERANCE` of what Python computes the same way), wrong (the first cell that differs, its
value and the expected one, and the most likely slip, read from the formula typed there), or not
done. Python computes each column from the learner's own cells above it (their inputs, their
parameters, their predictions), so one slip is reported once, where it is made. Solver's step is
graded by its loss: below the start's, and how far above the best known.

The file is read by the hardened reader (:mod:`workbench.sheets.read.xlsx_reader`); a file saved
without the values of its formulas is recalculated by LibreOffice first.
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import WorkbookError
from ...numerics import least_squares_floor
from ...titanic.features import COLUMNS, DERIVED, FEATURES, RAW
from ..write.clean import LAYOUT, TASKS, CleanSheet, cell
from ..write.clean_fit import FitLayout, fit_tasks
from .xlsx_reader import Book

#: Largest difference from Python's value that is still right (relative beyond 1).
TOLERANCE = 1e-9

_REF = re.compile(r"(\$?)([A-Z]{1,3})(\$?)(\d+)")


@dataclass(frozen=True)
class Task:
    """One task's grade: ``status`` is ``right``, ``wrong`` or ``not done``."""

    number: int
    sheet: str
    what: str
    status: str
    detail: str = ""


@dataclass(frozen=True)
class GradeResult:
    path: Path
    tasks: tuple[Task, ...]

    @property
    def ok(self) -> bool:
        return all(t.status == "right" for t in self.tasks)

    def report(self) -> str:
        right = sum(t.status == "right" for t in self.tasks)
        lines = [f"{self.path.name}: {right} of {len(self.tasks)} tasks right"]
        for t in self.tasks:
            line = f"{t.number:>3}. {t.sheet:<7} {t.what:<11} {t.status}"
            lines.append(f"{line}: {t.detail}" if t.detail else line)
        return "\n".join(lines)


@dataclass
class _Sheet:
    """A clean sheet as the learner left it: values and formulas by column name, the parameters."""

    lay: CleanSheet
    values: dict[str, list]  # column -> one value per passenger row
    formulas: dict[str, list]  # column -> one formula (or None: typed or empty) per row
    cells: dict[tuple[int, int], object]  # every value above the header, by 0-based (row, col)
    formula_cells: dict[tuple[int, int], str]
    n: int

    def number(self, row: int, col: int) -> float | None:
        v = self.cells.get((row, col))
        return float(v) if isinstance(v, float) else None

    def block(self, name: str) -> np.ndarray:
        """The ``params`` (yellow) or ``start`` (grey) block as the cells hold it: one row per
        linear unit (an MMULT sheet's columns, as rows), an empty cell read as 0."""
        r1, c1, r2, c2 = self.lay.block(name)
        cells = np.array([[self.number(r, c) or 0.0 for c in range(c1, c2 + 1)] for r in range(r1, r2 + 1)])
        return cells.T if self.lay.mmult else cells


def grade_workbook(path: str | os.PathLike[str]) -> GradeResult:
    """Grade every task of a learner's ``titanic_clean.xlsx`` (see the module's text)."""
    path = Path(path)
    sheets, tasks = _read(path)
    if any(v is None for s in sheets.values() for col in s.formulas for v, f in _pairs(s, col) if f):
        from ..engines.recalc import recalculate  # the file keeps no values of its formulas

        with tempfile.TemporaryDirectory(prefix="workbench-grade-") as tmp:
            values = _read(recalculate(path, tmp))[0]
        for sheet, s in sheets.items():
            s.values, s.cells = values[sheet].values, values[sheet].cells
    graders = {"linear": _grade_linear, "nnet": _grade_nnet, "mmult": _grade_nnet, "fit": _grade_fit}
    found: dict[tuple[str, str], tuple[str, str]] = {}
    for sheet, s in sheets.items():
        found |= {(sheet, what): grade for what, grade in graders[sheet](s).items()}
    graded = [Task(i, sheet, what, *found[sheet, what]) for i, (sheet, what, _) in enumerate(tasks, start=1)]
    return GradeResult(path, tuple(graded))


def _pairs(s: _Sheet, col: str):
    return zip(s.values[col], s.formulas[col], strict=True)


def _read(path: Path) -> tuple[dict[str, _Sheet], tuple[tuple[str, str, str], ...]]:
    """The clean sheets of a titanic_clean.xlsx, or the fit sheet of a line_clean.xlsx (...), and
    their tasks."""
    with Book(path) as book:
        if "fit" in book.sheetnames and "linear" not in book.sheetnames:
            lay = _fit_layout(path, book)
            return {"fit": _sheet(path, book, lay)}, fit_tasks(lay)
        missing = [name for name in LAYOUT if name not in book.sheetnames]
        if missing:
            raise WorkbookError(
                f"{path}: has no sheet {missing[0]!r}; grade a titanic_clean.xlsx or line_clean.xlsx"
                " (workbench build --clean)"
            )
        return {name: _sheet(path, book, lay) for name, lay in LAYOUT.items()}, TASKS


def _fit_layout(path: Path, book: Book) -> FitLayout:
    """A fit sheet's layout, read from its header row and its parameters' names."""
    rows = dict(book.rows("fit", last=FitLayout((), (), ()).header + 1))
    header = [v for _, v in sorted(rows.get(FitLayout((), (), ()).header + 1, {}).items())]
    if len(header) < 6 or header[0] != "y" or header[-3:] != ["Preds", "Error", "Loss"]:
        raise WorkbookError(
            f"{path}: sheet 'fit' row 11 is not a clean fit sheet's header row (y, ..., Loss)"
        )
    design = tuple(str(v) for v in header[1:-3])
    given = tuple(d for d in design if d != "Ones" and not d.endswith("^2"))
    names = [v for _, v in sorted(rows.get(4, {}).items())]
    return FitLayout(design, given, tuple(str(v) for v in names[: len(design)]))


def _sheet(path: Path, book: Book, lay: CleanSheet | FitLayout) -> _Sheet:
    names = list(lay.all_columns)
    rows = dict(book.rows(lay.name))
    formulas = dict(book.rows(lay.name, formulas=True))
    header = rows.get(lay.header + 1, {})
    if [header.get(j + 1) for j in range(len(names))] != names:
        raise WorkbookError(
            f"{path}: sheet {lay.name!r} row {lay.header + 1} is not the clean sheet's header row"
            f" ({', '.join(names[:4])}, ...): grade the file as workbench wrote it, rows and columns in place"
        )
    data = [r for r in sorted(rows) if r > lay.header + 1 and rows[r].get(1) is not None]
    if not data:
        raise WorkbookError(f"{path}: sheet {lay.name!r} has no passengers below its header row")
    values = {name: [rows[r].get(j + 1) for r in data] for j, name in enumerate(names)}
    typed = {name: [formulas.get(r, {}).get(j + 1) for r in data] for j, name in enumerate(names)}
    top = {(r - 1, c - 1): v for r, cells in rows.items() if r <= lay.header for c, v in cells.items()}
    top_f = {(r - 1, c - 1): f for r, cells in formulas.items() if r <= lay.header for c, f in cells.items()}
    return _Sheet(lay, values, typed, top, top_f, len(data))


# --- the linear sheet --------------------------------------------------------------------------


def _raw(s: _Sheet) -> pd.DataFrame:
    return pd.DataFrame({name: s.values[name] for name in RAW})


def _grade_linear(s: _Sheet) -> dict[str, tuple[str, str]]:
    lay, expected = s.lay, _python_inputs(s)
    grades: dict[str, tuple[str, str]] = {}
    true_max = float(pd.to_numeric(_raw(s)["Age"]).max())
    grades["Max"] = _one(s, "Max", lay.max_cell, true_max, f"=MAX of the Age column, {true_max:g}")
    for d in DERIVED:
        grades[d.name] = _column(s, d.name, expected[:, FEATURES.index(d.name)])
    inputs = np.column_stack([_own(s, name) for name in FEATURES])
    grades["Preds"] = _column(s, "Preds", inputs @ s.block("params")[0])
    return grades | _tail(s, "linear")


def _grade_nnet(s: _Sheet) -> dict[str, tuple[str, str]]:
    lay = s.lay
    inputs = np.column_stack([_own(s, name) for name in FEATURES])
    w = s.block("params")
    grades = {}
    for k in range(1, lay.units + 1):
        grades[f"Lin{k}"] = _column(s, f"Lin{k}", inputs @ w[k - 1])
    if lay.mmult:  # one MMULT fills both: one task, its first slip
        wrong = [grades.pop(f"Lin{k}") for k in range(1, lay.units + 1)]
        grades["Lin1:Lin2"] = next((g for g in wrong if g[0] != "right"), wrong[0])
    for k in range(1, lay.units + 1):
        grades[f"ReLU{k}"] = _column(s, f"ReLU{k}", np.maximum(_own(s, f"Lin{k}"), 0))
    grades["Preds"] = _column(s, "Preds", sum(_own(s, f"ReLU{k}") for k in range(1, lay.units + 1)))
    return grades | _tail(s, "nnet", solver=not lay.mmult)


def _tail(s: _Sheet, model: str, *, solver: bool = True) -> dict[str, tuple[str, str]]:
    """Loss, Total loss and Solver's step, each from the learner's own cells before it."""
    y = np.asarray(s.values["Survived"], dtype="float64")
    grades = {"Loss": _column(s, "Loss", (_own(s, "Preds") - y) ** 2)}
    loss = _own(s, "Loss")
    if np.isnan(loss).any():
        grades["Total loss"] = ("after a slip", "the Loss column holds errors from an earlier task")
    else:
        grades["Total loss"] = _one(
            s, "Total loss", s.lay.total, float(np.mean(loss)), "=AVERAGE of the Loss column"
        )
    if solver:
        grades["Solver"] = _solver(s, model, y)
    return grades


def _solver(s: _Sheet, model: str, y: np.ndarray) -> tuple[str, str]:
    """Graded by the loss: the yellow cells' loss against the grey start's and the best known."""
    inputs = _python_inputs(s)
    now, start = _loss(inputs, s.block("params"), y), _loss(inputs, s.block("start"), y)
    best = least_squares_floor(inputs, y)
    where = f"the yellow cells' Total loss {now:.6f}, the grey start's {start:.6f}"
    if not now < start - TOLERANCE:
        return "not done", f"{where}: run Solver to make it smaller"
    above = now - best
    if model == "linear":
        return "right", f"{where}; {above:.6f} above the best any line reaches, {best:.6f}"
    side = "below" if above < 0 else "above"
    return "right", f"{where}; {abs(above):.6f} {side} the best line's {best:.6f} (the ReLUs help when below)"


def _loss(inputs: np.ndarray, w: np.ndarray, y: np.ndarray) -> float:
    preds = inputs @ w[0] if len(w) == 1 else np.maximum(inputs @ w.T, 0).sum(1)
    return float(np.mean((preds - y) ** 2))


def _python_inputs(s: _Sheet) -> np.ndarray:
    """The 10 inputs (n, 10) as Python computes them from the sheet's raw cells (on nnet and
    mmult, where they are given as values, those)."""
    if s.lay.derived_done:
        return np.column_stack([np.asarray(s.values[name], dtype="float64") for name in FEATURES])
    raw = _raw(s)
    top = float(pd.to_numeric(raw["Age"]).max())
    derived = {
        d.name: np.broadcast_to(np.asarray(d.python(raw, top), dtype="float64"), (s.n,)) for d in DERIVED
    }
    return np.column_stack([derived.get(name, raw.get(name)) for name in FEATURES]).astype("float64")


# --- a small regression's fit sheet ---------------------------------------------------------------


def _grade_fit(s: _Sheet) -> dict[str, tuple[str, str]]:
    """The design columns, predictions, errors, losses, MSE, gradient and the step, each from the
    learner's own cells before it."""
    lay: FitLayout = s.lay  # type: ignore[assignment]
    y = np.asarray(s.values["y"], dtype="float64")
    grades = {}
    for d in lay.design:
        if d not in lay.given:
            want = np.ones(s.n) if d == "Ones" else _own(s, d[:-2]) ** 2
            grades[d] = _column(s, d, want)
    x = np.column_stack([_own(s, d) for d in lay.design])
    c0 = lay.col(lay.design[0])
    params = np.array([s.number(lay.row("Params"), c0 + j) or 0.0 for j in range(len(lay.params))])
    grades["Preds"] = _column(s, "Preds", x @ params)
    grades["Error"] = _column(s, "Error", _own(s, "Preds") - y)
    grades["Loss"] = _column(s, "Loss", _own(s, "Error") ** 2)
    loss, error = _own(s, "Loss"), _own(s, "Error")
    if np.isnan(loss).any() or np.isnan(error).any():
        return grades | dict.fromkeys(
            ("MSE", "Gradient", "Next"), ("after a slip", "an earlier column holds errors")
        )
    grades["MSE"] = _one(s, "MSE", lay.mse, float(np.mean(loss)), "=AVERAGE of the Loss column")
    gradient = 2 * (error @ x) / s.n
    grades["Gradient"] = _cells(s, "Gradient", gradient, "2 * SUMPRODUCT(Error, the column) / rows")
    lr = s.number(*lay.lr) or 0.0
    theirs = np.array([s.number(lay.row("Gradient"), c0 + j) for j in range(len(params))], dtype=float)
    step = params - lr * np.where(np.isnan(theirs), gradient, theirs)
    grades["Next"] = _cells(s, "Next", step, "the parameter - lr * its gradient")
    return grades


def _cells(s: _Sheet, row: str, want: np.ndarray, how: str) -> tuple[str, str]:
    """A row of cells under the parameters, one task: right, or its first cell not right."""
    lay: FitLayout = s.lay  # type: ignore[assignment]
    c0 = lay.col(lay.design[0])
    grades = [_one(s, row, (lay.row(row), c0 + j), float(w), how) for j, w in enumerate(want)]
    return next((g for g in grades if g[0] != "right"), grades[0])


# --- comparing cells ---------------------------------------------------------------------------


def _own(s: _Sheet, name: str) -> np.ndarray:
    """A column as the spreadsheet reads it in a formula: numbers as they are, an empty cell as 0,
    and NaN for an error or a text (what a cell computed from it cannot get right)."""
    return np.array([v if isinstance(v, float) else 0.0 if v is None else np.nan for v in s.values[name]])


def _close(got: object, want: float) -> bool:
    return isinstance(got, float) and abs(got - want) <= TOLERANCE * max(1.0, abs(want))


def _column(s: _Sheet, name: str, want: np.ndarray) -> tuple[str, str]:
    """Right, wrong (the first cell that differs, and why) or not done; rows whose expected value
    is NaN compute from an earlier task's errors and are left out (that slip is graded there)."""
    got, typed = s.values[name], s.formulas[name]
    if all(v is None for v in got):
        empty = "SUMPRODUCT then adds no constant: put 1 in every row" if name == "Ones" else "fill it in"
        return "not done", f"column {name} is empty: {empty}"
    after = np.isnan(want)
    for i, (v, w) in enumerate(zip(got, want, strict=True)):
        if not after[i] and not _close(v, float(w)):
            r, c = s.lay.first + i, s.lay.col(name)
            shown = "empty" if v is None else (f"{v:.6g}" if isinstance(v, float) else repr(v))
            slip = _slip(s, name, i, typed, got, want)
            return "wrong", f"{s.lay.name}!{cell(r, c)} is {shown}, expected {float(w):.6g}{slip}"
    if name != "Ones" and any(f is None for f in typed):
        i = next(i for i, f in enumerate(typed) if f is None)
        where = cell(s.lay.first + i, s.lay.col(name))
        return "wrong", f"{s.lay.name}!{where} holds a typed number, not a formula: it won't follow the data"
    if after.all():
        return "after a slip", f"every row of {name} computes from an earlier task's errors"
    return "right", ""


def _one(s: _Sheet, what: str, at: tuple[int, int], want: float, how: str) -> tuple[str, str]:
    got, typed = s.cells.get(at), s.formula_cells.get(at)
    name = f"{s.lay.name}!{cell(*at)}"
    if got is None:
        return "not done", f"{name} is empty ({how})"
    if not _close(got, want):
        shown = f"{got:.6g}" if isinstance(got, float) else repr(got)
        said = _cell_slip(what, (typed or "").upper().replace(" ", ""), s, got, want)
        slip = f". Likely slip: {said}" if said else ""
        return "wrong", f"{name} is {shown}, expected {want:.6g} ({how}){slip}"
    if typed is None:
        return "wrong", f"{name} holds a typed number, not a formula: it would not follow the data"
    return "right", ""


def _cell_slip(what: str, text: str, s: _Sheet, got: object, want: float) -> str:
    """The likely slip behind one wrong cell of task ``what`` (its formula in capitals)."""
    if not text:
        return "a typed number, not a formula" if got is not None else ""
    if "SUM(" in text and "AVERAGE" not in text and what in ("Total loss", "MSE"):
        return "SUM where the mean is needed (AVERAGE)"
    if _ranges_short(text, s):
        return "the range leaves out some of the rows"
    if what == "Gradient" and isinstance(got, float) and abs(2 * got - want) <= 1e-9 * max(1.0, abs(want)):
        return "the factor 2: the slope of a square, (e^2)' = 2 e, times its column"
    if what == "Next" and "+" in text:
        return "a step uphill: the parameter minus lr times its gradient"
    return ""


def _ranges_short(formula: str, s: _Sheet) -> bool:
    """A range over the rows that ends before the last passenger (or point)."""
    ends = re.findall(r":\$?[A-Z]{1,3}\$?(\d+)", formula)
    return bool(ends) and min(int(e) for e in ends) < s.lay.first + s.n


def _slip(s: _Sheet, name: str, i: int, typed: list, got: list, want: np.ndarray) -> str:
    """The most likely slip behind the first wrong cell of column ``name`` (row ``i``)."""
    f = typed[i]
    row = s.lay.first + i + 1  # the 1-based row a formula of this row refers to
    if f is None:
        return ". Likely slip: a typed number, not a formula"
    if not f:  # a formula shared with the cell above (Excel's files), its text not stored here
        return ""
    text = f.upper().replace(" ", "")
    if not _REF.search(text) and name != "Ones":
        return ". Likely slip: a formula with no cell in it computes a constant"
    said = _slip_of(name, text, row, s, got, want)
    return f". Likely slip: {said}" if said else ""


def _slip_of(name, text, row, s: _Sheet, got, want) -> str:
    """The slip behind column ``name``'s formula ``text`` (in capitals) of the 1-based ``row``."""
    lay, refs = s.lay, list(_REF.finditer(text))
    if name == "Age_N":
        below = [m for m in refs if int(m.group(4)) != row]
        age = cell(0, COLUMNS.index("Age")).rstrip("1")
        if any(int(m.group(4)) == row and m.group(2) != age for m in refs) or (not below and "/" in text):
            return "Age divided by a value of its own row: the Max cell is what divides"
        if any(not m.group(3) for m in below):
            fixed = cell(*lay.max_cell, absolute=True)
            return f"the Max cell's reference is relative, so filling down moved it: write {fixed}"
    if name == "log_Fare":
        if "LN(" in text:
            return "the natural log (LN), where the lesson takes LOG10"
        if "+1" not in text:
            return "LOG10(Fare) without the +1 (a fare of 0 then has no log)"
    if name in ("Pclass_1", "Pclass_2", "Embark_S", "Embark_C", "Male"):
        g, w = np.asarray([v if isinstance(v, float) else np.nan for v in got]), np.asarray(want)
        if np.allclose(g, 1 - w, equal_nan=False):
            return "1 and 0 swapped: the column is 1 for the other levels"
        return "the IF compares with another level than the column's name says"
    if name == "Preds" and lay.name == "nnet":
        if any(m.group(2) in (cell(0, lay.col("Lin1"))[:-1], cell(0, lay.col("Lin2"))[:-1]) for m in refs):
            return "Preds adds the Lin columns, where it adds the ReLUs"
        return "Preds is ReLU1 + ReLU2"
    if name in ("Preds", "Lin1", "Lin2"):
        return _sumproduct_slip(text, lay)
    if name == "Loss":
        if "ABS(" in text:
            return "the absolute error, where the lesson squares it"
        if "^2" not in text and "*" not in text:
            return "the error is not squared: (Preds - Survived)^2"
    if name.startswith("ReLU"):
        if re.search(r"MAX\(1,|<1,|,1\)", text):
            return "clipped at 1, where a ReLU clips at 0"
        return "the negative values are not set to 0: IF(Lin<0,0,Lin)"
    return ""


def _sumproduct_slip(text: str, lay: CleanSheet | FitLayout) -> str:
    ranges = re.findall(r"(\$?[A-Z]{1,3}\$?\d+):(\$?[A-Z]{1,3}\$?\d+)", text)
    if len(ranges) < 2:
        return "SUMPRODUCT of two ranges: the row's inputs and the parameters"
    relative = "the parameters' reference is relative, so filling down moved it off the yellow cells: use $"
    ones = cell(0, lay.col("Ones")).rstrip("1")
    if isinstance(lay, FitLayout):
        if re.sub(r"[\$\d]", "", ranges[0][1]) < ones:
            return "the Ones column is left out of SUMPRODUCT (no constant)"
        return relative if "$" not in "".join(ranges[1]) else ""
    last_cols = [re.sub(r"[\$\d]", "", end) for _, end in ranges]
    if any(col < ones for col in last_cols if len(col) == len(ones)):
        return "the Ones column is left out of SUMPRODUCT (no constant)"
    params_row = lay.params[0] + 1
    if any(str(params_row) in begin and "$" not in begin + end for begin, end in ranges):
        return relative
    if all("$" not in b + e for b, e in ranges):
        return relative
    return "a range that is not the row's inputs, or not the yellow parameters"
