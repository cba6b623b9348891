"""Every benchmark, one after the other, as one Markdown report: bench/RESULTS.md.

Prints the machine's description, then each script's tables, each under its heading with the
command, when it ran and how long it took; with ``--write`` also saves the report as
``bench/RESULTS.md``. With ``--only``, ``--write`` replaces only those scripts' sections of
the file and keeps the others as they were. Exits 1 if any script failed. Run from the
repository root::

    .venv/bin/python bench/run_all.py --quick                  # every script in seconds (CI runs this)
    .venv/bin/python bench/run_all.py --write                  # everything, into bench/RESULTS.md
    .venv/bin/python bench/run_all.py --write --only fit_quality
    .venv/bin/python bench/run_all.py --write --only fit_quality -- --seeds 2   # arguments for it

Each script also runs alone (see its docstring), e.g. to time one change against an
older checkout: ``bench/workbook_scale.py --baseline before=DIR``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import re
import subprocess
import sys
import time
from pathlib import Path

from common import ROOT, machine, show, table

HERE = Path(__file__).resolve().parent
RESULTS = HERE / "RESULTS.md"

#: (heading, script, arguments of the full run); every script also takes ``--quick``.
SCRIPTS = [
    ("1. Fit quality and speed", "fit_quality.py", []),
    ("2. Batched random starts", "batched_starts.py", []),
    ("3. Workbook scale", "workbook_scale.py", []),
    ("4. Recalculation cost", "recalc_cost.py", []),
    ("5. End to end", "build_time.py", []),
    ("6. Preparing any CSV", "tabular_prepare.py", []),
    ("7. The net's default search", "net_search.py", []),
    ("8. The net's minimum: the evidence", "net_minimum.py", []),
    ("9. Any CSV's workbook", "tabular_build.py", []),
    ("10. A learner's Solver run on nnet, from random starts", "nnet_starts.py", []),
    ("11. What each phase of workbench solve gains", "solve_phases.py", []),
]

HEAD = """# Benchmark results

Written by `bench/run_all.py --write` (how to run the scripts, and what was changed after
profiling: [README.md](README.md)). Each section names its command, when it ran and how long
it took. The machine is a shared VM, so wall seconds carry noise; the scripts report CPU
seconds beside them and compare each figure with its baseline in the same run.
"""


def run(heading: str, script: str, args: list[str]) -> tuple[str, bool]:
    """One script's section of the report, and whether it succeeded."""
    print(f"{script} ...", file=sys.stderr, flush=True)
    began, when = time.perf_counter(), dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = os.getloadavg()[0]
    done = subprocess.run(
        [sys.executable, str(HERE / script), *args], stdout=subprocess.PIPE, text=True, cwd=ROOT
    )
    took = time.perf_counter() - began
    command = " ".join([f"bench/{script}", *args])
    if done.returncode != 0:
        return f"## {heading}\n\n`{command}` failed (exit {done.returncode}) after {took:.0f} s.\n", False
    busy = f"load average {load:.1f} before, {os.getloadavg()[0]:.1f} after on {os.cpu_count()} cores"
    return f"## {heading}\n\n`{command}`: {when}, {took:.0f} s, {busy}.\n\n{done.stdout.strip()}\n", True


def sections(text: str) -> dict[str, str]:
    """A report's sections by heading (``## ...``), each with its heading."""
    parts = re.split(r"^(?=## )", text, flags=re.M)
    return {p.splitlines()[0]: p.rstrip() + "\n" for p in parts if p.startswith("## ")}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--quick", action="store_true", help="every script with --quick: seconds each")
    parser.add_argument("--write", action="store_true", help="also write bench/RESULTS.md")
    parser.add_argument("--only", help="run only the scripts whose names contain this, e.g. recalc")
    parser.add_argument("more", nargs="*", help="after --: more arguments for each script run")
    args = parser.parse_args()

    machine_table = table([{"": k, "value": v} for k, v in machine().items()], title="Machine")
    show(machine_table)
    ran, failed = {}, []
    for heading, script, full in SCRIPTS:
        if args.only and args.only not in script:
            continue
        text, ok = run(heading, script, [*(["--quick"] if args.quick else full), *args.more])
        show(text)
        ran[f"## {heading}"] = text
        failed += [] if ok else [script]
    if args.write:
        kept = sections(RESULTS.read_text()) if args.only and RESULTS.exists() else {}
        body = [ran.get(f"## {h}", kept.get(f"## {h}", "")) for h, _, _ in SCRIPTS]
        RESULTS.write_text("\n".join([HEAD, machine_table, *filter(None, body)]))
        print(f"wrote {RESULTS}", file=sys.stderr)
    if failed:
        sys.exit(f"failed: {', '.join(failed)}")


if __name__ == "__main__":
    main()
