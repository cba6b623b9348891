"""Reading a written sheet back in the tests: a labelled value, as a reader finds it; every formula
cell's stored value beside an engine's."""

from __future__ import annotations

import math
import os
import shutil
import warnings

import openpyxl
import pytest
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

REL, ABS = 1e-9, 1e-12
RANDOM = object()  # the stored value of a RAND() cell: any draw in [-0.5, 0.5) will do


def right_of(ws, label: str):
    """The value right of the first cell holding ``label`` (an openpyxl worksheet)."""
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == label:
                return ws.cell(cell.row, cell.column + 1).value
    raise KeyError(label)


def formula_cells(path) -> dict[tuple[str, str], object]:
    """(sheet, cell) -> the stored value, for every cell holding a formula or part of an array formula;
    :data:`RANDOM` for a cell that draws a random number."""
    formulas = openpyxl.load_workbook(path)
    values = openpyxl.load_workbook(path, data_only=True)
    cells = {}
    for ws in formulas.worksheets:
        for row in ws.iter_rows():
            for cell in row:
                if isinstance(cell.value, ArrayFormula):
                    c1, r1, c2, r2 = range_boundaries(cell.value.ref)
                    refs = [
                        f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)
                    ]
                elif cell.data_type == "f":
                    refs = [cell.coordinate]
                    if "RAND(" in cell.value.upper():
                        cells[ws.title, cell.coordinate] = RANDOM
                        continue
                else:
                    continue
                for ref in refs:
                    cells[ws.title, ref] = values[ws.title][ref].value
    return cells


def differences(
    path, computed: dict[tuple[str, str], object], engine: str, floor: float = ABS
) -> tuple[int, list[str]]:
    """How many formula cells ``path`` has, and those whose stored value ``computed`` does not give
    (to :data:`REL` of the value plus ``floor``; an error value such as ``#VALUE!`` is never right)."""
    stored = formula_cells(path)
    wrong = []
    for key, want in stored.items():
        got = computed.get(key)
        if want is RANDOM:
            same = isinstance(got, (int, float)) and -0.5 <= got < 0.5
        elif isinstance(want, (int, float)) and not isinstance(want, bool):
            assert math.isfinite(want), key
            same = isinstance(got, (int, float)) and abs(got - want) <= REL * abs(want) + floor
        else:
            same = got == want and not (isinstance(got, str) and got.startswith("#"))
        if not same:
            wrong.append(f"{key[0]}!{key[1]}: stored {want!r}, {engine} {got!r}")
    return len(stored), wrong


def assert_same(path, computed: dict[tuple[str, str], object], engine: str) -> int:
    """Every formula cell of ``path`` as ``engine`` computed it equals the stored value; returns the count."""
    count, wrong = differences(path, computed, engine)
    assert not wrong, f"{path.name}: {len(wrong)} of {count} cells differ: " + "; ".join(wrong[:5])
    return count


def formulas_values(path) -> dict[tuple[str, str], object]:
    """Every cell as the ``formulas`` package computes the workbook (it names sheets in capitals)."""
    import formulas
    import numpy as np

    sheets = {name.upper(): name for name in openpyxl.load_workbook(path, read_only=True).sheetnames}
    solution = formulas.ExcelModel().loads(str(path)).finish().calculate()
    values = {}
    for key, ranges in solution.items():
        where, _, ref = key.rpartition("!")
        sheet = sheets.get(where.split("]", 1)[-1].strip("'"))
        block = np.asarray(getattr(ranges, "value", ranges), dtype=object)
        if sheet is None or block.ndim != 2:
            continue
        c1, r1, _, _ = range_boundaries(ref if ":" in ref else f"{ref}:{ref}")
        for i, row in enumerate(block):
            for j, value in enumerate(row):
                values[sheet, f"{get_column_letter(c1 + j)}{r1 + i}"] = value
    return values


def read_values(path) -> dict[tuple[str, str], object]:
    with warnings.catch_warnings():  # Gnumeric's files have no default style; openpyxl says so
        warnings.simplefilter("ignore", UserWarning)
        book = openpyxl.load_workbook(path, data_only=True)
    return {
        (ws.title, c.coordinate): c.value for ws in book.worksheets for row in ws.iter_rows() for c in row
    }


def need(program: str) -> None:
    """Skip without ``program``, except in CI (WORKBENCH_REQUIRE_LIBREOFFICE=1), where it must be there."""
    if shutil.which(program) is None:
        if os.environ.get("WORKBENCH_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail(f"{program} is not installed, and CI requires every spreadsheet engine")
        pytest.skip(f"{program} is not installed")
