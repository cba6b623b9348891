"""The regression workbooks: data, model and descent sheets, charts, and LibreOffice's numbers."""

from __future__ import annotations

import re
import zipfile

import numpy as np
import openpyxl
import pytest
import torch
from openpyxl.formula import Tokenizer
from openpyxl.utils.cell import get_column_letter, range_boundaries
from plain_words import jargon
from small_book import write_book

import workbench as wb
from workbench import regression as r
from workbench.lesson_files import write_regression_outputs
from workbench.sheets.books.regression import CURVE_POINTS, Extras, write_regression_book
from workbench.sheets.books.titanic import add_titanic_descent_sheet, titanic_descent
from workbench.sheets.engines.recalc import recalculate_all
from workbench.sheets.write.xlsx import new_workbook

OUTPUTS = [
    "line.xlsx", "line_fit.png", "line_loss.png", "line_descent.gif",
    "line_lr_too_low.gif", "line_lr_too_high.gif", "line_lr_sweep.png", "line_parabola.png",
    "quadratic.xlsx", "quadratic_fit.png", "quadratic_loss.png",
    "speed.xlsx", "speed_fit.png", "speed_loss.png", "speed_valley.png",
    "relu.xlsx", "relu_fit.png", "relu_loss.png", "relu_units.png", "relu_overfitting.png",
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
    assert openpyxl.load_workbook(path).sheetnames == ["data", "by_hand", "model", "descent", "notes"]
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
    step = "MIN(MAX(INT($B$4),0),100)"
    assert ws["B6"].value == f"=INDEX(descent!$B${rows},{step}+1)"
    assert ws["C6"].value == f"=INDEX(descent!$C${rows.replace('B', 'C')},{step}+1)"
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
def test_the_lessons_numbers_are_explained_beside_ours(outputs):
    books = {p.stem: openpyxl.load_workbook(p) for p in outputs if p.suffix == ".xlsx"}
    d = r.line()
    intercept = np.linalg.lstsq(np.column_stack([d.x[:, 0], np.ones(100)]), d.y, rcond=None)[0][1]
    assert abs(intercept - 2.5) < 0.05 and abs(d.y - 3 * d.x[:, 0] - 2).mean() == pytest.approx(0.5, abs=0.05)
    for sheet in ("model", "descent", "by_hand"):  # the descent sheet's longer words: on the notes sheet
        text = " ".join(str(c.value) for c in books["line"][sheet]["A"][:8])
        text = notes_by_sheet(books["line"])["descent"] if sheet == "descent" else text
        assert "the best intercept a2 is near 2.5, not the lesson's 2" in text
    q = r.quadratic()
    phi = np.column_stack([q.x[:, 0] ** 2, q.x[:, 0], np.ones(20)])
    at = {s: float(np.mean((phi @ np.full(3, s) - q.y) ** 2)) for s in (1.0, 1.5)}
    for sheet in ("by_hand", "descent"):
        text = " ".join(str(c.value) for c in books["quadratic"][sheet]["A"][:10])
        text = notes_by_sheet(books["quadratic"])["descent"] if sheet == "descent" else text
        assert (
            "MSE of 11.46" in text and f"their MSE is {at[1.5]:.4g}" in text and f"MSE {at[1.0]:.4g}" in text
        )


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
    if name == "speed":  # the scaled descent, redone by LibreOffice, ends within 1% of the floor
        scaled = r.fit_dataset(r.scaled(result.data)).trajectory
        ws = book["descent_scaled"]
        h = header_row(ws, "step")
        rows = np.array(
            list(ws.iter_rows(min_row=h + 1, max_row=h + 101, max_col=5, values_only=True)), float
        )
        np.testing.assert_allclose(rows[:, 1:4], scaled.params, rtol=1e-9, atol=1e-9)
        np.testing.assert_allclose(rows[:, 4], scaled.losses, rtol=1e-9)
        assert labelled(ws)["Final loss:"] <= 1.01 * floor
    if name == "line":  # the mini-batch sheet, redone by LibreOffice
        record = r.sgd_steps(result.data, seed=0)
        ws = book["minibatch"]
        h = header_row(ws, "step")
        heads = [c.value for c in ws[h]]
        cols = [heads.index(f"{k} grad {p}") for k in ("batch", "full") for p in ("a1", "a2")]
        got = np.array([[ws.cell(h + 1 + t, c + 1).value for c in cols] for t in range(len(record.rows))])
        want = np.hstack([record.batch_grads, record.grads[:-1]])
        np.testing.assert_allclose(got, want, rtol=1e-9, atol=1e-12)


# --- issue 14: by_hand, the step shown, Final loss and floor, bands, scaled speed, minibatch -----


def labelled(ws) -> dict[str, object]:
    """Every label in column A (or D) -> the value right of it."""
    out = {}
    for row in ws.iter_rows():
        for cell in row[:8]:
            if isinstance(cell.value, str) and cell.value.endswith(":") and cell.column < ws.max_column:
                out.setdefault(cell.value, ws.cell(cell.row, cell.column + 1).value)
    return out


def lstsq_floor(phi, y) -> float:
    best = np.linalg.lstsq(phi, y, rcond=None)[0]
    return float(np.mean((phi @ best - y) ** 2))


@pytest.fixture(scope="module")
def speed_book(tmp_path_factory):
    path = tmp_path_factory.mktemp("speed") / "speed.xlsx"
    data = r.speed()
    raw, scaled = r.fit_dataset(data), r.fit_dataset(r.scaled(data))
    write_regression_book(raw, path, extras=Extras(scaled=scaled))
    return path, raw, scaled


def test_every_descent_sheet_shows_its_final_loss_beside_the_floor(speed_book):
    path, raw, scaled = speed_book
    book = openpyxl.load_workbook(path, data_only=True)
    assert book.sheetnames == ["data", "by_hand", "model", "descent", "descent_scaled", "notes"]
    t = raw.data.x[:, 0]
    floor = lstsq_floor(np.column_stack([t**2, t, np.ones(20)]), raw.data.y)
    for name, fit in (("descent", raw), ("descent_scaled", scaled)):
        values = labelled(book[name])
        assert values["Final loss:"] == pytest.approx(fit.losses[-1], rel=1e-12)
        assert values["Least-squares floor:"] == pytest.approx(floor, rel=1e-9)
    assert labelled(book["descent_scaled"])["Final loss:"] <= 1.01 * floor
    assert labelled(book["descent"])["Final loss:"] > 50 * floor
    notes = notes_by_sheet(book)  # the longer words: on the notes sheet, under each sheet's name
    assert "Why it stalls" in notes["descent"] and "Why it does not stall" in notes["descent_scaled"]
    assert "Why it stalls" not in notes["descent_scaled"]


def notes_by_sheet(book) -> dict[str, str]:
    """The notes sheet's words under each sheet's heading."""
    out, at = {}, None
    for (text,) in book["notes"].iter_rows(min_row=3, max_col=1, values_only=True):
        if text in book.sheetnames:
            at = text
        elif text and at:
            out[at] = f"{out.get(at, '')} {text}"
    return out


def test_descent_columns_are_banded_by_the_seven_steps(speed_book):
    path, _, _ = speed_book
    ws = openpyxl.load_workbook(path)["descent"]
    h = header_row(ws, "step")
    bands = [c.value for c in ws[h - 1] if c.value]
    assert bands == ["6 repeat", "1 initialise, 5 step", "3 loss", "4 gradient", "2 predict", "extra"]
    assert [c.value for c in ws[h]][:5] == ["step", "a", "b", "c", "loss (MSE)"]
    final = next(row for row in ws.iter_rows() if row[0].value == "Final loss:")
    assert any(str(c.value).startswith("7 stop") for c in final)


def test_scaled_columns_are_formulas_on_the_raw_ones(speed_book):
    path, _, _ = speed_book
    ws = openpyxl.load_workbook(path)["data"]
    assert [c.value for c in ws[4]] == [
        "speed",
        "time^2",
        "time",
        "Ones",
        None,
        "scaled time^2",
        "scaled time",
        "Ones",
    ]
    assert ws["F5"].value == "=G5^2" and ws["G5"].value == "=(C5-$G$26)/$G$27" and ws["H5"].value == 1
    assert ws["E26"].value == "centre:" and ws["G26"].value == "=(MAX($C$5:$C$24)+MIN($C$5:$C$24))/2"
    values = openpyxl.load_workbook(path, data_only=True)["data"]
    assert [values["G26"].value, values["G27"].value] == [9.5, 9.5]
    np.testing.assert_array_equal(
        [values.cell(5 + i, 7).value for i in range(20)], (np.arange(20) - 9.5) / 9.5
    )


def test_by_hand_holds_typed_numbers_and_its_gradient_beside_the_nudges(line_book):
    path, result = line_book
    book = openpyxl.load_workbook(path)
    ws = book["by_hand"]
    h = next(i for i in range(1, 12) if ws.cell(i, 1).value == "nudge h:")
    assert ws.cell(h, 2).value == 0.01
    assert [ws.cell(h + 2, 1).value, ws.cell(h + 2, 2).value, ws.cell(h + 2, 3).value] == ["yours:", -1, 1]
    assert "parameters typed by you" in ws["A1"].value
    values = openpyxl.load_workbook(path, data_only=True)["by_hand"]
    heads = [values.cell(h + 1, c).value for c in range(1, 12)]
    c = heads.index("gradient") + 1
    phi, y = np.column_stack([result.data.x[:, 0], np.ones(100)]), result.data.y
    w = np.array([-1.0, 1.0])
    grad = 2 / 100 * phi.T @ (phi @ w - y)
    for j in range(2):
        row = [values.cell(h + 2 + j, c + k).value for k in range(4)]
        assert row[0] == pytest.approx(grad[j], rel=1e-12)
        up, down = (np.mean((phi @ (w + s * 0.01 * np.eye(2)[j]) - y) ** 2) for s in (1, -1))
        assert row[1:3] == pytest.approx([up, down], rel=1e-12)
        assert row[3] == pytest.approx(grad[j], rel=1e-9)  # a parabola: the centred nudge is exact
    totals = labelled(values)
    assert totals["Total loss (MSE):"] == pytest.approx(np.mean((phi @ w - y) ** 2), rel=1e-12)


def test_by_hand_relu_nudges_approach_the_gradient(tmp_path):
    result = r.fit_dataset(r.relu(), epochs=3)
    write_regression_book(result, tmp_path / "relu.xlsx")
    ws = openpyxl.load_workbook(tmp_path / "relu.xlsx", data_only=True)["by_hand"]
    rows = [[c.value for c in row] for row in ws.iter_rows(max_col=12)]
    h = next(i for i, row in enumerate(rows) if "gradient" in row)
    c = rows[h].index("gradient")
    table = np.array([rows[h + 1 + q][c : c + 4] for q in range(4)], dtype=float)
    x, y = result.data.x[:, 0], result.data.y
    w = r.relu_start(result.data.x, 2)
    z = np.outer(x, w[:, 0]) + w[:, 1]
    err = np.maximum(z, 0).sum(1) - y
    grad = [2 / 20 * np.sum(err * (z[:, k] > 0) * f) for k in range(2) for f in (x, np.ones(20))]
    np.testing.assert_allclose(table[:, 0], grad, rtol=1e-12)
    np.testing.assert_allclose(table[:, 3], grad, rtol=1e-2)  # no kink crossed by a 0.01 nudge here


def test_minibatch_sheet_lists_each_batch_beside_both_gradients(tmp_path):
    data = r.line()
    record = r.sgd_steps(data, batch_size=10, epochs=10, seed=0)
    write_regression_book(r.fit_dataset(data), tmp_path / "line.xlsx", extras=Extras(minibatch=record))
    book = openpyxl.load_workbook(tmp_path / "line.xlsx", data_only=True)
    ws = book["minibatch"]
    h = header_row(ws, "step")
    heads = [c.value for c in ws[h]]
    assert heads[:11] == ["step"] + [f"pt {k}" for k in range(1, 11)]
    g = torch.Generator().manual_seed(0)
    first_epoch = torch.randperm(100, generator=g).numpy()
    points = np.array([[ws.cell(h + 1 + t, 2 + k).value for k in range(10)] for t in range(100)])
    assert points[:10].ravel().tolist() == (first_epoch + 1).tolist()
    phi = np.column_stack([data.x[:, 0], np.ones(100)])
    w = np.array([ws.cell(h + 2, heads.index("a1") + 1).value, ws.cell(h + 2, heads.index("a2") + 1).value])
    rows = points[1] - 1
    batch = 2 / 10 * phi[rows].T @ (phi[rows] @ w - data.y[rows])
    full = 2 / 100 * phi.T @ (phi @ w - data.y)
    got = [
        ws.cell(h + 2, heads.index(f"{k} grad {p}") + 1).value
        for k in ("batch", "full")
        for p in ("a1", "a2")
    ]
    np.testing.assert_allclose(got, [*batch, *full], rtol=1e-12)
    values = labelled(ws)
    assert values["Least-squares floor:"] == pytest.approx(lstsq_floor(phi, data.y), rel=1e-9)
    assert values["Final loss:"] == pytest.approx(np.mean((phi @ record.params[-1] - data.y) ** 2), rel=1e-12)
    with pytest.raises(wb.WorkbenchError, match="not ReLUs"):
        write_regression_book(
            r.fit_dataset(r.relu(), epochs=2), tmp_path / "bad.xlsx", extras=Extras(minibatch=record)
        )


@pytest.mark.slow
@pytest.mark.libreoffice
def test_typed_cells_drive_the_sheets_in_libreoffice(tmp_path):
    """Type a step number, parameters by hand and a mini-batch lr; LibreOffice redoes the rest."""
    data = r.line()
    result = r.fit_dataset(data)
    record = r.sgd_steps(data, seed=0)
    write_regression_book(result, tmp_path / "line.xlsx", extras=Extras(minibatch=record))
    book = openpyxl.load_workbook(tmp_path / "line.xlsx")
    book["model"]["B4"] = 7  # show step 7
    hand = book["by_hand"]
    row = next(i for i in range(1, 12) if hand.cell(i, 1).value == "yours:")
    hand.cell(row, 2).value, hand.cell(row, 3).value = 3, 2
    mini = book["minibatch"]
    lr_row = next(i for i in range(1, 12) if mini.cell(i, 1).value == "lr:")
    mini.cell(lr_row, 2).value = 0.05
    book.save(tmp_path / "typed.xlsx")
    for step in (101, -1):  # pasted past the validation: the nearest step is drawn, not an error
        book["model"]["B4"] = step
        book.save(tmp_path / f"step{step}.xlsx")
    done, *clamped = recalculate_all(
        [tmp_path / "typed.xlsx", tmp_path / "step101.xlsx", tmp_path / "step-1.xlsx"], tmp_path / "out"
    )
    for path, step in zip(clamped, (100, 0), strict=True):
        drawn = openpyxl.load_workbook(path, data_only=True)["model"]
        np.testing.assert_allclose([drawn["B6"].value, drawn["C6"].value], result.trajectory.params[step])
    got = openpyxl.load_workbook(done, data_only=True)

    model = got["model"]
    np.testing.assert_allclose(
        [model["B6"].value, model["C6"].value], result.trajectory.params[7], rtol=1e-12
    )
    phi, y = np.column_stack([data.x[:, 0], np.ones(100)]), data.y
    w = np.array([3.0, 2.0])
    values = labelled(got["by_hand"])
    assert values["Total loss (MSE):"] == pytest.approx(np.mean((phi @ w - y) ** 2), rel=1e-9)
    heads = [got["by_hand"].cell(row - 1, c).value for c in range(1, 12)]
    c = heads.index("gradient") + 1
    grad = 2 / 100 * phi.T @ (phi @ w - y)
    for j in range(2):
        assert got["by_hand"].cell(row + j, c).value == pytest.approx(grad[j], rel=1e-9)
        assert got["by_hand"].cell(row + j, c + 3).value == pytest.approx(grad[j], rel=1e-6)

    ws = got["minibatch"]
    h = header_row(ws, "step")
    heads = [cell.value for cell in ws[h]]
    w = record.params[0]
    for t in range(3):  # lr 0.05 from the same start, on the same batches
        got_w = [ws.cell(h + 1 + t, heads.index(p) + 1).value for p in ("a1", "a2")]
        np.testing.assert_allclose(got_w, w, rtol=1e-12)
        rows = record.rows[t]
        w = w - 0.05 * 2 / 10 * phi[rows].T @ (phi[rows] @ w - y[rows])


def test_any_csv_book_takes_a_scaled_descent_and_a_minibatch_sheet(tmp_path):
    path = tmp_path / "two.csv"
    path.write_text("x1,x2,y\n0,1,2\n1,0,3\n1,1,4.5\n2,1,6\n3,2,7\n")
    for model in ("linear", "relu"):
        data = r.read_dataset(path, model=model, epochs=20)
        record = r.sgd_steps(data, batch_size=5, epochs=2) if model == "linear" else None
        out = tmp_path / f"{model}.xlsx"
        write_regression_book(
            r.fit_dataset(data), out, extras=Extras(scaled=r.fit_dataset(r.scaled(data)), minibatch=record)
        )
        book = openpyxl.load_workbook(out, data_only=True)
        extra = ["minibatch"] if model == "linear" else []
        assert book.sheetnames == ["data", "by_hand", "model", "descent", "descent_scaled", *extra, "notes"]
        floor = labelled(book["descent_scaled"])["Least-squares floor:"]
        assert floor.startswith("none") if model == "relu" else isinstance(floor, float)
    with pytest.raises(wb.WorkbenchError, match="scaled fit"):
        write_regression_book(
            r.fit_dataset(data), out, extras=Extras(scaled=r.fit_dataset(r.scaled(r.line())))
        )


def test_the_held_out_sheet_scores_each_sum_of_relus_on_the_points_it_shows(tmp_path):
    d = r.relu()
    more = r.held_out_scores(r.more_units(d, units=(1, 2, 4), epochs=200), *r.held_out(d))
    path = write_regression_book(r.fit_dataset(d), tmp_path / "relu.xlsx", extras=Extras(held_out=more))
    book = openpyxl.load_workbook(path, data_only=True)
    ws, formulas = book["held_out"], openpyxl.load_workbook(path)["held_out"]
    top = header_row(ws, "set")
    x_train, y_train = column(ws, top + 1, 2, 20), column(ws, top + 1, 3, 20)
    x_new, y_new = column(ws, top + 21, 2, 19), column(ws, top + 21, 3, 19)
    np.testing.assert_array_equal(x_train, d.x[:, 0])
    np.testing.assert_array_equal(y_train, d.y)
    assert formulas.cell(top + 1, 2).value == "=data!$B5" and formulas.cell(top + 1, 3).value == "=data!$A5"
    first = header_row(ws, "ReLU") + 1
    for u, k in enumerate((1, 2, 4)):
        m, b = column(ws, first, 2 + 2 * u, k), column(ws, first, 3 + 2 * u, k)
        predict = lambda xs, m=m, b=b: np.maximum(np.outer(xs, m) + b, 0).sum(1)
        row = header_row(ws, "ReLUs") + 1 + u
        assert ws.cell(row, 1).value == k
        assert ws.cell(row, 3).value == pytest.approx(np.mean((predict(x_train) - y_train) ** 2), rel=1e-12)
        assert ws.cell(row, 4).value == pytest.approx(np.mean((predict(x_new) - y_new) ** 2), rel=1e-12)
        assert formulas.cell(row, 3).value.startswith("=SUMXMY2(")


# --- issue 22: what the sheets say is what their cells hold ---------------------------------------

#: The lessons' own fixed starts, from their notebooks: the 2019 line's ``a = tensor(-1., 1)``, the
#: 2022 quadratic's sliders at 1.5, and its double ReLU's ``@interact(m1=-1.5, b1=-1.5, m2=1.5, b2=1.5)``.
LESSON_STARTS = {"line": (-1, 1), "quadratic": (1.5, 1.5, 1.5), "relu": (-1.5, -1.5, 1.5, 1.5)}


@pytest.mark.parametrize("name", ["line", "quadratic", "speed", "relu"])
def test_by_hand_says_truly_where_its_yellow_cells_start(tmp_path, name):
    result = r.fit_dataset(r.load_dataset(name), epochs=2)
    write_regression_book(result, tmp_path / f"{name}.xlsx")
    ws = openpyxl.load_workbook(tmp_path / f"{name}.xlsx")["by_hand"]
    start = np.asarray(result.trajectory.params[0], dtype=float).ravel()
    rows = [r for r in range(1, 15) if str(ws.cell(r, 1).value).startswith(("yours:", "unit "))]
    width = start.size // len(rows)
    yellow = [ws.cell(r, c).value for r in rows for c in range(2, 2 + width)]
    np.testing.assert_allclose(yellow, start, rtol=1e-15)  # what the cells hold (16 digits)
    said = ws["A2"].value
    number = r"-?\d[\d.]*(?:e[-+]?\d+)?"
    claims = re.search(rf"They start at (the lesson's start, )?({number}(?:, {number})*)", said)
    assert claims, said
    assert [float(v) for v in claims.group(2).split(", ")] == pytest.approx(
        start, abs=5e-3 * abs(start).max()
    )
    lesson = LESSON_STARTS.get(name)
    is_lessons = lesson is not None and np.array_equal(start, np.asarray(lesson, dtype=float))
    assert bool(claims.group(1)) == is_lessons, said
    assert (name in ("line", "quadratic")) == is_lessons  # relu's kinks and speed's draw are not the lesson's
    if lesson is not None and not is_lessons:
        assert "not at the lesson's " + ", ".join(f"{v:g}" for v in lesson) in said


def test_the_step_cell_refuses_what_the_sheet_cannot_draw(line_book):
    path, _ = line_book
    with zipfile.ZipFile(path) as z:
        names = {
            openpyxl.load_workbook(path).sheetnames[i]: f"xl/worksheets/sheet{i + 1}.xml" for i in range(4)
        }
        model, by_hand = (z.read(names[s]).decode() for s in ("model", "by_hand"))
    step = re.search(r'<dataValidation type="whole"[^>]*sqref="B4"[^>]*>.*?</dataValidation>', model, re.S)
    assert step and "<formula1>0</formula1><formula2>100</formula2>" in step.group(0)
    assert 'errorStyle="' not in step.group(0) or 'errorStyle="stop"' in step.group(0)  # stop: refused
    assert re.search(r'<dataValidation type="decimal" operator="greaterThan"[^>]*>', by_hand)


def _refs(formula: str, sheet: str, absolute: bool = False) -> set[tuple[str, str]]:
    """Every cell a formula reads (``absolute``: through $A$1 references only), as (sheet, A1 cell)."""
    out = set()
    for token in Tokenizer(formula).items:
        if token.type != "OPERAND" or token.subtype != "RANGE":
            continue
        where, _, cells = token.value.rpartition("!")
        if absolute and not re.fullmatch(r"\$[A-Z]+\$\d+(:\$[A-Z]+\$\d+)?", cells):
            continue
        c1, r1, c2, r2 = range_boundaries(cells.replace("$", ""))
        out |= {
            (where.strip("'") or sheet, f"{get_column_letter(c)}{r}")
            for r in range(r1, r2 + 1)
            for c in range(c1, c2 + 1)
        }
    return out


def _cells(ref: str) -> set[str]:
    c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
    return {f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)}


