"""Issues 7 and 18: how long LibreOffice takes to recalculate each kind of sheet.

Each sheet kind is written alone into its own workbook (plus, for ``descent``, the
sheet of values its formulas read), for the lesson's 712 rows and for synthetic
Titanic-like tables (:func:`common.synthetic_passengers`); ``titanic.xlsx`` is the
whole workbook as ``workbench build`` writes it (every model sheet, the ``descent``
sheet reading the ``linear`` sheet's cells, the summary). Timed inside one running
LibreOffice (bench/lo_calc.py, through its ``uno`` Python module):

* ``all s``: ``calculateAll()``, every formula recomputed. The fastest of ``--repeat``;
  ``load s`` is opening the file.
* ``lr typed s``, ``param typed s``: what a user waits for after typing: the descent
  sheet's learning rate, or the first parameter of a model sheet (of ``linear`` in
  ``titanic.xlsx``), is set and ``calculate()`` recomputes the formulas that depend on
  it (the slowest of ``--repeat``; each typing changes the value).
* ``peak MB``: LibreOffice's peak resident memory while the workbook was open.
* ``recalculate() s`` (with ``--recalculate``): :func:`workbench.sheets.engines.recalc.recalculate`,
  the project's path (a fresh headless LibreOffice: start, load with a full
  recalculation, save a copy), as the tests and ``workbench check`` pay it. Wall time, once.

``--before REF`` also writes every workbook with the package as it was at the git
commit REF (``git archive``, imported through PYTHONPATH) and times both in the same
LibreOffice, one after the other, with the ratios.

Run from the repository root (needs LibreOffice and the system Python's ``uno`` module:
Debian's python3-uno)::

    .venv/bin/python bench/recalc_cost.py                  # 712 and 10,000 rows
    .venv/bin/python bench/recalc_cost.py --sizes 712 --kinds descent,titanic.xlsx --before main
    .venv/bin/python bench/recalc_cost.py --quick          # seconds: 712 rows, two kinds (CI runs it)
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

from common import ROOT, book_fits, run_child, show, synthetic_passengers, table

import workbench as wb
from workbench.sheets.books.titanic import (
    add_model_sheet,
    add_titanic_descent_sheet,
    input_ranges,
    titanic_descent,
    write_titanic_book,
)
from workbench.sheets.engines import recalc
from workbench.sheets.write.xlsx import new_workbook

SIZES = (712, 10_000)
KINDS = ("linear", "nnet", "mmult", "sigmoid", "descent", "titanic.xlsx")
_UNO_PYTHON = "/usr/bin/python3"


def write(kind: str, path: Path, passengers, lesson) -> None:
    """One workbook holding only the sheet kind ``kind`` (or the whole book)."""
    fits = book_fits(lesson)
    if kind == "titanic.xlsx":
        inputs, target = input_ranges(len(lesson))
        trajectory = titanic_descent(lesson)
        descent = lambda book: add_titanic_descent_sheet(book, lesson, trajectory, ranges=(inputs, target))
        write_titanic_book(path, passengers, lesson, fits, extra_sheets=[descent])
        return
    with new_workbook(path, title=kind) as book:
        if kind == "descent":
            add_titanic_descent_sheet(book, lesson, titanic_descent(lesson))
        else:
            add_model_sheet(book, kind, lesson, fits)


def formulas(path: Path) -> int:
    """How many formula cells the workbook holds (an array formula counts once)."""
    with zipfile.ZipFile(path) as z:
        return sum(
            len(re.findall(rb"<f[ >]", z.read(name)))
            for name in z.namelist()
            if name.startswith("xl/worksheets/sheet")
        )


def typed_cells(kind: str, path: Path) -> list[dict]:
    """The cells lo_calc.py types into: the descent's lr, a model sheet's first parameter."""
    import openpyxl

    book = openpyxl.load_workbook(path)
    typed = []
    if "descent" in book.sheetnames:
        ws = book["descent"]
        lr = next(c for row in ws.iter_rows() for c in row if c.value == "lr:").offset(column=1)
        last = max(r for r in range(1, ws.max_row + 1) if isinstance(ws.cell(r, 1).value, int))
        header = next(r for r in range(1, ws.max_row + 1) if ws.cell(r, 1).value == "step")
        loss = next(c.column_letter for c in ws[header] if c.value == "loss (MSE)")
        values = [lr.value / 2, lr.value]
        typed.append(
            dict(label="lr", sheet="descent", cell=lr.coordinate, values=values, watch=f"{loss}{last}")
        )
    model = "linear" if kind == "titanic.xlsx" else kind
    if model in book.sheetnames and "solver_adj" in book[model].defined_names:
        names = book[model].defined_names
        first = names["solver_adj"].attr_text.split("!")[1].split(":")[0].replace("$", "")
        objective = names["solver_opt"].attr_text.split("!")[1].replace("$", "")
        v = book[model][first].value
        typed.append(dict(label="param", sheet=model, cell=first, values=[v + 0.01, v], watch=objective))
    return typed


def inside_libreoffice(jobs: list[dict], repeat: int) -> dict[str, dict] | None:
    """bench/lo_calc.py's seconds and memory per workbook; None without ``uno``."""
    if subprocess.run([_UNO_PYTHON, "-c", "import uno"], capture_output=True).returncode != 0:
        print(f"  no uno module for {_UNO_PYTHON}: LibreOffice's own timings left out", file=sys.stderr)
        return None
    with tempfile.TemporaryDirectory(prefix="bench-lo-profile-") as profile:
        (Path(profile) / "user").mkdir()
        settings = recalc.profile_settings(recalc=1)  # never on load: lo_calc times the recalculation
        (Path(profile) / "user" / "registrymodifications.xcu").write_text(settings)
        jobs_file = Path(profile) / "jobs.json"
        jobs_file.write_text(json.dumps(jobs))
        done = subprocess.run(
            [
                _UNO_PYTHON,
                str(Path(__file__).with_name("lo_calc.py")),
                profile,
                str(jobs_file),
                "--repeat",
                str(repeat),
            ],
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


def write_all(folder: Path, sizes: list[int], kinds: list[str]) -> list[tuple[int, str, Path]]:
    """Every (size, kind) workbook written into ``folder`` by the package this process imports."""
    books = []
    for size in sizes:
        passengers = wb.load_titanic() if size == 712 else synthetic_passengers(size)
        lesson = wb.lesson_table(passengers)
        for kind in kinds:
            path = folder / f"{kind.removesuffix('.xlsx')}_{size}.xlsx"
            write(kind, path, passengers, lesson)
            books.append((len(lesson), kind, path))
    return books


def write_before(ref: str, folder: Path, sizes: list[int], kinds: list[str]) -> list[tuple[int, str, Path]]:
    """The same workbooks written by the package as it was at git commit ``ref``."""
    package = folder / "package"
    package.mkdir(parents=True)
    archive = subprocess.run(["git", "archive", ref, "workbench"], cwd=ROOT, capture_output=True, check=True)
    subprocess.run(["tar", "-x", "-C", str(package)], input=archive.stdout, check=True)
    args = [
        __file__,
        "--write-to",
        str(folder),
        "--sizes",
        ",".join(map(str, sizes)),
        "--kinds",
        ",".join(kinds),
    ]
    got = run_child(args, env={"PYTHONPATH": str(package)})
    assert Path(got["package"]).is_relative_to(package), f"imported {got['package']}, not {ref}'s"
    return [(n, kind, Path(p)) for n, kind, p in got["books"]]


def measure(books, version: str, inside, recalculate: bool, tmp: Path) -> list[dict]:
    rows = []
    for n_rows, kind, path in books:
        row = {"rows": n_rows, "sheet kind": kind, "version": version, "formulas": formulas(path)}
        if inside is not None:
            got = inside[str(path)]
            typed = {label: max(t["calc"]) for label, t in got["typed"].items()}
            for label, t in got["typed"].items():  # each typing changed what the formulas show
                assert len(set(t["watch"])) > 1, f"{path.name}: typing {label} changed nothing: {t['watch']}"
            row |= {
                "load s": round(got["load"], 2),
                "all s": round(min(got["calc"]), 3),
                "lr typed s": round(typed["lr"], 3) if "lr" in typed else "",
                "param typed s": round(typed["param"], 4) if "param" in typed else "",
                "peak MB": round(got["peak MB"]) if got["peak MB"] else "",
            }
        if recalculate:
            row["recalculate() s"] = round(recalculate_seconds(path, tmp / "out"), 2)
        rows.append(row)
    return rows


def ratios(rows: list[dict]) -> list[dict]:
    """before / after of each timing, per (rows, sheet kind)."""
    out = []
    by = {(r["rows"], r["sheet kind"], r["version"]): r for r in rows}
    for (n, kind, version), after in by.items():
        before = by.get((n, kind, "before"))
        if version != "after" or before is None:
            continue
        row = {"rows": n, "sheet kind": kind}
        for key in ("all s", "lr typed s", "param typed s", "peak MB"):
            a, b = after.get(key), before.get(key)
            known = isinstance(a, (int, float)) and isinstance(b, (int, float)) and a > 0
            row[f"{key.removesuffix(' s')} before/after"] = round(b / a, 1) if known else ""
        out.append(row)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="lesson rows, comma-separated")
    parser.add_argument("--kinds", default=",".join(KINDS), help="sheet kinds, comma-separated")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each")
    parser.add_argument("--before", metavar="REF", help="also time the workbooks git commit REF writes")
    parser.add_argument("--recalculate", action="store_true", help="also time recalc.recalculate()")
    parser.add_argument("--quick", action="store_true", help="seconds: 712 rows, linear and descent, twice")
    parser.add_argument("--write-to", help=argparse.SUPPRESS)  # write_before's child: write and exit
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.kinds, args.repeat = "712", "linear,descent", 2  # 2: typing must change a value
    sizes, kinds = [int(s) for s in args.sizes.split(",")], args.kinds.split(",")
    if args.write_to:
        books = write_all(Path(args.write_to), sizes, kinds)
        print(json.dumps({"package": wb.__file__, "books": [(n, k, str(p)) for n, k, p in books]}))
        return

    with tempfile.TemporaryDirectory(prefix="bench-recalc-") as tmp:
        (Path(tmp) / "after").mkdir()
        versions = {"after": write_all(Path(tmp) / "after", sizes, kinds)}
        if args.before:
            versions = {"before": write_before(args.before, Path(tmp) / "before", sizes, kinds), **versions}
        # before and after of each workbook one after the other, so both meet the same load
        pairs = sorted((b for v in versions.values() for b in v), key=lambda b: (b[0], kinds.index(b[1])))
        jobs = [{"path": str(path), "typed": typed_cells(kind, path)} for _, kind, path in pairs]
        inside = inside_libreoffice(jobs, args.repeat)
        rows = [
            r for v, books in versions.items() for r in measure(books, v, inside, args.recalculate, Path(tmp))
        ]
    rows.sort(key=lambda r: (r["rows"], KINDS.index(r["sheet kind"]), r["version"] != "before"))
    show(table(rows, title=f"LibreOffice recalculation ({recalc_version()})"))
    if args.before:
        show(table(ratios(rows), title=f"before ({args.before}) / after, same run"))
    show(
        "all s: LibreOffice's calculateAll() on the open workbook (every formula recomputed), fastest"
        f" of {args.repeat}; lr typed s / param typed s: after setting the descent's lr, or a model"
        " sheet's first parameter, calculate() (only what depends on it), slowest of"
        f" {args.repeat}; load s: opening it; peak MB: LibreOffice's peak resident memory with the"
        " workbook open; recalculate() s: workbench.sheets.engines.recalc.recalculate, a fresh headless"
        " LibreOffice that loads, recalculates and saves (start-up included).\n"
    )


def recalc_version() -> str:
    from common import machine

    return machine()["LibreOffice"]


if __name__ == "__main__":
    main()
