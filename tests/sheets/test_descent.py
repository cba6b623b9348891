"""The descent sheet: formulas that redo gradient descent row by row, checked in LibreOffice.

The LibreOffice tests recalculate ONE workbook holding every sheet under test (one
LibreOffice start): the line's descent, a copy with wrong cached values, a copy whose
lr cell holds a diverging learning rate, a ReLU descent, and the Titanic linear model's.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import openpyxl
import pytest
import torch

import workbench as wb
from workbench import regression as r
from workbench.regression.sheet_values import descent_values
from workbench.sheets.books.titanic import add_titanic_descent_sheet, titanic_descent
from workbench.sheets.engines.recalc import recalculate
from workbench.sheets.write.descent import Look, Points, write_descent_sheet
from workbench.sheets.write.grid import Block
from workbench.sheets.write.xlsx import new_workbook
from workbench.titanic.features import FEATURES
from workbench.titanic.models import inputs, targets

BIG_LR = 1.5  # the line diverges above 0.998


def numpy_linear_descent(x, y, w, lr, epochs):
    """Plain numpy, analytic gradient 2/n X^T (Xw - y): parameters, losses, gradients per row."""
    rows = []
    for _ in range(epochs + 1):
        res = x @ w - y
        g = 2 / len(y) * x.T @ res
        rows.append((w, np.mean(res**2), g))
        w = w - lr * g
    return [np.array(v) for v in zip(*rows, strict=True)]


def DATA(fit: r.Fit) -> tuple[np.ndarray, np.ndarray]:
    return fit.phi, fit.data.y


def write_data(book, name: str, phi: np.ndarray, y: np.ndarray) -> tuple[Block, Block]:
    """y in column A, the design matrix from column B, header in row 1."""
    ws = book.add_worksheet(name)
    ws.write_row(0, 0, ["y", *(f"x{j}" for j in range(phi.shape[1]))])
    for i in range(len(y)):
        ws.write_number(1 + i, 0, y[i])
        ws.write_row(1 + i, 1, phi[i].tolist())
    n = len(y)
    return Block(name, 1, 1, n, phi.shape[1]), Block(name, 1, 0, n, 0)


def read_rows(ws, header_row: int, steps: int, width: int) -> np.ndarray:
    """Step, params, loss, grads of every row below the (0-based) header row."""
    first = header_row + 2  # openpyxl counts from 1
    cells = ws.iter_rows(min_row=first, max_row=first + steps - 1, max_col=2 + 2 * width, values_only=True)
    return np.array([[np.nan if v is None or isinstance(v, str) else v for v in row] for row in cells], float)


@pytest.fixture(scope="module")
def line_fit():
    return r.fit_dataset(r.line())


@pytest.fixture(scope="module")
def relu_fit():
    return r.fit_dataset(r.relu(), epochs=60)


# --- without LibreOffice ----------------------------------------------------------------------


def test_block_parse_and_print():
    b = Block.parse("data!$B$2:$C$101")
    assert (b.sheet, b.first_row, b.first_col, b.last_row, b.last_col) == ("data", 1, 1, 100, 2)
    assert (b.rows, b.cols, str(b.column(1))) == (100, 2, "data!$C$2:$C$101")
    assert str(Block.parse("'my data'!A1:B3")) == "'my data'!$A$1:$B$3"
    with pytest.raises(wb.WorkbenchError, match="named sheet"):
        Block.parse("B2:C5")


def test_formulas_chain_each_row_to_the_row_above(tmp_path, line_fit):
    path = tmp_path / "line.xlsx"
    with new_workbook(path, title="t") as book:
        x, y = write_data(book, "data", line_fit.phi, line_fit.data.y)
        sheet = write_descent_sheet(
            book,
            line_fit.trajectory,
            Points(x, y, DATA(line_fit), ("a1", "a2")),
            values=descent_values(line_fit.trajectory, DATA(line_fit)),
        )
    assert sheet.lr == "descent!$B$4" and sheet.final_params == ("descent!$B$108", "descent!$C$108")
    ws = openpyxl.load_workbook(path)["descent"]
    h = sheet.header_row + 1  # 1-based
    assert [c.value for c in ws[h]][:6] == ["step", "a1", "a2", "loss (MSE)", "grad a1", "grad a2"]
    assert ws.cell(h + 1, 2).value == -1 and ws.cell(h + 1, 3).value == 1  # the start, as numbers
    r5 = h + 6  # step 5
    assert ws.cell(r5, 2).value == f"=B{r5 - 1}-$B$4*E{r5 - 1}"
    assert ws.cell(r5, 3).value == f"=C{r5 - 1}-$B$4*F{r5 - 1}"
    # the sums of the data every step reads: from column P, past the points at the step in view
    assert [ws.cell(h, 16).value, ws.cell(h + 3, 16).value, ws.cell(h + 4, 16).value] == [
        "X^T X",
        "X^T y",
        "y^T y",
    ]
    assert ws["Q8"].value.text == "=MMULT(TRANSPOSE(data!$B$2:$C$101),data!$B$2:$C$101)"
    assert ws["Q8"].value.ref == "Q8:R9"
    assert ws["Q10"].value.text == "=MMULT(TRANSPOSE(data!$A$2:$A$101),data!$B$2:$C$101)"
    assert ws["Q11"].value == "=SUMSQ(data!$A$2:$A$101)"
    w, wxtx = f"B{r5}:C{r5}", f"MMULT(B{r5}:C{r5},$Q$8:$R$9)"
    assert ws.cell(r5, 4).value.text == f"=(SUMPRODUCT({wxtx},{w})-2*SUMPRODUCT({w},$Q$10:$R$10)+$Q$11)/$E$4"
    grad = ws.cell(r5, 5).value
    assert (grad.text, grad.ref) == (f"=2*({wxtx}-$Q$10:$R$10)/$E$4", f"E{r5}:F{r5}")
    long_way = ws.cell(h + 6, 16).value  # the last step's loss from every row's prediction
    assert long_way.text == "=SUMXMY2(MMULT(data!$B$2:$C$101,TRANSPOSE($B$108:$C$108)),data!$A$2:$A$101)/$E$4"
    assert ws["B4"].value == 0.1 and ws["E4"].value == "=ROWS(data!$A$2:$A$101)"


def test_cached_values_are_the_independent_numpy_descent(tmp_path, line_fit):
    path = tmp_path / "line.xlsx"
    with new_workbook(path, title="t") as book:
        x, y = write_data(book, "data", line_fit.phi, line_fit.data.y)
        sheet = write_descent_sheet(
            book,
            line_fit.trajectory,
            Points(x, y, DATA(line_fit), ("a1", "a2")),
            values=descent_values(line_fit.trajectory, DATA(line_fit)),
        )
    d = line_fit.data
    phi = np.column_stack([d.x[:, 0], np.ones(d.n)])
    params, losses, grads = numpy_linear_descent(phi, d.y, np.array([-1.0, 1.0]), 0.1, 100)
    rows = read_rows(openpyxl.load_workbook(path, data_only=True)["descent"], sheet.header_row, 101, 2)
    assert rows[:, 0].tolist() == list(range(101))
    np.testing.assert_allclose(rows[:, 1:3], params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rows[:, 3], losses, rtol=1e-12)
    np.testing.assert_allclose(rows[:, 4:6], grads, rtol=1e-10, atol=1e-14)
    ws = openpyxl.load_workbook(path, data_only=True)["descent"]
    h = sheet.header_row + 1
    sums = [[ws.cell(h + i, 17 + j).value for j in range(2)] for i in range(1, 4)]
    np.testing.assert_allclose(sums[:2], phi.T @ phi, rtol=1e-12)
    np.testing.assert_allclose(sums[2], d.y @ phi, rtol=1e-12)
    assert ws.cell(h + 4, 17).value == pytest.approx(np.sum(d.y**2), rel=1e-12)
    assert ws.cell(h + 6, 16).value == pytest.approx(losses[-1], rel=1e-12)


def test_relu_formulas_mask_the_gradient_by_each_unit(tmp_path, relu_fit):
    path = tmp_path / "relu.xlsx"
    with new_workbook(path, title="t") as book:
        x, y = write_data(book, "data", relu_fit.phi, relu_fit.data.y)
        sheet = write_descent_sheet(
            book,
            relu_fit.trajectory,
            Points(x, y, DATA(relu_fit), relu_fit.param_names),
            values=descent_values(relu_fit.trajectory, DATA(relu_fit)),
        )
    ws = openpyxl.load_workbook(path)["descent"]
    h = sheet.header_row + 1
    z1 = f"MMULT(data!$B$2:$C$21,TRANSPOSE(B{h + 1}:C{h + 1}))"
    z2 = f"MMULT(data!$B$2:$C$21,TRANSPOSE(D{h + 1}:E{h + 1}))"
    pred = f"(IF({z1}<0,0,{z1})+IF({z2}<0,0,{z2}))"
    assert ws.cell(h + 1, 6).value.text == f"=SUMXMY2({pred},data!$A$2:$A$21)/$E$4"
    grad_unit2 = ws.cell(h + 1, 9).value  # one array formula fills unit 2's gradient cells
    assert grad_unit2.text == f"=2*MMULT(TRANSPOSE(({pred}-data!$A$2:$A$21)*({z2}>0)),data!$B$2:$C$21)/$E$4"
    assert grad_unit2.ref == f"I{h + 1}:J{h + 1}"


def test_shapes_that_do_not_fit_are_refused(tmp_path, line_fit):
    with new_workbook(tmp_path / "bad.xlsx", title="t") as book:
        x, y = write_data(book, "data", line_fit.phi, line_fit.data.y)
        data, traj = DATA(line_fit), line_fit.trajectory
        with pytest.raises(wb.WorkbenchError, match="have 3 columns, but the parameters come in 1 row"):
            write_descent_sheet(
                book, traj, Points("data!B2:D101", y, data, "ab"), values=descent_values(traj, data)
            )
        with pytest.raises(wb.WorkbenchError, match="one column of 100 rows"):
            write_descent_sheet(
                book, traj, Points(x, "data!A2:A50", data, "ab"), values=descent_values(traj, data)
            )
        with pytest.raises(wb.WorkbenchError, match="3 parameter names for 2 parameters"):
            write_descent_sheet(book, traj, Points(x, y, data, "abc"), values=descent_values(traj, data))
        with pytest.raises(wb.WorkbenchError, match=r"data of shapes \(50, 2\) and \(100,\) for the ranges"):
            write_descent_sheet(
                book,
                traj,
                Points(x, y, (data[0][:50], data[1]), "ab"),
                values=descent_values(traj, data),
            )
        with pytest.raises(wb.WorkbenchError, match=r"data of shapes \(50, 2\) and \(100,\)"):
            descent_values(traj, (data[0][:50], data[1]))
        piled = r.fit_dataset(line_fit.data, zero_grad=False, epochs=5).trajectory
        with pytest.raises(wb.WorkbenchError, match="piled up"):
            write_descent_sheet(book, piled, Points(x, y, data, "ab"), values=descent_values(piled, data))


def test_titanic_descent_caches_numpy_values(tmp_path, table):
    path = tmp_path / "titanic.xlsx"
    with new_workbook(path, title="t") as book:
        trajectory = add_titanic_descent_sheet(book, table, titanic_descent(table, epochs=20)).trajectory
    x, y = inputs(table).numpy(), targets(table).numpy()
    start = trajectory.params[0]
    assert np.all((start >= -0.5) & (start < 0.5))
    params, losses, grads = numpy_linear_descent(x, y, start, 0.1, 20)
    book = openpyxl.load_workbook(path, data_only=True)
    assert book.sheetnames == ["descent_data", "descent"]
    ws = book["descent"]
    header = next(i for i, row in enumerate(ws.iter_rows(values_only=True)) if row[0] == "step")
    assert list(next(ws.iter_rows(min_row=header + 1, max_row=header + 1, values_only=True))[1:11]) == [
        *FEATURES[:-1],
        "Const",
    ]
    rows = read_rows(ws, header, 21, 10)
    np.testing.assert_allclose(rows[:, 1:11], params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rows[:, 11], losses, rtol=1e-12)
    np.testing.assert_allclose(rows[:, 12:], grads, rtol=1e-9, atol=1e-14)
    hessian_top = np.linalg.eigvalsh(2 / len(y) * x.T @ x)[-1]
    stable = next(row[1] for row in ws.iter_rows(values_only=True) if row[0] == "diverges above lr:")
    assert stable == pytest.approx(2 / hessian_top, rel=1e-12)


def test_titanic_ranges_must_come_in_pairs(tmp_path, table):
    with new_workbook(tmp_path / "t.xlsx", title="t") as book, pytest.raises(wb.WorkbenchError, match="pair"):
        add_titanic_descent_sheet(
            book, table, titanic_descent(table, epochs=1), ranges=("linear!$G$10:$P$721",)
        )


# --- in LibreOffice ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def recalculated(tmp_path_factory, line_fit, relu_fit, table):
    """One workbook with every sheet under test, recalculated once by LibreOffice."""
    folder = tmp_path_factory.mktemp("descent")
    src = folder / "checks.xlsx"
    traj = line_fit.trajectory
    wrong = dataclasses.replace(traj, losses=traj.losses.copy(), params=traj.params.copy())
    wrong.losses[7] = 123.0  # cached values LibreOffice must overwrite
    wrong.params[50] = [9.0, -9.0]
    exploding = dataclasses.replace(traj, lr=BIG_LR)  # the lr cell typed bigger; cached values stale
    sheets = {}
    with new_workbook(src, title="checks") as book:
        x, y = write_data(book, "data", line_fit.phi, line_fit.data.y)
        for name, t in (("descent", traj), ("wrong", wrong), ("big_lr", exploding)):
            sheets[name] = write_descent_sheet(
                book,
                t,
                Points(x, y, DATA(line_fit), "ab"),
                Look(name=name),
                values=descent_values(t, DATA(line_fit)),
            )
        rx, ry = write_data(book, "relu_data", relu_fit.phi, relu_fit.data.y)
        sheets["relu"] = write_descent_sheet(
            book,
            relu_fit.trajectory,
            Points(rx, ry, DATA(relu_fit), relu_fit.param_names),
            Look(name="relu"),
            values=descent_values(relu_fit.trajectory, DATA(relu_fit)),
        )
        titanic = add_titanic_descent_sheet(book, table, titanic_descent(table), name="titanic")
    out = recalculate(src, folder / "out")
    return openpyxl.load_workbook(out, data_only=True), sheets, titanic


def assert_rows_match(rows: np.ndarray, traj: r.Trajectory) -> None:
    width = traj.params[0].size
    steps = len(traj.losses)
    np.testing.assert_allclose(rows[:, 1 : 1 + width], traj.params.reshape(steps, -1), rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rows[:, 1 + width], traj.losses, rtol=1e-9, atol=1e-9)
    np.testing.assert_allclose(rows[:, 2 + width :], traj.grads.reshape(steps, -1), rtol=1e-9, atol=1e-9)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_redoes_the_line_descent(recalculated, line_fit):
    book, sheets, _ = recalculated
    rows = read_rows(book["descent"], sheets["descent"].header_row, 101, 2)
    assert_rows_match(rows, line_fit.trajectory)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_corrects_wrong_cached_values(recalculated, line_fit):
    book, sheets, _ = recalculated
    rows = read_rows(book["wrong"], sheets["wrong"].header_row, 101, 2)
    assert rows[7, 3] != 123.0 and rows[50, 1] != 9.0
    assert_rows_match(rows, line_fit.trajectory)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_a_big_lr_in_the_lr_cell_makes_the_loss_column_explode(recalculated, line_fit):
    book, sheets, _ = recalculated
    assert book["big_lr"][sheets["big_lr"].lr.split("!")[1].replace("$", "")].value == BIG_LR
    rows = read_rows(book["big_lr"], sheets["big_lr"].header_row, 101, 2)
    losses = rows[:, 3]
    assert np.isfinite(losses).all()
    assert np.all(np.diff(losses[5:]) > 0) and losses[-1] > 1e40  # visibly exploding
    d = line_fit.data
    phi = np.column_stack([d.x[:, 0], np.ones(d.n)])
    _, expected, _ = numpy_linear_descent(phi, d.y, d.start, BIG_LR, 100)
    np.testing.assert_allclose(losses, expected, rtol=1e-9)
    with pytest.raises(wb.DivergenceError, match=r"learning rate 1\.5 is too large"):
        r.fit_dataset(d, lr=BIG_LR)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_redoes_the_relu_descent(recalculated, relu_fit):
    book, sheets, _ = recalculated
    rows = read_rows(book["relu"], sheets["relu"].header_row, 61, 4)
    assert_rows_match(rows, relu_fit.trajectory)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_redoes_the_titanic_descent(recalculated):
    book, _, titanic = recalculated
    ws = book["titanic"]
    header = next(i for i, row in enumerate(ws.iter_rows(values_only=True)) if row[0] == "step")
    rows = read_rows(ws, header, 101, 10)
    assert_rows_match(rows, titanic.trajectory)
    assert rows[-1, 11] < rows[0, 11] and rows[-1, 11] > 0.1442271493073191  # descending toward the floor


# --- step 2 made visible: every point at the step in view -------------------------------------


def numpy_view(phi, y, w, units=1):
    """Each point's prediction and error with parameters w (one row per unit; ReLUs added up if several)."""
    lin = phi @ np.asarray(w, float).reshape(units, -1).T
    pred = lin[:, 0] if units == 1 else np.maximum(lin, 0).sum(1)
    return pred, pred - y