def test_every_number_a_formula_reads_is_data_or_a_marked_setting(tmp_path):
    """A number that formulas read as a setting ($A$1) must be marked: yellow (the sheet follows it) or
    grey (a start, a reference value); not a lone plain number that looks like a setting."""
    data = r.line()
    record = r.sgd_steps(data, seed=0)
    write_regression_book(
        r.fit_dataset(data, epochs=3), tmp_path / "line.xlsx", extras=Extras(minibatch=record)
    )
    book = openpyxl.load_workbook(tmp_path / "line.xlsx")
    read = set()
    for ws in book.worksheets:
        for row in ws.iter_rows():
            for c in row:
                if c.data_type == "f":
                    read |= _refs(getattr(c.value, "text", c.value), ws.title, absolute=True)
    unmarked = []
    for sheet, cell in sorted(read):
        ws = book[sheet]
        c = ws[cell]
        in_array = any(c.coordinate in _cells(ref) for ref in ws.array_formulae.values())
        # Left out: the data, an array formula's own values, and the floor (numpy's answer, shown
        # beside the final loss it is compared with; not a setting).
        if sheet == "data" or not isinstance(c.value, int | float) or in_array:
            continue
        if "floor" in str(ws.cell(c.row, c.column - 1).value):
            continue
        filled = c.fill.fgColor.rgb in ("FFFFF2CC", "FFEDEDED")
        if not filled:
            unmarked.append(f"{sheet}!{cell}")
    assert unmarked == []
    assert book["minibatch"]["E4"].value.startswith("=COLUMNS(")  # the batch size is counted, not typed


