"""``workbench build``: every workbook and picture, and the committed workbooks/ kept up to date.

One build runs through the real entry point (``python -m workbench build``) into a
temporary folder; the tests read what it wrote. Expected numbers come from plain numpy
(least squares, the models' forward passes), never from the code under test.

The staleness test compares that fresh build with the committed ``workbooks/`` (as git
holds them) byte for byte. Bytes are the right measure because they are deterministic: every random start
is seeded, workbooks carry fixed dates (workbench.sheets.write.xlsx), PNGs carry no software or date
metadata and GIF frames share one palette (workbench.pictures), and the fits give the
same bits on one torch thread or two (checked below). They depend on the library
versions, which constraints.txt pins for CI.
"""

from __future__ import annotations

import csv
import io
import re
import subprocess
import sys
import time
from dataclasses import asdict
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pytest
import snapshot
import torch
from plain_words import clipped_headings, jargon
from small_book import INPUTS

import workbench as wb
import workbench.titanic.train
from workbench import build as build_module
from workbench.build import NNET_RECIPE, build_all
from workbench.errors import DataError, WorkbenchError
from workbench.sheets.read.check import check_workbook
from workbench.sheets.read.read_book import read_params
from workbench.stamp import STAMP
from workbench.titanic.data import TEST_CSV
from workbench.titanic.features import prediction_table
from workbench.titanic.models import one_thread

#: Not written by the build, but allowed beside its outputs in the committed folder.
NOT_BUILT = {"README.md"}

REBUILD = (
    "if the change is meant, run `workbench build` and commit workbooks/"
    " (git add workbooks/ is enough for this test)"
)


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> SimpleNamespace:
    out = tmp_path_factory.mktemp("workbooks")
    began = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "build", "--out", str(out), "--quiet"],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 0, done.stderr
    return SimpleNamespace(out=out, stdout=done.stdout, seconds=time.perf_counter() - began)


@pytest.fixture(scope="module")
def lesson(table) -> dict[str, np.ndarray | float]:
    x, y = table[INPUTS].to_numpy(dtype=float), table["Survived"].to_numpy(dtype=float)
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    # The build fits the train rows: fastai's RandomSplitter(seed=42) draw holds out the first 20%.
    held = torch.randperm(len(y), generator=torch.Generator().manual_seed(42))[: int(0.2 * len(y))].numpy()
    kept = np.setdiff1d(np.arange(len(y)), held)
    w_train = np.linalg.lstsq(x[kept], y[kept], rcond=None)[0]
    train_floor = float(np.mean((x[kept] @ w_train - y[kept]) ** 2))
    return {
        "x": x,
        "y": y,
        "floor": float(np.mean((x @ w - y) ** 2)),
        "kept": kept,
        "train_floor": train_floor,
    }