def view_values(ws, sheet: wb.sheets.write.descent.DescentSheet) -> np.ndarray:
    """The target, prediction, error and error^2 columns of the block at the step in view."""
    cols = []
    for ref in sheet.view_columns:
        cells = ws[ref.split("!")[1].replace("$", "")]
        cols.append([c[0].value for c in cells])
    return np.array(cols, float).T


def test_the_step_in_view_shows_every_points_prediction_and_error(tmp_path, line_fit, relu_fit):
    path = tmp_path / "view.xlsx"
    with new_workbook(path, title="t") as book:
        x, y = write_data(book, "data", line_fit.phi, line_fit.data.y)
        line = write_descent_sheet(
            book,
            line_fit.trajectory,
            Points(x, y, DATA(line_fit), "ab"),
            values=descent_values(line_fit.trajectory, DATA(line_fit)),
        )
        rx, ry = write_data(book, "relu_data", relu_fit.phi, relu_fit.data.y)
        relu_points = Points(rx, ry, DATA(relu_fit), relu_fit.param_names)
        relu = write_descent_sheet(
            book,
            relu_fit.trajectory,
            relu_points,
            Look(name="relu"),
            values=descent_values(relu_fit.trajectory, relu_points.data),
        )
    formulas, values = openpyxl.load_workbook(path), openpyxl.load_workbook(path, data_only=True)
    ws = formulas["descent"]
    step = line.step_in_view.split("!")[1].replace("$", "")
    assert ws[step].value == 100  # the last step at first
    rule = next(v for v in ws.data_validations.dataValidation if step in str(v.sqref))
    assert (rule.type, rule.formula1, rule.formula2) == ("whole", "0", "100")  # "between" by default
    assert rule.operator in (None, "between")
    assert rule.error and "0 to 100" in rule.error
    for fit, sheet, units in ((line_fit, line, 1), (relu_fit, relu, 2)):
        pred, err = numpy_view(fit.phi, fit.data.y, fit.trajectory.params[-1], units)
        got = view_values(values[sheet.sheet], sheet)
        np.testing.assert_allclose(
            got, np.column_stack([fit.data.y, pred, err, err**2]), rtol=1e-12, atol=1e-14
        )
        loss = values[sheet.sheet][sheet.view_loss.split("!")[1].replace("$", "")].value
        assert loss == pytest.approx(fit.losses[-1], rel=1e-12)  # the long way agrees with the loss column
    first = line.header_row + 2
    assert ws.cell(first, 12).value == "=SUMPRODUCT(data!$B$2:$C$2,$K$5:$L$5)"  # the point's row, the step's
    assert ws["K4"].value == "=MIN(MAX(INT($H$4),0),100)" and ws["K5"].value == "=INDEX($B$8:$B$108,$K$4+1)"
    z = "SUMPRODUCT(relu_data!$B$2:$C$2,{})"
    u1, u2 = z.format("$M$5:$N$5"), z.format("$O$5:$P$5")
    assert formulas["relu"].cell(first, 14).value == f"=IF({u1}<0,0,{u1})+IF({u2}<0,0,{u2})"


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_shows_the_step_typed_and_the_nearest_for_a_number_out_of_range(tmp_path, line_fit):
    """Step 3 shows step 3; 999 the last step and -4 the start (no Err:502): LibreOffice's numbers."""
    src = tmp_path / "typed.xlsx"
    typed = {"three": 3, "high": 999, "low": -4, "half": 2.7}
    with new_workbook(src, title="t") as book:
        x, y = write_data(book, "data", line_fit.phi, line_fit.data.y)
        points = Points(x, y, DATA(line_fit), "ab")
        sheets = {
            name: write_descent_sheet(
                book,
                line_fit.trajectory,
                points,
                Look(name=name, chart=False),
                values=descent_values(line_fit.trajectory, points.data),
            )
            for name in typed
        }
    book = openpyxl.load_workbook(src)
    for name, value in typed.items():  # as a learner pasting a number past the validation would
        book[name][sheets[name].step_in_view.split("!")[1].replace("$", "")].value = value
    book.save(src)
    out = openpyxl.load_workbook(recalculate(src, tmp_path / "out"), data_only=True)
    shown = {"three": 3, "high": 100, "low": 0, "half": 2}
    for name, step in shown.items():
        pred, err = numpy_view(line_fit.phi, line_fit.data.y, line_fit.trajectory.params[step])
        got = view_values(out[name], sheets[name])
        np.testing.assert_allclose(got[:, 1:3], np.column_stack([pred, err]), rtol=1e-9, atol=1e-12)
        loss = out[name][sheets[name].view_loss.split("!")[1].replace("$", "")].value
        assert loss == pytest.approx(line_fit.losses[step], rel=1e-9), name