def test_model_charts_keep_their_axes_at_the_edges(tmp_path):
    """At 0, the default, x from -2 to 2 would put the y axis and its name over the points."""
    write_regression_book(r.fit_dataset(r.relu(), epochs=2), tmp_path / "relu.xlsx")
    with zipfile.ZipFile(tmp_path / "relu.xlsx") as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/chart")]
    points = [c for c in charts if "the points and the model" in c]
    assert len(points) == 2  # by_hand's and model's
    for chart in points:
        assert chart.count('<c:crosses val="min"/>') == 2 and 'val="autoZero"' not in chart


def test_the_held_out_note_says_what_its_losses_show(tmp_path):
    d = r.relu()
    more = r.held_out_scores(r.more_units(d, units=(1, 2, 4), epochs=200), *r.held_out(d))
    path = write_regression_book(
        r.fit_dataset(d, epochs=2), tmp_path / "relu.xlsx", extras=Extras(held_out=more)
    )
    ws = openpyxl.load_workbook(path, data_only=True)["held_out"]
    row = header_row(ws, "ReLUs") + 1
    train, held = column(ws, row, 3, 3), column(ws, row, 4, 3)
    note = " ".join(str(ws.cell(r, 1).value) for r in range(2, 5))
    best = (1, 2, 4)[int(np.argmin(held))]
    assert ("train loss falls at every size" in note) == bool(train[0] > train[1] > train[2])
    at = "the most, 4 ReLUs" if best == 4 else f"{best} ReLU"
    assert f"held-out loss lowest at {at}" in note
    assert ("(over-fitting)" in note.split("Here:")[1].split(".")[0]) == (best != 4)


