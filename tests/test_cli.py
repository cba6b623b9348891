"""The ``workbench`` command, run through its real entry points on real files.

Most tests call ``workbench.cli.main(argv)`` (what the ``workbench`` script runs) and read
stdout, stderr and the exit status; a few start ``python -m workbench`` and the installed
``workbench`` script as subprocesses. Expected numbers are computed here with plain numpy
(least squares, the models' forward passes), never with the code under test.
``workbench build`` itself is run in tests/test_build.py.
"""

from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
import torch
from small_book import INPUTS, write_small_book

from workbench.cli import main
from workbench.titanic.data import TEST_CSV, TRAIN_CSV
from workbench.titanic.features import prediction_table

COMMANDS = ["build", "fit", "check", "predict", "compare"]


def run(capsys, *argv: str) -> tuple[int, str, str]:
    """``workbench ARGV`` in this process: (exit status, stdout, stderr)."""
    try:
        status = main(list(argv))
    except SystemExit as e:  # argparse's own exits (--help, a usage mistake)
        status = e.code
    out, err = capsys.readouterr()
    return status, out, err


def one_error_line(err: str) -> str:
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith("workbench: error: ")
    assert "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def lesson(table):
    x, y = table[INPUTS].to_numpy(dtype=float), table["Survived"].to_numpy(dtype=float)
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    return {"x": x, "y": y, "lstsq": w, "floor": float(np.mean((x @ w - y) ** 2))}


@pytest.fixture(scope="module")
def kaggle():
    with open(TEST_CSV, newline="", encoding="utf-8-sig") as f:
        ids = [int(row["PassengerId"]) for row in csv.DictReader(f)]
    return {"ids": ids, "x": prediction_table(TEST_CSV)[INPUTS].to_numpy(dtype=float)}


@pytest.fixture(scope="module")
def small(tmp_path_factory):
    return write_small_book(tmp_path_factory.mktemp("small") / "titanic.xlsx")


