"""The lesson's Titanic workbook: every number a live formula, with Python's value cached beside it.

:func:`write_titanic_book` writes ``workbooks/titanic.xlsx``:

* ``all_rows``: the CSV's passengers, the lesson's 8 columns, blanks blank, autofilter.
* ``features``: each derived column's reason, Excel formula and pandas line, the largest values,
  the n-1 dummy rule, two charts (:mod:`workbench.sheets.write.features_sheet`).
* ``linear``, ``nnet``, ``mmult``: the lesson's sheets (docs/LESSON.md). Raw columns are
  values; each derived column is the formula of :data:`workbench.titanic.features.DERIVED`;
  predictions, ReLUs, losses, the total loss and the accuracy are the ``*_EXCEL``
  templates of :mod:`workbench.titanic.models`. So Python and the workbook cannot drift apart.
  Each model sheet's formulas read the yellow parameters, Solver's cells, fitted when built;
  below them, read by nothing, their random ``Start`` and the ``Fitted`` values (grey, to paste
  back) and a ``New start`` of ``=RAND()-0.5``.
* ``sigmoid``: the linear model squashed into 0..1, with its own parameters.
* any extra sheets (for example the ``descent`` sheet), then ``summary``: every model
  sheet's live total loss and accuracy, a comparison of training runs and a chart of
  their loss curves.

Each formula cell stores the value Python computed (float64), so viewers that do not
recalculate show the right numbers; LibreOffice or Excel recomputes the same ones.
The writer fits nothing: it takes the feature table and the parameters (fitted and
starting) as arguments. Rows are written strictly top to bottom, so
``constant_memory=True`` streams even a sheet of a million rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd
import torch
import xlsxwriter
from numpy.typing import ArrayLike
from xlsxwriter.utility import quote_sheetname

from ...errors import WorkbenchError
from ...numerics import least_squares_floor, uniform_start
from ...regression import Trajectory, descend, max_stable_lr
from ...regression.sheet_values import descent_values
from ...titanic import models
from ...titanic.features import COLUMNS, DERIVED, FEATURES, RAW
from ...titanic.models import MODELS
from ...titanic.sheet_values import Rows, SheetValues, sheet_values
from ...titanic.split import LUCK_SPLITS, validation_split
from ...titanic.submission import Params
from ..model_sheets import MODEL_SHEETS, RESULTS
from ..write.all_rows import write_all_rows_sheet
from ..write.descent import DescentSheet, Look, Points, write_descent_sheet
from ..write.features_sheet import write_features_sheet
from ..write.grid import Block, ref, span
from ..write.model_sheet import COL, FIRST_INPUT, LAST_INPUT, SHEETS, Layout, write_model_sheet
from ..write.solver_names import NAMES as SOLVER_NAMES
from ..write.style import Styles, set_up_page, styles
from ..write.summary import Summary, notes_sheet, split_note, summary_sheet
from ..write.xlsx import check_rows, new_workbook

if TYPE_CHECKING:
    from ...titanic.train import Fit


#: A sheet writer called with the open workbook, e.g. the ``descent`` sheet's.
SheetWriter = Callable[[xlsxwriter.Workbook], object]


#: The name :class:`~workbench.titanic.submission.Params` had here before (``Fitted(params, start)``).
Fitted = Params


def write_titanic_book(
    path: str | os.PathLike[str],
    passengers: pd.DataFrame,
    table: pd.DataFrame,
    fits: Mapping[str, Fit | Params],
    *,
    comparison: pd.DataFrame | None = None,
    histories: Mapping[str, ArrayLike] | None = None,
    extra_sheets: Sequence[SheetWriter] = (),
    valid: ArrayLike | None = None,
    choice: str | None = None,
    units: pd.DataFrame | None = None,
    luck: float | None = None,
    constant_memory: bool = False,
) -> Path:
    """Write the lesson's workbook to ``path`` (whole or not at all) and return the path.

    Args:
        passengers: the raw passengers (:func:`~workbench.load_titanic`), for ``all_rows``.
        table: the lesson's feature table (:func:`~workbench.lesson_table` of ``passengers``).
        fits: per sheet ``linear``, ``nnet``, ``sigmoid`` (and optionally ``mmult``): a
            :class:`~workbench.titanic.train.Fit` or a :class:`~workbench.titanic.submission.Params`,
            whose ``.params`` have the model's shape ((10,), (2, 10), (10,); ``mmult``
            (10, 2)) and ``.start`` the same shape, or None. ``mmult`` defaults to
            ``nnet``'s parameters transposed, as in the lesson. Parameters are stored to 16
            significant digits (all an xlsx number cell keeps), and the cached values are
            computed from exactly those.
        comparison: one row per training run (model, method, loss, accuracy, ...) for the
            ``summary`` sheet, written as given.
        histories: training loss per epoch, label -> 1-D sequence, drawn as the summary's chart.
        extra_sheets: writers of more sheets, called in order with the open workbook,
            between ``sigmoid`` and ``summary``.
        valid: the PassengerIds of the validation rows (each model sheet's ``Set`` column
            says ``valid`` for them, ``train`` for the rest); by default
            :func:`~workbench.titanic.split.validation_split`'s 20%, seed 42.
        choice: a sentence for the summary: which model was chosen on validation, and why.
        units: the over-fitting table (:func:`~workbench.titanic.compare.more_units`) for the
            summary, drawn as a chart.
        luck: the share of :data:`~workbench.titanic.split.LUCK_SPLITS` random splits on which the
            linear model's valid loss is below its train loss
            (:func:`~workbench.titanic.split.valid_below_train`), said on the summary beside the
            sheets' own valid and train losses; ``None``: not said.
        constant_memory: stream rows to disk (for very large tables).

    Raises:
        WorkbenchError: a missing fit, parameters of the wrong shape, a table that is not a
            lesson table of ``passengers``, or more rows than an Excel sheet holds. Nothing
            is written then.
    """
    params, starts = _check_fits(fits)
    _check_table(table, passengers)
    is_valid = _valid_rows(table, valid)
    # Refuse what would fail half-way before writing a million rows of the other sheets.
    for sheet in MODEL_SHEETS:
        check_rows(len(table), Layout.of(SHEETS[sheet]).first, sheet=sheet)
    histories = {k: _loss_curve(k, v) for k, v in (histories or {}).items()}
    # Every number the sheets cache, before the first is written.
    sheets = _sheet_values(table, params, starts, is_valid)
    with new_workbook(
        path, title="Titanic: fast.ai lesson 3", constant_memory=constant_memory, hidden_names=SOLVER_NAMES
    ) as book:
        st = styles(book)
        write_all_rows_sheet(book, st, passengers)
        _features(book, st, table)
        infos = [write_model_sheet(book, st, sheet, table, sheets[sheet]) for sheet in MODEL_SHEETS]
        made = [write(book) for write in extra_sheets]
        luck_note = "" if luck is None else split_note(infos, luck, LUCK_SPLITS)
        summary_sheet(book, st, infos, Summary(comparison, histories, choice, units, luck=luck_note))
        more = [(m.sheet, m.notes) for m in made if isinstance(m, DescentSheet)]  # their longer words
        notes_sheet(book, st, [(i.sheet, i.notes) for i in infos] + more)
    return Path(path)


def _features(book: xlsxwriter.Workbook, st: Styles, table: pd.DataFrame) -> None:
    """The ``features`` sheet, reading the ``linear`` sheet's columns."""
    lay, last = Layout.of(SHEETS["linear"]), Layout.of(SHEETS["linear"]).first + len(table) - 1
    ranges = {name: ("linear", lay.first, last, COL[name]) for name in COLUMNS}
    refs = {name: ref(lay.first, COL[name]) for name in RAW}
    refs["max_Age"] = ref(lay.max_row, COL["Age"], absolute=True)
    write_features_sheet(book, st, table, ranges, row_example={d.name: d.formula(refs) for d in DERIVED})


