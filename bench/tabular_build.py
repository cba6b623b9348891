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

* **floor** (issue 26 item 5): a process that imports torch, pandas and scipy and has stock
  XlsxWriter write the very cells of the table's workbook, read back from it (no formats, no
  logic: :data:`common.FLOOR`), taking turns with the build; the build's CPU seconds over the
  floor's, and the build's peak memory. ``--baseline REV`` adds the same build by the code of
  ``REV`` (a ``git worktree``; its memory budget raised to 8 GiB, as an older estimate may refuse).

Run from the repository root (LibreOffice, and the system Python's ``uno`` for the inside timings)::

    .venv/bin/python bench/tabular_build.py [--rows 10000] [--repeat 3]
    .venv/bin/python bench/tabular_build.py --rows 100000 --repeat 2 --floor-only --baseline HEAD~3
    .venv/bin/python bench/tabular_build.py --quick   # seconds: 300 rows, once, no Titanic baseline,
                                                      # no recalculate() (CI runs it)
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import (
    ROOT,
    book_fits,
    dump_cells,
    floor,
    machine,
    run_child,
    run_measured,
    show,
    synthetic_passengers,
    table,
)
from recalc_cost import inside_libreoffice, recalculate_seconds
from tabular_prepare import synthetic

import workbench as wb
from workbench.titanic.data import TRAIN_CSV

LIMITS = {"build s": 30.0, "LibreOffice calculateAll s": 5.0}

#: Issue 26 item 5, for 100,000 rows: the build's CPU over the floor's, and its peak memory.
GOALS = {"CPU / floor": 1.2, "peak MB": 800}

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


def against_floor(csv: Path, tmp: Path, repeat: int, baseline: str | None) -> list[dict]:
    """The table's build (and ``baseline``'s) against the floor writing the same cells, taking turns."""
    trees = {"build (this checkout)": (ROOT, {})}
    if baseline:
        code = tmp / "baseline"
        git = ["git", "-C", str(ROOT)]
        subprocess.run(
            [*git, "worktree", "add", "--detach", str(code), baseline], check=True, capture_output=True
        )
        rev = subprocess.run(
            [*git, "rev-parse", "--short", baseline], capture_output=True, text=True
        ).stdout.strip()
        trees[f"build ({rev})"] = (code, {"WORKBENCH_MEMORY_BUDGET": "8GiB"})
    runs: dict[str, list[dict]] = {name: [] for name in [*trees, "floor"]}
    dump = tmp / "cells.dump"
    try:
        for i in range(repeat):
            for name, (tree, env) in trees.items():
                out = tmp / f"floor_build{i}_{len(runs[name])}_{tree.name}"
                env = {**env, "PYTHONPATH": str(tree)}
                runs[name].append(run_measured(command(csv, "target", out, "auto"), env=env, cwd=tmp))
                if not dump.exists():
                    formulas = dump_cells([out / f"{csv.stem}.xlsx"], dump)
            runs["floor"].append(floor(dump, tmp / f"floor{i}"))
    finally:
        if baseline:
            subprocess.run(["git", "-C", str(ROOT), "worktree", "remove", "--force", str(code)], check=False)
    floor_cpu = statistics.median(r["cpu_s"] for r in runs["floor"])
    rows = []
    for name, got in runs.items():
        median = {k: statistics.median(r[k] for r in got) for k in ("wall_s", "cpu_s", "main_mb")}
        rows.append(
            {
                "": name,
                "wall s": round(median["wall_s"], 1),
                "CPU s": round(median["cpu_s"], 1),
                "CPU / floor": round(median["cpu_s"] / floor_cpu, 2),
                "peak MB": round(median["main_mb"]),
            }
        )
    rows[-1][""] = f"floor: XlsxWriter alone, the same {formulas:,} formulas"
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
    parser.add_argument("--floor-only", action="store_true", help="only the build against the floor")
    parser.add_argument(
        "--baseline", help="git revision whose build runs beside this one's (with --floor-only)"
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
        if args.floor_only or args.rows >= 50_000:
            rows = against_floor(csv, tmp, args.repeat, args.baseline)
            show(
                table(
                    rows,
                    title=f"{args.rows:,} rows: workbench build --data against the floor (median of runs)",
                )
            )
            ours = rows[0]
            show(
                json.dumps(
                    {k: {"measured": ours[k], "goal": v, "ok": ours[k] <= v} for k, v in GOALS.items()}
                )
            )
            return
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
        if args.quick:  # the floor's own script too, so that it cannot break unseen
            dump_cells([book], tmp / "cells.dump")
            floor_cpu = floor(tmp / "cells.dump", tmp / "floor")["cpu_s"]
            show(f"the floor, writing the same cells: {floor_cpu:.2f} s CPU\n")
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
