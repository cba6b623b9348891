"""``workbench build`` skips a build whose inputs have not changed (:mod:`workbench.stamp`).

The unit tests stamp small files of their own; the slow ones run the real command twice
into one folder (the build itself is tested in test_build.py).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from workbench import stamp
from workbench.build import OUTPUTS
from workbench.cli import main
from workbench.files import output_folder, write_bytes
from workbench.stamp import STAMP

#: The outputs of the small builds these tests stamp.
TWO = ("a.xlsx", "b.png")


@pytest.fixture
def stamped(tmp_path: Path) -> tuple[Path, str]:
    """A folder with two outputs and the stamp of the build that wrote them."""
    (tmp_path / "a.xlsx").write_bytes(b"workbook")
    (tmp_path / "b.png").write_bytes(b"picture")
    build_key = stamp.key(None, 3)
    stamp.write(tmp_path, build_key, [tmp_path / "a.xlsx", tmp_path / "b.png"], "the report")
    return tmp_path, build_key


def test_an_unchanged_build_is_reusable_and_says_what_it_holds(stamped):
    out, build_key = stamped
    assert stamp.reusable(out, build_key, TWO) == "the report"
    held = json.loads((out / STAMP).read_text())
    assert held["files"]["a.xlsx"] == hashlib.sha256(b"workbook").hexdigest()


def test_another_key_or_a_changed_missing_or_replaced_output_is_not_reusable(stamped):
    out, build_key = stamped
    assert stamp.reusable(out, stamp.key(None, 4), TWO) is None
    (out / "a.xlsx").write_bytes(b"saved after Solver ran")
    assert stamp.reusable(out, build_key, TWO) is None
    (out / "a.xlsx").unlink()
    assert stamp.reusable(out, build_key, TWO) is None
    os.mkfifo(out / "a.xlsx")  # never opened for a blocking read: refused at once
    assert stamp.reusable(out, build_key, TWO) is None


def edit(out: Path, change) -> None:
    held = json.loads((out / STAMP).read_text())
    change(held["files"])
    (out / STAMP).write_text(json.dumps(held))


def test_the_outputs_come_from_the_build_not_from_the_stamp(stamped):
    out, build_key = stamped
    (out / "b.png").unlink()  # deleted, and left out of the stamp's list
    edit(out, lambda files: files.pop("b.png"))
    assert stamp.reusable(out, build_key, TWO) is None
    (out / "b.png").write_bytes(b"garbage")  # replaced, while the stamp lists only the other
    assert stamp.reusable(out, build_key, TWO) is None
    assert stamp.reusable(out, build_key, ("a.xlsx",)) == "the report"  # a build of a.xlsx alone


@pytest.mark.parametrize(
    "name", ["../a.xlsx", "sub/../a.xlsx", "/etc/passwd", "a\x00.xlsx", "", ".", "x" * 5000]
)
def test_a_stamp_listing_a_file_the_build_does_not_write_is_ignored(stamped, name):
    out, build_key = stamped
    digest = hashlib.sha256(b"workbook").hexdigest()
    edit(out, lambda files: files.update({name: digest}))
    assert stamp.reusable(out, build_key, TWO) is None
    edit(out, lambda files: files.pop("a.xlsx"))  # in place of an output
    assert stamp.reusable(out, build_key, TWO) is None


def test_the_outputs_stamp_knows_are_the_builds():
    assert stamp.OUTPUTS == OUTPUTS  # kept literal in stamp.py, so a kept build never imports torch


@pytest.mark.parametrize(
    "text",
    [
        "{not json",
        "[1, 2]",
        '{"key": "K", "files": {}, "report": "r"}',
        '{"key": "K", "files": {"gone.xlsx": null}, "report": "r"}',
        '{"key": "K", "files": {"../escape.xlsx": "' + "0" * 64 + '"}, "report": "r"}',
        '{"key": "K", "files": {"a.xlsx": "' + hashlib.sha256(b"workbook").hexdigest() + '"}, "report": 7}',
        "[" * 100_000,
    ],
)
def test_a_stamp_that_makes_no_sense_is_ignored(tmp_path, text):
    (tmp_path / "a.xlsx").write_bytes(b"workbook")
    (tmp_path / STAMP).write_text(text.replace('"K"', json.dumps("K")))
    assert stamp.reusable(tmp_path, "K", ("a.xlsx",)) is None


def test_a_stamp_that_is_not_a_regular_file_is_ignored_without_blocking(tmp_path):
    os.mkfifo(tmp_path / STAMP)
    assert stamp.reusable(tmp_path, stamp.key(None, None)) is None


def test_the_key_follows_the_seed_the_data_the_cpu_dispatch_and_the_code(tmp_path, monkeypatch):
    csv = tmp_path / "train.csv"
    csv.write_text("PassengerId,Survived\n1,0\n")
    base = stamp.key(csv, 0)
    assert stamp.key(csv, 0) == base
    assert stamp.key(csv, 1) != base and stamp.key(csv, None) != base and stamp.key(None, 0) != base
    csv.write_text("PassengerId,Survived\n1,1\n")
    assert stamp.key(csv, 0) != base
    changed = stamp.key(csv, 0)
    other = "avx2" if os.environ.get("ATEN_CPU_CAPABILITY") == "default" else "default"
    with monkeypatch.context() as env:  # another dispatch than this run's, whichever it is
        env.setenv("ATEN_CPU_CAPABILITY", other)
        assert stamp.key(csv, 0) != changed
    code = tmp_path / "package"
    shutil.copytree(Path(stamp.__file__).parent, code, ignore=shutil.ignore_patterns("__pycache__"))
    monkeypatch.setattr(stamp, "_PACKAGE", code)
    assert stamp.key(csv, 0) == changed  # a copy of the same code
    (code / "gd.py").write_text((code / "gd.py").read_text() + "\n# edited\n")
    assert stamp.key(csv, 0) != changed


def test_a_bad_data_file_is_refused_before_anything(tmp_path):
    from workbench.errors import WorkbenchError

    os.mkfifo(tmp_path / "fifo.csv")
    with pytest.raises(WorkbenchError, match=r"fifo.csv: is not a regular file"):
        stamp.key(tmp_path / "fifo.csv", 0)


# --- the command ---------------------------------------------------------------------------------


def run_build(out: Path, *options: str) -> subprocess.CompletedProcess:
    command = [sys.executable, "-m", "workbench", "build", "--out", str(out), "--quiet", *options]
    return subprocess.run(command, capture_output=True, text=True)


def written(out: Path) -> dict[str, int]:
    return {name: (out / name).stat().st_mtime_ns for name in OUTPUTS}


@pytest.mark.slow
def test_the_command_keeps_an_unchanged_build_without_loading_torch(tmp_path):
    first = run_build(tmp_path)
    assert first.returncode == 0, first.stderr
    before = written(tmp_path)
    probe = (
        "import sys; from workbench.cli import main;"
        f" status = main(['build', '--out', {str(tmp_path)!r}, '--quiet']);"
        " assert status == 0 and 'torch' not in sys.modules, sorted(sys.modules)"
    )
    began = time.perf_counter()
    kept = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    seconds = time.perf_counter() - began
    assert kept.returncode == 0, kept.stderr
    assert "nothing changed since this build" in kept.stdout
    assert first.stdout.strip() in kept.stdout  # the stored report, as the build printed it
    assert written(tmp_path) == before
    assert seconds < 3, seconds

    forced = run_build(tmp_path, "--force")
    assert forced.returncode == 0 and "nothing changed" not in forced.stdout
    assert all(written(tmp_path)[n] > t for n, t in before.items())


# --- the command, with a stand-in for the build (the real one: the slow test above) -------------


@dataclass(frozen=True)
class Built:
    files: tuple[Path, ...]
    seconds: dict[str, float]

    def report(self) -> str:
        return f"built {len(self.files)} files"


@pytest.fixture
def builds(monkeypatch) -> list[Path]:
    """``workbench build`` with build_all writing a few bytes per output; lists each build's folder."""
    import workbench.build

    done: list[Path] = []

    def build_all(data, out, *, seed=None, progress=None):
        with output_folder(out) as folder:  # as the real one: the command's lock, taken again
            files = tuple(write_bytes(folder / name, f"{name} {seed}".encode()) for name in OUTPUTS)
        done.append(Path(out))
        return Built(files, {"fit": 0.0})

    monkeypatch.setattr(workbench.build, "build_all", build_all)
    return done