def input_ranges(rows: int, sheet: str = "linear") -> tuple[str, str]:
    """Where a model sheet of ``rows`` passengers keeps its inputs and targets.

    Returns absolute ranges ``(inputs, target)``: the ``rows`` x 10 block of the
    :data:`~workbench.titanic.features.FEATURES` columns and the ``Survived`` column, e.g.
    ``("linear!$G$11:$P$722", "linear!$A$11:$A$722")`` for the lesson's 712 rows.
    Another sheet computing from these cells (such as the ``descent`` sheet, given to
    :func:`write_titanic_book` in ``extra_sheets``) follows any edit of the data.
    """
    if sheet not in MODEL_SHEETS:
        raise WorkbenchError(f"no model sheet is called {sheet!r}; the sheets are {', '.join(MODEL_SHEETS)}")
    first = Layout.of(SHEETS[sheet]).first
    where = quote_sheetname(sheet)
    inputs = span(first, FIRST_INPUT, first + rows - 1, LAST_INPUT, absolute=True)
    return f"{where}!{inputs}", f"{where}!{span(first, 0, first + rows - 1, 0, absolute=True)}"


def params_range(sheet: str = "linear") -> str:
    """The absolute range of a model sheet's yellow parameters, the cells its formulas read (after
    Solver, the fitted ones), e.g. ``"linear!$G$7:$P$7"``."""
    if sheet not in MODEL_SHEETS:
        raise WorkbenchError(f"no model sheet is called {sheet!r}; the sheets are {', '.join(MODEL_SHEETS)}")
    return f"{quote_sheetname(sheet)}!{Layout.of(SHEETS[sheet]).cells('params')}"


