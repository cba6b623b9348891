"""Careless and hostile input other than workbooks: bounded memory, arguments checked before
anything is written, outputs that replace only regular files and leave no debris."""

from __future__ import annotations

import errno
import json
import os
import stat
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
    # 256 starts x 712 rows x (192 + 8 * (20 + 6)) bytes (the net's Gauss-Newton: about one copy of
    # its 20 parameters and 6 numbers per row), plus 121 epochs of history
    assert fit_memory("nnet", 712, starts=256, epochs=100, gauss_newton=20) == 256 * 712 * 400 + 121 * (
        256 * 16 + 64
    )
    # a model whose step builds the whole jacobian: two copies and 12 numbers per row
    assert fit_memory("mmult", 712, starts=256, epochs=100, gauss_newton=20) == 256 * 712 * 608 + 121 * (
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


READ = """
import sys
from workbench.tabular import read_table
from workbench.csv_files import read_memory, _count
def peak():
    with open("/proc/self/status") as f:
        return next(int(line.split()[1]) * 1024 for line in f if line.startswith("VmHWM:"))
before = peak()
try:
    read_table(sys.argv[1])
except Exception as e:
    print(e)
with open(sys.argv[1], "rb") as f:
    print(peak() - before, read_memory(*_count(f, sys.argv[2])))
"""


def read_peak(path: Path, budget: str, separator: str = ",") -> tuple[str, int, int]:
    """What reading ``path`` in a fresh process said, the memory it added at its peak, and the estimate."""
    env = dict(os.environ, **{ENV_BUDGET: budget})
    command = [sys.executable, "-c", READ, str(path), separator]
    done = subprocess.run(command, capture_output=True, text=True, env=env)
    *said, numbers = done.stdout.splitlines()
    added, estimate = map(int, numbers.split())
    return "\n".join(said), added, estimate


@pytest.mark.parametrize("separator", [",", ";"])
def test_a_csv_too_big_for_the_budget_is_refused_before_it_is_read(tmp_path, separator):
    # Short rows cost most per byte: 3 million of them (12 MB) took 1.35 GB under a 256 MiB budget.
    path = tmp_path / "short_rows.csv"
    path.write_text(("a,b\n" + "0,1\n1,2\n" * 150_000).replace(",", separator))  # 1.2 MB
    said, added, estimate = read_peak(path, "64MiB", separator)
    # 300,001 line ends and separators: a row more than the line ends, a field more per row than its
    # separators (a semicolon file's too: counting its commas would count a field per row)
    counted = "(1,200,004 bytes: at most 300,002 rows, 600,003 fields)"
    assert said.startswith(f"reading {path} {counted} would need about"), said
    assert "more than the budget of 64.0 MiB" in said and estimate > 64 * 2**20
    assert added < 8 * 2**20, added  # a count of lines and commas, not the rows
    said, added, estimate = read_peak(path, "1GiB", separator)
    assert said == "" and estimate / 3 < added <= estimate, (added, estimate)


def test_a_category_of_100000_levels_is_refused_at_once():
    import time

    import pandas as pd

    from workbench.tabular import prepare

    n = 100_000
    frame = pd.DataFrame({"town": [f"t{i}" for i in range(n)], "x": range(n), "y": [i % 2 for i in range(n)]})
    began = time.process_time()
    with pytest.raises(DataError, match=r"for 100000 rows; .* e\.g\. drop=\['town'\]"):
        prepare(frame, "y", category=["town"])
    assert time.process_time() - began < 3  # it took 103 s, making 99,999 dummies before refusing


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
        build_all(two, out=tmp_path / "deep" / "books")
    assert list(tmp_path.iterdir()) == [two]  # the folders it made for the build are gone again
    (tmp_path / "kept").mkdir()
    with pytest.raises(WorkbenchError, match="the build needs at least 12"):
        build_all(two, out=tmp_path / "kept")
    assert (tmp_path / "kept").is_dir()  # a folder that was there stays


def test_build_refuses_an_output_name_taken_by_a_folder_before_fitting(tmp_path):
    (tmp_path / "books" / "relu_units.png").mkdir(parents=True)
    with pytest.raises(WorkbenchError, match=r"relu_units\.png: it is a folder"):
        build_all(out=tmp_path / "books")
    assert sorted(p.name for p in (tmp_path / "books").iterdir()) == ["relu_units.png"]
    assert "titanic.xlsx" in OUTPUTS and len(OUTPUTS) == 25


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
    with pytest.raises(WorkbenchError, match=r"cannot write 'a\\x00b': embedded null byte"):
        wb.write_submission("a\x00b", wb.kaggle_submission("linear", [0.0] * 9 + [1.0]))


def test_a_symlink_at_an_output_is_refused_and_what_it_points_at_untouched(tmp_path, capsys):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    real = elsewhere / "passwords.txt"
    real.write_text("keep me\n")
    link = tmp_path / "link.csv"
    link.symlink_to(real)
    dangling = tmp_path / "dangling.csv"
    dangling.symlink_to(tmp_path / "missing" / "x.csv")
    frame = wb.kaggle_submission("linear", [0.0] * 9 + [1.0])
    for out in (link, dangling):
        with pytest.raises(WorkbenchError, match=rf"cannot write {out}: it is a symbolic link"):
            wb.write_submission(out, frame)
        assert main(["predict", "--params", "nope.json", "--out", str(out)]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is a symbolic link" in err, err
    assert link.is_symlink() and dangling.is_symlink() and real.read_text() == "keep me\n"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dangling.csv", "elsewhere", "link.csv"]
    # A folder on the way may be a link: only the output's own name is checked.
    (tmp_path / "to_elsewhere").symlink_to(elsewhere)
    wb.write_submission(tmp_path / "to_elsewhere" / "s.csv", frame)
    assert (elsewhere / "s.csv").read_text().startswith("PassengerId,Survived\n")


def test_an_output_never_replaces_an_input(tmp_path, capsys):
    train = tmp_path / "train.csv"
    train.write_text(TRAIN_CSV.read_text())
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"model": "linear", "params": [0.1] * 10}))
    twin = tmp_path / "twin.csv"
    os.link(train, twin)  # another name for the same file is the same input
    cases = [
        ["predict", "--data", str(train), "--params", str(params), "--out", str(train)],
        ["predict", "--test", str(train), "--params", str(params), "--out", str(train)],
        ["predict", "--params", str(params), "--out", str(params)],
        ["predict", "--data", str(train), "--params", str(params), "--out", str(twin)],
        ["fit", "linear", "--method", "lstsq", "--data", str(train), "--json", str(train)],
    ]
    for argv in cases:
        assert main([*argv, "--quiet"]) == 2, argv
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and "is the input file" in err, (argv, err)
    assert train.read_text() == TRAIN_CSV.read_text() and twin.read_text() == TRAIN_CSV.read_text()
    assert json.loads(params.read_text())["model"] == "linear"


