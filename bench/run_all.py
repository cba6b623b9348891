"""Every benchmark of issue 7, one after the other, as one Markdown report.

Prints the machine's description, then each script's tables (items 1 to 5); with
``--write`` also saves the report as ``bench/RESULTS.md``. A script that does not
exist yet is listed as missing. Run from the repository root::

    .venv/bin/python bench/run_all.py --quick          # small sizes: a few minutes
    .venv/bin/python bench/run_all.py --write          # everything (the 1M-row workbook: ~15 min)

Each script also runs alone (see its docstring), e.g. to time one change against an
older checkout: ``bench/workbook_scale.py --baseline before=DIR``.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from common import ROOT, machine, show, table

HERE = Path(__file__).resolve().parent

#: (item, script, arguments, arguments with --quick)
SCRIPTS = [
    ("1. Fit quality and speed", "fit_quality.py", [], ["--quick"]),
    ("2. Batched random starts", "batched_starts.py", [], ["--repeat", "1"]),
    ("3. Workbook scale", "workbook_scale.py", [], ["--sizes", "712,10000"]),
    ("4. Recalculation cost", "recalc_cost.py", [], ["--sizes", "712", "--repeat", "1"]),
    ("5. End to end", "build_time.py", [], ["--repeat", "1"]),
    ("6. Preparing any CSV", "tabular_prepare.py", [], []),
    ("7. The net's default search", "net_search.py", [], ["--quick"]),
    ("8. The net's minimum: the evidence", "net_minimum.py", [], ["--starts", "1024"]),
    ("9. Any CSV's workbook", "tabular_build.py", [], ["--repeat", "1"]),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="small sizes and single runs")
    parser.add_argument("--write", action="store_true", help="also write bench/RESULTS.md")
    parser.add_argument("--only", help="run only the scripts whose names contain this, e.g. recalc")
    args = parser.parse_args()

    about = machine()
    parts = [
        "# Benchmark results",
        "",
        "Written by `bench/run_all.py`" + (" --quick" if args.quick else "") + " (see bench/README.md).",
        "",
        table([{"": k, "value": v} for k, v in about.items()], title="Machine"),
    ]
    show("\n".join(parts))
    for item, script, full, quick in SCRIPTS:
        if args.only and args.only not in script:
            continue
        print(f"{script} ...", file=sys.stderr, flush=True)
        done = subprocess.run(
            [sys.executable, str(HERE / script), *(quick if args.quick else full)],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
        )
        if done.returncode != 0:
            text = f"## {item}\n\n`bench/{script}` failed (exit {done.returncode}).\n"
        else:
            text = f"## {item}\n\n`bench/{script}`\n\n{done.stdout.strip()}\n"
        show(text)
        parts.append(text)
    if args.write:
        (HERE / "RESULTS.md").write_text("\n".join(parts))
        print(f"wrote {HERE / 'RESULTS.md'}", file=sys.stderr)


if __name__ == "__main__":
    main()
