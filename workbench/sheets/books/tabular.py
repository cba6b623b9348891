"""A lesson workbook for any prepared table: titanic.xlsx's kinds of sheets, every number a live formula.

:func:`write_tabular_book` writes, for a :class:`~workbench.tabular.Prepared` table and its fits
(:func:`~workbench.tabular.fit.fit_prepared`):

* ``features``: the target and each feature with its reason, its pandas line beside its Excel
  formula, a row's value before and after; the columns left out and why.
* ``linear``: the target in column A, the columns as read, then each feature as its recipe's
  formula (scales and fills are formulas above the header), then the model's columns, as
  :mod:`workbench.sheets.books.titanic` writes them (its :class:`~workbench.sheets.write.grid.Grid`
  says where). ``nnet``, ``mmult``, and ``sigmoid`` for a 0/1 target: the target, the parameters
  and the model's columns, reading the inputs of the ``linear`` sheet's same row. Train and valid
  loss beside the parameters, with accuracy for a 0/1 target and RMSE for a numeric one; Solver
  set up to minimise the train loss.
* ``descent``: gradient descent of the linear model by formulas, on the ``linear`` sheet's cells.
* ``summary``: each model sheet's live results and the fits' table.

The writer fits nothing. The sigmoid is :data:`~workbench.numerics.STABLE_SIGMOID_EXCEL`, which
cannot overflow however far a row's linear value lies below zero.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import xlsxwriter
from numpy.typing import ArrayLike

from ...errors import WorkbenchError
from ...limits import check_memory
from ...numerics import STABLE_SIGMOID_EXCEL, least_squares_floor, uniform_start
from ...regression import Trajectory, descend, max_stable_lr
from ...regression.sheet_values import descent_values
from ...tabular import columns as C
from ...tabular import stored
from ...tabular.fit import net_starts
from ...tabular.recipe import Prepared
from ...titanic import models
from ...titanic.sheet_values import Rows, SheetValues, sheet_values
from ...titanic.split import valid_mask
from ...titanic.submission import Params
from ..model_sheets import RESULTS, RMSE_RESULTS
from ..write.descent import Look, Points, write_descent_sheet
from ..write.grid import (
    BLOCK_ROWS,
    MARK,
    MARK_ROW,
    Block,
    Grid,
    OneWriter,
    Plan,
    RowOrdered,
    RowSortedBook,
    ref,
    span,
    write_plan,
)
from ..write.model_sheet import (
    BLOCKS,
    LOSS_WIDTH,
    POINTER,
    POINTER_WITHOUT_START,
    SHEETS,
    Layout,
    SheetInfo,
    model_columns,
    name_blocks,
    name_results,
    parameter_block,
    path_note,
    teaching_example,
    totals,
)
from ..write.solver_names import NAMES as SOLVER_NAMES
from ..write.solver_names import define_solver
from ..write.style import Styles, set_up_page, styles
from ..write.summary import Summary, notes_sheet, summary_sheet
from ..write.xlsx import MAX_ROWS, check_rows, new_workbook

#: The results of a numeric target: its RMSE where a 0/1 target has its accuracy.

#: The descent sheet's steps; its learning rate is half the largest stable one, rounded.
DESCENT_EPOCHS = 100

#: Memory XlsxWriter holds per cell until the file is saved (about 200 bytes measured, with margin),
#: unless it streams (``constant_memory``): then a sheet holds its columns as arrays (8 bytes a
#: number, a pointer and an object for a value as read) and a block of
#: :data:`~workbench.sheets.write.grid.BLOCK_ROWS` rows as Python objects (about 40 bytes a cell).
#: The numbers are upper bounds, with margin over what bench/tabular_build.py measures.
BYTES_PER_CELL, STREAMED_BYTES_PER_CELL, BLOCK_BYTES_PER_CELL = 300, 16, 40


def book_memory(prep: Prepared, *, constant_memory: bool = True) -> int:
    """About how many bytes :func:`write_tabular_book` needs for ``prep``'s cells."""
    rows, p = len(prep.table), len(prep.features)
    linear = 1 + _mapped(prep) + len(_raw_columns(prep)) + p + 4
    others = 3 * (1 + 7)  # nnet, mmult, sigmoid: the target and the model's columns
    small = 2 * DESCENT_EPOCHS * p + p * p
    if not constant_memory:
        return BYTES_PER_CELL * (rows * (linear + others) + small)
    block = min(rows, BLOCK_ROWS) * linear  # the widest sheet's block
    return STREAMED_BYTES_PER_CELL * rows * linear + BLOCK_BYTES_PER_CELL * block + BYTES_PER_CELL * small