def add_model_sheet(
    book: xlsxwriter.Workbook,
    sheet: str,
    table: pd.DataFrame,
    fits: Mapping[str, Fit | Params],
    valid: ArrayLike | None = None,
) -> None:
    """The model sheet ``sheet`` of :func:`write_titanic_book`, alone in the open ``book``.

    ``table``, ``fits`` and ``valid`` as :func:`write_titanic_book` takes them (every sheet's
    fits are checked, as there); for example to time one sheet kind (bench/recalc_cost.py).
    """
    params, starts = _check_fits(fits)
    if sheet not in MODEL_SHEETS:
        raise WorkbenchError(f"no model sheet is called {sheet!r}; the sheets are {', '.join(MODEL_SHEETS)}")
    values = _sheet_values(table, {sheet: params[sheet]}, starts, _valid_rows(table, valid))
    write_model_sheet(book, styles(book), sheet, table, values[sheet])


def _sheet_values(
    table: pd.DataFrame,
    params: Mapping[str, np.ndarray],
    starts: Mapping[str, np.ndarray | None],
    is_valid: np.ndarray,
) -> dict[str, SheetValues]:
    """Every number each model sheet of ``params`` caches."""
    rows = Rows(models.inputs(table).numpy(), models.targets(table).numpy(), is_valid)
    return {
        sheet: sheet_values(SHEETS[sheet].model, SHEETS[sheet].sigmoid, rows, p, starts[sheet], RESULTS)
        for sheet, p in params.items()
    }


def _loss_curve(name: object, values: ArrayLike) -> np.ndarray:
    """A run's training loss per epoch, checked: what the summary charts."""
    curve = np.asarray(values.detach() if isinstance(values, torch.Tensor) else values, dtype="float64")
    if curve.ndim != 1 or len(curve) == 0 or not np.isfinite(curve).all():
        raise WorkbenchError(
            f"the loss history {name!r} must be a non-empty list of finite numbers, one per epoch;"
            f" got shape {curve.shape}"
        )
    return curve


def _check_fits(
    fits: Mapping[str, Fit | Params],
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray | None]]:
    # A sheet whose model is another's transposed (mmult: nnet's) may be left out: it reuses those.
    derived = {s: SHEETS[s].model.transpose_of for s in MODEL_SHEETS if SHEETS[s].model.transpose_of}
    missing = [s for s in MODEL_SHEETS if s not in fits and s not in derived]
    if missing:
        optional = f"; {', '.join(derived)} may be left out" if derived else ""
        raise WorkbenchError(
            f"write_titanic_book needs parameters for the sheet {missing[0]!r}"
            f" (got {', '.join(map(repr, fits)) or 'none'}{optional})"
        )
    unknown = [s for s in fits if s not in MODEL_SHEETS]
    if unknown:
        raise WorkbenchError(
            f"no model sheet is called {unknown[0]!r}; the sheets are {', '.join(MODEL_SHEETS)}"
        )
    params: dict[str, np.ndarray] = {}
    starts: dict[str, np.ndarray | None] = {}
    for sheet, model in MODEL_SHEETS.items():
        if sheet in fits:
            fit, transpose = fits[sheet], False
        else:  # the lesson's mmult sheet reuses nnet's parameters, transposed
            fit, transpose = fits[MODELS[derived[sheet]].sheet], True
        start = getattr(fit, "start", None)
        params[sheet] = _as_params(sheet, model, fit.params, transpose, "fitted")
        starts[sheet] = None if start is None else _as_params(sheet, model, start, transpose, "starting")
    return params, starts


