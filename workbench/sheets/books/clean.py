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
from ...titanic.features import COLUMNS, FEATURES
from ..read.check import read_lesson_table
from ..read.read_book import read_starts
from ..write.clean import LAYOUT, tasks_sheet, write_clean_sheet
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
