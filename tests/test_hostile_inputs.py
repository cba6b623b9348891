"""Careless and hostile input other than workbooks: bounded memory, arguments checked before
anything is written, outputs that replace only regular files and leave no debris."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

import workbench as wb
from workbench.build import OUTPUTS, build_all
from workbench.cli import main
from workbench.errors import DataError, DivergenceError, WorkbenchError
from workbench.limits import ENV_BUDGET, memory_budget
from workbench.titanic.data import TRAIN_CSV
from workbench.titanic.train import fit, fit_memory

TRAIN_LINES = TRAIN_CSV.read_text().splitlines()


def csv_with(tmp_path: Path, column: str, value: str, name: str = "train.csv") -> Path:
    """train.csv with `column` of its first passenger set to `value`."""
    header = TRAIN_LINES[0].split(",")
    import csv
    import io

    rows = list(csv.reader(io.StringIO("\n".join(TRAIN_LINES))))
    rows[1][header.index(column)] = value
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    path = tmp_path / name
    path.write_text(out.getvalue())
    return path


# --- 1. memory ---------------------------------------------------------------------------------


def test_a_fit_above_the_memory_budget_is_refused_naming_the_options(table):
    with pytest.raises(WorkbenchError, match=r"lower --starts, --epochs or --gauss-newton"):
        fit("nnet", table, method="gd", starts=100_000, epochs=1)
    with pytest.raises(WorkbenchError, match="10,000,000 epochs"):
        fit("nnet", table, method="gd", epochs=10_000_000, gauss_newton=0, polish=0)
    # 256 starts x 712 rows x (192 + 8 * (2 * 20 + 12)) bytes, plus 121 epochs of history
    assert fit_memory("nnet", 712, starts=256, epochs=100, gauss_newton=20) == 256 * 712 * 608 + 121 * (
        256 * 16 + 64
    )


def test_the_budget_can_be_raised_only_sensibly(monkeypatch):
    monkeypatch.setenv(ENV_BUDGET, "512MiB")
    assert memory_budget() == 512 * 2**20
    for bad in ("lots", "-1GiB", "0", "100000TiB"):
        monkeypatch.setenv(ENV_BUDGET, bad)
        with pytest.raises(WorkbenchError, match=ENV_BUDGET):
            memory_budget()


# Peak RSS from /proc's VmHWM, which starts afresh at exec; getrusage's ru_maxrss does not
# (Linux carries it over from the parent, so a big pytest process would hide the fit's peak).
PEAK = """
import sys
import workbench as wb
from workbench.titanic.train import fit
def peak():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
table = wb.lesson_table()
before = peak()
starts, epochs, steps = map(int, sys.argv[1:4])
fit("nnet", table, method="gd", starts=starts, epochs=epochs, gauss_newton=steps, polish=0)
print(before, peak())
"""


def peak_rss(*args: int) -> tuple[int, int]:
    """Peak RSS of a fresh process before the fit (imports, data) and after it."""
    done = subprocess.run(
        [sys.executable, "-c", PEAK, *map(str, args)], capture_output=True, text=True, check=True
    )
    before, after = done.stdout.split()[-2:]
    return int(before), int(after)


@pytest.mark.slow
def test_memory_stays_flat_in_epochs_and_within_the_estimate():
    short, long = peak_rss(64, 100, 0)[1], peak_rss(64, 4000, 0)[1]
    # Before, every epoch kept a (64, 712) tensor alive: 3,900 more epochs were 1.4 GB more.
    assert long - short < 30 * 2**20, (short, long)
    # The estimate covers what a big Gauss-Newton fit really adds to the process, and is not
    # wildly above it (one step holds less than the default's 20; 4,900 starts x 20 steps held 1.5 GB).
    base, big = peak_rss(2048, 3, 1)
    need = fit_memory("nnet", 712, starts=2048, epochs=3, gauss_newton=1)
    assert need / 3 < big - base <= need, (big - base, need)


# --- 4. validate before writing ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"seed": -1}, "seed must be a whole number from 0 to 4294967295"),
        ({"seed": 2**32}, "seed must be a whole number from 0 to 4294967295"),
    ],
)
def test_build_refuses_bad_arguments_before_writing(tmp_path, kwargs, match):
    with pytest.raises(WorkbenchError, match=match):
        build_all(out=tmp_path / "books", **kwargs)
    assert not (tmp_path / "books").exists()


def test_build_refuses_an_empty_out_and_too_few_rows(tmp_path, capsys):
    assert main(["build", "--out", ""]) == 2
    assert "the output folder is empty" in capsys.readouterr().err
    two = tmp_path / "two.csv"
    two.write_text("\n".join(TRAIN_LINES[:3]) + "\n")
    with pytest.raises(
        WorkbenchError, match=r"has 2 passengers with an Age \(of 2 rows\); the build needs at least 12"
    ):
        build_all(two, out=tmp_path / "books")
    assert list((tmp_path / "books").iterdir()) == []


def test_build_refuses_an_output_name_taken_by_a_folder_before_fitting(tmp_path):
    (tmp_path / "books" / "relu_units.png").mkdir(parents=True)
    with pytest.raises(WorkbenchError, match=r"relu_units\.png: it is a folder"):
        build_all(out=tmp_path / "books")
    assert sorted(p.name for p in (tmp_path / "books").iterdir()) == ["relu_units.png"]
    assert "titanic.xlsx" in OUTPUTS and len(OUTPUTS) == 22


# --- 5. implausible values, divergence, parameter JSON ----------------------------------------


@pytest.mark.parametrize(
    ("column", "value", "match"),
    [
        ("Age", "1e308", "column 'Age', row 1 .* has 1e\\+308; no passenger list has a Age above 150"),
        ("Fare", "1e300", "column 'Fare', row 1 .*above 10,000"),
        ("SibSp", "1000000000000000", "column 'SibSp', row 1 .*above 20"),
        ("Parch", "21", "column 'Parch', row 1 .*above 20"),
        ("PassengerId", "9007199254740993", "column 'PassengerId', row 1 .*expected a whole number"),
    ],
)
def test_implausible_magnitudes_are_named_by_row_and_column(tmp_path, column, value, match):
    with pytest.raises(DataError, match=match):
        wb.load_titanic(csv_with(tmp_path, column, value))


def test_a_large_passenger_id_is_kept_exact(tmp_path):
    assert wb.load_titanic(csv_with(tmp_path, "PassengerId", "9007199254740991")).PassengerId[0] == 2**53 - 1


@pytest.mark.parametrize(("model", "sigmoid"), [("nnet", False), ("linear", True)])
def test_a_huge_learning_rate_is_reported_as_divergence(table, model, sigmoid, capsys):
    with pytest.raises(DivergenceError, match="no lower than the best start's"):
        fit(model, table, method="gd", lr=1e6, sigmoid=sigmoid, epochs=50, gauss_newton=0, polish=0)
    args = ["fit", model, "--method", "gd", "--lr", "1e6", "--epochs", "50", "--starts", "4", "--quiet"]
    assert main(args + (["--sigmoid"] if sigmoid else [])) == 2
    assert "diverged" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("record", "match"),
    [
        ({"model": "linear", "sigmoid": "no", "params": [0.1] * 10}, "'sigmoid' must be true or false"),
        ({"model": "linear", "params": [True] * 10}, "must be numbers .*not true/false"),
        ({"model": ["linear"], "params": [0.1] * 10}, "unknown model"),
    ],
)
def test_parameter_json_types_are_strict(tmp_path, record, match):
    path = tmp_path / "p.json"
    path.write_text(json.dumps(record))
    with pytest.raises(WorkbenchError, match=match):
        wb.load_params(path)


def test_parameter_json_sizes_are_limited(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"model": "linear", "params": [1' + "0" * 400 + ", 1, 1, 1, 1, 1, 1, 1, 1, 1]}")
    with pytest.raises(WorkbenchError, match="too long"):
        wb.load_params(path)
    path.write_text('{"model": "linear", "params": [1e400, 1, 1, 1, 1, 1, 1, 1, 1, 1]}')
    with pytest.raises(WorkbenchError, match="finite"):
        wb.load_params(path)
    path.write_text("[" * 100_000 + "]" * 100_000)
    with pytest.raises(WorkbenchError, match="nested"):
        wb.load_params(path)
    path.write_text(" " * (2**20 + 10))
    with pytest.raises(WorkbenchError, match="larger than any JSON parameter file"):
        wb.load_params(path)


# --- 3 and 6. special files in and out ----------------------------------------------------------


def test_special_files_are_refused_as_input_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "fifo.csv"
    os.mkfifo(fifo)
    for path, match in [
        (fifo, "is not a regular file"),
        ("/dev/zero", "is not a regular file"),
        (tmp_path, "is a folder"),
    ]:
        with pytest.raises(DataError, match=match):
            wb.load_titanic(path)
        assert (
            main(["predict", "--test", str(path), "--params", str(fifo), "--out", str(tmp_path / "s.csv")])
            == 2
        )
    assert not (tmp_path / "s.csv").exists()


def test_outputs_replace_only_regular_files(tmp_path, capsys):
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    (tmp_path / "folder").mkdir()
    for out, match in [
        (fifo, "not a regular file"),
        (tmp_path / "folder", "is a folder"),
        ("", "name is empty"),
    ]:
        assert main(["predict", "--model", "linear", "--params", "nope.json", "--out", str(out)]) == 2
        assert match in capsys.readouterr().err
    assert fifo.is_fifo() and (tmp_path / "folder").is_dir()
    assert main(["predict", "--out", "/dev/full"]) == 2 and Path("/dev/full").is_char_device()
    assert "not a regular file" in capsys.readouterr().err


def test_a_symlink_is_written_through(tmp_path):
    real = tmp_path / "real.csv"
    real.write_text("old\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    frame = wb.kaggle_submission("linear", [0.0] * 9 + [1.0])
    wb.write_submission(link, frame)
    assert link.is_symlink() and real.read_text().startswith("PassengerId,Survived\n")
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "missing" / "x.csv")
    with pytest.raises(WorkbenchError, match=r"symbolic link to .* which does not exist"):
        wb.write_submission(dangling, frame)


FULL_DISK = """
import os, resource, signal, sys
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
resource.setrlimit(resource.RLIMIT_FSIZE, (20_000, 20_000))
import workbench as wb
from workbench.sheets.regression_book import write_regression_book
from workbench.regression import fit_dataset, load_dataset
try:
    write_regression_book(fit_dataset(load_dataset("line")), sys.argv[1])