def words_above_the_steps(ws) -> int:
    """Words of every text cell under the title and above the ``step`` heading (formulas are not text)."""
    head = header_row(ws, "step")
    texts = [c.value for row in ws.iter_rows(min_row=2, max_row=head - 1) for c in row]
    return sum(len(t.split()) for t in texts if isinstance(t, str) and not t.startswith("="))


@pytest.fixture(scope="module")
def every_descent_sheet(tmp_path_factory, table):
    """A book of each kind of descent sheet: the line's (with minibatch), speed's (raw and scaled),
    relu's, and Titanic's, as the build writes them."""
    folder = tmp_path_factory.mktemp("lean")
    line, speed, relu = r.line(), r.speed(), r.relu()
    line_extras = Extras(minibatch=r.sgd_steps(line, seed=0))
    speed_extras = Extras(scaled=r.fit_dataset(r.scaled(speed)))
    books = {
        "line": write_regression_book(r.fit_dataset(line), folder / "line.xlsx", extras=line_extras),
        "speed": write_regression_book(r.fit_dataset(speed), folder / "speed.xlsx", extras=speed_extras),
        "relu": write_regression_book(r.fit_dataset(relu, epochs=60), folder / "relu.xlsx"),
    }
    with new_workbook(folder / "titanic.xlsx", title="t") as book:
        titanic = add_titanic_descent_sheet(book, table, titanic_descent(table, epochs=5))
    books["titanic"] = folder / "titanic.xlsx"
    return books, titanic


