"""Issue 7, item 4: how long LibreOffice takes to recalculate each kind of sheet.

Each sheet kind is written alone into its own workbook (plus, for ``descent``, the
sheet of values its formulas read), for the lesson's 712 rows and for synthetic
Titanic-like tables (:func:`common.synthetic_passengers`); ``titanic.xlsx`` is the
whole workbook as ``workbench build`` writes it (every model sheet, the ``descent``
sheet reading the ``linear`` sheet's cells, the summary). Two figures per workbook:

* ``recalc s``: LibreOffice's own full recalculation, ``calculateAll()`` timed inside
  one running LibreOffice (bench/lo_calc.py, through its ``uno`` Python module):
  what a user waits for when a change (a parameter, ``lr``) makes every formula
  recompute. The fastest of ``--repeat``; ``load s`` is opening the file.
* ``recalculate() s``: :func:`workbench.sheets.recalc.recalculate`, the project's path (a
  fresh headless LibreOffice: start, load with a full recalculation, save a copy), as
  the tests and ``workbench check`` pay it. Wall time, once.

Run from the repository root (needs LibreOffice and, for ``recalc s``, the system
Python's ``uno`` module: Debian's python3-uno)::

    .venv/bin/python bench/recalc_cost.py                  # 712 and 10,000 rows (a few minutes)
    .venv/bin/python bench/recalc_cost.py --sizes 712 --repeat 1
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

from common import book_fits, show, synthetic_passengers, table

import workbench as wb
from workbench.sheets import recalc
from workbench.sheets.style import styles
from workbench.sheets.titanic_book import (
    _check_fits,
    _model_sheet,
    add_titanic_descent_sheet,
    write_titanic_book,
)
from workbench.sheets.xlsx import new_workbook

SIZES = (712, 10_000)
KINDS = {
    "linear": "one SUMPRODUCT per row",
    "nnet": "two SUMPRODUCTs, two ReLUs per row",
    "mmult": "one MMULT array over every row",
    "sigmoid": "SUMPRODUCT, then 1/(1+EXP(-z)) per row",
    "descent": "100 steps, each MMULTs over every row",
    "titanic.xlsx": "all of the above, descent on linear's cells",
}
# LibreOffice's "never recalculate on load" (1) instead of recalc.py's "always" (0): lo_calc
# times loading and recalculating separately.
_LOAD_ONLY = recalc._PROFILE.replace("<value>0</value>", "<value>1</value>")
_UNO_PYTHON = "/usr/bin/python3"


def write(kind: str, path: Path, passengers, lesson) -> None:
    """One workbook holding only the sheet kind ``kind`` (or the whole book)."""
    fits = book_fits(lesson)
    if kind == "titanic.xlsx":
        from workbench.sheets.titanic_book import input_ranges

        inputs, target = input_ranges(len(lesson))
        descent = lambda book: add_titanic_descent_sheet(book, lesson, inputs=inputs, target=target)
        write_titanic_book(path, passengers, lesson, fits, extra_sheets=[descent])
        return
    with new_workbook(path, title=kind) as book:
        if kind == "descent":
            add_titanic_descent_sheet(book, lesson)
        else:  # the writer's own sheet function, alone in a workbook
            params, starts = _check_fits(fits)
            _model_sheet(book, styles(book), kind, lesson, params[kind], starts[kind])


def formulas(path: Path) -> int:
    """How many formula cells the workbook holds (an array formula counts once)."""
    with zipfile.ZipFile(path) as z:
        return sum(
            len(re.findall(rb"<f[ >]", z.read(name)))
            for name in z.namelist()
            if name.startswith("xl/worksheets/sheet")
        )


def inside_libreoffice(paths: list[Path], repeat: int) -> dict[str, dict] | None:
    """bench/lo_calc.py's load and calculateAll() seconds per workbook; None without ``uno``."""
    if subprocess.run([_UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode != 0:
        print(f"  no uno module for {_UNO_PYTHON}: recalc s left out", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory(prefix="bench-lo-profile-") as profile:
        (Path(profile) / "user").mkdir()
        (Path(profile) / "user" / "registrymodifications.xcu").write_text(_LOAD_ONLY)
        done = subprocess.run(
            [_UNO_PYTHON, str(Path(__file__).with_name("lo_calc.py")), profile, "--repeat", str(repeat)]
            + [str(p) for p in paths],
            capture_output=True,
            text=True,
            timeout=7200,
        )
    if done.returncode != 0:
        raise RuntimeError(f"lo_calc.py failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def recalculate_seconds(path: Path, out: Path) -> float:
    start = time.perf_counter()
    recalc.recalculate(path, out, timeout=7200)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="lesson rows, comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS), help="sheet kinds, comma-separated")
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest counts")
    args = parser.parse_args()

    books = []
    with tempfile.TemporaryDirectory(prefix="bench-recalc-") as tmp:
        for size in (int(s) for s in args.sizes.split(",")):
            passengers = wb.load_titanic() if size == 712 else synthetic_passengers(size)
            lesson = wb.lesson_table(passengers)
            for kind in args.kinds.split(","):
                path = Path(tmp) / f"{kind.removesuffix('.xlsx')}_{size}.xlsx"
                write(kind, path, passengers, lesson)
                books.append((len(lesson), kind, path))
        inside = inside_libreoffice([path for *_, path in books], args.repeat)
        rows_out = []
        for n_rows, kind, path in books:
            wall = recalculate_seconds(path, Path(tmp) / "out")
            n = formulas(path)
            row = {"rows": n_rows, "sheet kind": kind, "what": KINDS[kind], "formulas": n}
            if inside is not None:
                got = inside[str(path)]
                row |= {
                    "load s": round(got["load"], 2),
                    "recalc s": round(min(got["calc"]), 3),
                    "us/formula": round(min(got["calc"]) / n * 1e6, 1),
                }
            rows_out.append(row | {"recalculate() s": round(wall, 2)})
            print(f"  {n_rows:>7,} {kind:13} recalculate() {wall:6.2f} s", file=sys.stderr, flush=True)
    show(table(rows_out, title=f"LibreOffice recalculation ({recalc_version()})"))
    show(
        "recalc s: LibreOffice's calculateAll() on the open workbook (every formula recomputed), fastest"
        f" of {args.repeat}; load s: opening it; us/formula: recalc s per formula cell (an MMULT array"
        " formula counts once); recalculate() s: workbench.sheets.recalc.recalculate, a fresh headless"
        " LibreOffice that loads, recalculates and saves (start-up included).\n"
    )


def recalc_version() -> str:
    from common import machine

    return machine()["LibreOffice"]


if __name__ == "__main__":
    main()
