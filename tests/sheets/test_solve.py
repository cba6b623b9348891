"""workbench solve: LibreOffice minimises a sheet's Solver objective and saves the workbook."""

from __future__ import annotations

import re

import numpy as np
import openpyxl
import pytest
import torch
import xlsxwriter
from small_book import write_book

import workbench as wb
import workbench.sheets.solve
from workbench.cli import main
from workbench.errors import WorkbenchError, WorkbookError
from workbench.sheets.check import check_workbook
from workbench.sheets.read_book import read_params
from workbench.sheets.solve import solve_workbook, solver_model
from workbench.sheets.uno_solver import bfgs


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return write_book(tmp_path_factory.mktemp("solve") / "titanic.xlsx", wb.load_titanic())


@pytest.fixture(scope="module")
def floor(table) -> float:
    """The least-squares floor of the train rows, Solver's objective (fastai's RandomSplitter draw)."""
    n = len(table)
    held = torch.randperm(n, generator=torch.Generator().manual_seed(42))[: int(0.2 * n)].numpy()
    kept = np.setdiff1d(np.arange(n), held)
    x = table[list(wb.FEATURES)].to_numpy(dtype=float)[kept]
    y = table["Survived"].to_numpy(dtype=float)[kept]
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    return float(np.mean((x @ w - y) ** 2))


@pytest.mark.slow
def test_solve_refuses_a_sheet_whose_switch_reads_other_cells_than_solvers(book, tmp_path):
    """With Parameters: on start or mine the loss does not follow the yellow cells Solver changes."""
    assert solver_model(book.path, "nnet").switch == "fitted"
    edited = openpyxl.load_workbook(book.path)
    ws = edited["nnet"]
    label = next(c for row in ws.iter_rows() for c in row if c.value == "Parameters:")
    ws.cell(label.row, label.column + 1).value = "Mine"
    edited.save(tmp_path / "mine.xlsx")
    assert solver_model(tmp_path / "mine.xlsx", "nnet").switch == "mine"
    before = (tmp_path / "mine.xlsx").read_bytes()
    with pytest.raises(
        WorkbookError, match=r"'nnet''s Parameters: switch says mine.*set the switch to fitted"
    ):
        solve_workbook(tmp_path / "mine.xlsx", "nnet")
    assert (tmp_path / "mine.xlsx").read_bytes() == before
    assert solver_model(tmp_path / "mine.xlsx", "linear").switch == "fitted"  # each sheet has its own


def test_bfgs_on_finite_differences_finds_a_least_squares_optimum():
    rng = np.random.default_rng(0)
    x, y = rng.normal(size=(50, 4)), rng.normal(size=50)
    f = lambda w: float(np.mean((x @ np.array(w) - y) ** 2))
    best, fx = bfgs(f, [0.0] * 4)
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    assert fx == pytest.approx(f(list(w)), rel=1e-12)
    np.testing.assert_allclose(best, w, atol=1e-6)


def test_the_solver_model_is_read_from_the_sheets_hidden_names(book):
    for sheet, model in {"linear": "linear", "nnet": "nnet", "mmult": "mmult"}.items():
        found = solver_model(book.path, sheet)
        r, c = book.labelled(sheet, "Train loss:")
        assert found.objective == (r - 1, c)  # the cell right of the label, 0-based
        (r0, c0), (r1, c1) = found.changing
        (s0, t0), (s1, t1) = found.start
        ws = book.values[sheet]
        params = [[ws.cell(i + 1, j + 1).value for j in range(c0, c1 + 1)] for i in range(r0, r1 + 1)]
        start = [[ws.cell(i + 1, j + 1).value for j in range(t0, t1 + 1)] for i in range(s0, s1 + 1)]
        want = book.fits["nnet" if sheet == "mmult" else sheet]
        shape = np.shape(params)
        np.testing.assert_allclose(
            np.reshape(params, -1), np.reshape(want.params.T if sheet == "mmult" else want.params, -1)
        )
        np.testing.assert_allclose(
            np.reshape(start, shape),
            np.reshape(np.asarray(want.start).T if sheet == "mmult" else want.start, shape),
        )
        assert model


def test_a_workbook_without_a_solver_model_or_the_sheet_is_refused(book, tmp_path):
    plain = tmp_path / "plain.xlsx"
    with xlsxwriter.Workbook(plain) as other:
        other.add_worksheet("linear").write(0, 0, 1)
    with pytest.raises(WorkbookError, match=r"sheet 'linear' has no Solver objective"):
        solver_model(plain, "linear")
    with pytest.raises(WorkbookError, match=r"has no sheet 'nope' \(its sheets: all_rows, features, linear"):
        solver_model(book.path, "nope")
    assert main(["solve", str(plain)]) == 2
    assert main(["solve", str(tmp_path / "missing.xlsx")]) == 2


def test_without_libreoffice_or_its_python_bridge_nothing_is_written(book, tmp_path, monkeypatch, capsys):
    before = book.path.read_bytes()
    monkeypatch.setattr(workbench.sheets.solve, "find_soffice", lambda: None)
    with pytest.raises(WorkbenchError, match="LibreOffice is not installed"):
        solve_workbook(book.path, "linear")
    monkeypatch.setattr(workbench.sheets.solve, "find_soffice", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(workbench.sheets.solve, "uno_python", lambda: None)
    assert main(["solve", str(book.path), "--sheet", "nnet"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "apt-get install -y python3-uno" in err
    assert book.path.read_bytes() == before and sorted(p.name for p in book.path.parent.iterdir()) == [
        "titanic.xlsx"
    ]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_solve_fits_the_linear_sheet_from_its_random_start_to_the_floor(book, tmp_path, floor, capsys):
    path = tmp_path / "titanic.xlsx"
    path.write_bytes(book.path.read_bytes())
    start = np.asarray(book.fits["linear"].start)
    assert main(["solve", str(path), "--from-start", "--seconds", "3"]) == 0
    said = re.search(r"train loss [\d.]+ -> ([\d.]+)", capsys.readouterr().out)
    assert said and float(said.group(1)) == pytest.approx(floor, abs=1e-9)
    params = read_params(path)["linear"]
    train, _ = wb.validation_split(book.table)
    assert wb.mse("linear", params, train) == pytest.approx(floor, abs=1e-9)  # the issue asked 1e-6
    assert not np.allclose(params, start)
    check = check_workbook(path)  # the file's own stored losses, as LibreOffice saved them, agree
    assert check.ok and check.sheets[0].sets[0].file_loss == pytest.approx(floor, abs=1e-9)
    np.testing.assert_allclose(read_params(path)["nnet"], read_params(book.path)["nnet"])  # other sheets kept


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffices_swarm_alone_lowers_the_loss_within_its_box(book, tmp_path):
    path = tmp_path / "titanic.xlsx"
    path.write_bytes(book.path.read_bytes())
    result = solve_workbook(path, "linear", from_start=True, seconds=3, bound=2, polish=False)
    train, _ = wb.validation_split(book.table)  # Solver's objective is the train loss
    start_loss = wb.mse("linear", np.asarray(book.fits["linear"].start), train)
    assert result.start_loss == pytest.approx(start_loss, abs=1e-12)
    params = read_params(path)["linear"]
    assert np.all(np.abs(params) <= 2) and np.allclose(params, result.params)
    assert wb.mse("linear", params, train) == pytest.approx(result.loss, abs=1e-12)
    assert result.loss < start_loss