def test_no_more_than_about_60_words_above_the_steps_of_any_descent_sheet(every_descent_sheet):
    """The lesson's sheets had none: one line, the lr and the step in view; the rest is in comments and on
    the notes sheet (before: 170 to 298 words on each)."""
    books, titanic = every_descent_sheet
    sheets = {"line": ["descent", "minibatch"], "speed": ["descent", "descent_scaled"], "relu": ["descent"]}
    for name, path in books.items():
        book = openpyxl.load_workbook(path)
        for sheet in sheets.get(name, ["descent"]):
            assert words_above_the_steps(book[sheet]) <= 60, (name, sheet)
            assert book[sheet]["A1"].value.startswith(sheet)  # its title
        assert jargon(path) == [], name  # plain words in cells; the technical names in comments
    line = openpyxl.load_workbook(books["line"])
    notes = notes_by_sheet(line)
    assert "Mini-batch SGD: each step takes 10 points" in notes["minibatch"]
    assert "seven steps" in notes["descent"] and "sums of the data" in notes["descent"]
    assert (
        "the notes sheet" in line["descent"]["A2"].value
        and "the notes sheet" in line["minibatch"]["A2"].value
    )
    comment = openpyxl.load_workbook(books["titanic"])["descent"]["A1"].comment.text  # no notes sheet there
    assert "712 passengers" in comment and titanic.notes[1] in comment
    assert "the title's comment" in openpyxl.load_workbook(books["titanic"])["descent"]["A2"].value
    diverges = next(
        c for row in line["descent"].iter_rows(max_row=8) for c in row if c.value == "diverges above lr:"
    )
    assert "eigenvalue" in diverges.comment.text  # the technical name, kept beside the plain words