def relu_sum(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    return np.maximum(x @ w[0], 0) + np.maximum(x @ w[1], 0)


# --- the committed workbooks/ -----------------------------------------------------------------------


def committed_workbooks(root: Path) -> dict[str, bytes]:
    """The workbooks/ files as git holds them (the index: what is, or is about to be, committed).

    CI runs `workbench build` before the tests, which rewrites the working copy of
    workbooks/; comparing with that copy could never fail. Outside a git checkout, the
    files on disk are all there is.
    """
    listed = subprocess.run(
        ["git", "-C", str(root), "ls-files", "-z", "--", "workbooks"], capture_output=True
    )
    if listed.returncode != 0:
        return {p.name: p.read_bytes() for p in (root / "workbooks").iterdir() if not p.name.startswith(".")}
    held = {}
    for path in filter(None, listed.stdout.decode().split("\0")):
        blob = subprocess.run(["git", "-C", str(root), "show", f":{path}"], capture_output=True, check=True)
        held[Path(path).name] = blob.stdout
    return held


def outputs(folder: Path) -> list[str]:
    """The files a build wrote into ``folder``, without the command's stamp (:mod:`workbench.stamp`)."""
    return sorted(p.name for p in folder.iterdir() if p.name != STAMP)


def compare_outputs(committed: dict[str, bytes], fresh: Path) -> list[str]:
    """Every way a fresh build differs from the committed one, as ``file: sheet!cell: old -> new``."""
    made = outputs(fresh)
    if sorted(committed) != made:
        return [f"workbooks/ holds {sorted(committed)}; the build writes {made}"]
    out = []
    for name in made:
        old, new = committed[name], (fresh / name).read_bytes()
        if name.endswith(".xlsx"):
            policy = (
                snapshot.titanic_policy(snapshot.read_book(old))
                if name == "titanic.xlsx"
                else snapshot.default_policy
            )
            lines = snapshot.compare_books(old, new, policy).differences
        elif name == "titanic_overfitting.png":  # its numbers may differ freely, its title may not
            lines = snapshot.compare_pictures(old, new, snapshot.FREE_PIXEL_SHARE)
        elif name.endswith((".png", ".gif")):
            lines = snapshot.compare_pictures(old, new)
        elif name == "submission.csv":  # the net's predictions: another winning start may flip a few
            lines = snapshot.compare_csv(old, new, free_share=0.02)
        else:
            lines = [] if old == new else ["differs"]
        out += [f"{name}: {line}" for line in lines]
    return out


@pytest.mark.slow
def test_the_committed_workbooks_are_what_the_code_builds(built, root):
    committed = {name: data for name, data in committed_workbooks(root).items() if name not in NOT_BUILT}
    differences = compare_outputs(committed, built.out)
    shown = "\n".join(differences[:40]) + (
        f"\n... and {len(differences) - 40} more" if len(differences) > 40 else ""
    )
    assert not differences, f"workbooks/ differs from a fresh build beyond rounding:\n{shown}\n{REBUILD}"
    assert check_workbook(built.out / "titanic.xlsx").ok  # the file agrees with its own parameters


@pytest.mark.slow
def test_the_over_fitting_heading_says_what_this_builds_numbers_show(built):
    """The one sentence the snapshot lets differ by CPU (its nets' numbers do) is held to them."""
    ws = openpyxl.load_workbook(built.out / "titanic.xlsx")["summary"]
    r = next(r for r in range(1, 80) if str(ws.cell(r, 1).value).startswith("More ReLUs"))
    assert [ws.cell(r + 1, c).value for c in (1, 3, 4, 5)] == [
        "units",
        "train_loss",
        "valid_loss",
        "valid_margin",
    ]
    table = []
    while isinstance(ws.cell(r + 2 + len(table), 1).value, int):
        table.append([ws.cell(r + 2 + len(table), c).value for c in (1, 3, 4, 5)])
    units, train, valid, margin = zip(*table, strict=True)
    assert len(table) >= 4
    heading = ws.cell(r, 1).value
    if list(train) == sorted(train, reverse=True) and len(set(train)) == len(train):
        assert "train loss falls at every size" in heading
    else:
        assert f"train loss lowest at {units[train.index(min(train))]} ReLU" in heading
    low = [u for u, v, m in zip(units, valid, margin, strict=True) if v - min(valid) <= m]
    said = (
        f"lowest at {low[0]} ReLU"
        if len(low) == 1
        else f"as low (within its margin) from {low[0]} to {low[-1]} ReLUs"
    )
    if len(low) > 1 and units.index(low[-1]) - units.index(low[0]) != len(low) - 1:
        said = "as low (within its margin) at " + ", ".join(map(str, low[:-1])) + f" and {low[-1]} ReLUs"
    if low[-1] == units[-1]:
        assert (
            "(no over-fitting yet)" in heading and said.replace("lowest at", "lowest at the most,") in heading
        )
    else:
        assert f"valid loss {said}, higher with more (over-fitting)" in heading, heading


@pytest.mark.slow
def test_python_and_the_command_write_the_same_bytes(built, tmp_path):
    """Same machine, same versions, same seed: build_all in this process writes the command's bytes."""
    build_all(out=tmp_path)
    made = outputs(built.out)
    assert sorted(p.name for p in tmp_path.iterdir()) == made
    assert [n for n in made if (tmp_path / n).read_bytes() != (built.out / n).read_bytes()] == []


def test_the_readme_quotes_the_committed_workbooks_numbers(root):
    """The README's table of fits shows what the committed titanic.xlsx holds."""
    book = openpyxl.load_workbook(io.BytesIO(committed_workbooks(root)["titanic.xlsx"]), data_only=True)
    table = re.findall(
        r"^\| `(\w+)`[^|]*\|[^|]*\|[^|]*\| ([\d.]+) \| ?([\d.]*)%? ?\|$",
        (root / "README.md").read_text(),
        re.M,
    )
    assert [row[0] for row in table] == ["linear", "nnet", "sigmoid", "descent"]
    for sheet, loss, percent in table:
        ws = book[sheet]
        if sheet == "descent":  # the loss after the last step
            stored = next(row[1] for row in ws.iter_rows(values_only=True) if row[0] == "Final loss:")
        else:
            cells = {
                c.value: ws.cell(c.row, c.column + 1).value for row in ws.iter_rows(max_row=12) for c in row
            }
            stored = cells["Total loss:"]
            assert percent == f"{100 * cells['Accuracy:']:.2f}", sheet
        assert loss == f"{stored:.6f}", sheet


@pytest.mark.slow
def test_the_build_is_a_few_files_and_prints_its_runs(built, lesson):
    lines = built.stdout.strip().splitlines()
    assert lines[0].split() == [
        "model",
        "method",
        "starts",
        "epochs",
        "iterations",
        "train_loss",
        "valid_loss",
        "train_accuracy",
        "valid_accuracy",
        "vs_linear_floor",
        "sheet",
    ]
    runs = [line.split() for line in lines[1:8]]
    assert [r[:2] for r in runs] == [
        ["linear", "lstsq"],
        ["linear", "lbfgs"],
        ["linear", "gd"],
        ["nnet", "lbfgs"],
        ["nnet", "gd"],
        ["nnet", "search"],
        ["sigmoid", "lbfgs"],
    ]
    assert runs[0][5] == runs[1][5] == f"{lesson['train_floor']:.6f}"
    assert lines[8].startswith(
        "submission.csv: the nnet sheet's model, the lowest valid loss of the model sheets,"
        " fitted again on all 712 rows (train and valid) before predicting: loss "
    )
    assert runs[5][2] == str(NNET_RECIPE.starts)
    written = re.search(r"wrote (\d+) files to (.+) in [\d.]+ s \(import [\d.]+ s, load", lines[-1])
    assert written and int(written.group(1)) == len(outputs(built.out))
    assert Path(written.group(2)) == built.out


# --- titanic.xlsx -----------------------------------------------------------------------------------


@pytest.mark.slow
def test_the_workbook_holds_each_models_fit(built, lesson):
    params = read_params(built.out / "titanic.xlsx")
    kept, floor = lesson["kept"], lesson["train_floor"]
    x, y = lesson["x"][kept], lesson["y"][kept]  # the train rows: every sheet is fitted on them
    assert abs(np.mean((x @ params["linear"] - y) ** 2) - floor) < 1e-12  # Solver's optimum
    np.testing.assert_array_equal(params["mmult"], params["nnet"].T)
    nnet = np.mean((relu_sum(x, params["nnet"]) - y) ** 2)
    assert nnet < floor - 0.01  # the net beats every line by a margin
    squashed = 1 / (1 + np.exp(-(x @ params["sigmoid"])))
    assert np.mean((squashed - y) ** 2) < floor
    assert check_workbook(built.out / "titanic.xlsx").ok


@pytest.mark.slow
def test_the_descent_sheet_computes_from_the_linear_sheets_own_cells(built):
    book = openpyxl.load_workbook(built.out / "titanic.xlsx")
    assert book.sheetnames == [
        "all_rows",
        "features",
        "linear",
        "nnet",
        "mmult",
        "sigmoid",
        "descent",
        "summary",
        "notes",
    ]
    linear = book["linear"]
    header = next(r for r in range(1, 40) if linear.cell(r, 1).value == "Survived")
    names = [c.value for c in linear[header]]
    g, p = names.index(INPUTS[0]) + 1, names.index(INPUTS[-1]) + 1
    assert p - g == 9
    first, last = header + 1, header + 712
    assert linear.cell(last, 1).value in (0, 1) and linear.cell(last + 1, 1).value is None
    letter = openpyxl.utils.get_column_letter
    inputs = f"linear!${letter(g)}${first}:${letter(p)}${last}"
    target = f"linear!$A${first}:$A${last}"
    formulas = [
        str(c.value.text if hasattr(c.value, "text") else c.value)
        for row in book["descent"].iter_rows()
        for c in row
        if c.data_type == "f" or hasattr(c.value, "text")
    ]
    assert sum(inputs in f for f in formulas) >= 2  # the sums of the data, X^T X and X^T y, once
    assert sum("MMULT(" in f for f in formulas) >= 100  # every step's gradient, from those sums
    assert any(target in f for f in formulas)
    assert not any("descent_data" in f for f in formulas)


@pytest.mark.slow
def test_the_titanic_descent_sheet_names_the_seven_steps_and_ends_beside_its_floor(built, lesson):
    ws = openpyxl.load_workbook(built.out / "titanic.xlsx", data_only=True)["descent"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    h = next(i for i, r in enumerate(rows) if r[0] == "step")
    assert [v for v in rows[h - 1] if v] == [
        "6 repeat", "1 initialise, 5 step", "3 loss", "4 gradient", "2 predict", "extra"
    ]  # fmt: skip
    values = {r[0]: r[1] for r in rows if isinstance(r[0], str) and r[0].endswith(":")}
    assert values["Least-squares floor:"] == pytest.approx(lesson["floor"], rel=1e-9)  # all 712 rows
    last = max(i for i, r in enumerate(rows) if isinstance(r[0], int))
    assert values["Final loss:"] == pytest.approx(rows[last][rows[h].index("loss (MSE)")], rel=1e-12)
    assert lesson["floor"] < values["Final loss:"] < 1.1 * lesson["floor"]  # 100 steps: near, not at it


@pytest.mark.slow
def test_the_summary_lists_every_run(built):
    ws = openpyxl.load_workbook(built.out / "titanic.xlsx")["summary"]
    rows = [list(r) for r in ws.iter_rows(values_only=True)]
    top = next(i for i, r in enumerate(rows) if r[:3] == ["model", "method", "starts"])
    count = len(wb.titanic.compare.RUNS)
    runs = [r[:2] for r in rows[top + 1 : top + 1 + count]]
    plain = {"lstsq": "least squares", "lbfgs": "descent using past slopes", "gd": "gradient descent"}
    plain["search"] = "many starts, exact minima"  # the technical names are in each cell's note
    assert runs == [[run.model, plain[run.method]] for run in wb.titanic.compare.RUNS]
    assert runs[0] == ["linear", "least squares"] and runs[-1] == ["sigmoid", "descent using past slopes"]
    assert rows[top + 1 + count][0] is None


@pytest.mark.slow
def test_the_submission_is_the_chosen_net_fitted_again_on_every_row(built, table, lesson):
    # The nnet sheet's run (the net's default method) with the build's seed, on all 712 rows.
    net = wb.fit("nnet", table, seed=0)
    x = prediction_table(TEST_CSV)[INPUTS].to_numpy(dtype=float)
    with open(TEST_CSV, newline="", encoding="utf-8-sig") as f:
        ids = [int(row["PassengerId"]) for row in csv.DictReader(f)]
    with open(built.out / "submission.csv", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["PassengerId", "Survived"]
    assert [int(r[0]) for r in rows[1:]] == ids
    assert [int(r[1]) for r in rows[1:]] == (relu_sum(x, net.params) > 0.5).astype(int).tolist()
    loss = np.mean((relu_sum(lesson["x"], net.params) - lesson["y"]) ** 2)
    accuracy = np.mean((relu_sum(lesson["x"], net.params) > 0.5) == lesson["y"])
    said = f"fitted again on all 712 rows (train and valid) before predicting: loss {loss:.6f}"
    assert f"{said}, accuracy {accuracy:.2%}" in built.stdout
    # The sheet keeps the train rows' fit: another net, whose loss on the train rows is lower.
    sheet = read_params(built.out / "titanic.xlsx")["nnet"]
    kept = lesson["kept"]
    on_train = lambda w: np.mean((relu_sum(lesson["x"][kept], w) - lesson["y"][kept]) ** 2)
    assert on_train(sheet) < on_train(net.params)
    summary = openpyxl.load_workbook(built.out / "titanic.xlsx")["summary"]
    texts = [c for row in summary.iter_rows(values_only=True) for c in row if isinstance(c, str)]
    assert any("fitted again, the same way, on all 712 rows (train and valid)" in t for t in texts)


@pytest.mark.slow
def test_pictures_carry_no_software_or_date_metadata(built):
    for png in sorted(built.out.glob("*.png")):
        data = png.read_bytes()
        assert data.startswith(b"\x89PNG\r\n\x1a\n"), png.name
        for chunk in (b"tEXtSoftware", b"tIMEt", b"tEXtCreation"):
            assert chunk not in data, (png.name, chunk)
    assert (built.out / "titanic_loss.png").is_file()


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_recomputes_every_stored_number_of_the_workbook(built, tmp_path):
    from workbench.sheets.engines.recalc import recalculate

    path = built.out / "titanic.xlsx"
    theirs = openpyxl.load_workbook(recalculate(path, tmp_path), data_only=True)
    mine, formulas = openpyxl.load_workbook(path, data_only=True), openpyxl.load_workbook(path)
    compared = dict.fromkeys(("features", "linear", "nnet", "mmult", "sigmoid", "descent", "summary"), 0)
    for sheet in compared:
        for row_mine, row_theirs in zip(mine[sheet].iter_rows(), theirs[sheet].iter_rows(), strict=False):
            for a, b in zip(row_mine, row_theirs, strict=False):
                if formulas[sheet][a.coordinate].value == "=RAND()-0.5":  # a new start: drawn anew
                    assert -0.5 <= b.value < 0.5, f"{sheet}!{a.coordinate}"
                elif isinstance(a.value, float):
                    assert b.value == pytest.approx(a.value, rel=1e-9, abs=1e-12), f"{sheet}!{a.coordinate}"
                    compared[sheet] += 1
    assert min(compared.values()) > 0, compared
    assert compared["descent"] >= 100 * 21  # 100 steps of 10 parameters, 10 gradients and a loss


# --- build_all, in this process ---------------------------------------------------------------------


@pytest.mark.slow
def test_the_fits_do_not_depend_on_torchs_thread_count(table):
    kwargs = {**asdict(NNET_RECIPE), "method": "gd", "polish": 0}  # L-BFGS runs on one thread anyway
    from workbench.titanic.train import fit

    with one_thread():
        one = fit("nnet", table, **kwargs)
    before = torch.get_num_threads()
    torch.set_num_threads(2)
    try:
        two = fit("nnet", table, **kwargs)
    finally:
        torch.set_num_threads(before)
    assert one.params.tobytes() == two.params.tobytes()
    assert one.final_losses.tobytes() == two.final_losses.tobytes()


def test_an_unwritable_folder_fails_before_any_fitting(tmp_path, monkeypatch):
    def no_fitting(*args, **kwargs):
        raise AssertionError("fitted before checking the output folder")

    monkeypatch.setattr(build_module.train, "fit", no_fitting)
    (tmp_path / "plain").write_text("a file")
    with pytest.raises(WorkbenchError, match="cannot write to the folder"):
        build_all(out=tmp_path / "plain" / "books")
    with pytest.raises(WorkbenchError, match="cannot write to the folder"):
        build_all(out=tmp_path / "plain")


def test_bad_data_fails_before_any_fitting_and_writes_nothing(tmp_path, monkeypatch):
    monkeypatch.setattr(build_module.train, "fit", lambda *a, **k: pytest.fail("fitted bad data"))
    (tmp_path / "train.csv").write_text("PassengerId,Name\n1,x\n")
    with pytest.raises(DataError, match="missing column"):
        build_all(tmp_path / "train.csv", out=tmp_path / "books")
    assert not (tmp_path / "books").exists()


def test_every_sheet_fit_is_named_in_one_place(table):
    shown = [sheet for run in wb.titanic.compare.RUNS for sheet in run.sheets]
    assert sorted(shown) == ["linear", "mmult", "nnet", "sigmoid"]  # each sheet shown by one run
    (best,) = [run for run in wb.titanic.compare.RUNS if "nnet" in run.sheets]
    assert best.fit == {"model": "nnet"}  # the net's recipe in the registry, as fit() uses it
    with pytest.raises(WorkbenchError, match="no model sheet is called 'tree'"):
        build_module.fit_sheet("tree", table)


@pytest.mark.slow
def test_titanic_xlsx_speaks_plainly_and_cuts_off_no_heading(built):
    path = built.out / "titanic.xlsx"
    assert jargon(path) == []  # the technical terms live in the cells' notes
    assert clipped_headings(path) == []