def read_submission(path: Path) -> tuple[list[int], np.ndarray]:
    with open(path, newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["PassengerId", "Survived"]
    assert all(r[1] in ("0", "1") for r in rows[1:])
    return [int(r[0]) for r in rows[1:]], np.array([int(r[1]) for r in rows[1:]])


# --- help -------------------------------------------------------------------------------------------


def test_no_command_prints_the_help(capsys):
    status, out, _ = run(capsys)
    assert status == 0
    for command in COMMANDS:
        assert re.search(rf"^\s+{command}\s+\S", out, re.M), command
    assert "workbench build" in out


@pytest.mark.parametrize("command", COMMANDS)
def test_every_command_explains_itself_with_examples(capsys, command):
    status, out, _ = run(capsys, command, "--help")
    assert status == 0
    assert out.startswith(f"usage: workbench {command}")
    examples = out.split("examples:", 1)[1]
    assert f"workbench {command}" in examples
    assert "--quiet" in out and "--debug" in out


def test_the_installed_script_and_python_m_run_the_same_command():
    script = Path(sys.executable).with_name("workbench")
    assert script.is_file(), "pip install -e . creates the workbench script beside python"
    by_script = subprocess.run([str(script), "fit", "--help"], capture_output=True, text=True, check=True)
    by_module = subprocess.run(
        [sys.executable, "-m", "workbench", "fit", "--help"], capture_output=True, text=True, check=True
    )
    assert by_script.stdout == by_module.stdout
    assert by_script.stdout.startswith("usage: workbench fit")


def test_the_program_exits_with_mains_status_and_leaves_its_objects_to_the_system(monkeypatch):
    """Python's last collection at exit walked torch's objects one by one (gc.freeze skips it)."""
    import gc

    from workbench import __main__ as program
    from workbench import cli

    monkeypatch.setattr(cli, "main", lambda: cli.DISAGREE)
    try:
        with pytest.raises(SystemExit) as e:
            program.command()
        assert e.value.code == cli.DISAGREE and gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()
    check = subprocess.run(
        [sys.executable, "-m", "workbench", "check", "nope.xlsx"], capture_output=True, text=True
    )
    assert check.returncode == cli.ERROR and "nope.xlsx" in check.stderr


def test_help_is_instant_because_nothing_heavy_is_imported():
    code = (
        "import sys, contextlib, io\n"
        "from workbench.cli import main\n"
        "with contextlib.redirect_stdout(io.StringIO()):\n"
        "    try: main(['build', '--help'])\n"
        "    except SystemExit: pass\n"
        "heavy = ('torch', 'pandas', 'numpy', 'scipy', 'matplotlib', 'openpyxl')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- fit --------------------------------------------------------------------------------------------


def test_fit_prints_the_least_squares_optimum_and_saves_it_as_json(capsys, tmp_path, lesson):
    path = tmp_path / "linear.json"
    status, out, _ = run(capsys, "fit", "linear", "--method", "lstsq", "--json", str(path))
    assert status == 0
    assert f"loss (MSE) {lesson['floor']:.10f}" in out
    assert f"accuracy {np.mean((lesson['x'] @ lesson['lstsq'] > 0.5) == lesson['y']):.2%}" in out
    for name, value in zip([*INPUTS[:-1], "Ones (Const)"], lesson["lstsq"], strict=True):
        assert re.search(rf"^{re.escape(name)}\s+{value: .10f}$", out, re.M), name
    record = json.loads(path.read_text())
    assert (record["model"], record["method"], record["sigmoid"]) == ("linear", "lstsq", False)
    assert record["features"] == INPUTS
    np.testing.assert_allclose(record["params"], lesson["lstsq"], rtol=0, atol=1e-12)
    assert abs(record["loss"] - lesson["floor"]) < 1e-15


def test_fit_nnet_prints_one_column_per_relu_and_mmult_is_its_transpose(capsys, tmp_path, lesson):
    options = ["--method", "gd", "--starts", "3", "--epochs", "20", "--polish", "0", "--seed", "4"]
    nnet, mmult = tmp_path / "nnet.json", tmp_path / "mmult.json"
    status, out, _ = run(capsys, "fit", "nnet", *options, "--json", str(nnet))
    assert status == 0
    assert re.search(r"^\s+unit 1\s+unit 2$", out, re.M)
    assert run(capsys, "fit", "mmult", *options, "--json", str(mmult))[0] == 0
    w = np.array(json.loads(nnet.read_text())["params"])
    assert w.shape == (2, 10)
    np.testing.assert_array_equal(np.array(json.loads(mmult.read_text())["params"]), w.T)
    x, y = lesson["x"], lesson["y"]
    loss = np.mean((np.maximum(x @ w[0], 0) + np.maximum(x @ w[1], 0) - y) ** 2)
    assert json.loads(nnet.read_text())["loss"] == pytest.approx(loss, rel=1e-12)
    assert f"loss (MSE) {loss:.10f}" in out


def test_fit_is_deterministic_for_a_seed(capsys, tmp_path):
    paths = [tmp_path / f"{k}.json" for k in range(3)]
    for path, seed in zip(paths, ["1", "1", "2"], strict=True):
        argv = ["fit", "linear", "--epochs", "30", "--starts", "1", "--seed", seed, "--json", str(path)]
        assert run(capsys, *argv)[0] == 0
    assert paths[0].read_bytes() == paths[1].read_bytes()
    assert paths[0].read_bytes() != paths[2].read_bytes()


def test_fit_with_sigmoid_saves_a_squashed_model(capsys, tmp_path, lesson):
    path = tmp_path / "sigmoid.json"
    status, out, _ = run(capsys, "fit", "linear", "--sigmoid", "--method", "lbfgs", "--json", str(path))
    assert status == 0 and out.startswith("linear with sigmoid: method lbfgs")
    record = json.loads(path.read_text())
    assert record["sigmoid"] is True
    squashed = 1 / (1 + np.exp(-(lesson["x"] @ np.array(record["params"]))))
    assert record["loss"] == pytest.approx(np.mean((squashed - lesson["y"]) ** 2), rel=1e-12)
    assert record["loss"] < lesson["floor"]  # the squashed model fits better than any line


# --- predict ------------------------------------------------------------------------------------------


def test_predict_from_a_json_of_fit_writes_the_kaggle_submission(capsys, tmp_path, lesson, kaggle):
    params, out_csv = tmp_path / "linear.json", tmp_path / "submission.csv"
    assert run(capsys, "fit", "linear", "--method", "lstsq", "--json", str(params))[0] == 0
    status, out, _ = run(capsys, "predict", "--params", str(params), "--out", str(out_csv))
    assert status == 0
    ids, survived = read_submission(out_csv)
    assert len(ids) == 418 and ids == kaggle["ids"]
    want = (kaggle["x"] @ lesson["lstsq"] > 0.5).astype(int)
    np.testing.assert_array_equal(survived, want)
    assert f"418 passengers, {want.sum()} predicted to survive" in out


@pytest.mark.parametrize("kind", ["linear", "nnet", "mmult", "sigmoid"])
def test_predict_from_a_workbook_sheet(capsys, tmp_path, small, kaggle, kind):
    out_csv = tmp_path / "submission.csv"
    status, _, _ = run(capsys, "predict", "--params", str(small.path), "--model", kind, "--out", str(out_csv))
    assert status == 0
    x, w = kaggle["x"], small.params[kind]
    preds = {
        "linear": lambda: x @ w,
        "nnet": lambda: np.maximum(x @ w[0], 0) + np.maximum(x @ w[1], 0),
        "mmult": lambda: np.maximum(x @ w, 0).sum(1),
        "sigmoid": lambda: 1 / (1 + np.exp(-(x @ w))),
    }[kind]()
    ids, survived = read_submission(out_csv)
    assert ids == kaggle["ids"]
    np.testing.assert_array_equal(survived, (preds > 0.5).astype(int))


def test_predict_without_params_fits_the_model_first(capsys, tmp_path, lesson, kaggle):
    out_csv = tmp_path / "submission.csv"
    status, out, _ = run(capsys, "predict", "--model", "linear", "--out", str(out_csv), "--quiet")
    assert status == 0
    assert "fitted on the train rows (80%) of the training data" in out
    # L-BFGS lands on the least-squares optimum of the train rows (fastai's RandomSplitter draw:
    # torch.randperm seeded 42, its first 20% held out), so it predicts what least squares predicts.
    n = len(lesson["y"])
    held = torch.randperm(n, generator=torch.Generator().manual_seed(42))[: int(0.2 * n)].numpy()
    kept = np.setdiff1d(np.arange(n), held)
    w = np.linalg.lstsq(lesson["x"][kept], lesson["y"][kept], rcond=None)[0]
    _, survived = read_submission(out_csv)
    np.testing.assert_array_equal(survived, (kaggle["x"] @ w > 0.5).astype(int))


def test_predict_fills_the_gaps_of_a_users_test_file(capsys, tmp_path, lesson):
    rows = TEST_CSV.read_text(encoding="utf-8-sig").splitlines()[:4]
    (tmp_path / "mine.csv").write_text("\r\n".join(rows) + "\r\n")
    out_csv = tmp_path / "submission.csv"
    params = tmp_path / "linear.json"
    assert run(capsys, "fit", "linear", "--method", "lstsq", "--json", str(params))[0] == 0
    argv = ["predict", "--params", str(params), "--test", str(tmp_path / "mine.csv"), "--out", str(out_csv)]
    assert run(capsys, *argv)[0] == 0
    ids, _ = read_submission(out_csv)
    assert ids == [892, 893, 894]


# --- check --------------------------------------------------------------------------------------------


def stored_loss(out: str, sheet: str) -> list[str]:
    line = next(line for line in out.splitlines() if line.startswith(f"{sheet} "))
    return line.split()


def numpy_losses(small, params: dict[str, np.ndarray]) -> dict[str, float]:
    x, y = small.inputs(), small.survived()
    preds = {
        "linear": x @ params["linear"],
        "nnet": np.maximum(x @ params["nnet"][0], 0) + np.maximum(x @ params["nnet"][1], 0),
        "mmult": np.maximum(x @ params["mmult"], 0).sum(1),
        "sigmoid": 1 / (1 + np.exp(-(x @ params["sigmoid"]))),
    }
    return {sheet: float(np.mean((p - y) ** 2)) for sheet, p in preds.items()}


def test_check_agrees_with_a_fresh_workbook(capsys, small):
    status, out, _ = run(capsys, "check", str(small.path))
    assert status == 0
    for sheet, loss in numpy_losses(small, small.params).items():
        cells = stored_loss(out, sheet)
        assert cells[1] == str(len(small.table))
        assert cells[2] == cells[3] == f"{loss:.12f}"
        assert cells[-1] == "agree"
    assert "every stored value agrees with Python" in out


def parameter_cell(path: Path, sheet: str) -> tuple[str, int]:
    """The first parameter cell of a sheet, from its Solver range, and its 1-based row."""
    book = openpyxl.load_workbook(path, read_only=True)
    ref = book[sheet].defined_names["solver_adj"].attr_text.split("!")[1].split(":")[0].replace("$", "")
    book.close()
    return ref, int(re.sub(r"[A-Z]", "", ref))


def test_check_sees_parameters_typed_in_without_recalculation(capsys, tmp_path, small):
    """A parameter changed in the file while the stored results stayed (no recalculation)."""
    cell, _ = parameter_cell(small.path, "linear")
    edited = tmp_path / "stale.xlsx"
    with zipfile.ZipFile(small.path) as src, zipfile.ZipFile(edited, "w", zipfile.ZIP_DEFLATED) as dst:
        for item in src.infolist():
            data = src.read(item)
            if item.filename == "xl/worksheets/sheet3.xml":  # the linear sheet
                data, count = re.subn(
                    rf'(<c r="{cell}"[^>]*><v>)[^<]*(</v>)', r"\g<1>0.5\g<2>", data.decode()
                )
                assert count == 1
                data = data.encode()
            dst.writestr(item, data)
    status, out, _ = run(capsys, "check", str(edited))
    assert status == 1
    params = dict(small.params)
    params["linear"] = np.concatenate([[0.5], small.params["linear"][1:]])
    want = numpy_losses(small, params)["linear"]
    cells = stored_loss(out, "linear")
    assert cells[2] == f"{want:.12f}"
    assert cells[3] == f"{numpy_losses(small, small.params)['linear']:.12f}"  # the stale stored value
    assert cells[-1] == "DISAGREE"
    assert stored_loss(out, "nnet")[-1] == "agree"
    assert "disagree" in out.splitlines()[-1]


def typed_with_openpyxl(small, tmp_path) -> tuple[Path, dict[str, np.ndarray]]:
    """The workbook after a user typed a parameter and openpyxl saved it (no stored results)."""
    first, row = parameter_cell(small.path, "nnet")
    assert first == f"G{row}"  # unit 1's parameters run from G (SibSp) to P (Const)
    book = openpyxl.load_workbook(small.path)
    book["nnet"][f"P{row}"] = 0.75  # unit 1's constant: a big one keeps its ReLU on
    path = tmp_path / "typed.xlsx"
    book.save(path)
    params = dict(small.params)
    params["nnet"] = small.params["nnet"].copy()
    params["nnet"][0, 9] = 0.75
    return path, params


def test_check_says_when_the_file_stores_no_results(capsys, tmp_path, small):
    path, _ = typed_with_openpyxl(small, tmp_path)
    status, out, _ = run(capsys, "check", str(path))
    assert status == 1
    assert stored_loss(out, "nnet")[-1] == "values"  # "no stored values"
    assert "--recalc" in out.splitlines()[-1]


@pytest.mark.slow
@pytest.mark.libreoffice
def test_check_recalc_lets_libreoffice_recompute_what_the_user_typed(capsys, tmp_path, small):
    path, params = typed_with_openpyxl(small, tmp_path)
    status, out, _ = run(capsys, "check", "--recalc", str(path))
    assert status == 0, out
    want = numpy_losses(small, params)
    for sheet in ("linear", "nnet", "mmult", "sigmoid"):
        cells = stored_loss(out, sheet)
        assert cells[2] == f"{want[sheet]:.12f}"  # Python
        assert cells[3] == "-"  # openpyxl saved the file without any formula's result
        assert cells[4] == cells[2]  # LibreOffice
    assert want["nnet"] != numpy_losses(small, small.params)["nnet"]


def test_check_recalc_without_libreoffice_is_a_clear_error(capsys, small, monkeypatch):
    monkeypatch.setattr("workbench.sheets.engines.recalc.find_soffice", lambda: None)
    status, _, err = run(capsys, "check", "--recalc", str(small.path))
    assert status == 2
    assert "LibreOffice is not installed" in one_error_line(err)


# --- compare ------------------------------------------------------------------------------------------


@pytest.mark.slow
def test_compare_prints_every_model_by_every_method(capsys, lesson):
    status, out, _ = run(capsys, "compare", "--starts", "4", "--quiet")
    assert status == 0
    lines = out.strip().splitlines()
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
        "seconds",
    ]
    rows = [line.split() for line in lines[1:]]
    assert [r[:2] for r in rows] == [
        ["linear", "lstsq"],
        ["linear", "lbfgs"],
        ["linear", "gd"],
        ["nnet", "lbfgs"],
        ["nnet", "gd"],
        ["nnet", "search"],
        ["sigmoid", "lbfgs"],
    ]
    n = len(lesson["y"])  # the train rows: fastai's RandomSplitter(seed=42) draw holds out the first 20%
    held = torch.randperm(n, generator=torch.Generator().manual_seed(42))[: int(0.2 * n)].numpy()
    kept = np.setdiff1d(np.arange(n), held)
    w = np.linalg.lstsq(lesson["x"][kept], lesson["y"][kept], rcond=None)[0]
    assert rows[0][5] == f"{np.mean((lesson['x'][kept] @ w - lesson['y'][kept]) ** 2):.6f}"
    assert rows[0][6] == f"{np.mean((lesson['x'][held] @ w - lesson['y'][held]) ** 2):.6f}"
    assert rows[5][2] == "4"


# --- errors: one line, exit status 2, nothing half written ----------------------------------------------


@pytest.fixture
def bad_files(tmp_path):
    (tmp_path / "plain").write_text("a regular file\n")
    (tmp_path / "bad.csv").write_text(
        "PassengerId,Survived,Pclass,Sex,Age,SibSp,Parch,Fare,Embarked\n1,2,3,male,22,1,0,7.25,S\n"
    )
    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
    params = {"model": "linear", "params": list(range(10))}
    (tmp_path / "linear.json").write_text(json.dumps(params))
    return tmp_path


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["fit", "linear", "--data", "{d}/missing.csv"], "{d}/missing.csv: no such file"),
        (["fit", "linear", "--data", "{d}/bad.csv"], "Survived"),
        (["fit", "tree"], "invalid choice: 'tree'"),
        (["fit", "nnet", "--method", "lstsq"], "lstsq is the closed-form optimum of the linear model"),
        (["fit", "linear", "--starts", "0"], "starts must be a whole number >= 1"),
        (
            ["fit", "linear", "--lr", "1e6", "--epochs", "50", "--starts", "1"],
            "learning rate 1e+06 is too large",
        ),
        (["check", "{d}/missing.xlsx"], "no such workbook"),
        (["check", "{d}/bad.csv"], "is not an .xlsx workbook"),
        (["check", "{d}/other.xlsx"], "{d}/other.xlsx"),
        (["predict", "--params", "{d}/bad.csv"], "neither a JSON parameter file"),
        (["predict", "--params", "{d}/linear.json", "--model", "nnet"], "holds linear parameters, not nnet"),
        (["predict", "--params", "{d}/linear.json", "--out", "{d}/plain/s.csv"], "is a file, not a folder"),
        (
            ["predict", "--params", "{d}/linear.json", "--test", "{d}/bad.csv", "--out", "{d}/s.csv"],
            "bad.csv",
        ),
        (["build", "--out", "{d}/plain/books"], "cannot write to the folder {d}/plain/books"),
        (["build", "--data", "{d}/bad.csv", "--out", "{d}/books"], "Survived"),
        (["compare", "--starts", "-1"], "argument --starts: must be a whole number >= 1; got '-1'"),
    ],
)
def test_an_error_is_one_clear_line_and_exit_status_2(capsys, bad_files, argv, message):
    d = str(bad_files)
    status, _, err = run(capsys, *(a.format(d=d) for a in argv))
    assert status == 2
    assert message.format(d=d) in one_error_line(err)
    assert not (bad_files / "s.csv").exists()
    assert not (bad_files / "books").exists() or not any((bad_files / "books").iterdir())


