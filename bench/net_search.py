"""Issue 18, goal 1: the net's lowest minimum by default, against the long searches it replaces.

Each fit runs in a fresh process (its own peak memory), one torch thread, seed by seed:

* ``search`` (the default of ``fit("nnet")``): 256 random starts, 20 batched
  Gauss-Newton steps, the 8 best finished exactly (the quadratic program of their
  activation pattern), then hops: rows near each ReLU's kink pushed across it.
* the previous default, ``gd`` with 256 starts, 100 epochs, 20 Gauss-Newton steps and
  an L-BFGS polish of the best 2;
* the same with 16,384 starts: the search that found the best loss known before;
* plain batched gradient descent: 256 starts x 5,000 epochs, the lesson's loop.

Time is given as wall and CPU seconds and as a ratio to the 16,384-start search of the
same seed, measured in this run. Run from the repository root::

    .venv/bin/python bench/net_search.py             # seeds 0-9 for search
    .venv/bin/python bench/net_search.py --quick     # seconds: seed 0, the lesson's loop cut short
                                                     # (CI runs it)
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from common import machine, peak_rss_mb, quick_options, run_child, show, table

RECIPES = {
    "search (default)": {"method": "search"},
    "gd, 256 starts + 20 Gauss-Newton + L-BFGS of 2 (previous default)": {"method": "gd"},
    "gd, 16,384 starts + 20 Gauss-Newton + L-BFGS of 2": {"method": "gd", "starts": 16_384},
    "gd, 256 starts x 5,000 epochs (the lesson's loop, batched)": {
        "method": "gd", "epochs": 5000, "gauss_newton": 0, "polish": 0,
    },
}  # fmt: skip
BASELINE = "gd, 16,384 starts + 20 Gauss-Newton + L-BFGS of 2"
LESSON_LOOP = "gd, 256 starts x 5,000 epochs (the lesson's loop, batched)"


def child(recipe: str, seed: int, quick: bool) -> None:
    import workbench as wb

    table = wb.lesson_table(wb.load_titanic())
    options = quick_options("nnet", RECIPES[recipe]) if quick else RECIPES[recipe]
    began, cpu = time.perf_counter(), time.process_time()
    fitted = wb.fit("nnet", table, seed=seed, **options)
    print(json.dumps({
        "loss": fitted.loss, "wall": time.perf_counter() - began, "cpu": time.process_time() - cpu,
        "peak": peak_rss_mb(),
    }))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--quick", action="store_true", help="seconds: seed 0, only the lesson's loop, cut to a few steps"
    )
    parser.add_argument("--seeds", type=int, default=10, help="seeds of the default search (0..N-1)")
    parser.add_argument("--child", nargs=2, metavar=("RECIPE", "SEED"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        return child(args.child[0], int(args.child[1]), args.quick)
    if not args.quick:  # run_all.py prints it once
        show(table([machine()], title="machine"))
    rows = []
    for seed in [0] if args.quick else range(args.seeds):
        # The long searches run on seed 0 only.
        names = [n for n in RECIPES if seed == 0 or n == "search (default)"]
        names = [n for n in names if not (args.quick and n != LESSON_LOOP)]
        # 16,384 starts at once need about 6.6 GiB, above workbench's default budget of 2 GiB.
        budget = {"WORKBENCH_MEMORY_BUDGET": "8GiB"}
        quick = ["--quick"] if args.quick else []
        runs = {name: run_child([__file__, "--child", name, str(seed), *quick], env=budget) for name in names}
        base = runs.get(BASELINE)
        for name, r in runs.items():
            ratio = round(r["wall"] / base["wall"], 4) if base else ""
            rows.append({
                "seed": seed, "fit": name, "MSE": f"{r['loss']:.10f}", "wall s": round(r["wall"], 2),
                "CPU s": round(r["cpu"], 2), "wall / 16,384 starts": ratio, "peak MB": round(r["peak"]),
            })  # fmt: skip
        show(table(rows[-len(runs) :]))
    show(table(rows, title="the net: default search against the long searches (seed 0) and over seeds"))


if __name__ == "__main__":
    sys.exit(main())