def _as_params(sheet: str, model: str, value: Any, transpose: bool, what: str) -> np.ndarray:
    array = np.asarray(value.detach() if isinstance(value, torch.Tensor) else value, dtype="float64")
    array = array.T if transpose else array
    try:
        models.as_params(model, array)
    except WorkbenchError as e:
        raise WorkbenchError(f"sheet {sheet!r}, {what} parameters: {e}") from None
    # What the cell will hold: an xlsx number keeps 16 significant digits.
    return np.vectorize(lambda v: float(f"{v:.16g}"), otypes=["float64"])(array)


def _check_table(table: pd.DataFrame, passengers: pd.DataFrame) -> None:
    missing = [c for c in COLUMNS if c not in table]
    if missing:
        raise WorkbenchError(
            f"the feature table has no column {missing[0]!r}; build it with lesson_table(passengers)"
        )
    if table.empty:
        raise WorkbenchError("the feature table has no rows")
    blank = table[list(COLUMNS)].isna().any()
    if blank.any():
        column = blank.index[blank][0]
        raise WorkbenchError(
            f"the feature table has a blank {column!r}; the lesson's sheets need every value"
        )
    # The sheet computes every derived column from its raw cells, with Age scaled by the
    # sheet's own MAX(Age): the cached values must be what those formulas give.
    max_age = float(table["Age"].max())
    for d in DERIVED:
        expected = np.broadcast_to(np.asarray(d.python(table, max_age), dtype="float64"), (len(table),))
        if not np.allclose(table[d.name].to_numpy(dtype="float64"), expected, rtol=1e-12, atol=0):
            raise WorkbenchError(
                f"the feature table's {d.name!r} is not {d.excel} on its own rows (for Age_N, Age must be"
                " scaled by the table's own maximum); build it with lesson_table(passengers)"
            )
    for column in ("PassengerId", "Survived", *RAW):
        if column not in passengers:
            raise WorkbenchError(f"the passengers have no column {column!r}; read them with load_titanic()")
    unknown = ~table.index.isin(passengers["PassengerId"])
    if unknown.any():
        raise WorkbenchError(
            f"the feature table has PassengerId {table.index[unknown][0]}, which is not among the"
            " passengers; pass the passengers the table was built from"
        )


def _valid_rows(table: pd.DataFrame, valid: ArrayLike | None) -> np.ndarray:
    """``True`` for the table's validation rows; both sets must have rows (else AVERAGEIF divides by 0)."""
    if valid is None:
        return table.index.isin(validation_split(table)[1].index)
    ids = pd.Index(np.asarray(valid).ravel())
    unknown = ~ids.isin(table.index)
    if unknown.any():
        raise WorkbenchError(f"valid: PassengerId {ids[unknown][0]} is not a row of the feature table")
    mask = table.index.isin(ids)
    if mask.all() or not mask.any():
        raise WorkbenchError(
            f"valid: {int(mask.sum())} of {len(table)} rows are validation rows; the train and valid"
            " sets each need at least one row"
        )
    return mask


# ---------------------------------------------------------------------------------------------
# descent: the linear model trained by the spreadsheet (the generic writer is workbench.sheets.write.descent)

#: The Titanic descent's defaults: lr 0.1 (it diverges above 0.209) for 100 steps.
TITANIC_LR = 0.1
TITANIC_EPOCHS = 100


