"""The Titanic workbook recalculated from scratch by a real spreadsheet engine (LibreOffice).

One LibreOffice run per session recalculates two files: the full lesson workbook, and
a copy whose cached values were overwritten with 999 in a few places. LibreOffice must
recompute every number to Python's value (1e-9), including the ones we broke: this
proves the comparison reads LibreOffice's results, not our cached ones.
"""

from __future__ import annotations

import json
import re
import zipfile
from pathlib import Path

import numpy as np
import openpyxl
import pytest
from openpyxl.utils import get_column_letter
from small_book import rounded, write_book

import workbench as wb
from workbench.sheets.engines.recalc import convert, recalculate_all
from workbench.sheets.read.read_book import read_params

pytestmark = [pytest.mark.libreoffice, pytest.mark.slow]

SHEET_XML = {
    "linear": "sheet3",
    "nnet": "sheet4",
    "mmult": "sheet5",
    "sigmoid": "sheet6",
    "summary": "sheet7",
}
MODELS = {
    "linear": ("linear", False),
    "nnet": ("nnet", False),
    "mmult": ("mmult", False),
    "sigmoid": ("linear", True),
}


#: The parameters Excel's Solver left in the lesson's own workbook, and its total losses (fixtures/README.md).
LESSON = json.loads((Path(__file__).parent.parent / "fixtures" / "lesson_params.json").read_text())


def edit(src, dst, cells: dict[str, dict[str, float | str]]) -> None:
    """Copy the xlsx ``src`` to ``dst`` with the listed cells holding new values, as a user types them."""
    with zipfile.ZipFile(src) as zin, zipfile.ZipFile(dst, "w", zipfile.ZIP_DEFLATED) as zout:
        for info in zin.infolist():
            data = zin.read(info)
            sheet = next((s for s, x in SHEET_XML.items() if info.filename == f"xl/worksheets/{x}.xml"), None)
            for ref, value in cells.get(sheet, {}).items():
                if isinstance(value, str):
                    new = rf'<c r="{ref}"\g<1> t="inlineStr"><is><t>{value}</t></is></c>'.encode()
                else:
                    new = rf'<c r="{ref}"\g<1>><v>{float(value)!r}</v></c>'.encode()
                data, n = re.subn(rf'<c r="{ref}"( s="\d+")?(?: t="s")?><v>[^<]*</v></c>'.encode(), new, data)
                assert n == 1, (sheet, ref)
            zout.writestr(info, data)