def build(capsys, out: Path, *options: str) -> tuple[int, str, str]:
    status = main(["build", "--out", str(out), "--quiet", *options])
    printed = capsys.readouterr()
    return status, printed.out, printed.err


def test_a_kept_build_needs_every_output_the_build_writes(capsys, tmp_path, builds):
    assert build(capsys, tmp_path)[0] == 0 and len(builds) == 1
    status, out, _ = build(capsys, tmp_path)
    assert status == 0 and "nothing changed" in out and len(builds) == 1
    (tmp_path / "relu_units.png").unlink()
    edit(tmp_path, lambda files: files.pop("relu_units.png"))
    assert build(capsys, tmp_path)[0] == 0 and len(builds) == 2  # rebuilt, not vouched for
    (tmp_path / "line.xlsx").write_bytes(b"garbage")
    edit(tmp_path, lambda files: files.pop("line.xlsx"))
    assert build(capsys, tmp_path)[0] == 0 and len(builds) == 3
    assert (tmp_path / "line.xlsx").read_bytes() == b"line.xlsx None"
    edit(tmp_path, lambda files: files.update({"../line.xlsx": files["line.xlsx"]}))
    status, out, err = build(capsys, tmp_path)
    assert (status, err) == (0, "") and "nothing changed" not in out and len(builds) == 4


@pytest.mark.parametrize("make", [os.mkdir, os.mkfifo])
def test_a_stamp_that_cannot_be_written_is_refused_before_the_build(capsys, tmp_path, builds, make):
    (tmp_path / "titanic.xlsx").write_bytes(b"an earlier build's")
    make(tmp_path / STAMP)
    status, _, err = build(capsys, tmp_path)
    assert status == 2 and err.count("\n") == 1 and f"cannot write {tmp_path / STAMP}" in err, err
    assert builds == [] and (tmp_path / "titanic.xlsx").read_bytes() == b"an earlier build's"


HOLD = """
import fcntl, os, sys
fd = os.open(sys.argv[1], os.O_RDONLY)
fcntl.flock(fd, fcntl.LOCK_EX)
print("locked", flush=True)
sys.stdin.read()
"""


def test_a_second_build_into_a_folder_being_built_is_refused(capsys, tmp_path, builds):
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(tmp_path)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout.readline() == "locked\n"
        status, _, err = build(capsys, tmp_path, "--seed", "2")
        assert status == 2 and err.count("\n") == 1, err
        assert "another workbench is writing into it" in err
        table = tmp_path / "t.csv"
        table.write_text("x,y\n" + "".join(f"{i},{i % 2}\n" for i in range(40)))
        assert main(["build", "--data", str(table), "--target", "y", "--out", str(tmp_path), "-q"]) == 2
        assert "another workbench is writing into it" in capsys.readouterr().err
    finally:
        holder.communicate("")
    assert builds == [] and sorted(p.name for p in tmp_path.iterdir()) == ["t.csv"]
    assert build(capsys, tmp_path, "--seed", "2")[0] == 0 and builds == [tmp_path]  # free again
