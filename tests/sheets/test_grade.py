"""`workbench build --clean` and `workbench check --grade`: a learner's rebuilt sheets, graded.

The clean book is filled the way a learner types it (formulas into the cells, by openpyxl, which
stores no values), then LibreOffice or Gnumeric recalculates and saves it, as the learner's own
spreadsheet would; the grade must call a right fill right and name each typical slip.
"""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import openpyxl
import pytest
from cells import need
from openpyxl.worksheet.formula import ArrayFormula

import workbench as wb
from workbench.cli import main
from workbench.errors import WorkbookError
from workbench.sheets.books.clean import write_clean_book
from workbench.sheets.read.grade import grade_workbook
from workbench.sheets.write.clean import TASKS

ROWS = 40  # passengers in the test's book: enough rows for fill-down slips, quick to recalculate


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    table = wb.lesson_table().iloc[:ROWS]
    starts = {"linear": wb.uniform_start((10,), 1), "nnet": wb.uniform_start((2, 10), 2)}
    path = tmp_path_factory.mktemp("clean") / "titanic_clean.xlsx"
    return write_clean_book(path, table, starts), table, starts


def right_formulas(n: int) -> dict[tuple[str, str], str]:
    """(sheet, cell) -> what a learner types for every task, done right."""
    first, last = 10, 10 + n - 1
    cells = {("linear", "E8"): f"=MAX(E{first}:E{last})", ("linear", "R5"): f"=AVERAGE(R{first}:R{last})",
             ("nnet", "V5"): f"=AVERAGE(V{first}:V{last})"}  # fmt: skip
    m_first, m_last = 17, 17 + n - 1  # mmult's rows start below its 10 x 2 parameter block
    cells["mmult", f"Q{m_first}"] = ArrayFormula(
        f"Q{m_first}:R{m_last}", f"=MMULT(G{m_first}:P{m_last},$G$5:$H$14)"
    )
    cells["mmult", "V5"] = f"=AVERAGE(V{m_first}:V{m_last})"
    for r in range(m_first, m_last + 1):
        cells |= {
            ("mmult", f"S{r}"): f"=IF(Q{r}<0,0,Q{r})",
            ("mmult", f"T{r}"): f"=IF(R{r}<0,0,R{r})",
            ("mmult", f"U{r}"): f"=S{r}+T{r}",
            ("mmult", f"V{r}"): f"=(U{r}-A{r})^2",
        }
    for r in range(first, last + 1):
        cells |= {
            ("linear", f"I{r}"): f"=E{r}/$E$8",
            ("linear", f"J{r}"): f"=LOG10(F{r}+1)",
            ("linear", f"K{r}"): f"=IF(C{r}=1,1,0)",
            ("linear", f"L{r}"): f"=IF(C{r}=2,1,0)",
            ("linear", f"M{r}"): f'=IF(B{r}="S",1,0)',
            ("linear", f"N{r}"): f'=IF(B{r}="C",1,0)',
            ("linear", f"O{r}"): f'=IF(D{r}="male",1,0)',
            ("linear", f"P{r}"): 1,
            ("linear", f"Q{r}"): f"=SUMPRODUCT(G{r}:P{r},$G$5:$P$5)",
            ("linear", f"R{r}"): f"=(Q{r}-A{r})^2",
            ("nnet", f"Q{r}"): f"=SUMPRODUCT(G{r}:P{r},$G$5:$P$5)",
            ("nnet", f"R{r}"): f"=SUMPRODUCT(G{r}:P{r},$G$6:$P$6)",
            ("nnet", f"S{r}"): f"=IF(Q{r}<0,0,Q{r})",
            ("nnet", f"T{r}"): f"=MAX(0,R{r})",
            ("nnet", f"U{r}"): f"=S{r}+T{r}",
            ("nnet", f"V{r}"): f"=(U{r}-A{r})^2",
        }
    return cells


