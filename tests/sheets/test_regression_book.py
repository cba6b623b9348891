"""The regression workbooks: data, model and descent sheets, charts, and LibreOffice's numbers."""

from __future__ import annotations

import zipfile

import numpy as np
import openpyxl
import pytest

import workbench as wb
from workbench import regression as r
from workbench.build import write_regression_outputs
from workbench.sheets.recalc import recalculate_all
from workbench.sheets.regression_book import CURVE_POINTS, write_regression_book

OUTPUTS = [
    "line.xlsx", "line_fit.png", "line_descent.gif", "line_loss.png",
    "quadratic.xlsx", "quadratic_fit.png", "quadratic_loss.png",
    "speed.xlsx", "speed_fit.png", "speed_loss.png",
    "relu.xlsx", "relu_fit.png", "relu_loss.png", "relu_units.png",
]  # fmt: skip


def header_row(ws, first: str) -> int:
    """1-based row whose first cell is ``first``."""
    return next(i for i, row in enumerate(ws.iter_rows(values_only=True), start=1) if row[0] == first)


def column(ws, row: int, col: int, count: int) -> np.ndarray:
    return np.array([ws.cell(row + i, col).value for i in range(count)], dtype=float)


@pytest.fixture(scope="module")
def line_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("books") / "line.xlsx"
    result = r.fit_dataset(r.line())
    write_regression_book(result, path)
    return path, result


def test_sheets_and_charts(line_book):
    path, _ = line_book
    assert openpyxl.load_workbook(path).sheetnames == ["data", "by_hand", "model", "descent"]
    with zipfile.ZipFile(path) as z:
        charts = sorted(n for n in z.namelist() if n.startswith("xl/charts/chart"))
        texts = [z.read(n).decode() for n in charts]
    assert len(charts) == 3  # by_hand's and model's points and curve, descent's loss
    assert sum("the points and the model" in t for t in texts) == 2
    assert any("Loss by step" in t and "logBase" in t for t in texts)


def test_model_sheet_draws_the_step_shown_and_predicts_with_sumproduct(line_book):
    path, _ = line_book
    book = openpyxl.load_workbook(path)
    ws, descent = book["model"], book["descent"]
    first = header_row(descent, "step") + 1  # step 0
    assert ws["A4"].value == "show step:" and ws["B4"].value == 100
    rows = f"{first}:$B${first + 100}"
    assert ws["B6"].value == f"=INDEX(descent!$B${rows},$B$4+1)"
    assert ws["C6"].value == f"=INDEX(descent!$C${rows.replace('B', 'C')},$B$4+1)"
    h = header_row(ws, "x")
    assert [c.value for c in ws[h]][:4] == ["x", "y", "prediction", "loss"]
    assert ws.cell(h + 1, 1).value == "=data!B5" and ws.cell(h + 1, 2).value == "=data!A5"
    assert ws.cell(h + 1, 3).value == "=SUMPRODUCT(data!B5:C5,$B$6:$C$6)"
    assert ws.cell(h + 1, 4).value == f"=(C{h + 1}-B{h + 1})^2"
    total = next(row for row in ws.iter_rows() if row[0].value == "Total loss (MSE):")[1]
    assert total.value == f"=AVERAGE($D${h + 1}:$D${h + 100})"


def test_cached_values_are_numpy_values(line_book):
    path, result = line_book
    ws = openpyxl.load_workbook(path, data_only=True)["model"]
    d = result.data
    phi = np.column_stack([d.x[:, 0], np.ones(d.n)])
    w = np.array([ws["B6"].value, ws["C6"].value])
    np.testing.assert_array_equal(w, result.params)
    h = header_row(ws, "x")
    np.testing.assert_allclose(column(ws, h + 1, 3, d.n), phi @ w, rtol=1e-13, atol=1e-14)
    rows = {row[0]: row[1] for row in ws.iter_rows(values_only=True) if row[0]}
    assert rows["Total loss (MSE):"] == pytest.approx(np.mean((phi @ w - d.y) ** 2), rel=1e-13)
    best = np.linalg.lstsq(phi, d.y, rcond=None)[0]
    assert [rows["least squares:"], ws["C7"].value] == pytest.approx(best.tolist(), rel=1e-12)
    assert rows["least-squares loss:"] == pytest.approx(np.mean((phi @ best - d.y) ** 2), rel=1e-12)
    grid = column(ws, h + 1, 6, CURVE_POINTS)
    np.testing.assert_allclose(grid, np.linspace(d.x.min(), d.x.max(), CURVE_POINTS), rtol=0, atol=1e-15)
    np.testing.assert_allclose(column(ws, h + 1, 7, CURVE_POINTS), w[0] * grid + w[1], rtol=1e-13)


def test_quadratic_squares_x_on_the_data_sheet(tmp_path):
    result = r.fit_dataset(r.quadratic(), epochs=5)
    write_regression_book(result, tmp_path / "q.xlsx")
    book = openpyxl.load_workbook(tmp_path / "q.xlsx")
    data = book["data"]
    assert [c.value for c in data[4]] == ["y", "x^2", "x", "Ones"]
    assert data["B5"].value == "=C5^2" and data["D5"].value == 1
    curve = book["model"]
    h = header_row(curve, "x")
    assert curve.cell(h + 1, 7).value == f"=$B$6*F{h + 1}^2+$C$6*F{h + 1}+$D$6"


