"""recalc: LibreOffice recomputes every formula instead of trusting the cached values."""

from __future__ import annotations

import openpyxl
import pytest

import workbench.sheets.recalc
from workbench.errors import WorkbenchError
from workbench.sheets.recalc import convert, convert_all, recalculate, recalculate_all
from workbench.sheets.xlsx import new_workbook


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
    monkeypatch.setattr(workbench.sheets.recalc, "find_soffice", lambda: None)
    with pytest.raises(WorkbenchError, match="apt-get install -y libreoffice-calc"):
        recalculate(small_book(tmp_path / "a.xlsx", 0), tmp_path / "out")


def test_bad_arguments_are_refused(tmp_path, monkeypatch):
    monkeypatch.setattr(workbench.sheets.recalc, "find_soffice", lambda: "/nonexistent/soffice")
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
