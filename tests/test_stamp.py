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
from pathlib import Path

import pytest

from workbench import stamp
from workbench.build import OUTPUTS
from workbench.stamp import STAMP


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
    assert stamp.reusable(out, build_key) == "the report"
    held = json.loads((out / STAMP).read_text())
    assert held["files"]["a.xlsx"] == hashlib.sha256(b"workbook").hexdigest()


def test_another_key_or_a_changed_missing_or_replaced_output_is_not_reusable(stamped):
    out, build_key = stamped
    assert stamp.reusable(out, stamp.key(None, 4)) is None
    (out / "a.xlsx").write_bytes(b"saved after Solver ran")
    assert stamp.reusable(out, build_key) is None
    (out / "a.xlsx").unlink()
    assert stamp.reusable(out, build_key) is None
    os.mkfifo(out / "a.xlsx")  # never opened for a blocking read: refused at once
    assert stamp.reusable(out, build_key) is None


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
    assert stamp.reusable(tmp_path, "K") is None


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
    monkeypatch.setenv("ATEN_CPU_CAPABILITY", "default")
    assert stamp.key(csv, 0) != changed
    monkeypatch.delenv("ATEN_CPU_CAPABILITY")
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