def test_relu_model_sheet_adds_units(tmp_path):
    result = r.fit_dataset(r.relu(), epochs=5)
    write_regression_book(result, tmp_path / "relu.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "relu.xlsx")["model"]
    assert ws["A6"].value == "unit 1 (m1, b1):" and ws["A7"].value == "unit 2 (m2, b2):"
    h = header_row(ws, "x")
    assert [c.value for c in ws[h]][:8] == ["x", "y", "Lin1", "Lin2", "ReLU1", "ReLU2", "prediction", "loss"]
    r1 = h + 1
    assert ws.cell(r1, 3).value == "=SUMPRODUCT(data!B5:C5,$B$6:$C$6)"
    assert ws.cell(r1, 4).value == "=SUMPRODUCT(data!B5:C5,$B$7:$C$7)"
    assert ws.cell(r1, 5).value == f"=IF(C{r1}<0,0,C{r1})"
    assert ws.cell(r1, 7).value == f"=E{r1}+F{r1}"
    curve = ws.cell(r1, 11).value
    assert (
        curve == f"=IF(($B$6*J{r1}+$C$6)<0,0,($B$6*J{r1}+$C$6))+IF(($B$7*J{r1}+$C$7)<0,0,($B$7*J{r1}+$C$7))"
    )


def test_csv_book_plots_predictions_against_truth(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("x1,x2,y\n0,1,2\n1,0,3\n1,1,4.5\n2,1,6\n")
    result = r.fit_dataset(r.read_dataset(path))
    write_regression_book(result, tmp_path / "two.xlsx")
    with zipfile.ZipFile(tmp_path / "two.xlsx") as z:
        assert "predictions against the truth" in z.read("xl/charts/chart1.xml").decode()
    ws = openpyxl.load_workbook(tmp_path / "two.xlsx")["model"]
    h = header_row(ws, "x1")
    assert [c.value for c in ws[h]][:5] == ["x1", "x2", "y", "prediction", "loss"]
    assert ws.cell(h + 1, 4).value == "=SUMPRODUCT(data!B5:D5,$B$6:$D$6)"


def test_same_fit_same_bytes_and_piled_gradients_refused(tmp_path, line_book):
    path, result = line_book
    write_regression_book(result, tmp_path / "again.xlsx")
    assert (tmp_path / "again.xlsx").read_bytes() == path.read_bytes()
    with pytest.raises(wb.WorkbenchError, match="zero_grad=True"):
        write_regression_book(r.fit_dataset(result.data, zero_grad=False), tmp_path / "bad.xlsx")
    assert not (tmp_path / "bad.xlsx").exists()


# --- every output, and LibreOffice's numbers ----------------------------------------------------


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    return write_regression_outputs(tmp_path_factory.mktemp("outputs"))


@pytest.fixture(scope="module")
def recalculated(outputs):
    """Every workbook, recalculated by one LibreOffice start."""
    books = [p for p in outputs if p.suffix == ".xlsx"]
    done = recalculate_all(books, books[0].parent / "recalculated")
    return {p.stem: openpyxl.load_workbook(p, data_only=True) for p in done}


@pytest.mark.slow
def test_outputs_are_every_book_and_picture(outputs, tmp_path):
    paths = outputs
    assert [p.name for p in paths] == OUTPUTS
    again = write_regression_outputs(tmp_path)
    for first, second in zip(paths, again, strict=True):
        assert first.read_bytes() == second.read_bytes(), f"{first.name} differs between two builds"


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", ["line", "quadratic", "speed", "relu"])
def test_libreoffice_recomputes_each_book(recalculated, name):
    book = recalculated[name]
    result = r.fit_dataset(r.load_dataset(name))
    t = result.trajectory
    steps, width = len(t.losses), t.params[0].size
    descent = book["descent"]
    h = header_row(descent, "step")
    rows = np.array(
        list(descent.iter_rows(min_row=h + 1, max_row=h + steps, max_col=2 + 2 * width, values_only=True)),
        dtype=float,
    )
    np.testing.assert_allclose(rows[:, 1 : 1 + width], t.params.reshape(steps, -1), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rows[:, 1 + width], t.losses, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rows[:, 2 + width :], t.grads.reshape(steps, -1), rtol=1e-9, atol=1e-9)

    model = book["model"]
    totals = {row[0]: row[1] for row in model.iter_rows(values_only=True) if row[0]}
    assert totals["Total loss (MSE):"] == pytest.approx(t.losses[-1], rel=1e-9)
    h = header_row(model, result.data.x_names[0])
    heads = [c.value for c in model[h]]
    preds = column(model, h + 1, heads.index("prediction") + 1, result.data.n)
    np.testing.assert_allclose(preds, result.predict(), rtol=1e-9, atol=1e-9)
    curve = column(model, h + 1, heads.index("curve prediction") + 1, CURVE_POINTS)
    grid = np.linspace(result.data.x.min(), result.data.x.max(), CURVE_POINTS)
    np.testing.assert_allclose(curve, result.predict(x=grid), rtol=1e-9, atol=1e-9)
    if result.model != "relu":
        best = np.linalg.lstsq(result.phi, result.data.y, rcond=None)[0]
        floor = np.mean((result.phi @ best - result.data.y) ** 2)
        assert totals["least-squares loss:"] == pytest.approx(floor, rel=1e-9)
