"""``titanic_clean.xlsx``: the lesson's workbook with its formulas left out, for a learner to rebuild.

The tasks sheet first (the video's order), then the ``linear`` and ``nnet`` sheets of
:mod:`workbench.sheets.write.clean`: the passengers of the lesson's table, and in the yellow
cells the same random starts the full workbook's sheets were fitted from.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from ...errors import WorkbenchError
from ...regression import DATASETS, Dataset, design, load_dataset, param_names
from ...titanic.features import COLUMNS, FEATURES
from ..read.check import read_lesson_table
from ..read.read_book import read_starts
from ..write.clean import LAYOUT, tasks_sheet, write_clean_sheet
from ..write.clean_fit import FitLayout, fit_tasks, write_fit_sheet
from ..write.style import styles
from ..write.xlsx import check_rows, new_workbook


def write_clean_book(
    path: str | os.PathLike[str], table: pd.DataFrame, starts: Mapping[str, np.ndarray]
) -> Path:
    """Write the clean copy of ``table``'s lesson sheets to ``path`` (whole or not at all).

    ``starts``: for ``linear`` and ``nnet`` the parameters their yellow cells begin at, shaped
    (10,) and (2, 10), e.g. the full workbook's random starts; ``mmult`` begins at nnet's, as
    columns (the lesson's mmult sheet is nnet as one matrix product).
    """
    starts = {**starts, "mmult": starts.get("nnet")}
    missing = [c for c in COLUMNS if c not in table]
    if missing or table.empty:
        raise WorkbenchError("write_clean_book needs the lesson's feature table (lesson_table(passengers))")
    for sheet, lay in LAYOUT.items():
        start = np.asarray(starts.get(sheet), dtype="float64") if sheet in starts else None
        if start is None or start.size != lay.units * len(FEATURES):
            raise WorkbenchError(
                f"write_clean_book needs a start of {lay.units} x 10 parameters for {sheet!r}"
            )
        check_rows(len(table), lay.first, sheet=sheet)
    with new_workbook(path, title="Titanic, clean: rebuild the lesson's sheets") as book:
        st = styles(book)
        tasks_sheet(book, st)
        for sheet, lay in LAYOUT.items():
            write_clean_sheet(book, st, lay, table, np.asarray(starts[sheet], dtype="float64"))
    return Path(path)


def write_clean(workbook: str | os.PathLike[str], path: str | os.PathLike[str] | None = None) -> Path:
    """The clean copy of a ``titanic.xlsx`` that workbench wrote: its passengers and its grey random
    starts, the formulas left for the learner. ``path`` defaults to ``<stem>_clean.xlsx`` beside it."""
    workbook = Path(workbook)
    table = read_lesson_table(workbook)
    starts = read_starts(workbook, ("linear", "nnet"))
    return write_clean_book(
        workbook.with_name(f"{workbook.stem}_clean.xlsx") if path is None else path, table, starts
    )


def write_clean_fit(path: str | os.PathLike[str], data: Dataset) -> Path:
    """The clean copy of a small regression's workbook (``line_clean.xlsx``, ...): the points, the
    lesson's start, and one step of gradient descent for the learner to type. A model linear in
    its parameters (line, quadratic, speed); a sum of ReLUs is typed on titanic_clean.xlsx's nnet."""
    if data.model == "relu":
        raise WorkbenchError(f"{data.name}: a clean copy is for a model linear in its parameters, not ReLUs")
    phi, names = design(data.model, data.x, data.x_names)
    lay = FitLayout(names, tuple(data.x_names), param_names(data.model, phi.shape[1]))
    columns = {"y": data.y, **{name: phi[:, j] for j, name in enumerate(names)}}
    check_rows(data.n, lay.first, sheet=lay.name)
    with new_workbook(path, title=f"{data.name}, clean: one step of gradient descent") as book:
        st = styles(book)
        tasks_sheet(book, st, fit_tasks(lay))
        write_fit_sheet(book, st, lay, columns, np.asarray(data.start, dtype="float64"), data.lr)
    return Path(path)


def write_clean_copies(out: str | os.PathLike[str], *, seed: int | None = None) -> list[Path]:
    """Beside the workbooks a build wrote into ``out``: ``titanic_clean.xlsx`` (from its
    ``titanic.xlsx``) and the clean copy of each small regression whose model is linear in its
    parameters (``line_clean.xlsx``, ``quadratic_clean.xlsx``, ``speed_clean.xlsx``), their points
    drawn with ``seed`` as the build drew them."""
    out = Path(out)
    written = [write_clean(out / "titanic.xlsx")]
    for name in DATASETS:
        data = load_dataset(name, seed=seed)
        if data.model != "relu":
            written.append(write_clean_fit(out / f"{name}_clean.xlsx", data))
    return written