#: Slips a learner makes: (sheet, column letter or cell, how the typed formula goes wrong) -> the task
#: and the words the grade must use. ``{r}`` is the row; ``{m}`` and ``{p}`` are where a relative
#: reference to the Max cell (E8) and the parameters (row 5) land when filled down from row 10.
SLIPS = {
    "relative max": (("linear", "I", "=E{r}/E{m}"), "Age_N", "relative"),  # filled down from =E10/E8
    "age by its own row": (("linear", "I", "=E{r}/E{r}"), "Age_N", "own row"),
    "natural log": (("linear", "J", "=LN(F{r}+1)"), "log_Fare", "natural log"),
    "log without +1": (("linear", "J", "=LOG10(F{r})"), "log_Fare", "without the +1"),
    "dummy swapped": (("linear", "O", '=IF(D{r}="male",0,1)'), "Male", "swapped"),
    "ones left out": (
        ("linear", "Q", "=SUMPRODUCT(G{r}:O{r},$G$5:$O$5)"),
        "Preds",
        "Ones column is left out",
    ),
    "params relative": (("linear", "Q", "=SUMPRODUCT(G{r}:P{r},G{p}:P{p})"), "Preds", "relative"),
    "loss not squared": (("linear", "R", "=Q{r}-A{r}"), "Loss", "not squared"),
    "total by sum": (("linear", "R5", "=SUM(R10:R49)"), "Total loss", "AVERAGE"),
    "total short": (("linear", "R5", "=AVERAGE(R10:R30)"), "Total loss", "leaves out"),
    "max typed": (("linear", "E8", "TYPED"), "Max", "typed"),
    "relu clipped at 1": (("nnet", "S", "=MAX(1,Q{r})"), "ReLU1", "clipped at 1"),
    "preds of lins": (("nnet", "U", "=Q{r}+R{r}"), "Preds", "Lin columns"),
    "mmult without ones": (
        ("mmult", "Q17", "=MMULT(G17:O56,$G$5:$H$13)"),
        "Lin1:Lin2",
        "Ones column is left",
    ),
}


def fill(src, dst, table, changes=None, ones=True):
    """The clean book with every task typed in (``changes``: one slip), saved without values."""
    book = openpyxl.load_workbook(src)
    cells = right_formulas(len(table))
    if not ones:
        cells = {k: v for k, v in cells.items() if not (k[0] == "linear" and k[1][0] == "P")}
    if changes:
        sheet, where, formula = changes
        if formula == "TYPED":
            cells[sheet, where] = float(table["Age"].max())
        elif sheet == "mmult" and where == "Q17":  # the one MMULT over every row
            cells[sheet, where] = ArrayFormula(f"Q17:R{16 + len(table)}", formula)
        elif where[-1].isdigit():
            cells[sheet, where] = formula
        else:
            rows = range(10, 10 + len(table))
            cells |= {(sheet, f"{where}{r}"): formula.format(r=r, m=r - 2, p=r - 5) for r in rows}
    for (sheet, where), value in cells.items():
        book[sheet][where] = value
    book.save(dst)
    return dst


def test_the_clean_book_has_the_tasks_first_and_green_cells_to_fill(clean):
    path, table, starts = clean
    book = openpyxl.load_workbook(path)
    assert book.sheetnames == ["tasks", "linear", "nnet", "mmult"]
    tasks = [row for row in book["tasks"].iter_rows(min_row=5, values_only=True) if row[0]]
    assert [(t[1], t[2]) for t in tasks] == [(sheet, what) for sheet, what, _ in TASKS]
    ws = book["linear"]
    assert [c.value for c in ws[9]][:18] == [*wb.titanic.features.COLUMNS, "Preds", "Loss"]
    assert ws["I10"].value is None and ws["Q10"].value is None and ws["E8"].value is None
    assert ws["I9"].comment is not None and "largest Age" in ws["I9"].comment.text
    # yellow, and the same start in grey below it (a cell keeps 16 significant digits)
    np.testing.assert_allclose([ws.cell(5, 7 + j).value for j in range(10)], starts["linear"], rtol=1e-15)
    np.testing.assert_allclose([ws.cell(6, 7 + j).value for j in range(10)], starts["linear"], rtol=1e-15)
    assert ws["A10"].value == table["Survived"].iloc[0] and ws["D10"].value == table["Sex"].iloc[0]
    nnet = book["nnet"]
    assert nnet["I10"].value == pytest.approx(table["Age_N"].iloc[0])  # done on linear: given here
    mmult = book["mmult"]  # nnet's start as columns: 10 x 2
    np.testing.assert_allclose([[mmult.cell(5 + i, 7 + k).value for k in range(2)] for i in range(10)],
                               starts["nnet"].T, rtol=1e-15)  # fmt: skip
    assert mmult["Q16"].value == "Lin1" and mmult["Q17"].value is None