def test_the_titanic_books_notes_sheet_holds_the_descent_sheets_longer_words(tmp_path):
    passengers = wb.load_titanic().head(80)
    table = wb.lesson_table(passengers)

    def descent(book):
        return add_titanic_descent_sheet(book, table, titanic_descent(table, epochs=3), notes_sheet=True)

    write_book(tmp_path / "t.xlsx", passengers, extra_sheets=[descent])
    book = openpyxl.load_workbook(tmp_path / "t.xlsx")
    notes = notes_by_sheet(book)
    assert f"Titanic, {len(table)} passengers" in notes["descent"] and "seven steps" in notes["descent"]
    assert "the notes sheet" in book["descent"]["A2"].value and book["descent"]["A1"].comment is None


def numpy_descent(phi, y, w, lr, steps, *, pile_up=False):
    """Plain numpy: parameters and losses per step; with ``pile_up`` each step moves by every gradient
    so far, summed (torch's .grad never zeroed)."""
    params, losses, total = [], [], np.zeros_like(w)
    for _ in range(steps + 1):
        res = phi @ w - y
        g = 2 / len(y) * phi.T @ res
        params.append(w)
        losses.append(np.mean(res**2))
        total = total + g if pile_up else g
        w = w - lr * total
    return np.array(params), np.array(losses)