def test_debug_shows_the_traceback_too(capsys, tmp_path):
    status, _, err = run(capsys, "check", str(tmp_path / "missing.xlsx"), "--debug")
    assert status == 2
    assert err.startswith("Traceback (most recent call last):")
    assert "WorkbookError" in err
    assert err.strip().splitlines()[-1].startswith("workbench: error: ")
    status, _, err = run(capsys, "--debug", "check", str(tmp_path / "missing.xlsx"))
    assert status == 2 and "Traceback" in err


def test_a_failed_predict_leaves_the_old_submission_whole(capsys, bad_files):
    out_csv = bad_files / "submission.csv"
    out_csv.write_text("the old one\n")
    argv = ["predict", "--params", str(bad_files / "linear.json"), "--test", str(bad_files / "bad.csv")]
    status, _, _ = run(capsys, *argv, "--out", str(out_csv))
    assert status == 2
    assert out_csv.read_text() == "the old one\n"
    assert sorted(p.name for p in bad_files.iterdir() if p.name.startswith(".")) == []  # no temp files


@pytest.mark.slow
def test_errors_through_the_real_entry_point(tmp_path):
    done = subprocess.run(
        [sys.executable, "-m", "workbench", "fit", "linear", "--data", str(tmp_path / "nope.csv")],
        capture_output=True,
        text=True,
    )
    assert done.returncode == 2
    assert done.stdout == ""
    assert done.stderr == f"workbench: error: {tmp_path / 'nope.csv'}: no such file\n"


def test_data_option_reads_a_users_train_csv(capsys, tmp_path):
    """The first 100 rows of train.csv, with CRLF line ends: fit sees only those passengers."""
    rows = TRAIN_CSV.read_text(encoding="utf-8-sig").splitlines()[:101]
    (tmp_path / "train.csv").write_text("\r\n".join(rows) + "\r\n")
    path = tmp_path / "fit.json"
    argv = ["fit", "linear", "--method", "lstsq", "--data", str(tmp_path / "train.csv"), "--json", str(path)]
    assert run(capsys, *argv)[0] == 0
    import workbench as wb

    table = wb.lesson_table(wb.load_titanic(tmp_path / "train.csv"))
    x, y = table[INPUTS].to_numpy(dtype=float), table["Survived"].to_numpy(dtype=float)
    assert len(x) < 100
    np.testing.assert_allclose(
        json.loads(path.read_text())["params"], np.linalg.lstsq(x, y, rcond=None)[0], atol=1e-12
    )
