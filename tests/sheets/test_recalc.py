"""recalc: LibreOffice recomputes every formula instead of trusting the cached values."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest

import workbench.sheets.engines.recalc
from workbench.errors import WorkbenchError
from workbench.sheets.engines.recalc import (
    convert,
    convert_all,
    private_profile,
    recalculate,
    recalculate_all,
    reclaim_stale_profiles,
)
from workbench.sheets.write.xlsx import new_workbook


def small_book(path, wrong: float):
    """A workbook whose formulas carry a wrong cached value ``wrong``."""
    with new_workbook(path, title="t") as book:
        ws = book.add_worksheet("s")
        ws.write_row(0, 0, [2, 3, 4])
        ws.write_formula(1, 0, "=A1*B1", None, wrong)
        ws.write_formula(1, 1, "=SUMPRODUCT(A1:C1,A1:C1)", None, wrong)
        ws.write_array_formula(2, 0, 2, 1, "=MMULT(A1:B1,{1,0;0,1})", None, wrong)
        ws.write_number(2, 1, wrong)  # the array's second cell
        ws.write(3, 0, "=1+1")  # text, not a formula
    return path


@pytest.mark.libreoffice
@pytest.mark.slow
def test_recalculation_replaces_wrong_cached_values(tmp_path):
    a, b = small_book(tmp_path / "a.xlsx", 999), small_book(tmp_path / "b.xlsx", -1)
    assert openpyxl.load_workbook(a, data_only=True)["s"]["A2"].value == 999
    out = recalculate_all([a, b], tmp_path / "out")  # two files, one LibreOffice start
    assert [p.name for p in out] == ["a.xlsx", "b.xlsx"]
    for path in out:
        ws = openpyxl.load_workbook(path, data_only=True)["s"]
        assert [ws["A2"].value, ws["B2"].value, ws["A3"].value, ws["B3"].value] == [6, 29, 2, 3]
        assert ws["A4"].value == "=1+1" and ws["A4"].data_type == "s"


@pytest.mark.libreoffice
@pytest.mark.slow
def test_a_workbook_libreoffice_cannot_load_is_an_error_not_a_stale_result(tmp_path):
    bad = tmp_path / "bad.xlsx"
    bad.write_bytes(b"PK\x03\x04garbage")
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "bad.xlsx").write_text("an output of an earlier run")
    with pytest.raises(WorkbenchError, match=r"LibreOffice could not convert bad\.xlsx"):
        recalculate(bad, tmp_path / "out")
    assert not (tmp_path / "out" / "bad.xlsx").exists()


def test_without_libreoffice_the_error_says_how_to_install_it(tmp_path, monkeypatch):
    monkeypatch.setattr(workbench.sheets.engines.recalc, "find_soffice", lambda: None)
    with pytest.raises(WorkbenchError, match="apt-get install -y libreoffice-calc"):
        recalculate(small_book(tmp_path / "a.xlsx", 0), tmp_path / "out")


def test_bad_arguments_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(workbench.sheets.engines.recalc, "find_soffice", lambda: "/nonexistent/soffice")
    a = small_book(tmp_path / "a.xlsx", 0)
    with pytest.raises(WorkbenchError, match=r"missing\.xlsx: no such workbook"):
        convert(tmp_path / "missing.xlsx", tmp_path / "out")
    with pytest.raises(WorkbenchError, match="an output folder other than the workbook's own"):
        convert(a, tmp_path)
    (tmp_path / "b").mkdir()
    twin = small_book(tmp_path / "b" / "a.xlsx", 0)
    with pytest.raises(WorkbenchError, match="distinct names"):
        convert_all([a, twin], tmp_path / "out")
    assert convert_all([], tmp_path / "out") == []


def test_a_profile_left_by_a_run_killed_by_sigkill_is_removed_by_the_next_run(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    folder = tmp_path / "workbench" / "libreoffice"
    hold = (
        "import os, sys, time\n"
        "from workbench.sheets.engines.recalc import private_profile\n"
        "with private_profile('solve') as (scratch, held):\n"
        "    print(scratch, flush=True)\n"
        "    time.sleep(float(sys.argv[1]))\n"
    )
    killed = subprocess.Popen([sys.executable, "-c", hold, "60"], stdout=subprocess.PIPE, text=True)
    stale = Path(killed.stdout.readline().strip())
    killed.kill()  # SIGKILL: no finally runs
    killed.wait()
    killed.stdout.close()
    assert stale.name.startswith(f"solve-{killed.pid}-") and (stale / "profile" / "user").is_dir()
    living = subprocess.Popen([sys.executable, "-c", hold, "60"], stdout=subprocess.PIPE, text=True)
    busy = Path(living.stdout.readline().strip())
    try:
        assert not stale.exists()  # the next run removed the dead run's folder
        with private_profile("solve") as (mine, _):
            assert (mine / "profile" / "user" / "registrymodifications.xcu").is_file()
            assert busy.is_dir()  # a living run's folder stays
        assert not mine.exists()
    finally:
        living.kill()
        living.wait()
        living.stdout.close()
    assert sorted(p.name for p in folder.iterdir()) == [".lock", busy.name]
    assert reclaim_stale_profiles(folder) == [busy] and [p.name for p in folder.iterdir()] == [".lock"]