@pytest.fixture(scope="module")
def quadratic_book(tmp_path_factory):
    from workbench.lessons import LESSONS, Run

    data = r.quadratic()
    run = Run(data, r.fit_dataset(data), None, tmp_path_factory.mktemp("quadratic"))
    path = run.out / "quadratic.xlsx"
    write_regression_book(run.result, path, extras=LESSONS["quadratic"].sheets(run))
    return path, data


def test_the_quadratic_shows_correct_descent_beside_the_2022_loops_piled_up_gradients(quadratic_book):
    path, data = quadratic_book
    book = openpyxl.load_workbook(path, data_only=True)
    assert book.sheetnames == ["data", "by_hand", "model", "descent", "pile_up", "notes"]
    ws = book["pile_up"]
    h = header_row(ws, "step")
    heads = [c.value for c in ws[h]]
    phi = np.column_stack([data.x[:, 0] ** 2, data.x[:, 0], np.ones(data.n)])
    right = heads.index("a", 2)  # the piled-up block's first column
    steps = max(ws.cell(h + 1 + t, 1).value for t in range(30) if ws.cell(h + 1 + t, 1).value is not None)
    rows = [[ws.cell(h + 1 + t, c).value for c in range(1, ws.max_column + 1)] for t in range(steps + 1)]
    got = np.array(rows, dtype=float)
    for block, pile in ((1, False), (right, True)):
        params, losses = numpy_descent(phi, data.y, np.full(3, 1.5), 0.01, steps, pile_up=pile)
        np.testing.assert_allclose(got[:, block : block + 3], params, rtol=1e-10)
        np.testing.assert_allclose(got[:, block + 3], losses, rtol=1e-10)
    np.testing.assert_allclose(got[6, 1:4], [1.84, 1.44, 1.58], atol=0.005)  # the correct descent
    line = ws["A2"].value
    assert "left (1.84, 1.44, 1.58)" in line and f"loss {got[6, 4]:.2f}" in line
    piled = got[:, right + 3]
    low = int(np.argmin(piled))
    assert (f"lowest at step {low}" in line) == (0 < low < steps and piled[low + 1] > piled[low])
    assert "3.2, 1.9 and 2.0" in notes_by_sheet(book)["pile_up"]  # the video's, in words


