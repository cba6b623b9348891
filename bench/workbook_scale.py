"""Issue 7, item 3: writing the Titanic workbook at 712, 10k, 100k and 1,000,000 rows.

For each size, a fresh process builds synthetic Titanic-like passengers (Kaggle's
complete rows drawn with replacement, :func:`common.synthetic_passengers`), their
lesson table and parameters, then times :func:`workbench.write_titanic_book` alone.
Reported: write seconds, microseconds per row (flat when writing is linear in rows),
the process's peak memory and how much of it the data took before writing began, and
the file size. ``streamed`` is ``constant_memory=True`` (rows go to disk as they are
written; needed for big tables), ``in memory`` is the default. Last, one row more than
an Excel sheet holds must be refused at once, with nothing written.

Run from the repository root::

    .venv/bin/python bench/workbook_scale.py                     # all sizes
    .venv/bin/python bench/workbook_scale.py --sizes 712,10000
    .venv/bin/python bench/workbook_scale.py --quick             # seconds: 712 rows, streamed (CI runs it)
    # before/after in one run: DIR holds an older checkout, e.g. git archive <commit> | tar -x -C DIR
    .venv/bin/python bench/workbook_scale.py --sizes 712,10000 --baseline before=DIR
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
from pathlib import Path

from common import book_fits, peak_rss_mb, run_child, show, synthetic_passengers, table

SIZES = (712, 10_000, 100_000, 1_000_000)


def child(rows: int, streamed: bool) -> dict[str, object]:
    """Write one workbook of ``rows`` lesson rows; runs in its own process."""
    import workbench as wb
    from workbench.sheets.books.titanic import write_titanic_book

    passengers = synthetic_passengers(rows)
    lesson = wb.lesson_table(passengers)
    fits = book_fits(lesson)
    data_mb = peak_rss_mb()
    with tempfile.TemporaryDirectory(prefix="bench-scale-") as tmp:
        path = Path(tmp) / "titanic.xlsx"
        start, cpu = time.perf_counter(), time.process_time()
        write_titanic_book(path, passengers, lesson, fits, constant_memory=streamed)
        seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
        size = path.stat().st_size
    return {
        "seconds": seconds,
        "cpu": cpu,
        "peak_mb": peak_rss_mb(),
        "data_mb": data_mb,
        "file_mb": size / 1e6,
        "workbench": str(Path(wb.__file__).parent),
    }


def child_over_limit() -> dict[str, object]:
    """One lesson row more than the tallest model sheet (mmult) can hold below its headings."""
    import workbench as wb
    from workbench.errors import WorkbenchError
    from workbench.sheets.books.titanic import write_titanic_book
    from workbench.sheets.write.xlsx import MAX_ROWS

    rows = MAX_ROWS - 17  # mmult's data start on row 19 (1-based), so 1,048,558 rows fit
    passengers = synthetic_passengers(rows)
    lesson = wb.lesson_table(passengers)
    fits = book_fits(lesson)
    with tempfile.TemporaryDirectory(prefix="bench-limit-") as tmp:
        path = Path(tmp) / "titanic.xlsx"
        start = time.perf_counter()
        try:
            write_titanic_book(path, passengers, lesson, fits, constant_memory=True)
            message = "NOT REFUSED"
        except WorkbenchError as e:
            message = str(e)
        seconds = time.perf_counter() - start
        left = sorted(p.name for p in Path(tmp).iterdir())
    return {"rows": rows, "seconds": seconds, "message": message, "files_left": left}


def measure(rows: int, streamed: bool, baseline: str | None) -> dict[str, object]:
    env = {"PYTHONPATH": baseline} if baseline else None
    args = [__file__, "--child", str(rows), *(["--streamed"] if streamed else [])]
    return run_child(args, env=env)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="lesson rows, comma-separated")
    parser.add_argument(
        "--in-memory-up-to", type=int, default=100_000, help="also time the default mode up to this size"
    )
    parser.add_argument(
        "--baseline",
        action="append",
        default=[],
        metavar="LABEL=DIR",
        help="an older workbench checkout in DIR, timed in the same run (repeatable)",
    )
    parser.add_argument(
        "--baseline-up-to", type=int, default=10_000, help="time the baselines up to this size"
    )
    parser.add_argument("--no-limit", action="store_true", help="skip the over-the-limit check")
    parser.add_argument("--quick", action="store_true", help="seconds: 712 rows, streamed, no limit check")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--streamed", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--child-limit", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        print(json.dumps(child(args.child, args.streamed)))
        return
    if args.child_limit:
        print(json.dumps(child_over_limit()))
        return

    if args.quick:
        args.sizes, args.in_memory_up_to, args.no_limit = "712", 0, True
    sizes = [int(s) for s in args.sizes.split(",")]
    codes = [tuple(b.split("=", 1)) for b in args.baseline] + [("current", None)]
    results = []
    for rows in sizes:
        modes = [("streamed", True)] + ([("in memory", False)] if rows <= args.in_memory_up_to else [])
        for mode, streamed in modes:
            for code, where in codes if rows <= args.baseline_up_to else codes[-1:]:
                r = measure(rows, streamed, where)
                results.append(
                    {
                        "rows": rows,
                        "mode": mode,
                        **({"code": code} if args.baseline else {}),
                        "write s": round(r["seconds"], 2),
                        "cpu s": round(r["cpu"], 2),
                        "us/row": round(r["cpu"] / rows * 1e6),
                        "peak MB": round(r["peak_mb"]),
                        "data MB": round(r["data_mb"]),
                        "writer MB": round(r["peak_mb"] - r["data_mb"]),
                        "file MB": round(r["file_mb"], 1),
                    }
                )
                print(
                    f"  {rows:>9,} rows {mode:9} {code:8} {r['seconds']:8.2f} s, cpu {r['cpu']:8.2f} s",
                    file=sys.stderr,
                    flush=True,
                )
    show(table(results, title="Workbook scale: write_titanic_book (all_rows + 4 model sheets + summary)"))
    show(
        "write s: write_titanic_book alone, wall clock; cpu s: its CPU time (steadier on a shared machine);"
        " us/row: CPU per lesson row (each row is written on all_rows and the"
        " four model sheets, 43 formulas and 48 values); data MB: peak memory before writing (Python,"
        " torch, the data); writer MB: what writing added.\n"
    )
    if not args.no_limit:
        r = run_child([__file__, "--child-limit"])
        show(
            table(
                [
                    {
                        "rows": r["rows"],
                        "refused after s": round(r["seconds"], 2),
                        "files left": len(r["files_left"]),
                        "message": r["message"],
                    }
                ],
                title="Above Excel's 1,048,576 rows",
            )
        )


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    main()
