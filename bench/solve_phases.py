"""Issue 26 item 5: what each phase of ``workbench solve`` gains, per sheet.

``solve`` runs a polish (BFGS steps on finite differences, every loss LibreOffice's own
recalculation), then LibreOffice's SwarmSolver for ``--seconds`` in ``[-bound, bound]``,
then polishes the swarm's answer if it landed lower. Each run here solves a fresh copy of
the committed ``workbooks/titanic.xlsx`` from its grey random start and records, from the
progress events, each phase's loss and seconds.

    .venv/bin/python bench/solve_phases.py                      # linear once, nnet 3 times
    .venv/bin/python bench/solve_phases.py --sheets nnet --runs 5
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
import time
from pathlib import Path

from common import ROOT

from workbench.sheets.engines.solve import solve_workbook


def phases(sheet: str, seconds: float) -> dict[str, float]:
    """One solve from the grey start: the loss and seconds at the end of each phase."""
    seen: dict[str, float] = {}
    steps: list[tuple[float, int, float]] = []  # the first polish: (seconds, step, loss)
    began = time.perf_counter()

    def note(event: dict) -> None:
        now = time.perf_counter() - began
        if event["phase"] == "start":
            seen["start"], seen["t_start"] = event["loss"], now
        elif event["phase"] == "polish":
            key = "repolish" if "swarm" in seen else "polish"
            seen[key], seen[f"t_{key}"] = event["loss"], now
            if key == "polish":
                steps.append((now, event["step"], event["loss"]))
        elif event["phase"] == "swarm done":
            seen["swarm"], seen["t_swarm"] = event["loss"], now

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "titanic.xlsx"
        shutil.copyfile(ROOT / "workbooks" / "titanic.xlsx", path)
        result = solve_workbook(path, sheet, from_start=True, seconds=seconds, progress=note)
    seen["final"], seen["t_total"] = result.loss, result.seconds
    if steps:  # when the polish came within 1e-9 of where it stopped, and how many steps it took
        end = steps[-1][2]
        near = next(s for s in steps if s[2] - end <= 1e-9)
        seen["t_near"], seen["steps_near"], seen["steps"] = near[0] - seen["t_start"], near[1], steps[-1][1]
    return seen


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sheets", default="linear,nnet")
    parser.add_argument("--runs", type=int, default=3, help="runs of each sheet but linear (1)")
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="linear once, no swarm: that it still runs")
    args = parser.parse_args()
    if args.quick:
        args.sheets, args.seconds = "linear", 0.0
    print(
        "| sheet | run | start | after polish (s) | polish within 1e-9 of its end at (s, step of steps)"
        " | swarm's answer (s) | after re-polish (s) | final | total s |"
    )
    print("|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for sheet in args.sheets.split(","):
        for run in range(1 if sheet == "linear" else args.runs):
            p = phases(sheet, args.seconds)
            polish_s = p.get("t_polish", p["t_start"]) - p["t_start"]
            swarm_s = p["t_swarm"] - p.get("t_polish", p["t_start"]) if "swarm" in p else 0.0
            again = f"{p['repolish']:.10f} ({p['t_repolish'] - p['t_swarm']:.1f})" if "repolish" in p else "-"
            print(
                f"| {sheet} | {run + 1} | {p['start']:.6f}"
                f" | {p.get('polish', p['start']):.10f} ({polish_s:.1f})"
                f" | {p.get('t_near', 0):.1f} s, {p.get('steps_near', 0)} of {p.get('steps', 0)}"
                f" | {p.get('swarm', float('nan')):.10f} ({swarm_s:.1f}) | {again} | {p['final']:.10f}"
                f" | {p['t_total']:.1f} |",
                flush=True,
            )


if __name__ == "__main__":
    main()
