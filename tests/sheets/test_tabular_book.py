"""The workbook of any prepared table: sheets, Solver names, labels, pandas lines, the lesson recipe."""

from __future__ import annotations

import dataclasses
import math

import numpy as np
import openpyxl
import pandas as pd
import pytest
from cells import right_of

import workbench as wb
from workbench.sheets.books.tabular import write_tabular_book
from workbench.sheets.engines.recalc import recalculate
from workbench.tabular import prepare, read_table
from workbench.tabular.fit import fit_prepared

sklearn_datasets = pytest.importorskip("sklearn.datasets")


@pytest.fixture(scope="module")
def diabetes(tmp_path_factory):
    prep = prepare(sklearn_datasets.load_diabetes(as_frame=True, scaled=False).frame, "target")
    path = write_tabular_book(tmp_path_factory.mktemp("d") / "diabetes.xlsx", prep, fit_prepared(prep))
    return prep, path


def test_a_numeric_target_has_no_sigmoid_sheet_and_rmse_instead_of_accuracy(diabetes):
    _, path = diabetes
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["features", "linear", "nnet", "mmult", "descent", "summary", "notes", "recipe"]
    assert book["recipe"].sheet_state == "veryHidden"  # the recipe, for predict: not a learner's sheet
    values = openpyxl.load_workbook(path, data_only=True)
    for sheet in ("linear", "nnet", "mmult"):
        ws = book[sheet]
        assert right_of(ws, "Valid RMSE:") == f"=SQRT({_ref_left(ws, 'Valid loss:')})"
        with pytest.raises(KeyError):
            right_of(ws, "Train accuracy:")
        loss, rmse = right_of(values[sheet], "Train loss:"), right_of(values[sheet], "Train RMSE:")
        assert rmse == pytest.approx(math.sqrt(loss), rel=1e-15)


def data_rows(ws) -> pd.DataFrame:
    """A model sheet's data rows under their header (the row that has a ``Set`` column)."""
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if "Set" in r and "Preds" in r)
    header = rows[at]
    width = header.index("Set") + 1
    return pd.DataFrame([r[:width] for r in rows[at + 1 :]], columns=header[:width])


def _ref_left(ws, label: str) -> str:
    for row in ws.iter_rows():
        for cell in row:
            if cell.value == label:
                return f"${openpyxl.utils.get_column_letter(cell.column + 1)}${cell.row}"
    raise KeyError(label)


def test_solver_names_on_every_model_sheet_minimise_the_train_loss(diabetes):
    _, path = diabetes
    book = openpyxl.load_workbook(path)
    for sheet in ("linear", "nnet", "mmult"):
        names = book[sheet].defined_names
        assert names["solver_opt"].attr_text == f"{sheet}!{_ref_left(book[sheet], 'Train loss:')}"
        assert names["solver_typ"].attr_text == "2"  # minimise
        assert names["solver_adj"].attr_text.startswith(f"{sheet}!$")


def test_the_linear_sheet_is_at_the_least_squares_floor_of_its_train_rows(diabetes):
    prep, path = diabetes
    ws = openpyxl.load_workbook(path, data_only=True)["linear"]
    rows = data_rows(ws)
    train = (rows.Set == "train").to_numpy()
    y = rows.iloc[:, 0].to_numpy(float)
    x = rows[list(prep.feature_names)].to_numpy(float)
    w = np.linalg.lstsq(x[train], y[train], rcond=None)[0]
    floor = float(np.mean((x[train] @ w - y[train]) ** 2))
    assert right_of(ws, "Train loss:") == pytest.approx(floor, rel=1e-12)
    assert 0.2 < train.mean() < 0.9 and (~train).sum() == int(0.2 * len(rows))