def block(book, sheet: str, name: str) -> list[str]:
    """The cells of a parameter block (Params, Start) in the model's shape, row by row, as A1 references."""
    if sheet == "mmult":
        top = book.labelled(sheet, "SibSp")[0]
        col = {"Params": "GH", "Start": "JK"}[name]
        return [f"{c}{top + i}" for i in range(10) for c in col]
    labels = [f"{name}:"] if sheet != "nnet" else [f"{name} 1:", f"{name} 2:"]
    return [
        f"{get_column_letter(7 + j)}{book.labelled(sheet, label)[0]}" for label in labels for j in range(10)
    ]


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
    # The learner's path: the Start cells' values pasted onto the yellow cells (Paste Special > Values) ...
    starts = {}
    for s in MODELS:
        onto, start = block(book, s, "Params"), block(book, s, "Start")
        starts[s] = {cell: book.values[s][copied].value for cell, copied in zip(onto, start, strict=True)}
    edit(book.path, folder / "pasted.xlsx", starts)
    # ... and the lesson's own Solver parameters pasted over the yellow cells.
    lesson = {
        s: dict(zip(block(book, s, "Params"), np.ravel(LESSON[s]), strict=True)) for s in LESSON["total_loss"]
    }
    edit(book.path, folder / "lesson.xlsx", lesson)
    files = [book.path, folder / "tampered.xlsx", folder / "pasted.xlsx", folder / "lesson.xlsx"]
    out = recalculate_all(files, folder / "recalculated")
    return {
        "book": book,
        "broken": broken,
        "lo": openpyxl.load_workbook(out[0], data_only=True),
        "lo_path": out[0],
        "tampered": openpyxl.load_workbook(folder / "tampered.xlsx", data_only=True),
        "lo_tampered": openpyxl.load_workbook(out[1], data_only=True),
        "lo_pasted": openpyxl.load_workbook(out[2], data_only=True),
        "pasted_path": out[2],
        "lo_lesson": openpyxl.load_workbook(out[3], data_only=True),
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
    ours, theirs, formulas = lo["book"].values, lo["lo"], lo["book"].formulas
    compared = drawn = 0
    for sheet in ours.sheetnames:
        for row in ours[sheet].iter_rows():
            for cell in row:
                formula = formulas[sheet][cell.coordinate].value
                if isinstance(formula, str) and formula.startswith(
                    "=RAND()"
                ):  # drawn anew: only its range is known
                    assert -0.5 <= theirs[sheet][cell.coordinate].value < 0.5
                    drawn += theirs[sheet][cell.coordinate].value != cell.value
                elif isinstance(cell.value, (int, float)) and not isinstance(cell.value, bool):
                    assert theirs[sheet][cell.coordinate].value == pytest.approx(cell.value, abs=1e-9), (
                        sheet,
                        cell.coordinate,
                    )
                    compared += 1
    assert compared > 50_000 and drawn == 60  # every New start cell of the 4 sheets drew a new number


def test_nnet_and_mmult_agree_in_libreoffice(lo):
    for name in ("Lin1", "Lin2", "Preds", "Loss"):
        np.testing.assert_allclose(
            lo_column(lo, "nnet", name), lo_column(lo, "mmult", name), rtol=0, atol=1e-12
        )
    ws = lo["lo"]["summary"]
    gap = next(r for r in range(1, 20) if ws.cell(r, 2).value == "nnet vs mmult: largest difference")
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


@pytest.mark.parametrize("sheet", list(MODELS))
def test_start_pasted_onto_the_yellow_cells_makes_the_sheet_compute_the_starts_loss(lo, sheet):
    book = lo["book"]
    model, squash = MODELS[sheet]
    fit = book.fits["nnet" if sheet == "mmult" else sheet]
    params = rounded(fit.start).T if sheet == "mmult" else rounded(fit.start)
    y = book.table["Survived"].to_numpy()
    losses = (wb.predict(model, params, book.table, sigmoid=squash) - y) ** 2
    total = lo_result(lo, sheet, "Total loss:", "lo_pasted")
    assert total == pytest.approx(np.mean(losses), abs=1e-12)
    train, _ = wb.validation_split(book.table)
    on_train = (wb.predict(model, params, train, sigmoid=squash) - train["Survived"].to_numpy()) ** 2
    assert lo_result(lo, sheet, "Train loss:", "lo_pasted") == pytest.approx(np.mean(on_train), abs=1e-12)
    if sheet == "linear":
        assert 0.3 < total < 3  # a random start: far above the fit, as the video's 1.03


def test_check_vouches_for_a_pasted_start(lo):
    result = wb.check_workbook(lo["pasted_path"])
    assert result.ok, result.report()


@pytest.mark.parametrize("sheet", ["linear", "nnet", "mmult"])
def test_the_lessons_solver_parameters_give_the_lessons_losses(lo, sheet):
    assert lo_result(lo, sheet, "Total loss:", "lo_lesson") == pytest.approx(
        LESSON["total_loss"][sheet], abs=1e-12
    )


def test_the_features_sheet_finds_the_lessons_largest_age_and_fare(lo):
    ws = lo["lo"]["features"]
    found = {c.value: ws.cell(c.row, c.column + 1).value for row in ws.iter_rows() for c in row}
    assert found["Max Age:"] == 80 and found["Max Fare:"] == 512.3292  # the lesson's Max: cells
