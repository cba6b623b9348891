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

from workbench.sheets.engines.recalc import convert_all

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "pictures"
#: The sheets pictured, per workbook.
SHEETS = {
    "titanic": ["features", "linear", "nnet", "mmult", "descent", "summary", "notes"],
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
        books = [ROOT / "workbooks" / f"{name}.xlsx" for name in SHEETS]
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


if __name__ == "__main__":
    main()