def write_tabular_book(
    path: str | os.PathLike[str],
    prep: Prepared,
    fits: Mapping[str, Params],
    *,
    valid: ArrayLike | None = None,
    seed: int = 0,
    title: str | None = None,
    constant_memory: bool = True,
) -> Path:
    """Write ``prep``'s workbook to ``path`` (whole or not at all) and return the path.

    Args:
        prep: the table (:func:`~workbench.tabular.prepare`).
        fits: from :func:`~workbench.tabular.fit.fit_prepared`: ``linear``, ``nnet``, and
            ``sigmoid`` for a 0/1 target (``mmult`` shows ``nnet``'s parameters transposed).
        valid: ``True`` for the validation rows; by default
            :func:`~workbench.titanic.split.valid_mask`'s 20%, seed 42, as the fits use.
        seed: seeds the descent sheet's random start.
        title: the workbook's title (default: the file's name).
        constant_memory: stream each sheet's rows to disk as they are written (XlsxWriter keeps
            one row in memory, not every cell until the file is saved); False keeps every cell,
            for the same cells (text then goes to XlsxWriter's shared table, not into each cell).

    Raises:
        WorkbenchError: fits missing or of the wrong shape, a ``valid`` that is not a mask of
            the rows with rows in both sets, more rows than a sheet holds, or more memory than
            the budget (:mod:`workbench.limits`). Nothing is written then.
    """
    if not isinstance(prep, Prepared):
        raise WorkbenchError(f"write_tabular_book takes a Prepared table; got {type(prep).__name__}")
    n = len(prep.table)
    default = valid_mask(n) if prep.valid is None else prep.valid
    is_valid = default if valid is None else np.asarray(valid, dtype=bool)
    if is_valid.shape != (n,) or is_valid.all() or not is_valid.any():
        raise WorkbenchError(
            f"valid: one True or False per row of the table ({n}), with rows in each set;"
            f" got {int(is_valid.sum())} True of shape {is_valid.shape}"
        )
    if prep.valid is not None and not np.array_equal(is_valid, prep.valid):
        # the sheet's statistics read the train rows of its Set column: they must be the recipe's
        raise WorkbenchError(
            "valid: the recipe's statistics (largest values, fills, levels) come from the train rows of"
            " prep.valid; write the book with valid=prep.valid, or prepare the table again"
        )
    params = _check_fits(prep, fits)
    check_table_rows(prep)
    need = book_memory(prep, constant_memory=constant_memory)
    check_memory(need, f"writing {Path(path).name} ({n:,} rows)", "the number of rows")
    results, values = _results(prep), _values(prep, params, fits, is_valid)  # before writing
    descent = _descent(prep, seed)
    name = title or Path(path).stem
    with new_workbook(path, title=name, hidden_names=SOLVER_NAMES, constant_memory=constant_memory) as book:
        st = styles(book)
        _features_sheet(book, st, prep, _grid(prep), name)
        infos = [_model_sheet(book, st, sheet, prep, _grid(prep, sheet), v) for sheet, v in values.items()]
        sorted_book = RowSortedBook(book)
        _descent_sheet(sorted_book, prep, _grid(prep), seed, descent)  # its sums stand beside its first steps
        sorted_book.flush()
        lines = (*((f"Rows: {prep.sample}.",) if prep.sample else ()), *summary_lines(prep, is_valid))
        summary = Summary(_comparison(prep, fits, infos), lines=lines, results=results)
        summary_sheet(book, st, infos, summary)
        rows = [("rows", (f"Every sheet holds {prep.sample}.",))] if prep.sample else []
        notes_sheet(book, st, [*rows, *((i.sheet, i.notes) for i in infos)])
        _recipe_sheet(book, prep)
    return Path(path)


