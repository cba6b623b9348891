"""Issue 18, goals 3 and 4: ``workbench build`` end to end, against a baseline, in one run.

Two tables:

* **before / after**: the same ``workbench build --out TMP`` command run by the baseline's
  code (a ``git worktree`` of ``--baseline``; by default where this branch left main, so the
  two differ by this branch's changes only) and by this checkout's, taking turns,
  ``--repeat`` times each. Per run: wall seconds, CPU seconds (the command and every
  process it waited for), its own peak memory (``VmHWM``), and the
  whole process tree's largest resident memory at one moment
  (sampled every 20 ms). Medians are compared as after / before; the files, byte for byte.
  Each build is then run a second time into the same folder with nothing changed (the rows
  ``again``): a checkout with :mod:`workbench.stamp` keeps the files and prints the stored report.
* **stages** (this checkout): a child process times ``import workbench.build`` and follows
  :func:`workbench.build.build_all`'s progress callback, so every stage gets its own time.

Run from the repository root::

    .venv/bin/python bench/build_time.py
    .venv/bin/python bench/build_time.py --baseline HEAD~3 --repeat 5
    .venv/bin/python bench/build_time.py --quick     # seconds: no before/after, the stages of one
                                                     # build of 100 passengers (CI runs it)
"""

from __future__ import annotations

import argparse
import filecmp
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from common import ROOT, dump_cells, floor, run_child, run_measured, show, table

from workbench.titanic.data import TRAIN_CSV

#: What a user runs (``python -m workbench`` is the ``workbench`` program), in each tree.
BUILD = ["-m", "workbench", "build", "--out"]


def child(out: str, data: str | None = None) -> dict[str, object]:
    """Import, then build ``data`` (the bundled train.csv by default) into ``out``, timing every
    stage the progress callback names."""
    start = time.perf_counter()
    from workbench.build import build_all

    stages: dict[str, float] = {"import workbench": time.perf_counter() - start}
    current = {"name": "load train.csv", "since": time.perf_counter()}

    def progress(stage: str, done: int, total: int) -> None:
        now = time.perf_counter()
        if stage != current["name"]:
            stages[current["name"]] = stages.get(current["name"], 0.0) + now - current["since"]
            current.update(name=stage, since=now)

    result = build_all(data, out=out, progress=progress)
    now = time.perf_counter()
    stages[current["name"]] = stages.get(current["name"], 0.0) + now - current["since"]
    return {"stages": stages, "seconds": result.seconds, "files": len(result.files)}


def git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True, text=True).stdout.strip()


def before_after(baseline: str, repeat: int, tmp: Path) -> tuple[str, str]:
    """The before / after table and a line on whether the two builds wrote the same bytes."""
    code = tmp / "baseline"
    git("worktree", "add", "--detach", str(code), baseline)
    try:
        trees = {
            f"before ({git('rev-parse', '--short', baseline)})": code,
            f"after ({git('rev-parse', '--short', 'HEAD')})": ROOT,
        }
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in trees}
        for i in range(repeat):
            for name, tree in trees.items():
                out = tmp / f"{name.split()[0]}{i}"
                # cwd: not the repository, whose workbench/ would come first on the path
                command = [sys.executable, *BUILD, str(out)]
                runs[name].append(run_measured(command, env={"PYTHONPATH": str(tree)}, cwd=tmp))
                print(f"  {name} run {i + 1}: {runs[name][-1]['wall_s']:.1f} s", file=sys.stderr, flush=True)
                # The same command again, nothing changed: what a user waits for the second time.
                again = run_measured(command, env={"PYTHONPATH": str(tree)}, cwd=tmp)
                runs.setdefault(f"{name}, again", []).append(again)
            dump = tmp / "cells.dump"
            if i == 0:  # the cells of this checkout's workbooks
                dump_cells(sorted((tmp / "after0").glob("*.xlsx")), dump)
            runs.setdefault("floor", []).append(floor(dump, tmp / f"floor{i}"))
    finally:
        git("worktree", "remove", "--force", str(code))
    first, last = tmp / "before0", tmp / "after0"
    names = sorted(p.name for p in first.iterdir() if not p.name.startswith("."))  # not the stamp
    _, differ, missing = filecmp.cmpfiles(first, last, names, shallow=False)
    same = f"Outputs: {len(names) - len(differ) - len(missing)} of {len(names)} files byte-identical" + (
        f"; differ: {', '.join(differ + missing)}" if differ or missing else ""
    )
    medians = {name: {k: statistics.median(r[k] for r in rs) for k in rs[0]} for name, rs in runs.items()}
    labels = list(trees)
    rows = []
    for suffix in ("", ", again"):
        before, after = (medians[n + suffix] for n in labels)
        for n in labels:
            m = medians[n + suffix]
            rounded = {k: round(v, 2) if k.endswith("_s") else round(v) for k, v in m.items()}
            rows.append({"": n + suffix, **rounded})
        rows.append({"": "after / before" + suffix, **{k: f"{after[k] / before[k]:.2f}x" for k in before}})
    bottom = medians["floor"]
    rows.append(
        {"": "floor", **{k: round(v, 2) if k.endswith("_s") else round(v) for k, v in bottom.items()}}
    )
    for n in labels:
        ratios = {k: f"{medians[n][k] / bottom[k]:.2f}x" for k in bottom}
        rows.append({"": f"{n.split()[0]} / floor", **ratios})
    head = f"workbench build, before / after (median of {repeat} runs each, taking turns)"
    return table(rows, title=head), same