def test_an_empty_clean_book_grades_every_task_not_done(clean):
    result = grade_workbook(clean[0])
    assert not result.ok
    assert {t.status for t in result.tasks} == {"not done"}
    assert len(result.tasks) == len(TASKS)


def test_a_file_that_is_not_a_clean_book_is_one_line(tmp_path):
    with pytest.raises(WorkbookError, match="has no sheet 'linear'"):
        book = openpyxl.Workbook()
        book.save(tmp_path / "other.xlsx")
        grade_workbook(tmp_path / "other.xlsx")
    (tmp_path / "fake.xlsx").write_text("not a zip")
    assert main(["check", "--grade", str(tmp_path / "fake.xlsx")]) == 2


@pytest.mark.slow
@pytest.mark.libreoffice
def test_libreoffice_saved_fills_grade_right_and_name_each_slip(clean, tmp_path, capsys):
    need("soffice")
    from workbench.sheets.engines.recalc import recalculate_all

    path, table, _ = clean
    typed = tmp_path / "typed"
    typed.mkdir()
    files = {"right": fill(path, typed / "right.xlsx", table)}
    files["no ones"] = fill(path, typed / "no_ones.xlsx", table, ones=False)
    for name, (change, _, _) in SLIPS.items():
        files[name] = fill(path, typed / f"{name.replace(' ', '_')}.xlsx", table, change)
    solved = openpyxl.load_workbook(files["right"])  # Solver's result: the least-squares parameters
    x = table[list(wb.FEATURES)].to_numpy().copy()
    x[:, wb.FEATURES.index("Age_N")] = table["Age"] / table["Age"].max()  # this sheet's own largest Age
    best = np.linalg.lstsq(x, table["Survived"].to_numpy(dtype=float), rcond=None)[0]
    for j, v in enumerate(best):
        solved["linear"].cell(5, 7 + j).value = float(v)
    solved.save(typed / "solved.xlsx")
    files["solved"] = typed / "solved.xlsx"
    saved = dict(zip(files, recalculate_all(list(files.values()), tmp_path / "lo"), strict=True))

    right = grade_workbook(saved["right"])
    status = {(t.sheet, t.what): t.status for t in right.tasks}
    assert [k for k, v in status.items() if v != "right"] == [("linear", "Solver"), ("nnet", "Solver")]
    solved = {(t.sheet, t.what): t for t in grade_workbook(saved["solved"]).tasks}
    assert (
        solved["linear", "Solver"].status == "right" and "0.000000 above" in solved["linear", "Solver"].detail
    )
    no_ones = {(t.sheet, t.what): t for t in grade_workbook(saved["no ones"]).tasks}
    assert (
        no_ones["linear", "Ones"].status == "not done"
        and "adds no constant" in no_ones["linear", "Ones"].detail
    )
    assert no_ones["linear", "Preds"].status == "right"  # right for the sheet it reads: the slip is Ones'
    for name, ((sheet, _, _), task, words) in SLIPS.items():
        graded = {(t.sheet, t.what): t for t in grade_workbook(saved[name]).tasks}
        assert graded[sheet, task].status == "wrong", name
        assert words in graded[sheet, task].detail, (name, graded[sheet, task].detail)
        others = [k for k, t in graded.items() if t.status == "wrong" and k != (sheet, task)]
        assert not others, (name, others)  # one slip, reported once, where it is made
    assert main(["check", "--grade", str(saved["right"])]) == 1  # Solver not run yet
    assert f"{len(TASKS) - 2} of {len(TASKS)} tasks right" in capsys.readouterr().out