def test_a_validation_mask_of_the_wrong_rows_is_refused_and_nothing_written(diabetes, tmp_path):
    prep, _ = diabetes
    fits = fit_prepared(prep)
    for valid in (np.zeros(3, dtype=bool), np.zeros(len(prep.table), dtype=bool)):
        with pytest.raises(wb.WorkbenchError, match="valid: one True or False per row"):
            write_tabular_book(tmp_path / "bad.xlsx", prep, fits, valid=valid)
    with pytest.raises(wb.WorkbenchError, match="valid: one True or False per row"):
        fit_prepared(prep, valid=np.ones(len(prep.table), dtype=bool))
    assert not list(tmp_path.iterdir())


def test_every_pandas_line_of_the_features_sheet_computes_its_column(diabetes):
    prep, path = diabetes
    ws = openpyxl.load_workbook(path)["features"]
    lines = {r[0]: r[4] for r in ws.iter_rows(min_row=6, values_only=True) if r[4]}
    assert set(prep.feature_names) | {"target"} <= set(lines)
    for name, line in lines.items():
        got = eval(line, {"df": prep.raw, "np": np, "train": ~prep.valid})
        assert np.allclose(np.broadcast_to(got, len(prep.table)), prep.table[name], rtol=1e-15, atol=0), name


def test_the_lesson_recipe_writes_the_lessons_table_and_its_floor(tmp_path):
    prep = prepare(read_table(wb.titanic.data.TRAIN_CSV), "Survived", recipe="lesson")
    path = write_tabular_book(tmp_path / "train.xlsx", prep, fit_prepared(prep))
    table = wb.lesson_table(wb.load_titanic())
    ws = openpyxl.load_workbook(path, data_only=True)["linear"]
    sheet = data_rows(ws)
    features = list(wb.titanic.features.FEATURES)
    ones = list(sheet.columns).index("Ones")  # the inputs end there (SibSp and Parch are also read as is)
    inputs = sheet.iloc[:, ones - len(features) + 1 : ones + 1]
    assert list(inputs.columns) == features
    assert np.array_equal(inputs.to_numpy(float), table[features].to_numpy(float))
    train, _ = wb.titanic.split.validation_split(table)
    x, y = train[features].to_numpy(float), train["Survived"].to_numpy(float)
    floor = float(np.mean((x @ np.linalg.lstsq(x, y, rcond=None)[0] - y) ** 2))
    assert right_of(ws, "Train loss:") == pytest.approx(floor, rel=1e-12)
    assert (sheet.Set == "train").sum() == len(train)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_the_sigmoid_sheet_survives_rows_far_beyond_exps_range(tmp_path):
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"a": rng.normal(size=60), "b": rng.normal(size=60)})
    frame["y"] = (frame.a + 0.5 * rng.normal(size=60) > 0).astype(int)
    prep = prepare(frame, "y")
    fits = fit_prepared(prep)
    fits["sigmoid"] = dataclasses.replace(fits["sigmoid"], params=np.array([2000.0, 0.0, 0.0]))
    z = 2000 * prep.table["a_N"].to_numpy()
    assert z.min() < -1000 and z.max() > 1000  # EXP(-z) overflows on some rows, underflows on others
    path = write_tabular_book(tmp_path / "extreme.xlsx", prep, fits)
    mine = openpyxl.load_workbook(path, data_only=True)["sigmoid"]
    formulas = openpyxl.load_workbook(path)["sigmoid"]
    theirs = openpyxl.load_workbook(recalculate(path, tmp_path / "lo"), data_only=True)["sigmoid"]
    compared = 0
    for row_mine, row_theirs in zip(mine.iter_rows(), theirs.iter_rows(), strict=True):
        for a, b in zip(row_mine, row_theirs, strict=True):
            if str(formulas[a.coordinate].value).startswith("=RAND()"):  # a new draw at every recalculation
                assert -0.5 <= b.value < 0.5
            elif isinstance(a.value, float):
                assert b.value == pytest.approx(a.value, rel=1e-9, abs=1e-12), a.coordinate
                compared += 1
    assert compared > 60 * 3
    preds = data_rows(theirs).Preds
    assert preds.min() < 1e-100 and preds.max() == 1.0