def test_a_csv_named_like_its_workbook_is_not_replaced_by_it(tmp_path, capsys):
    data = tmp_path / "data.xlsx"  # a CSV, whatever its name says
    data.write_text(TRAIN_CSV.read_text())
    argv = ["build", "--data", str(data), "--target", "Survived", "--out", str(tmp_path), "--quiet"]
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and f"cannot write {data}: it is the input file {data}" in err, err
    # The Titanic build: a train.csv named like one of its outputs, in the folder it writes.
    named = tmp_path / "submission.csv"
    named.write_text(TRAIN_CSV.read_text())
    with pytest.raises(WorkbenchError, match=r"submission\.csv: it is the input file"):
        build_all(named, out=tmp_path)
    assert data.read_text() == named.read_text() == TRAIN_CSV.read_text()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data.xlsx", "submission.csv"]


def test_a_replaced_file_keeps_its_mode_and_a_read_only_file_is_refused(tmp_path, capsys):
    frame = wb.kaggle_submission("linear", [0.0] * 9 + [1.0])
    for mode in (0o600, 0o664):
        old = tmp_path / f"old_{mode:o}.csv"
        old.write_text("old\n")
        old.chmod(mode)
        wb.write_submission(old, frame)
        assert old.read_text().startswith("PassengerId") and stat.S_IMODE(old.stat().st_mode) == mode
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"model": "linear", "params": [0.1] * 10}))
    private = tmp_path / "old_600.csv"
    private.write_text("old\n")
    assert main(["predict", "--params", str(params), "--out", str(private), "-q"]) == 0
    assert stat.S_IMODE(private.stat().st_mode) == 0o600 and private.read_text().startswith("PassengerId")
    read_only = tmp_path / "read_only.csv"
    read_only.write_text("keep me\n")
    read_only.chmod(0o444)  # refused even for root, who could write it
    with pytest.raises(WorkbenchError, match=r"read_only.csv: it is read-only \(mode 0444\)"):
        wb.write_submission(read_only, frame)
    assert main(["predict", "--params", "nope.json", "--out", str(read_only)]) == 2
    assert "read-only" in capsys.readouterr().err
    assert read_only.read_text() == "keep me\n" and stat.S_IMODE(read_only.stat().st_mode) == 0o444


