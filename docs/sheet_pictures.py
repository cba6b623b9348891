"""Pictures of the workbooks as LibreOffice prints them, for the README (not run by the tests).

Recalculates ``workbooks/*.xlsx`` in LibreOffice (every formula recomputed from
scratch, see :mod:`workbench.sheets.engines.recalc`), exports them to PDF, and turns the first
page of each sheet into ``docs/pictures/<book>_<sheet>.png`` with poppler's
``pdftoppm`` (Debian: ``apt-get install -y libreoffice-calc poppler-utils``)::

    .venv/bin/python docs/sheet_pictures.py

A picture is what a teacher would show: LibreOffice's own rendering of the
numbers it computed, not Python's.
"""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

from workbench.sheets.books.clean import write_clean
from workbench.sheets.engines.recalc import convert_all, recalculate
from workbench.sheets.read.grade import grade_workbook

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "pictures"
#: The sheets pictured, per workbook.
SHEETS = {
    "titanic": ["features", "linear", "nnet", "mmult", "descent", "summary", "notes"],
    "titanic_clean": ["tasks", "linear"],
    "line": ["by_hand", "descent"],
    "relu": ["held_out"],
}


def first_pages(pdf: Path) -> dict[str, int]:
    """Sheet name -> the PDF page where it starts (LibreOffice prints the sheet's name in the footer)."""
    pages = int(
        next(
            line.split()[-1]
            for line in subprocess.run(
                ["pdfinfo", pdf], capture_output=True, text=True, check=True
            ).stdout.splitlines()
            if line.startswith("Pages:")
        )
    )
    starts: dict[str, int] = {}
    for page in range(1, pages + 1):
        text = subprocess.run(
            ["pdftotext", "-f", str(page), "-l", str(page), "-layout", pdf, "-"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout
        footer = [line for line in text.splitlines() if line.strip()][-1].split()
        starts.setdefault(footer[0], page)
    return starts


def main() -> None:
    if shutil.which("pdftoppm") is None:
        raise SystemExit("needs poppler's pdftoppm: apt-get install -y poppler-utils")
    OUT.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "clean").mkdir()
        clean = write_clean(ROOT / "workbooks" / "titanic.xlsx", Path(tmp) / "clean" / "titanic_clean.xlsx")
        grade_report(clean, Path(tmp))
        books = [clean if name == "titanic_clean" else ROOT / "workbooks" / f"{name}.xlsx" for name in SHEETS]
        for book, pdf in zip(books, convert_all(books, tmp, to="pdf"), strict=True):
            for sheet, page in first_pages(pdf).items():
                if sheet not in SHEETS[book.stem]:
                    continue
                stem = OUT / f"{book.stem}_{sheet}"
                subprocess.run(
                    [
                        "pdftoppm",
                        "-png",
                        "-r",
                        "110",
                        "-f",
                        str(page),
                        "-l",
                        str(page),
                        "-singlefile",
                        pdf,
                        stem,
                    ],
                    check=True,
                )
                print(stem.with_suffix(".png").relative_to(ROOT))


def grade_report(clean: Path, tmp: Path) -> None:
    """``docs/pictures/grade_report.png``: the grade of a clean book with the linear sheet typed in,
    the Max cell's reference left relative in Age_N (the slip a fill-down makes), and nnet not begun."""
    import matplotlib.pyplot as plt
    import openpyxl

    book = openpyxl.load_workbook(clean)
    ws, first = book["linear"], 10
    last = first + ws.max_row - first
    ws["E8"], ws["R5"] = f"=MAX(E{first}:E{last})", f"=AVERAGE(R{first}:R{last})"
    for r in range(first, last + 1):
        typed = [f"=E{r}/E{r - 2}", f"=LOG10(F{r}+1)", f"=IF(C{r}=1,1,0)", f"=IF(C{r}=2,1,0)",
                 f'=IF(B{r}="S",1,0)', f'=IF(B{r}="C",1,0)', f'=IF(D{r}="male",1,0)', 1,
                 f"=SUMPRODUCT(G{r}:P{r},$G$5:$P$5)", f"=(Q{r}-A{r})^2"]  # fmt: skip
        for j, value in enumerate(typed):
            ws.cell(r, 9 + j).value = value
    book.save(tmp / "learner.xlsx")
    report = grade_workbook(recalculate(tmp / "learner.xlsx", tmp / "saved")).report()
    lines = report.splitlines()
    fig = plt.figure(figsize=(13, 0.165 * (len(lines) + 1) + 0.15))
    said = ("$ workbench check --grade learner.xlsx\n" + report).replace("$", r"\$")  # no mathtext
    fig.text(0.01, 0.99, said, family="monospace", size=8.5, va="top")
    fig.savefig(OUT / "grade_report.png", dpi=110)
    plt.close(fig)
    print((OUT / "grade_report.png").relative_to(ROOT))


if __name__ == "__main__":
    main()
