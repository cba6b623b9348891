"""A table's workbook streamed row by row (XlsxWriter's constant_memory, the default) holds the
same cells as the same book written whole: formulas, values, formats, merges, comments, names."""

from __future__ import annotations

import numpy as np
import openpyxl
import pandas as pd
import pytest
from openpyxl.worksheet.formula import ArrayFormula

from workbench.errors import WorkbenchError
from workbench.sheets.books.tabular import book_memory, write_tabular_book
from workbench.tabular import prepare
from workbench.tabular.fit import fit_prepared


def _table(n: int = 240, seed: int = 3) -> pd.DataFrame:
    """Text and numbers with blanks, a long-tailed amount, a text 0/1 target: every kind of column."""
    rng = np.random.default_rng(seed)
    size = rng.normal(50, 12, n)
    size[rng.random(n) < 0.05] = np.nan
    colour = rng.choice(["red", "green", "blue", "Blue"], n).astype(object)
    colour[rng.random(n) < 0.05] = None
    amount = np.round(rng.lognormal(3, 1.2, n), 2)
    score = size / 50 + (colour == "red") - np.log1p(amount) / 4 + rng.normal(0, 0.5, n)
    return pd.DataFrame(
        {
            "id": np.arange(1, n + 1),
            "size": size,
            "colour": colour,
            "amount": amount,
            "count": rng.integers(0, 6, n),
            "label": np.where(np.nan_to_num(score) > 0.6, "yes", "no"),
        }
    )


def _cells(path, data_only: bool) -> dict[str, dict[str, object]]:
    book = openpyxl.load_workbook(path, data_only=data_only)
    out = {}
    for ws in book.worksheets:
        cells = {}
        for row in ws.iter_rows():
            for c in row:
                if c.value is None and c.comment is None:
                    continue
                value = ("array", c.value.ref, c.value.text) if isinstance(c.value, ArrayFormula) else c.value
                comment = c.comment.text if c.comment else None
                cells[c.coordinate] = (value, c.number_format, c.font.b, c.fill.fgColor.rgb, comment)
        merged = sorted(str(m) for m in ws.merged_cells.ranges)
        out[ws.title] = {"cells": cells, "merged": merged, "panes": ws.freeze_panes, "state": ws.sheet_state}
    out["names"] = sorted((n, str(d.attr_text)) for n, d in book.defined_names.items())
    return out


@pytest.mark.parametrize("missing", ["drop", "fill"])
def test_a_streamed_book_holds_the_cells_of_the_book_written_whole(tmp_path, missing):
    prep = prepare(_table(), "label", missing=missing)
    fits = fit_prepared(prep)
    (tmp_path / "streamed").mkdir(), (tmp_path / "whole").mkdir()
    streamed = write_tabular_book(tmp_path / "streamed" / "t.xlsx", prep, fits)
    whole = write_tabular_book(tmp_path / "whole" / "t.xlsx", prep, fits, constant_memory=False)
    assert streamed.read_bytes() != whole.read_bytes()  # text inside each cell, not in a shared table
    for data_only in (False, True):
        got, want = _cells(streamed, data_only), _cells(whole, data_only)
        assert got.keys() == want.keys()
        for sheet in want:
            assert got[sheet] == want[sheet], sheet
    descent = _cells(streamed, False)["descent"]["cells"]
    assert sum(isinstance(v[0], tuple) for v in descent.values()) > 2 * 100  # the steps' arrays
    assert any(v[4] for v in descent.values())  # the comment beside the diverging rate


def test_a_streamed_book_is_estimated_at_a_fraction_of_the_whole_one():
    prep = prepare(_table(2_000), "label")
    assert book_memory(prep) < book_memory(prep, constant_memory=False) / 4


def test_more_rows_than_a_sheet_holds_are_refused_before_fitting(tmp_path, monkeypatch):
    import workbench.build
    import workbench.sheets.write.xlsx

    csv = tmp_path / "big.csv"
    _table(240).to_csv(csv, index=False)
    kept = len(_table(240).dropna())  # the recipe's default drops a row missing a value
    monkeypatch.setattr(workbench.sheets.write.xlsx, "MAX_ROWS", 200)  # Excel's 1,048,576, made small

    def never(*_a, **_k):
        raise AssertionError("fitted a table that no sheet can hold")

    monkeypatch.setattr(workbench.build, "fit_prepared", never)
    out = tmp_path / "out"
    with pytest.raises(
        WorkbenchError, match=rf"^big\.csv: {kept} rows kept; sheet 'linear' needs .* at most 200 rows"
    ):
        workbench.build.build_table(csv, "label", out)
    assert not out.exists()