def _sheet_text(path) -> str:
    book = openpyxl.load_workbook(path)
    return " ".join(
        v
        for ws in book
        for row in ws.iter_rows(values_only=True)
        for v in row
        if isinstance(v, str) and not v.startswith("=")  # words, not formulas
    )


def test_the_summary_speaks_of_its_own_table_and_its_bar_to_clear(diabetes, tmp_path):
    prep, path = diabetes
    text = _sheet_text(path)
    assert "0.1442" not in text and "256" not in text and "lesson's Solver" not in text
    train, valid = prep.y[~prep.valid], prep.y[prep.valid]
    rmse = np.sqrt(np.mean((valid - train.mean()) ** 2))  # the mean of the train rows, for every valid row
    assert f"predicting the train rows' mean, {train.mean():.4g}, gives a valid RMSE of {rmse:.4g}" in text
    rows = int((~prep.valid).sum())
    assert f"the best of {min(64, max(8, 2_000_000 // (rows * len(prep.features))))} random starts" in text
    # a 0/1 target: the most common train value, right on the valid rows this often
    rng = np.random.default_rng(0)
    frame = pd.DataFrame({"x": rng.normal(size=80), "won": rng.choice(["no", "yes"], 80, p=[0.7, 0.3])})
    small = prepare(frame, "won")
    out = write_tabular_book(tmp_path / "won.xlsx", small, fit_prepared(small, seed=0))
    y = frame["won"].loc[small.raw.index].to_numpy()[small.valid]
    hit = np.mean(y == "no")
    assert (
        f"always predicting 'no' (0), the train rows' most common value, is right on {hit:.2%}"
        in _sheet_text(out)
    )


def test_a_target_of_few_whole_numbers_is_said_to_look_like_labels():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"x": rng.normal(size=60), "kind": rng.integers(0, 3, 60)})
    prep = prepare(frame, "kind")
    from workbench.sheets.books.tabular import summary_lines

    said = " ".join(summary_lines(prep, prep.valid))
    assert "only the whole numbers 0, 1, 2: if they name classes" in said
    frame["kind"] = frame["kind"] + rng.normal(0, 0.1, 60)  # amounts: nothing said
    assert "whole numbers" not in " ".join(summary_lines(prepare(frame, "kind"), prep.valid))


def test_a_tables_model_sheets_keep_the_lessons_cells_first_and_few_words_above_the_rows(diabetes):
    """As on titanic.xlsx: at most about 60 words above the rows, the rest on the notes sheet;
    Total loss first, in the largest font; the yellow cells, Solver's, and no switch."""
    _, path = diabetes
    book = openpyxl.load_workbook(path)
    notes = " ".join(str(c.value) for row in book["notes"].iter_rows() for c in row if c.value)
    for sheet in ("linear", "nnet", "mmult"):
        ws = book[sheet]
        lines = [ws.cell(r, 1).value for r in (2, 3)]
        assert sum(len(line.split()) for line in lines) <= 60, sheet
        assert "the notes sheet" in lines[1] and "Paste Special > Values" in lines[1], sheet
        labels = {c.value: c for row in ws.iter_rows(max_row=30) for c in row if isinstance(c.value, str)}
        assert not {"Parameters:", "Sum of losses:", "In use:", "In use 1:", "Mine:", "Mine 1:"} & set(labels)
        total, train = labels["Total loss:"], labels["Train loss:"]
        assert total.row < train.row and total.font.sz > train.font.sz, sheet
        yellow = ws.defined_names["solver_adj"].attr_text.split("!")[1].replace("$", "")
        assert all(isinstance(c.value, float) for row in ws[yellow] for c in row), sheet
    assert "open at the fitted parameters" in notes and "Fitted (grey) keeps the parameters" in notes