@pytest.mark.slow
def test_gnumeric_and_unsaved_fills_grade_right(clean, tmp_path):
    need("ssconvert")
    path, table, _ = clean
    typed = fill(path, tmp_path / "typed.xlsx", table)
    gnumeric = tmp_path / "gnumeric.xlsx"
    subprocess.run(["ssconvert", "--recalc", str(typed), str(gnumeric)], check=True, capture_output=True)
    for file in (gnumeric, typed):  # the typed one keeps no values: LibreOffice recalculates it
        if file == typed and shutil.which("soffice") is None:
            continue
        graded = {(t.sheet, t.what): t.status for t in grade_workbook(file).tasks}
        assert [k for k, v in graded.items() if v != "right"] == [("linear", "Solver"), ("nnet", "Solver")]


def test_the_clean_book_speaks_plainly_and_no_heading_is_clipped(clean):
    from plain_words import clipped_headings, jargon

    assert jargon(clean[0]) == [] and clipped_headings(clean[0]) == []


def fit_formulas(kind: str, n: int) -> dict[str, object]:
    """What a learner types on a clean fit sheet: ``line`` (y, x, Ones) or ``quadratic`` (y, x^2,
    x, Ones), done right; the points on rows 12 to 11 + n."""
    last = 11 + n
    design = "BC" if kind == "line" else "BCD"
    preds, error, loss = (chr(ord(design[-1]) + k) for k in (1, 2, 3))
    first_col, last_col = design[0], design[-1]
    cells: dict[str, object] = {f"{loss}5": f"=AVERAGE({loss}12:{loss}{last})"}
    for r in range(12, last + 1):
        cells[f"{last_col}{r}"] = 1
        if kind == "quadratic":
            cells[f"B{r}"] = f"=C{r}^2"
        cells[f"{preds}{r}"] = f"=SUMPRODUCT({first_col}{r}:{last_col}{r},${first_col}$5:${last_col}$5)"
        cells[f"{error}{r}"] = f"={preds}{r}-A{r}"
        cells[f"{loss}{r}"] = f"={error}{r}^2"
    for c in design:
        cells[f"{c}8"] = (
            f"=2*SUMPRODUCT(${error}$12:${error}${last},{c}12:{c}{last})/ROWS(${error}$12:${error}${last})"
        )
        cells[f"{c}9"] = f"={c}5-${loss}$6*{c}8"
    return cells


FIT_SLIPS = {
    "gradient without 2": (
        "B8",
        "=SUMPRODUCT($E$12:$E$111,B12:B111)/ROWS($E$12:$E$111)",
        "Gradient",
        "factor 2",
    ),
    "step uphill": ("B9", "=B5+$F$6*B8", "Next", "uphill"),
    "mse by sum": ("F5", "=SUM(F12:F111)", "MSE", "AVERAGE"),
}


@pytest.mark.slow
@pytest.mark.libreoffice
def test_clean_fit_sheets_grade_right_and_name_slips(tmp_path):
    need("soffice")
    from workbench.sheets.books.clean import write_clean_fit
    from workbench.sheets.engines.recalc import recalculate_all

    typed = {}
    for kind in ("line", "quadratic"):
        data = wb.load_dataset(kind)
        clean = write_clean_fit(tmp_path / f"{kind}_clean.xlsx", data)
        book = openpyxl.load_workbook(clean)
        assert book.sheetnames == ["tasks", "fit"] and book["fit"]["A11"].value == "y"
        for where, value in fit_formulas(kind, data.n).items():
            book["fit"][where] = value
        book.save(typed.setdefault(kind, tmp_path / f"{kind}_typed.xlsx"))
    for name, (where, formula, _, _) in FIT_SLIPS.items():
        book = openpyxl.load_workbook(typed["line"])
        book["fit"][where] = formula
        book.save(typed.setdefault(name, tmp_path / f"{name.replace(' ', '_')}.xlsx"))
    saved = dict(zip(typed, recalculate_all(list(typed.values()), tmp_path / "lo"), strict=True))
    for kind in ("line", "quadratic"):
        graded = grade_workbook(saved[kind])
        assert graded.ok, graded.report()
        assert [t.what for t in graded.tasks][-4:] == ["Loss", "MSE", "Gradient", "Next"]
    for name, (_, _, task, words) in FIT_SLIPS.items():
        graded = {t.what: t for t in grade_workbook(saved[name]).tasks}
        assert graded[task].status == "wrong" and words in graded[task].detail, (name, graded[task].detail)
        assert [t for t, g in graded.items() if g.status != "right"] == [task], name