def check_table_rows(prep: Prepared) -> None:
    """Refuse a table whose rows, under a model sheet's headings, would not fit on an Excel sheet."""
    for sheet in _model_sheets(prep):
        check_rows(len(prep.table), _layout(sheet, prep).first, sheet=sheet)


def _titled(title: str, prep: Prepared) -> str:
    """A sheet's title, saying when its rows are a sample of the file's."""
    return f"{title} ({prep.sample})" if prep.sample else title


def table_rows_limit(prep: Prepared) -> int:
    """The most rows of ``prep``'s kind (its features) that every sheet of its book holds."""
    return min(MAX_ROWS - _layout(sheet, prep).first for sheet in _model_sheets(prep))


def _model_sheets(prep: Prepared) -> tuple[str, ...]:
    return ("linear", "nnet", "mmult") + (("sigmoid",) if prep.target.kind == "binary" else ())


def _recipe_sheet(book: xlsxwriter.Workbook, prep: Prepared) -> None:
    """The recipe as JSON, so that the workbook alone predicts new rows (``workbench predict``)."""
    ws = book.add_worksheet(stored.SHEET)
    ws.very_hidden()
    text = stored.dumps(prep)
    for i in range(0, len(text), stored.CHUNK):
        ws.write_string(i // stored.CHUNK, 0, text[i : i + stored.CHUNK])


def the_bar(prep: Prepared, is_valid: np.ndarray) -> tuple[float, float]:
    """The one value a guess predicts for every row (the train rows' most common 0/1, or their mean)
    and its valid score (accuracy, or RMSE): the bar a model must clear."""
    y_train, y_valid = prep.y[~is_valid], prep.y[is_valid]
    if prep.target.kind == "binary":
        one = float(y_train.mean() >= 0.5)
        return one, float(np.mean(y_valid == one))
    mean = float(y_train.mean())
    return mean, float(np.sqrt(np.mean((y_valid - mean) ** 2)))


def summary_lines(prep: Prepared, is_valid: np.ndarray) -> tuple[str, ...]:
    """What the summary says of this table alone: the score of predicting one value for every row
    (the bar a model must clear), how the net was fitted, and whether the target looks like labels."""
    inputs = len(prep.features)
    guess, score = the_bar(prep, is_valid)
    if prep.target.kind == "binary":
        one, hit = guess, score
        level = next(v for v, k in prep.target.mapping if k == one)
        bar = (
            f"The bar to clear: always predicting {C.shown(level)} ({one:g}), the train rows' most common"
            f" value, is right on {hit:.2%} of the valid rows. A sheet whose valid accuracy is no higher"
            " has learnt nothing a guess does not know."
        )
    else:
        mean, rmse = guess, score
        bar = (
            f"The bar to clear: always predicting the train rows' mean, {C.num(mean)}, gives a valid RMSE"
            f" of {C.num(rmse)}. A sheet whose valid RMSE is no lower has learnt nothing the mean does"
            " not know."
        )
    starts = net_starts(int((~is_valid).sum()), inputs)
    net = (
        f"nnet and mmult: the best of {starts} random starts (RAND()-0.5), each improved a few steps, the"
        " best then finished; another start can end in another dip of the loss, higher or lower."
    )
    values = np.unique(prep.y)
    labels = (
        f"The target holds only the whole numbers {', '.join(C.num(v) for v in values)}: if they name"
        " classes rather than amounts, predicting them as one number is the wrong tool (a class lies"
        " between no two others); make one 0/1 target per class instead."
        if prep.target.kind == "numeric" and len(values) <= 10 and np.all(values % 1 == 0)
        else None
    )
    return tuple(x for x in (bar, net, labels) if x)


def _check_fits(prep: Prepared, fits: Mapping[str, Params]) -> dict[str, np.ndarray]:
    """Each model sheet's parameters, as its cells will hold them (16 significant digits)."""
    p = len(prep.features)
    need = {"linear": (p,), "nnet": (2, p), **({"sigmoid": (p,)} if prep.target.kind == "binary" else {})}
    out = {}
    for sheet, shape in need.items():
        if sheet not in fits:
            raise WorkbenchError(f"write_tabular_book needs a fit for the sheet {sheet!r}")
        value = np.asarray(fits[sheet].params, dtype="float64")
        if value.shape != shape or not np.isfinite(value).all():
            raise WorkbenchError(
                f"sheet {sheet!r} needs finite parameters of shape {shape}; got {value.shape}"
            )
        out[sheet] = np.vectorize(lambda v: float(f"{v:.16g}"), otypes=["float64"])(value)
    out["mmult"] = out["nnet"].T.copy()
    order = ("linear", "nnet", "mmult", "sigmoid")
    return {s: out[s] for s in order if s in out}


# ---------------------------------------------------------------------------------------------
# Where things are: column A the target (0/1 or numbers), the target as read if it is mapped,
# the used columns as read, the features (adjacent), then the model's columns.


def _mapped(prep: Prepared) -> bool:
    return prep.target.excel != "={col}"


def _raw_columns(prep: Prepared) -> list[str]:
    return [c for c in prep.raw.columns if c != prep.target.name]


def _grid(prep: Prepared, sheet: str = "linear") -> Grid:
    """The linear sheet holds the data and the features; the other model sheets read its inputs.

    (One copy of a wide table instead of four: a workbook a quarter the size, and a feature
    edited on the linear sheet changes every model.)"""
    labels = tuple("Const" if f.kind == "ones" else f.name for f in prep.features)
    first = 1 + _mapped(prep) + len(_raw_columns(prep))
    last = first + len(labels) - 1
    if sheet == "linear":
        return Grid(first, last, last + 1, labels, STABLE_SIGMOID_EXCEL)
    p = len(labels)
    after = max(p + 1, _mmult_blocks_end(p) + 2) if sheet == "mmult" else p + 1
    return Grid(1, p, after, labels, STABLE_SIGMOID_EXCEL, data_sheet="linear", data_cols=(first, last))


def _mmult_blocks_end(p: int) -> int:
    """The last column of mmult's parameter blocks, which stand side by side, p rows tall: the
    model's columns start right of them, so that the losses and the example beside
    the blocks never cover a parameter cell, however few the inputs."""
    return Layout.of(SHEETS["mmult"], inputs=p, first_input=1).block(BLOCKS[-1])[3]


def _layout(sheet: str, prep: Prepared) -> Layout:
    """The Titanic sheet's layout, with a row for fills and room for mmult's teaching example;
    every model sheet's data start on the same row, so that a row reads the linear sheet's row."""
    p, fills = len(prep.features), any(f.fill is not None for f in prep.features)
    base = {s: Layout.of(SHEETS[s], inputs=p, first_input=1).max_row for s in SHEETS}
    room = {s: max(0, 10 - p) if s == "mmult" else 0 for s in SHEETS}  # the example: 5 rows from top + 6
    common = max(base[s] + room[s] for s in SHEETS) + fills
    first_input = _grid(prep, sheet).first_input  # the parameters sit above their inputs
    return Layout.of(SHEETS[sheet], inputs=p, extra=common - base[sheet], first_input=first_input)


# ---------------------------------------------------------------------------------------------
# the model sheets


def _model_sheet(book, st, sheet: str, prep: Prepared, grid: Grid, values: SheetValues) -> SheetInfo:
    spec, lay, n = SHEETS[sheet], _layout(sheet, prep), len(prep.table)
    ws = book.add_worksheet(sheet)
    cells = OneWriter()
    params, start, results = values.params, values.start, _results(prep)
    columns = model_columns(spec, st, lay, values, grid)
    names = [c.name for c in columns]
    pred_col, loss_col = grid.after + names.index("Preds"), grid.after + names.index("Loss")
    parameter_block(cells, st, lay, params, start, grid)
    if lay.mmult:
        teaching_example(cells, st, lay.top + 6, loss_col - 1)
    refs = totals(cells, st, lay, (pred_col, loss_col), values, results)
    name_results(ws, lay, loss_col)
    last = lay.first + n - 1
    if sheet == "linear":
        assert grid.after + names.index("Set") == _set_col(grid)
        plan, heads = _data_plan(cells, st, prep, grid, lay)
    else:
        plan = [(0, None, prep.y, st.whole if prep.target.kind == "binary" else st.number)]
        heads = [_target_head(prep), "inputs: on the linear sheet", *[""] * (grid.after - 2)]
    ws.write_string(0, 0, _titled(spec.title, prep), st.title)
    own, *more = _notes(sheet, prep, start is not None)  # the rest: on the notes sheet
    pointer = POINTER if start is not None else POINTER_WITHOUT_START
    for i, note in enumerate((own, pointer)):
        ws.write_string(1 + i, 0, note, st.note)
    cells.flush(ws)
    for j, head in enumerate([*heads, *names]):
        ws.write_string(lay.header, j, head, st.header)
    mmult = models.MMULT_EXCEL.format(inputs=grid.inputs(lay.first, last), params=lay.cells("params"))
    array = (mmult, spec.model.units) if spec.model.lin_excel == "mmult" else None
    write_plan(ws, lay.first, plan, columns, array, grid.after)
    ws.set_column(0, grid.after + len(columns), 11)
    ws.set_column(loss_col, loss_col, LOSS_WIDTH)  # Total loss's value, in its larger font
    ws.freeze_panes(lay.first, 0)
    set_up_page(ws, header_row=lay.header)
    name_blocks(book, sheet, lay, start is not None)
    define_solver(book, sheet, objective=refs["Train loss:"], changing=lay.cells("params"))
    preds = span(lay.first, pred_col, last, pred_col, absolute=True)
    return SheetInfo(sheet, refs, preds, values.results, values.preds, tuple(more))


def _notes(sheet: str, prep: Prepared, has_start: bool) -> list[str]:
    p, y = len(prep.features), prep.target.name
    what = {
        "linear": f"Preds = SUMPRODUCT of the row's {p} inputs and the {p} parameters;",
        "nnet": "Lin1, Lin2 = SUMPRODUCT(inputs, parameter row 1 or 2); ReLU = IF(Lin<0,0,Lin); Preds ="
        " ReLU1 + ReLU2;",
        "mmult": f"Lin1:Lin2 for every row is ONE array formula, =MMULT(inputs, the {p} x 2 parameters);"
        " then as on nnet;",
        "sigmoid": "Lin = SUMPRODUCT of inputs and parameters; Preds = 1/(1+EXP(-Lin)), Lin clamped"
        " to -300..300;",
    }[sheet]
    why = {  # on the notes sheet
        "mmult": "The MMULT's parameter block holds nnet's rows as columns.",
        "sigmoid": "Lin is clamped to -300..300 (beyond, the sigmoid is 0 or 1 to 1e-130) so that no EXP"
        " or square overflows.",
    }.get(sheet)
    score = (
        "Accuracy: share of rows where Preds > 0.5 matches the 0/1 target."
        if prep.target.kind == "binary"
        else "RMSE = SQRT(loss), in the target's own units."
    )
    dead = (
        " Some starts end with every ReLU below 0 on every row (dead): Solver cannot move them; draw another."
    )
    return [
        f"{what} Loss = (Preds - {y})^2; Total loss = its mean.",
        *((why,) if why else ()),
        "Yellow: the parameters, fitted on the train rows only (column Set); Excel's Data > Solver is set"
        " up to change them to minimise the Train loss (LibreOffice's Tools > Solver cannot finish this"
        " fit: use workbench solve FILE --sheet SHEET). The valid rows (the validation set) are held"
        f" out. {score}",
        "Grey: the random start they were fitted from (RAND()-0.5, pasted as values)."
        if has_start
        else "No random start: fitted in closed form (least squares), the floor no fit goes below.",
        path_note(SHEETS[sheet], dead, has_start),
    ]


def _values(
    prep: Prepared, params: dict[str, np.ndarray], fits, is_valid: np.ndarray
) -> dict[str, SheetValues]:
    """Every number each model sheet caches, with the registry's forward passes (any number of inputs)."""
    rows = Rows(prep.X, prep.y.copy(), is_valid)
    out = {}
    for sheet, p in params.items():
        fit = fits["nnet" if sheet == "mmult" else sheet]
        start = None if fit.start is None else np.asarray(fit.start, dtype="float64")
        start = start.T.copy() if sheet == "mmult" and start is not None else start
        spec = SHEETS[sheet]
        out[sheet] = sheet_values(spec.model, spec.sigmoid, rows, p, start, _results(prep))
    return out


def _results(prep: Prepared) -> tuple[tuple[str, str], ...]:
    """A model sheet's results: accuracies beside the losses for a 0/1 target, else RMSEs."""
    return RESULTS if prep.target.kind == "binary" else RMSE_RESULTS


def _set_col(grid: Grid) -> int:
    """The linear sheet's Set column: its model columns are Preds, Loss, Set."""
    return grid.after + 2


def _data_plan(cells: RowOrdered, st: Styles, prep: Prepared, grid: Grid, lay: Layout):
    """The target, the columns as read and the features' formulas; scales and fills above the header,
    from the train rows (the Set column says which) unless the recipe's statistics are the lesson's."""
    n, first = len(prep.table), lay.first
    last = first + n - 1
    target = prep.target
    raw = _raw_columns(prep)
    col = {name: 1 + _mapped(prep) + j for j, name in enumerate(raw)}
    heads = [_target_head(prep)]
    plan: Plan = []
    if _mapped(prep):
        heads.append(target.name)
        plan.append((1, None, _cells(prep.raw[target.name]), st.category))
        plan.append((0, target.excel.format(col=ref(MARK_ROW, 1)), prep.y, st.whole))
    else:
        plan.append((0, None, prep.y, st.whole if target.kind == "binary" else st.number))
    for name in raw:
        heads.append(name)
        text = prep.raw[name].dtype == object
        plan.append((col[name], None, _cells(prep.raw[name]), st.category if text else st.number))
    train = "" if prep.valid is None else ", train rows"
    cells.put(lay.max_row, grid.label_col, "write_string", f"Max{train}:", st.label)
    if any(f.fill is not None for f in prep.features):
        cells.put(lay.max_row - 1, 0, "write_string", f"Fill (median{train}):", st.label)
    j = _set_col(grid)
    sets = None if prep.valid is None else span(lay.first, j, last, j, absolute=True)
    sources = _Sources(col, sets, prep.table)
    for j, f in enumerate(prep.features, start=grid.first_input):
        heads.append(f.name)
        plan.append(_feature_column(cells, st, f, j, lay, sources))
    return plan, heads


@dataclass(frozen=True)
class _Sources:
    """What a feature's column reads: each raw column's letter, the Set column's cells (None: the
    statistics are over every row), and the features' values."""

    col: dict[str, int]
    sets: str | None
    table: pd.DataFrame


def _target_head(prep: Prepared) -> str:
    return f"{prep.target.name} (0/1)" if _mapped(prep) else prep.target.name


def _feature_column(cells: RowOrdered, st: Styles, f, j: int, lay: Layout, src: _Sources):
    """One feature, in column ``j``: its scale and fill cells (if any) and its column's row template.

    With the Set column's cells (``src.sets``), a statistic reads the train rows' values only: an
    array formula over ``IF((sets="train")*(cells<>""),cells)`` (the blank test keeps an empty
    cell out of a MEDIAN in every engine, as it is kept out of a plain range)."""
    col, sets, values = src.col, src.sets, src.table[f.name].to_numpy(dtype="float64")
    last = lay.first + len(values) - 1
    if f.kind == "ones":
        return (j, None, values, st.whole)
    c = col[f.source]
    refs = {"max_col": "", "fill_col": ""}
    column = span(lay.first, c, last, c, absolute=True)
    write, column = (
        ("write_formula", column)
        if sets is None
        else ("write_array_formula", f'IF(({sets}="train")*({column}<>""),{column})')
    )
    if f.scale_excel:
        _statistic(cells, write, (lay.max_row, j), f.scale_excel.format(range=column), st.value, f.scale)
        refs["max_col"] = ref(lay.max_row, j, absolute=True)
    if f.fill_excel:
        _statistic(cells, write, (lay.max_row - 1, c), f.fill_excel.format(range=column), st.number, f.fill)
        refs["fill_col"] = ref(lay.max_row - 1, c, absolute=True)
    template = f.formula({**refs, "col": ref(MARK_ROW, c)})
    return (j, template, values, st.whole if f.kind in ("dummy", "other") else st.feature)


def _statistic(cells: RowOrdered, write: str, at: tuple[int, int], formula: str, fmt, value) -> None:
    row, col = at
    if write == "write_array_formula":
        cells.put(row, col, write, row, col, "{" + formula + "}", fmt, value)
    else:
        cells.put(row, col, write, formula, fmt, value)


def _cells(values: pd.Series) -> np.ndarray:
    """A column as read: text, numbers, and None for a blank cell."""
    return np.array([None if pd.isna(v) else v for v in values.tolist()], dtype=object)


# ---------------------------------------------------------------------------------------------
# features, descent, the summary's table


def _features_sheet(book: xlsxwriter.Workbook, st: Styles, prep: Prepared, grid: Grid, name: str) -> None:
    ws = book.add_worksheet("features")
    lay = _layout("linear", prep)
    ws.write_string(0, 0, _titled(f"features: how {name} becomes the lesson's kind of table", prep), st.title)
    seen = (
        "Every largest value, fill and level comes from the train rows only (train: Set is train):"
        " the valid rows stay unseen, like Kaggle's test rows."
        if prep.valid is not None
        else "The largest Age is the lesson's, over every kept row."
    )
    notes = (
        f"Recipe {prep.recipe!r}. Rows: {prep.rows_note}. {seen}",
        "Each row: a column of the model sheets, why it is there, and the same computation in pandas"
        " (df: the kept rows) and in Excel (as on the linear sheet's first row). After: a live link to"
        " that cell.",
    )
    if any("EXACT(" in x.excel for x in (prep.target, *prep.features)):
        notes += (
            'Text is compared with EXACT(cell, "level"), which tells "a" from "A" as pandas\' == does;'
            " a spreadsheet's = ignores case, and would count both as one level.",
        )
    for i, note in enumerate(notes, start=1):
        ws.write_string(i, 0, note, st.note)
    heads = ("Column", "From", "Kind", "Why", "pandas", "Excel (first row)", "Before", "After")
    for j, head in enumerate(heads):
        ws.write_string(4, j, head, st.header)
    t, first = prep.target, lay.first
    rows = [(t.name, t.name, t.kind + " target", t.reason, t.pandas, 0)]
    rows += [
        (f.name, f.source or "", f.kind, f.reason, f.pandas, j)
        for j, f in enumerate(prep.features, grid.first_input)
    ]
    linear = _linear_formulas(st, prep, grid, lay)
    for i, (column, source, kind, why, pandas, j) in enumerate(rows, start=5):
        for k, text in enumerate(
            (
                column,
                source,
                kind,
                why,
                pandas,
                linear.get(j, "1 (a constant)" if kind == "ones" else "(the value as read)"),
            )
        ):
            ws.write_string(i, k, text, st.text)
        before = prep.raw[source].iloc[0] if source else None
        if before is not None and not pd.isna(before):
            (ws.write_string if isinstance(before, str) else ws.write_number)(i, 6, before, st.number)
        after = float(prep.table[column].iloc[0])
        ws.write_formula(i, 7, f"=linear!{ref(first, j)}", st.feature, after)
    r = 6 + len(rows)
    ws.write_string(r, 0, "Left out", st.heading)
    if not prep.left_out:
        ws.write_string(r + 1, 0, "(none: every column is used)", st.text)
    for i, out in enumerate(prep.left_out, start=r + 1):
        ws.write_string(i, 0, out.column, st.text)
        ws.write_string(i, 2, out.why, st.text)
        ws.write_string(i, 3, out.reason, st.text)
    for j, width in enumerate((16, 14, 12, 90, 60, 34, 10, 10)):
        ws.set_column(j, j, width)
    set_up_page(ws, header_row=4)


def _linear_formulas(st: Styles, prep: Prepared, grid: Grid, lay: Layout) -> dict[int, str]:
    """Column -> the formula the linear sheet's first data row holds there (from the same plan)."""
    plan, _ = _data_plan(RowOrdered(), st, prep, grid, lay)
    return {j: t.replace(MARK, str(lay.first + 1)) for j, t, _, _ in plan if t is not None}


def _descent(prep: Prepared, seed: int) -> tuple[Trajectory, float, float]:
    """The descent sheet's numbers, before the book is opened: the linear model descended from
    ``RAND()-0.5`` (seeded) at half the largest stable rate, that rate, and the least-squares floor."""
    x, y = prep.X.copy(), prep.y.copy()
    stable = max_stable_lr(x)
    lr = float(f"{stable / 2:.2g}")
    start = uniform_start((x.shape[1],), seed)
    return (
        descend(x, y, start, kind="linear", lr=lr, epochs=DESCENT_EPOCHS),
        stable,
        least_squares_floor(x, y),
    )


def _descent_sheet(book: xlsxwriter.Workbook, prep: Prepared, grid: Grid, seed: int, descent) -> None:
    """Gradient descent of the linear model by formulas, reading the linear sheet's own cells."""
    trajectory, stable, floor = descent
    x, y, lr = prep.X, prep.y, trajectory.lr
    first, n = _layout("linear", prep).first, len(y)
    write_descent_sheet(
        book,
        trajectory,
        Points(
            Block("linear", first, grid.first_input, first + n - 1, grid.last_input),
            Block("linear", first, 0, first + n - 1, 0),
            (x, y),
            list(grid.labels),
        ),
        Look(
            title=_titled("descent: the linear model trained by the spreadsheet, step by step", prep),
            notes=[
                f"{n} rows (train and valid), {x.shape[1]} inputs; start RAND()-0.5 (seed {seed}); lr {lr:g},"
                f" half the largest stable rate; the least-squares floor over these rows is MSE {floor:.6g}."
            ],
        ),
        values=descent_values(trajectory, (x, y), stable_lr=stable),
    )


def _comparison(prep: Prepared, fits: Mapping[str, Params], infos) -> pd.DataFrame:
    """One row per model sheet: how it was fitted, its train and valid scores, its gap to the floor."""
    right = "accuracy" if prep.target.kind == "binary" else "rmse"
    label = "accuracy:" if right == "accuracy" else "RMSE:"
    floor = fits["linear"].train_loss
    rows = []
    for info in infos:
        fit = fits["nnet" if info.sheet == "mmult" else info.sheet]
        v = info.values
        rows.append(
            {
                "sheet": info.sheet,
                "method": fit.method,
                "train_loss": v["Train loss:"],
                "valid_loss": v["Valid loss:"],
                f"train_{right}": v[f"Train {label}"],
                f"valid_{right}": v[f"Valid {label}"],
                "vs_linear_floor": v["Train loss:"] - floor,
            }
        )
    return pd.DataFrame(rows)
