"""workbench solve: LibreOffice minimises a sheet's Solver objective and saves the workbook."""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import re
import stat
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import openpyxl
import openpyxl.utils
import pandas as pd
import pytest
import torch
import xlsxwriter
from small_book import write_book, write_small_book

import workbench as wb
import workbench.sheets.engines.solve
import workbench.sheets.write.model_sheet
from workbench.cli import main
from workbench.errors import WorkbenchError, WorkbookError
from workbench.sheets.books.tabular import write_tabular_book
from workbench.sheets.engines.recalc import find_soffice, private_profile
from workbench.sheets.engines.solve import solve_workbook, solver_model, uno_python
from workbench.sheets.engines.uno_solver import bfgs
from workbench.sheets.read.check import check_workbook
from workbench.sheets.read.read_book import read_params
from workbench.tabular import prepare
from workbench.tabular.fit import fit_prepared


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


def pasted(src: Path, out: Path, pastes: list[dict]) -> None:
    """``src`` with blocks pasted as values only in LibreOffice, recalculated, saved as ``out``."""
    with private_profile("test") as (scratch, _):
        spec = {
            "soffice": find_soffice(),
            "profile": str(scratch / "profile"),
            "pipe": f"workbench-paste-{os.getpid()}",
            "src": str(src),
            "out": str(out),
            "pastes": pastes,
        }
        driver = Path(__file__).with_name("lo_paste.py")
        done = subprocess.run([uno_python(), str(driver), json.dumps(spec)], capture_output=True, text=True)
    assert done.returncode == 0 and out.is_file(), done.stderr


def labelled_rows(book, sheet: str, label: str) -> list[list[int]]:
    """The 0-based [[row, col], [row, col]] of a labelled parameter block (1 or 2 rows of G:P)."""
    labels = [f"{label}:"] if sheet != "nnet" else [f"{label} 1:", f"{label} 2:"]
    rows = [book.labelled(sheet, each)[0] - 1 for each in labels]
    return [[rows[0], 6], [rows[-1], 15]]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_the_learners_path_paste_start_onto_the_yellow_cells_then_solve(book, tmp_path, floor, capsys):
    """As the sheet says: copy Start, Paste Special > Values onto the yellow cells (here in
    LibreOffice), and the sheet computes the start's loss; run Solver (workbench solve) from
    there, and it reaches the fit's loss. Solver's cells are the ones the loss reads."""
    path = tmp_path / "pasted.xlsx"
    pastes = [
        {"sheet": s, "copy": labelled_rows(book, s, "Start"), "onto": labelled_rows(book, s, "Params")}
        for s in ("linear", "nnet")
    ]
    pasted(book.path, path, pastes)
    values = openpyxl.load_workbook(path, data_only=True)
    train, _ = wb.validation_split(book.table)
    for sheet in ("linear", "nnet"):
        start = np.asarray(book.fits[sheet].start)
        x = train[list(wb.FEATURES)].to_numpy(dtype=float)
        y = train["Survived"].to_numpy(dtype=float)
        lin = x @ np.reshape(start, (-1, 10)).T
        preds = lin[:, 0] if sheet == "linear" else np.maximum(lin, 0).sum(axis=1)
        r, c = book.labelled(sheet, "Train loss:")
        assert values[sheet].cell(r, c + 1).value == pytest.approx(np.mean((preds - y) ** 2), rel=1e-12)
        (r0, c0), (r1, c1) = solver_model(path, sheet).changing
        ws = values[sheet]
        yellow = [[ws.cell(i + 1, j + 1).value for j in range(c0, c1 + 1)] for i in range(r0, r1 + 1)]
        np.testing.assert_allclose(np.reshape(yellow, -1), np.reshape(start, -1), rtol=1e-14)
    assert check_workbook(path).ok  # the file's losses are those of the pasted start
    assert main(["solve", str(path), "--sheet", "linear", "--seconds", "0"]) == 0
    said = re.search(r"train loss ([\d.]+) -> ([\d.]+)", capsys.readouterr().out)
    start_loss = wb.mse("linear", np.asarray(book.fits["linear"].start), train)
    assert said and float(said.group(1)) == pytest.approx(start_loss, rel=1e-9)
    assert float(said.group(2)) == pytest.approx(floor, abs=1e-9)  # the least-squares fit of the train rows
    assert check_workbook(path).ok


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