def stages(repeat: int, tmp: Path, data: Path | None = None) -> str:
    given = ["--data", str(data)] if data else []
    runs = [run_child([__file__, "--child", str(tmp / f"stages{i}"), *given]) for i in range(repeat)]
    best = min(runs, key=lambda r: sum(r["stages"].values()))
    total = sum(best["stages"].values())
    rows = [
        {"stage": name, "s": round(s, 2), "share": f"{s / total:.0%}"} for name, s in best["stages"].items()
    ]
    rows.append({"stage": "total (in the process)", "s": round(total, 2), "share": "100%"})
    seconds = best["seconds"]
    note = (
        f"build_all's own split: load {seconds['load']:.2f} s, fit {seconds['fit']:.2f} s, write"
        f" {seconds['write']:.2f} s; {best['files']} files; fastest of {repeat}."
    )
    return table(rows, title="Stages of this checkout's build") + "\n" + note + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--baseline", help="git revision to compare with (default: git merge-base HEAD main)")
    parser.add_argument("--repeat", type=int, default=3, help="runs of each (medians compared)")
    parser.add_argument(
        "--quick", action="store_true", help="seconds: no before/after, one build of 100 passengers"
    )
    parser.add_argument("--child", help=argparse.SUPPRESS)
    parser.add_argument("--data", help=argparse.SUPPRESS)  # the child's train.csv
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.data)))
        return
    if args.quick:
        with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
            few = Path(tmp) / "train_100.csv"
            few.write_text("".join(TRAIN_CSV.read_text().splitlines(keepends=True)[:101]))
            show(stages(1, Path(tmp), few))
        return
    baseline = args.baseline or git("merge-base", "HEAD", "main")
    load = os.getloadavg()[0]
    with tempfile.TemporaryDirectory(prefix="bench-build-") as tmp:
        compared, same = before_after(baseline, args.repeat, Path(tmp))
        show(compared)
        show(
            "wall_s, cpu_s: seconds (CPU: the command and any process it waited for); main_cpu_s: the"
            " command's own CPU; main_mb: the command's own"
            " peak (VmHWM); total_mb: the process tree's largest resident memory at one moment (sampled every"
            " 20 ms); sum_of_peaks_mb: every process's peak, added (an upper bound). floor: a process that"
            " imports torch, pandas and scipy and has XlsxWriter write the cells of this checkout's"
            " workbooks with no"
            f" logic (bench/common.py's FLOOR). {same}. Load average"
            f" (1 min) on the {os.cpu_count()} cores: {load:.1f} before, {os.getloadavg()[0]:.1f} after.\n"
        )
        show(stages(min(args.repeat, 2), Path(tmp)))


if __name__ == "__main__":
    main()