except wb.WorkbenchError as e:
    print(e)
"""


def test_a_failed_write_names_the_file_and_leaves_no_debris(tmp_path):
    out, scratch = tmp_path / "out", tmp_path / "tmp"
    out.mkdir(), scratch.mkdir()
    (out / "line.xlsx").write_text("the old file")
    env = dict(os.environ, TMPDIR=str(scratch))
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(out / "line.xlsx")], capture_output=True, text=True, env=env
    )
    assert done.stdout.startswith(f"cannot write workbook {out / 'line.xlsx'}: File too large"), done
    assert "Exception ignored" not in done.stderr and "Traceback" not in done.stderr
    assert [p.name for p in out.iterdir()] == ["line.xlsx"] and (
        out / "line.xlsx"
    ).read_text() == "the old file"
    assert list(scratch.iterdir()) == []


# --- 7. charts ----------------------------------------------------------------------------------


def test_chart_names_from_user_data_stay_text(tmp_path):
    from workbench.regression import fit_dataset, read_dataset
    from workbench.sheets.regression_book import write_regression_book

    path = tmp_path / "q!A1.csv"
    path.write_text("data!B2,=cmd|' /C calc'!A0\n1,2\n2,4\n3,7\n")
    data = read_dataset(path, y="=cmd|' /C calc'!A0", epochs=5)
    book = write_regression_book(fit_dataset(data), tmp_path / "q.xlsx")
    with zipfile.ZipFile(book) as z:
        charts = [z.read(n).decode() for n in z.namelist() if n.startswith("xl/charts/")]
    assert charts
    import re

    formulas = [f for c in charts for f in re.findall(r"<c:f>([^<]*)</c:f>", c)]
    sheets = ("model!", "by_hand!", "descent!")
    assert formulas and all(f.startswith(sheets) for f in formulas), formulas
    assert any("data!\u2060B2" in c for c in charts) and any("calc'!\u2060A0" in c for c in charts)


# --- 8. pipes ------------------------------------------------------------------------------------


def test_a_closed_pipe_ends_quietly():
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", "fit", "linear", "--method", "lstsq"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    proc.stdout.close()
    err = proc.stderr.read().decode()
    assert proc.wait() == 141 and err == "", err