def test_a_sheet_fitted_in_closed_form_is_not_solved_from_a_start_and_the_error_says_what_works(
    tmp_path, capsys
):
    # A table's linear sheet is least squares: no grey start. The refusal comes before LibreOffice.
    rng = np.random.default_rng(5)
    frame = pd.DataFrame(rng.normal(size=(30, 2)), columns=["a", "b"])
    frame["y"] = frame.a - frame.b + rng.normal(scale=0.1, size=30)
    prep = prepare(frame, "y")
    path = write_tabular_book(tmp_path / "t.xlsx", prep, fit_prepared(prep))
    assert solver_model(path, "linear").start is None and solver_model(path, "nnet").start is not None
    before = path.read_bytes()
    capsys.readouterr()
    assert main(["solve", str(path), "--sheet", "linear", "--from-start"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.endswith(
        "sheet 'linear' has no grey random start to begin from (its parameters were fitted in closed"
        " form); solve it without --from-start, from the parameters it holds"
    )
    assert len(err.splitlines()) == 1 and path.read_bytes() == before


def test_without_libreoffice_or_its_python_bridge_nothing_is_written(book, tmp_path, monkeypatch, capsys):
    before = book.path.read_bytes()
    monkeypatch.setattr(workbench.sheets.engines.solve, "find_soffice", lambda: None)
    with pytest.raises(WorkbenchError, match="LibreOffice is not installed"):
        solve_workbook(book.path, "linear")
    monkeypatch.setattr(workbench.sheets.engines.solve, "find_soffice", lambda: "/usr/bin/soffice")
    monkeypatch.setattr(workbench.sheets.engines.solve, "uno_python", lambda: None)
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
def test_a_polish_out_of_minutes_saves_its_best_point_and_a_second_solve_goes_on(
    book, tmp_path, floor, capsys
):
    path = tmp_path / "titanic.xlsx"
    path.write_bytes(book.path.read_bytes())
    start_loss = wb.mse("linear", np.asarray(book.fits["linear"].start), wb.validation_split(book.table)[0])
    assert main(["solve", str(path), "--from-start", "--minutes", "0.0001"]) == 0  # one step, then out
    out = capsys.readouterr().out.splitlines()
    first = [float(v) for v in re.search(r"train loss ([\d.]+) -> ([\d.]+)", out[0]).groups()]
    assert first[0] == pytest.approx(start_loss, rel=1e-9) and floor + 1e-3 < first[1] < first[0]
    assert out[1] == (
        "the polish stopped at its limit of 0.0001 minutes before the loss settled; to go on from here:"
        f" workbench solve {path} --sheet linear"
    )
    saved = wb.mse("linear", read_params(path)["linear"], wb.validation_split(book.table)[0])
    assert saved == pytest.approx(first[1], rel=1e-9)  # the best point so far is what the file holds
    again = solve_workbook(path, "linear")  # as the line says: from the saved cells, to the floor
    assert again.start_loss == pytest.approx(first[1], rel=1e-9) and again.out_of_time is None
    assert again.loss == pytest.approx(floor, abs=1e-9) and "stopped" not in again.report()
    for bad in ("0", "-1", "inf", "nan"):
        assert main(["solve", str(path), "--minutes", bad]) == 2
        assert "a finite minutes > 0" in capsys.readouterr().err


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


# --- hardening: what solve refuses, and what it leaves behind


def refused_in_one_line(capsys, argv: list[str], *words: str) -> str:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("workbench: error: "), err
    for w in words:
        assert w in err, (w, err)
    return err


@pytest.fixture
def small(tmp_path):
    return write_small_book(tmp_path / "small.xlsx")


def test_a_read_only_workbook_is_refused_even_for_root(small, capsys):
    small.path.chmod(0o444)
    before = small.path.read_bytes()
    refused_in_one_line(capsys, ["solve", str(small.path)], "small.xlsx", "read-only", "0444")
    assert small.path.read_bytes() == before and stat.S_IMODE(small.path.stat().st_mode) == 0o444
    assert sorted(p.name for p in small.path.parent.iterdir()) == ["small.xlsx"]


def test_a_second_solve_of_the_same_workbook_is_refused_while_the_first_holds_it(small, capsys, monkeypatch):
    monkeypatch.setattr(workbench.sheets.engines.solve, "_libreoffice", lambda: ("soffice", "python3"))
    before = small.path.read_bytes()
    fd = os.open(small.path, os.O_RDONLY)  # what the first solve holds while it works
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        refused_in_one_line(capsys, ["solve", str(small.path)], "another workbench solve", "wait")
    finally:
        os.close(fd)
    assert small.path.read_bytes() == before


def text_in(path: Path, out: Path, sheet: str, header: str, row: int) -> tuple[str, str]:
    """Copy the workbook with the text 'n/a' typed into the data column ``header`` at data row
    ``row`` (1-based); returns that cell and the first formula cell of the same row reading it."""
    book = openpyxl.load_workbook(path)
    ws = book[sheet]
    top = next(c for r in ws.iter_rows() for c in r if c.value == header and c.row > 6)
    cell = ws.cell(top.row + row, top.column)
    cell.value = "n/a"
    reader = next(
        c
        for c in ws[top.row + row]
        if isinstance(c.value, str) and c.value.startswith("=") and cell.coordinate in c.value
    )
    book.save(out)
    return f"{sheet}!{cell.coordinate}", f"{sheet}!{reader.coordinate}"


@pytest.mark.slow
@pytest.mark.libreoffice
def test_a_train_loss_that_is_an_error_is_refused_naming_the_cell_to_fix(small, tmp_path, capsys):
    path = tmp_path / "text.xlsx"
    typed, reader = text_in(small.path, path, "linear", "Fare", 3)
    r, c = solver_model(path, "linear").objective
    objective = f"linear!{openpyxl.utils.get_column_letter(c + 1)}{r + 1}"
    before = path.read_bytes()
    refused_in_one_line(
        capsys,
        ["solve", str(path), "--seconds", "0"],
        f"{objective}, the Train loss Solver minimises, is #VALUE!",
        f"because {reader} is #VALUE!: it reads {typed}, which holds the text 'n/a'",
        "the file is unchanged",
    )
    assert path.read_bytes() == before


def soffice_using(folder: Path) -> list[int]:
    """Processes whose command line names ``folder`` (LibreOffice started on a profile in it)."""
    found = []
    for proc in Path("/proc").iterdir():
        with contextlib.suppress(OSError):
            if proc.name.isdigit() and str(folder).encode() in (proc / "cmdline").read_bytes():
                found.append(int(proc.name))
    return found


@pytest.mark.slow
@pytest.mark.libreoffice
def test_sigterm_stops_libreoffice_and_removes_its_profile(small, tmp_path):
    cache = tmp_path / "cache"
    profiles = cache / "workbench" / "libreoffice"
    before = small.path.read_bytes()
    env = os.environ | {"XDG_CACHE_HOME": str(cache)}
    argv = [sys.executable, "-m", "workbench", "solve", str(small.path), "--sheet", "nnet", "--seconds", "60"]
    with subprocess.Popen(argv, env=env, stderr=subprocess.PIPE, text=True) as proc:
        deadline = time.monotonic() + 60
        while not list(profiles.glob("solve-*/profile/user/*.xcu")) or not soffice_using(profiles):
            assert proc.poll() is None and time.monotonic() < deadline
            time.sleep(0.2)
        time.sleep(3)  # LibreOffice is up and has filled its profile
        assert len(list(profiles.glob("solve-*/**/*"))) > 20
        proc.terminate()
        _, err = proc.communicate(timeout=60)
    assert proc.returncode != 0 and err.strip().splitlines()[-1] == "workbench: interrupted"
    assert [p.name for p in profiles.iterdir()] == [".lock"] and soffice_using(profiles) == []
    assert small.path.read_bytes() == before
    assert sorted(p.name for p in small.path.parent.iterdir()) == ["cache", "small.xlsx"]  # no lock file left


@pytest.mark.slow
@pytest.mark.libreoffice
def test_solve_works_on_any_tables_book(tmp_path, capsys):
    rng = np.random.default_rng(3)
    frame = pd.DataFrame(rng.normal(size=(40, 3)), columns=["a", "b", "c"])
    frame["kind"] = rng.choice(["p", "q"], 40)
    frame["y"] = frame.a - 0.5 * frame.b + (frame.kind == "q") + rng.normal(scale=0.3, size=40)
    frame.to_csv(tmp_path / "table.csv", index=False)
    assert (
        main(["build", "--data", str(tmp_path / "table.csv"), "--target", "y", "--out", str(tmp_path), "-q"])
        == 0
    )
    path = tmp_path / "table.xlsx"
    capsys.readouterr()
    model = solver_model(path, "nnet")
    result = solve_workbook(path, "nnet", from_start=True, seconds=0)
    assert result.loss < result.start_loss
    # the saved cells: the parameters LibreOffice left, and the train loss it computed from them
    ws = openpyxl.load_workbook(path, data_only=True)["nnet"]
    (r0, c0), (r1, c1) = model.changing
    cells = [ws.cell(r + 1, c + 1).value for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
    np.testing.assert_allclose(cells, result.params)
    assert ws.cell(model.objective[0] + 1, model.objective[1] + 1).value == pytest.approx(
        result.loss, rel=1e-12
    )
    # the train loss recomputed here from those parameters and the book's rows (inputs: on the linear sheet)
    (_, d0), (_, d1) = solver_model(path, "linear").changing  # the linear sheet's parameters sit above
    data = openpyxl.load_workbook(path, data_only=True)["linear"]
    header = next(r for r in data.iter_rows() if r[0].value == "y" and "Set" in [c.value for c in r])
    names = [c.value for c in header]
    rows = [r for r in data.iter_rows(min_row=header[0].row + 1, values_only=True) if r[0] is not None]
    train = [r for r in rows if r[names.index("Set")] == "train"]
    assert names[d0:d1] == [ws.cell(r0, c + 1).value for c in range(c0, c1)]  # a_N ..., then Ones / Const
    x = np.array([r[d0 : d1 + 1] for r in train], dtype=float)
    w = np.reshape(cells, (r1 - r0 + 1, c1 - c0 + 1))
    preds = np.maximum(x @ w.T, 0).sum(axis=1)
    y = np.array([r[0] for r in train], dtype=float)
    assert np.mean((preds - y) ** 2) == pytest.approx(result.loss, rel=1e-9)


# --- the model sheets' Solver notes, checked against what the solvers do


@pytest.mark.slow
@pytest.mark.libreoffice
def test_the_notes_account_of_libreoffices_own_solver_engines_on_the_linear_sheet(book, floor, tmp_path):
    """From the grey start, as a learner would: each engine of LibreOffice's Tools > Solver.

    The swarm runs 3 s and 5 s here, not its default 60 s, to keep CI short: at 60 s in [-1, 1]
    it was still 0.005 above the floor (bench/RESULTS.md, solve_phases.py's notes)."""
    model = solver_model(book.path, "linear")
    swarm = "com.sun.star.comp.Calc.SwarmSolver"
    runs = [
        {"engine": "com.sun.star.comp.Calc.CoinMPSolver", "bound": None, "options": {}},
        {"engine": "com.sun.star.comp.Calc.LpsolveSolver", "bound": None, "options": {}},
        {"engine": swarm, "bound": None, "options": {"Timeout": 3000}},  # milliseconds
        {"engine": swarm, "bound": 1, "options": {"Timeout": 5000}},  # every fitted parameter is inside
    ]
    with private_profile("test") as (scratch, _):
        spec = {
            "soffice": find_soffice(),
            "profile": str(scratch / "profile"),
            "pipe": f"workbench-test-{os.getpid()}",
            "src": str(book.path),
            "sheet": "linear",
            "objective": model.objective,
            "changing": model.changing,
            "start": model.start,
            "runs": runs,
        }
        driver = Path(__file__).with_name("lo_engines.py")
        done = subprocess.run([uno_python(), str(driver), json.dumps(spec)], capture_output=True, text=True)
    coin, lpsolve, unbounded, limited = map(json.loads, done.stdout.splitlines())
    note = workbench.sheets.write.model_sheet.SOLVER_NOTE
    for linear_engine in (coin, lpsolve):
        assert not linear_engine["success"] and linear_engine["status"].rstrip(".") in note
    start = wb.mse("linear", np.asarray(book.fits["linear"].start), wb.validation_split(book.table)[0])
    assert unbounded["start"] == pytest.approx(start, rel=1e-12)
    assert "runs off to huge numbers" in note and unbounded["loss"] > 1e6
    assert "even with the yellow cells limited stops short of the best" in note
    assert floor + 1e-4 < limited["loss"] < start
    assert "workbench solve FILE --sheet SHEET" in note  # the way that reaches it (tested above)


def bfgs_ends(starts: int, seed: int) -> tuple[np.ndarray, float, float]:
    """Where BFGS (like Excel's GRG, a local method) ends on the nnet sheet's train loss from
    ``starts`` seeded RAND()-0.5 starts; with the linear model's best and the all-dead loss."""
    from scipy.optimize import minimize

    train, _ = wb.validation_split(wb.lesson_table())
    x = train[list(wb.FEATURES)].to_numpy(dtype=float)
    y = train["Survived"].to_numpy(dtype=float)

    def loss(w):
        lin = x @ w.reshape(2, -1).T
        err = np.maximum(lin, 0).sum(axis=1) - y
        return float(np.mean(err**2)), (2 / len(y) * ((err[:, None] * (lin > 0)).T @ x)).ravel()

    rng = np.random.default_rng(seed)
    ends = [
        minimize(
            loss, rng.uniform(-0.5, 0.5, 2 * x.shape[1]), jac=True, method="BFGS", options={"gtol": 1e-9}
        ).fun
        for _ in range(starts)
    ]
    best_line = float(np.mean((x @ np.linalg.lstsq(x, y, rcond=None)[0] - y) ** 2))
    return np.array(ends), best_line, float(np.mean(y**2))


@pytest.mark.slow
def test_the_nnet_note_says_where_solver_ends_from_random_starts():
    ends, best_line, dead = bfgs_ends(200, seed=0)  # bench/nnet_starts.py prints the table
    note = workbench.sheets.write.model_sheet.DEAD_RELUS
    shares = {
        "1 in 5 ended near 0.39": np.mean(np.abs(ends - dead) < 1e-9),
        "2 in 3 near the linear model's loss": np.mean(np.abs(ends - best_line) < 0.005),
        "1 in 100 lower than 0.135": np.mean(ends < 0.135),
    }
    assert round(dead, 2) == 0.39 and "From 200 random starts" in note
    for words, share in shares.items():
        assert words in note
        n, d = (int(w) for w in words.split()[:3:2])
        assert abs(share - n / d) < 0.25 * n / d, (words, share)  # the words round the share


def test_a_workbook_libreoffice_has_open_is_refused(small, capsys, monkeypatch):
    monkeypatch.setattr(workbench.sheets.engines.solve, "_libreoffice", lambda: ("soffice", "python3"))
    monkeypatch.setenv("XDG_CACHE_HOME", str(small.path.parent / "cache"))
    lock = small.path.with_name(".~lock.small.xlsx#")
    lock.write_text(",someone,host,04.12.2026 20:00,file:///home/someone/.config/libreoffice/4;\n")
    before = small.path.read_bytes()
    refused_in_one_line(capsys, ["solve", str(small.path)], "LibreOffice has it open", ".~lock.small.xlsx#")
    assert small.path.read_bytes() == before and lock.exists()
