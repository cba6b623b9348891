"""Issue 7, item 5: ``workbench build`` end to end, split into import, load, fit and write.

Two measurements in one run, each in fresh processes (so imports are cold for Python,
warm for the disk cache), the fastest of ``--repeat``:

* ``workbench build --out TMP``: the command a user types, wall time from start to exit
  (interpreter start-up included);
* the same job in a child process that times ``import workbench.build`` and then follows
  :func:`workbench.build.build_all`'s progress callback, so every stage gets its own
  time: each fit, the Titanic workbook, the pictures, the submission, the regressions.

Run from the repository root::

    .venv/bin/python bench/build_time.py             # about a minute
    .venv/bin/python bench/build_time.py --repeat 1
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, run_child, show, table

WORKBENCH = Path(sys.executable).with_name("workbench")


def child(out: str) -> dict[str, object]:
    """Import, then build into ``out``, timing every stage the progress callback names."""
    start = time.perf_counter()
    from workbench.build import build_all

    stages: dict[str, float] = {"import workbench": time.perf_counter() - start}
    current = {"name": "load train.csv", "since": time.perf_counter()}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != current["name"]:
            stages[current["name"]] = stages.get(current["name"], 0.0) + now - current["since"]
            current.update(name=stage, since=now)

    result = build_all(out=out, progress=progress)
    now = time.perf_counter()
    stages[current["name"]] = stages.get(current["name"], 0.0) + now - current["since"]
    return {"stages": stages, "seconds": result.seconds, "files": len(result.files)}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--repeat", type=int, default=2, help="runs of each; the fastest counts")
    parser.add_argument("--child", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child)))
        return

    walls, runs = [], []
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        for i in range(args.repeat):
            start = time.perf_counter()
            subprocess.run(
                [str(WORKBENCH), "build", "--out", f"{tmp}/cli{i}"], check=True, capture_output=True, cwd=ROOT
            )
            walls.append(time.perf_counter() - start)
            runs.append(run_child([__file__, "--child", f"{tmp}/lib{i}"]))
            print(f"  run {i + 1}: workbench build {walls[-1]:.1f} s", file=sys.stderr, flush=True)

    best = min(runs, key=lambda r: sum(r["stages"].values()))
    total = sum(best["stages"].values())
    rows = [
        {"stage": name, "s": round(s, 2), "share": f"{s / total:.0%}"} for name, s in best["stages"].items()
    ]
    rows.append({"stage": "total (in the process)", "s": round(total, 2), "share": "100%"})
    rows.append({"stage": "`workbench build`, start to exit", "s": round(min(walls), 2), "share": ""})
    show(table(rows, title="End to end: workbench build"))
    seconds = best["seconds"]
    show(
        f"build_all's own split: load {seconds['load']:.2f} s, fit {seconds['fit']:.2f} s, write"
        f" {seconds['write']:.2f} s; {best['files']} files. Fastest of {args.repeat} runs; the last row"
        " adds the interpreter's start-up and the command line.\n"
    )


if __name__ == "__main__":
    main()