@pytest.mark.libreoffice
def test_solve_refuses_a_read_only_or_linked_workbook_before_libreoffice_starts(tmp_path, capsys):
    from small_book import write_small_book

    book = write_small_book(tmp_path / "titanic.xlsx").path
    before = book.read_bytes()
    book.chmod(0o444)
    link = tmp_path / "link.xlsx"
    link.symlink_to(book)
    for path, said in ((book, "it is read-only (mode 0444)"), (link, "it is a symbolic link")):
        assert main(["solve", str(path), "--seconds", "0", "-q"]) == 2
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and said in err, err
    assert book.read_bytes() == before and stat.S_IMODE(book.stat().st_mode) == 0o444


def test_a_file_the_user_may_not_write_is_refused(tmp_path, monkeypatch):
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("someone else's\n")
    import workbench.files

    # As another user would see a 0644 file of root's (a test run as root may write anything).
    monkeypatch.setattr(workbench.files.os, "access", lambda path, mode: Path(path) != theirs)
    frame = wb.kaggle_submission("linear", [0.0] * 9 + [1.0])
    with pytest.raises(WorkbenchError, match=r"theirs.csv: you may not write it \(mode 0644\)"):
        wb.write_submission(theirs, frame)
    assert theirs.read_text() == "someone else's\n"
    shut = tmp_path / "shut"
    shut.mkdir()
    monkeypatch.setattr(workbench.files.os, "access", lambda path, mode: Path(path) != shut)
    with pytest.raises(WorkbenchError, match=rf"new.csv: the folder {shut} is not writable for you"):
        wb.write_submission(shut / "new" / "new.csv", frame)
    assert list(shut.iterdir()) == []


@pytest.mark.skipif(os.geteuid() != 0, reason="only root may give a file to another user")
def test_root_replacing_a_users_file_leaves_it_theirs(tmp_path):
    theirs = tmp_path / "theirs.csv"
    theirs.write_text("old\n")
    theirs.chmod(0o600)
    os.chown(theirs, 65534, 65534)
    wb.write_submission(theirs, wb.kaggle_submission("linear", [0.0] * 9 + [1.0]))
    info = theirs.stat()
    assert (info.st_uid, info.st_gid, stat.S_IMODE(info.st_mode)) == (65534, 65534, 0o600)
    assert theirs.read_text().startswith("PassengerId,Survived\n")


