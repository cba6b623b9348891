"""Issue 17: ``workbench build --data FILE.csv --target COL``, 10,000 rows x 20 columns, and LibreOffice.

The table is bench/tabular_prepare.py's synthetic one (seeded: an id, a free-text column,
measured numbers, long-tailed amounts, counts, categories of 2 to 6 levels, 2% missing, a 0/1
target), written as a CSV. Measured in one run:

* **build**: the command, end to end in a fresh process (import included): wall and CPU
  seconds and its own peak memory (``VmHWM``, :func:`common.run_measured`), ``--repeat`` times
  (median); and, in a child process, :func:`workbench.build.build_table`'s stages.
* **baseline**: the same command for Kaggle's Titanic ``train.csv`` with ``--recipe lesson``
  (712 rows, 10 features), and, for the same 10,000 rows, ``titanic.xlsx``'s writer
  (:func:`workbench.write_titanic_book`, synthetic passengers, no fitting). Ratios: 10k table / baseline.
* **LibreOffice**: inside one running LibreOffice (bench/lo_calc.py): opening each workbook and
  ``calculateAll()`` (every formula recomputed; the fastest of ``--repeat``), and its peak memory;
  and :func:`workbench.sheets.engines.recalc.recalculate` (start, load, recalculate, save a copy), once.

Run from the repository root (LibreOffice, and the system Python's ``uno`` for the inside timings)::

    .venv/bin/python bench/tabular_build.py [--rows 10000] [--repeat 3]
    .venv/bin/python bench/tabular_build.py --quick   # seconds: 300 rows, once, no Titanic baseline,
                                                      # no recalculate() (CI runs it)
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import book_fits, machine, run_child, run_measured, show, synthetic_passengers, table
from recalc_cost import inside_libreoffice, recalculate_seconds
from tabular_prepare import synthetic

import workbench as wb
from workbench.titanic.data import TRAIN_CSV

LIMITS = {"build s": 30.0, "LibreOffice calculateAll s": 5.0}

STAGES = """
import json, sys, time
t = time.perf_counter()
from workbench.build import build_table
imported = time.perf_counter() - t
r = build_table(sys.argv[1], sys.argv[2], sys.argv[3], recipe=sys.argv[4])
print(json.dumps({"import": imported, **r.seconds, "features": len(r.prepared.features)}))
"""


def command(csv: Path, target: str, out: Path, recipe: str) -> list[str]:
    cli = "import sys; from workbench.cli import main; sys.exit(main(sys.argv[1:]))"
    args = ["build", "--data", str(csv), "--target", target, "--out", str(out), "--recipe", recipe, "-q"]
    return [sys.executable, "-c", cli, *args]


def builds(cases: dict[str, tuple[Path, str, str]], out: Path, repeat: int) -> list[dict]:
    """Each case's command ``repeat`` times, taking turns; medians, and the stages of one more run."""
    runs: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (csv, target, recipe) in cases.items():
            runs[name].append(run_measured(command(csv, target, out / name, recipe)))
    rows = []
    for name, (csv, target, recipe) in cases.items():
        stages = run_child(["-c", STAGES, str(csv), target, str(out / f"{name}_stages"), recipe])
        median = {k: statistics.median(r[k] for r in runs[name]) for k in ("wall_s", "cpu_s", "main_mb")}
        rows.append(
            {
                "table": name,
                "features": stages["features"],
                "build s": round(median["wall_s"], 2),
                "CPU s": round(median["cpu_s"], 2),
                "peak MB": round(median["main_mb"]),
                **{f"{k} s": round(stages[k], 2) for k in ("import", "load", "fit", "write")},
            }
        )
    return rows


def titanic_writer(n: int, path: Path) -> float:
    """Seconds to write titanic.xlsx's sheets for ``n`` synthetic passengers (no fitting)."""
    passengers = synthetic_passengers(n)
    lesson = wb.lesson_table(passengers)
    fits = book_fits(lesson)
    start = time.perf_counter()
    wb.write_titanic_book(path, passengers, lesson, fits)
    return time.perf_counter() - start


def libreoffice(books: dict[str, Path], repeat: int, tmp: Path, recalculate: bool = True) -> list[dict]:
    inside = inside_libreoffice([{"path": str(p), "typed": []} for p in books.values()], repeat) or {}
    rows = []
    for name, path in books.items():
        got = inside.get(str(path), {})
        rows.append(
            {
                "workbook": name,
                "MB": round(path.stat().st_size / 2**20, 1),
                "load s": round(got["load"], 2) if got else "",
                "calculateAll s": round(min(got["calc"]), 2) if got else "",
                "LibreOffice peak MB": round(got["peak MB"]) if got else "",
                "recalculate() s": round(recalculate_seconds(path, tmp / "lo"), 2) if recalculate else "",
            }
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=10_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument(
        "--quick", action="store_true", help="seconds: 300 rows, once, no Titanic baseline, no recalculate()"
    )
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeat = 300, 1
    if not args.quick:  # run_all.py prints it once
        show(table([machine()], title="Machine"))
    with tempfile.TemporaryDirectory(prefix="bench-tabular-") as tmp:
        tmp = Path(tmp)
        csv = tmp / f"synthetic_{args.rows}.csv"
        synthetic(args.rows).to_csv(csv, index=False)
        baseline = "titanic lesson (baseline)"
        cases = {baseline: (TRAIN_CSV, "Survived", "lesson"), csv.stem: (csv, "target", "auto")}
        if args.quick:  # the same code as the table's build, one process less
            del cases[baseline]
        rows = builds(cases, tmp, args.repeat)
        ours = rows[-1]
        if len(rows) == 2:
            ratio = {"table": f"ratio ({args.rows:,} rows / baseline)"}
            ratio |= {k: round(ours[k] / rows[0][k], 2) for k in ("build s", "CPU s", "peak MB", "write s")}
            rows.append(ratio)
        show(table(rows, title="workbench build --data --target (median of --repeat, fresh processes)"))
        book = tmp / csv.stem / f"{csv.stem}.xlsx"
        titanic = tmp / f"titanic_{args.rows}.xlsx"
        writer_s = titanic_writer(args.rows, titanic)
        show(
            f"titanic.xlsx's writer, {args.rows:,} passengers (no fitting): {writer_s:.2f} s;"
            f" the table's write / it: {ours['write s'] / writer_s:.2f}\n"
        )
        books = {baseline: tmp / baseline / "train.xlsx"} if baseline in cases else {}
        books |= {f"titanic.xlsx writer, {args.rows:,} rows": titanic, csv.stem: book}
        lo = libreoffice(books, args.repeat, tmp, recalculate=not args.quick)
        show(table(lo, title="LibreOffice: every formula recomputed"))
    checks = {"build s": ours["build s"], "LibreOffice calculateAll s": lo[-1]["calculateAll s"]}
    show(
        json.dumps(
            {
                k: {"measured": v, "limit": LIMITS[k], "ok": v != "" and v <= LIMITS[k]}
                for k, v in checks.items()
            }
        )
    )


if __name__ == "__main__":
    main()