def test_the_titanic_descent_sheet_redoes_the_trajectory_it_is_given(tmp_path):
    """The build computes the descent before opening the book; the sheet caches that one, and
    refuses a descent of another model."""
    table = wb.lesson_table().iloc[:60]
    given = titanic_descent(table, epochs=5, seed=3)
    path = tmp_path / "t.xlsx"
    with new_workbook(path, title="t") as book:
        sheet = add_titanic_descent_sheet(book, table, given)
    assert sheet.trajectory is given and given.seed == 3
    x, y = inputs(table).numpy(), targets(table).numpy()
    generator = torch.Generator().manual_seed(3)  # uniform_start's RAND()-0.5, drawn again here
    w = (torch.rand((10,), generator=generator, dtype=torch.float64) - 0.5).numpy()
    params, losses, _ = numpy_linear_descent(x, y, w, given.lr, 5)
    np.testing.assert_allclose(given.params, params, rtol=1e-12, atol=1e-14)
    assert any("start RAND()-0.5 (seed 3)" in note for note in sheet.notes)
    rows = read_rows(openpyxl.load_workbook(path, data_only=True)["descent"], sheet.header_row, 6, 10)
    np.testing.assert_allclose(rows[:, 1:11], params, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(rows[:, 11], losses, rtol=1e-12)
    relu = r.fit_dataset(r.relu(), epochs=2).trajectory
    with (
        new_workbook(tmp_path / "other.xlsx", title="t") as book,
        pytest.raises(wb.WorkbenchError, match="not the lesson's linear model"),
    ):
        add_titanic_descent_sheet(book, table, relu)