FULL_DISK = """
import gc, resource, signal, sys
import workbench as wb
from workbench.sheets.books.regression import write_regression_book
from workbench.regression import fit_dataset, load_dataset
signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
fit = fit_dataset(load_dataset("line"))
for limit in map(int, sys.argv[2:]):
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    try:
        write_regression_book(fit, sys.argv[1])
    except wb.WorkbenchError as e:
        print(e)
    resource.setrlimit(resource.RLIMIT_FSIZE, (resource.RLIM_INFINITY, resource.RLIM_INFINITY))
    gc.collect()  # a writer left half-done (a ZipFile) is collected now, as a command's would be
    print("collected", file=sys.stderr)
"""


def test_a_failed_write_names_the_file_and_leaves_no_debris(tmp_path):
    """A file grows past RLIMIT_FSIZE in XlsxWriter's scratch files, or while zipping (line.xlsx
    is about 63 kB): the write fails with EFBIG."""
    out, scratch = tmp_path / "out", tmp_path / "tmp"
    out.mkdir(), scratch.mkdir()
    (out / "line.xlsx").write_text("the old file")
    env = dict(os.environ, TMPDIR=str(scratch))
    limits = ["20000", "40000"]
    done = subprocess.run(
        [sys.executable, "-c", FULL_DISK, str(out / "line.xlsx"), *limits],
        capture_output=True,
        text=True,
        env=env,
    )
    said = f"cannot write workbook {out / 'line.xlsx'}: File too large"
    assert done.stdout.splitlines() == [said] * len(limits), done
    assert done.stderr.splitlines() == ["collected"] * len(limits), done.stderr  # nothing else
    assert [p.name for p in out.iterdir()] == ["line.xlsx"]
    assert (out / "line.xlsx").read_text() == "the old file"
    assert list(scratch.iterdir()) == []


class FullDisk:
    """A file on a disk that is full once ``room`` more bytes are written: every write after that
    fails with ENOSPC, at any offset (RLIMIT_FSIZE lets a write below its limit through)."""

    def __init__(self, f, room: list[int]) -> None:
        self.f, self.room = f, room

    def write(self, b) -> int:
        if len(b) > self.room[0]:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.room[0] -= len(b)
        return self.f.write(b)

    def __getattr__(self, name):
        return getattr(self.f, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.f.close()


@pytest.mark.parametrize("room", [0, 30_000, 62_000])
def test_a_full_disk_is_one_error_and_no_second_one_when_the_writer_is_collected(tmp_path, monkeypatch, room):
    """The disk fills up at the zip's first bytes, in its middle, or at its central directory
    (line.xlsx is about 63 kB), as ``workbench build`` met it on a small tmpfs: before, the
    ZipFile left half-written wrote again when collected, and printed a second error."""
    import builtins
    import gc
    import io

    from workbench.regression import fit_dataset, load_dataset
    from workbench.sheets.books.regression import write_regression_book

    fit = fit_dataset(load_dataset("line"))
    target = tmp_path / "line.xlsx"
    target.write_text("the old file")
    real_open, left = io.open, [room]

    def open_on_a_full_disk(file, mode="r", *args, **kwargs):
        f = real_open(file, mode, *args, **kwargs)
        on_disk = str(file).startswith("/proc/self/fd/") or Path(str(file)).parent == tmp_path
        return FullDisk(f, left) if on_disk and "b" in mode and set(mode) & set("wax+") else f

    unraisable = []
    monkeypatch.setattr(sys, "unraisablehook", unraisable.append)
    with (
        monkeypatch.context() as full,
        pytest.raises(WorkbenchError, match=rf"cannot write workbook {target}: No space left on device"),
    ):
        full.setattr(io, "open", open_on_a_full_disk)
        full.setattr(builtins, "open", open_on_a_full_disk)
        write_regression_book(fit, target)
    gc.collect()
    assert [u.exc_value for u in unraisable] == []
    assert [p.name for p in tmp_path.iterdir()] == ["line.xlsx"] and target.read_text() == "the old file"


# --- 7. charts ----------------------------------------------------------------------------------


def test_chart_names_from_user_data_stay_text(tmp_path):
    from workbench.regression import fit_dataset, read_dataset
    from workbench.sheets.books.regression import write_regression_book

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