def test_the_pile_up_line_says_what_the_numbers_show():
    from workbench.sheets.write.pile_up import pile_up_line

    def run(losses, zero_grad):
        zeros = np.zeros((len(losses), 2))
        return r.Trajectory("linear", 0.1, zeros, np.array(losses), zeros, zero_grad)

    ok = run([5, 4, 3, 2, 1.5, 1.2, 1.1, 1.0], True)
    assert "lowest at step 3 (1.00), then rises" in pile_up_line(ok, run([5, 3, 2, 1, 2, 3, 2.5, 2], False))
    assert "still falling at step 7" in pile_up_line(ok, run([5, 4, 3, 2.5, 2, 1.5, 1.2, 1.1], False))
    assert "never falls below the start" in pile_up_line(ok, run([1, 2, 3, 4, 5, 6, 7, 8], False))


def test_the_scaled_parameters_are_shown_in_the_datas_own_units(speed_book):
    """Beside the scaled parameters at the step in view, formulas undo the scaling: the same curve on t."""
    path, raw, scaled = speed_book
    book, values = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    ws = values["descent_scaled"]
    at = next((c.row, c.column) for row in ws.iter_rows(max_row=12) for c in row if c.value == "unscaled:")
    unscaled = [ws.cell(at[0], at[1] + 1 + j).value for j in range(3)]
    params = [ws.cell(at[0], c).value for c in range(at[1] - 4, at[1] - 1)]  # "parameters:" a, b, c
    np.testing.assert_allclose(params, scaled.trajectory.params[-1], rtol=1e-12)
    t, s = raw.data.x[:, 0], scaled.data.x[:, 0]
    a, b, c = unscaled
    np.testing.assert_allclose(a * t**2 + b * t + c, np.polyval(params, s), rtol=1e-9)
    formula = book["descent_scaled"].cell(at[0], at[1] + 2).value
    assert "data!$G$26" in formula and "data!$G$27" in formula  # the data sheet's centre and half-range
    assert book["descent_scaled"].cell(*at).comment.text.startswith("unscaled:")
    # any linear model and sum of ReLUs, several inputs: unit by unit
    centre, half = np.array([1.0, -2.0]), np.array([0.5, 4.0])
    x = np.random.default_rng(0).normal(size=(7, 2))
    sx = (x - centre) / half
    w = np.array([[0.3, -1.2, 0.7], [2.0, 0.1, -0.4]])
    u = r.unscaled_params("relu", w, centre, half)
    np.testing.assert_allclose(x @ u[:, :2].T + u[:, 2], sx @ w[:, :2].T + w[:, 2], rtol=1e-12)


def test_the_scaled_learning_rate_is_explained_from_its_numbers(speed_book):
    path, _, scaled = speed_book
    notes = notes_by_sheet(openpyxl.load_workbook(path))["descent_scaled"]
    bend = np.linalg.eigvalsh(2 / 20 * scaled.phi.T @ scaled.phi)[-1]
    assert scaled.trajectory.lr == pytest.approx(1 / bend, rel=1e-12)
    assert f"Its learning rate, {scaled.trajectory.lr:.4g}, is 1 / {bend:.3g}" in notes
    assert "one over the steepest direction's bend" in notes
