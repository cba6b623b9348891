"""The Titanic workbook recalculated from scratch by a real spreadsheet engine (LibreOffice).

One LibreOffice run per session recalculates two files: the full lesson workbook, and
a copy whose cached values were overwritten with 999 in a few places. LibreOffice must
recompute every number to Python's value (1e-9), including the ones we broke: this
proves the comparison reads LibreOffice's results, not our cached ones.
"""

from __future__ import annotations

import re
import zipfile

import numpy as np
import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from small_book import rounded, write_book

import workbench as wb
from workbench.sheets.read_book import read_params
from workbench.sheets.recalc import convert, recalculate_all

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

SHEET_XML = {
    "linear": "sheet2",
    "nnet": "sheet3",
    "mmult": "sheet4",
    "sigmoid": "sheet5",
    "summary": "sheet6",
}
MODELS = {
    "linear": ("linear", False),
    "nnet": ("nnet", False),
    "mmult": ("mmult", False),
    "sigmoid": ("linear", True),
}


def tamper(src, dst, cells: dict[str, list[str]]) -> None:
    """Copy the xlsx ``src`` to ``dst`` with the cached value of each listed cell set to 999."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            sheet = next((s for s, x in SHEET_XML.items() if info.filename == f"xl/worksheets/{x}.xml"), None)
            for ref in cells.get(sheet, []):
                pattern = rf'(<c r="{ref}"[^>]*>(?:<f[^>]*>[^<]*</f>)?<v>)[^<]*(</v>)'
                data, n = re.subn(pattern.encode(), rb"\g<1>999\g<2>", data)
                assert n == 1, (sheet, ref)
            zout.writestr(info, data)


@pytest.fixture(scope="session")
def lo(tmp_path_factory):
    """The book, its tampered copy, and both as LibreOffice recalculated them."""
    folder = tmp_path_factory.mktemp("lo")
    book = write_book(folder / "titanic.xlsx", wb.load_titanic())
    broken = {}
    for sheet in MODELS:
        rows = book.layout(sheet)
        r, c = book.labelled(sheet, "Total loss:")
        ar, ac = book.labelled(sheet, "Accuracy:")
        preds = book.column(sheet, "Preds")
        broken[sheet] = [
            f"{get_column_letter(c + 1)}{r}",
            f"{get_column_letter(ac + 1)}{ar}",
            f"{preds}{rows['first'] + 5}",
            f"I{rows['last']}",  # Age_N
        ]
    rows = book.layout("mmult")
    broken["mmult"] += [
        f"Q{rows['first']}",
        f"R{rows['first'] + 7}",
    ]  # the MMULT array's first cell and another
    tamper(book.path, folder / "tampered.xlsx", broken)
    out = recalculate_all([book.path, folder / "tampered.xlsx"], folder / "recalculated")
    return {
        "book": book,
        "broken": broken,
        "lo": openpyxl.load_workbook(out[0], data_only=True),
        "lo_path": out[0],
        "tampered": openpyxl.load_workbook(folder / "tampered.xlsx", data_only=True),
        "lo_tampered": openpyxl.load_workbook(out[1], data_only=True),
    }


def lo_column(lo, sheet: str, name: str, which: str = "lo") -> np.ndarray:
    book, rows = lo["book"], lo["book"].layout(sheet)
    col, ws = book.column(sheet, name), lo[which][sheet]
    return np.array([ws[f"{col}{r}"].value for r in range(rows["first"], rows["last"] + 1)], dtype=float)


def lo_result(lo, sheet: str, label: str, which: str = "lo") -> float:
    r, c = lo["book"].labelled(sheet, label)
    return lo[which][sheet].cell(r, c + 1).value


@pytest.mark.parametrize("sheet", list(MODELS))
def test_libreoffice_computes_pythons_predictions_losses_and_accuracy(lo, sheet):
    book = lo["book"]
    model, squash = MODELS[sheet]
    params = rounded(book.fits["nnet"].params).T if sheet == "mmult" else rounded(book.fits[sheet].params)
    preds = wb.predict(model, params, book.table, sigmoid=squash)
    np.testing.assert_allclose(lo_column(lo, sheet, "Preds"), preds, rtol=0, atol=1e-9)
    y = book.table["Survived"].to_numpy()
    np.testing.assert_allclose(lo_column(lo, sheet, "Loss"), (preds - y) ** 2, rtol=0, atol=1e-9)
    assert lo_result(lo, sheet, "Total loss:") == pytest.approx(
        wb.mse(model, params, book.table, sigmoid=squash), abs=1e-9
    )
    assert lo_result(lo, sheet, "Accuracy:") == pytest.approx(
        wb.accuracy(model, params, book.table, sigmoid=squash), abs=1e-9
    )


def test_libreoffice_reaches_the_least_squares_floor_on_linear(lo):
    assert lo_result(lo, "linear", "Total loss:") == pytest.approx(0.1442271493073191, abs=1e-12)


def test_every_number_libreoffice_computes_matches_the_cached_one(lo):
    ours, theirs = lo["book"].values, lo["lo"]
    compared = 0
    for sheet in ours.sheetnames:
        for row in ours[sheet].iter_rows():
            for cell in row:
                if isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    assert theirs[sheet][cell.coordinate].value == pytest.approx(cell.value, abs=1e-9), (
                        sheet,
                        cell.coordinate,
                    )
                    compared += 1
    assert compared > 50_000


def test_nnet_and_mmult_agree_in_libreoffice(lo):
    for name in ("Lin1", "Lin2", "Preds", "Loss"):
        np.testing.assert_allclose(
            lo_column(lo, "nnet", name), lo_column(lo, "mmult", name), rtol=0, atol=1e-12
        )
    ws = lo["lo"]["summary"]
    gap = next(r for r in range(1, 20) if ws.cell(r, 2).value == "largest |nnet - mmult| prediction gap")
    assert ws.cell(gap, 3).value < 1e-12


def test_libreoffice_corrects_wrong_cached_values(lo):
    book = lo["book"]
    for sheet, refs in lo["broken"].items():
        for ref in refs:
            assert lo["tampered"][sheet][ref].value == 999  # the file really carried the wrong value
            want = book.values[sheet][ref].value
            assert want != 999
            assert lo["lo_tampered"][sheet][ref].value == pytest.approx(want, abs=1e-9), (sheet, ref)


def test_read_params_after_libreoffice_saved_the_workbook(lo):
    # LibreOffice keeps the sheet-scoped Solver names (it writes 15 significant digits)
    mine, theirs = read_params(lo["book"].path), read_params(lo["lo_path"])
    for sheet in mine:
        np.testing.assert_allclose(theirs[sheet], mine[sheet], rtol=1e-14, atol=0)


def test_every_sheet_exports_to_pdf(lo, tmp_path):
    pdf = convert(lo["book"].path, tmp_path, to="pdf")
    data = pdf.read_bytes()
    assert data.startswith(b"%PDF") and len(data) > 100_000