def titanic_descent(
    table: pd.DataFrame, *, lr: float = TITANIC_LR, epochs: int = TITANIC_EPOCHS, seed: int = 0
) -> Trajectory:
    """The lesson's linear model descended on every row of ``table`` from the seeded ``RAND()-0.5``
    start: what the ``descent`` sheet redoes by formulas, computed before it is written."""
    x, y = models.inputs(table).numpy(), models.targets(table).numpy()
    start = uniform_start((len(FEATURES),), seed)
    return replace(descend(x, y, start, kind="linear", lr=lr, epochs=epochs), seed=seed)


def add_titanic_descent_sheet(
    book: xlsxwriter.Workbook,
    table: pd.DataFrame,
    trajectory: Trajectory,
    *,
    ranges: tuple[str | Block, str | Block] | None = None,
    name: str = "descent",
    notes_sheet: bool = False,
) -> DescentSheet:
    """Add a ``descent`` sheet for the lesson's Titanic ``linear`` model to ``book``.

    Args:
        table: the lesson table (:func:`~workbench.lesson_table`).
        trajectory: the descent the sheet redoes, computed before the book was opened: the lesson's
            linear model from the seeded ``RAND()-0.5`` start (:func:`titanic_descent`).
        ranges: where the 712 x 10 inputs (``FEATURES``, adjacent, in order) and the
            ``Survived`` column already are, e.g. on the ``linear`` sheet (:func:`input_ranges`).
            By default a sheet ``<name>_data`` is added holding them as values.
        notes_sheet: the book gets a notes sheet (as :func:`write_titanic_book` writes, given the
            returned sheet): the longer words go there, else into the title's comment.

    Returns:
        Where the sheet keeps things, its notes, and ``trajectory``, whose values the sheet caches.

    Raises:
        WorkbenchError: a trajectory that is not of the lesson's linear model.
    """
    x, y = models.inputs(table).numpy(), models.targets(table).numpy()
    if trajectory.kind != "linear" or trajectory.params.shape[1:] != (len(FEATURES),):
        raise WorkbenchError(
            "the trajectory is not the lesson's linear model (10 parameters): compute it with"
            " titanic_descent(table, lr=, epochs=, seed=)"
        )
    if ranges is not None and len(ranges) != 2:
        raise WorkbenchError("ranges: a pair, where the inputs are and where the target is")
    inputs, target = _titanic_data_sheet(book, x, y, f"{name}_data") if ranges is None else ranges
    seed = "" if trajectory.seed is None else f" (seed {trajectory.seed})"
    floor = least_squares_floor(x, y)
    return write_descent_sheet(
        book,
        trajectory,
        Points(inputs, target, (x, y), [*FEATURES[:-1], "Const"]),
        Look(
            name=name,
            title="descent: the linear model trained by the spreadsheet, step by step",
            notes=[
                f"Titanic, {len(x)} passengers (every row, train and valid), 10 inputs; start RAND()-0.5"
                f"{seed}; the least-squares floor over these rows is MSE {floor:.4f}. (The"
                " linear sheet's Solver minimises the train rows' loss instead.)"
            ],
            bands=True,
            notes_sheet=notes_sheet,
        ),
        values=descent_values(trajectory, (x, y), stable_lr=max_stable_lr(x), floor=floor),
    )


def _titanic_data_sheet(
    book: xlsxwriter.Workbook, x: np.ndarray, y: np.ndarray, name: str
) -> tuple[Block, Block]:
    """A sheet with Survived and the 10 inputs as values; returns (inputs, target) blocks."""
    st = styles(book)
    ws = book.add_worksheet(name)
    ws.write_string(0, 0, "Survived", st.header)
    for j, f in enumerate(FEATURES):
        ws.write_string(0, 1 + j, f, st.header)
    scaled = {FEATURES.index("Age_N"), FEATURES.index("log_Fare")}  # the rest are whole numbers
    for i in range(len(y)):
        ws.write_number(1 + i, 0, y[i], st.whole)
        for j in range(x.shape[1]):
            ws.write_number(1 + i, 1 + j, x[i, j], st.feature if j in scaled else st.whole)
    ws.set_column(0, len(FEATURES), 10)
    ws.freeze_panes(1, 0)
    set_up_page(ws, header_row=0)
    n = len(y)
    return Block(name, 1, 1, n, len(FEATURES)), Block(name, 1, 0, n, 0)
