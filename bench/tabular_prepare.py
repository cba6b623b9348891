"""read_table and prepare on a 10,000 x 20 table: wall time and peak memory of each step.

The table is synthetic but shaped like a real one (seeded): an id, a free-text column,
measured numbers (some negative), long-tailed amounts, small counts, categories of 2 to 6
levels, about 2% missing values, and a 0/1 target that depends on them. It is written as a
CSV file and read back, as a user's file would be. Peak memory is the step's own allocations
(tracemalloc, in a second run, since tracing slows the code)::

    .venv/bin/python bench/tabular_prepare.py [--rows 10000,100000]
    .venv/bin/python bench/tabular_prepare.py --quick     # seconds: 500 rows, once (CI runs it)
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).resolve().parent))
from common import machine, show, table

from workbench.tabular import prepare, read_table


def synthetic(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` rows of 20 columns: id, name, 6 measurements, 4 amounts, 2 counts, 5 categories, target."""
    rng = np.random.default_rng(seed)
    cols: dict[str, np.ndarray] = {"id": np.arange(1, n + 1), "name": [f"person {i:07d}" for i in range(n)]}
    for j in range(6):
        cols[f"measure_{j}"] = np.round(rng.normal(50 * (j - 2), 10 + j, n), 2)
    for j in range(4):
        cols[f"amount_{j}"] = np.round(rng.lognormal(3 + j, 1.2, n), 2)
    for j in range(2):
        cols[f"count_{j}"] = rng.poisson(0.8 + j, n)
    for j, levels in enumerate((2, 3, 4, 5, 6)):
        cols[f"group_{j}"] = rng.choice([f"level_{k}" for k in range(levels)], n, p=_shares(rng, levels))
    frame = pd.DataFrame(cols)
    score = frame["measure_2"] / 20 - np.log1p(frame["amount_0"]) / 2 + (frame["group_1"] == "level_0")
    frame["target"] = (score + rng.normal(0, 1, n) > score.median()).astype(int)
    for name in ("measure_0", "amount_1", "group_2", "count_0"):
        frame.loc[rng.random(n) < 0.02, name] = np.nan
    return frame


def _shares(rng: np.random.Generator, k: int) -> np.ndarray:
    w = rng.uniform(1, 4, k)
    return w / w.sum()


def measure(step, repeats: int) -> tuple[float, float]:
    """Median wall seconds over ``repeats`` runs, and the peak traced MB of one more run."""
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        step()
        times.append(time.perf_counter() - start)
    tracemalloc.start()
    step()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return statistics.median(times), peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", default="10000", help="comma-separated row counts (default 10000)")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="seconds: 500 rows, once")
    args = parser.parse_args()
    if args.quick:
        args.rows, args.repeats = "500", 1
    if not args.quick:  # run_all.py prints it once
        show(table([machine()], title="Machine"))
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for n in (int(x) for x in args.rows.split(",")):
            path = Path(tmp) / f"synthetic_{n}.csv"
            synthetic(n).to_csv(path, index=False)
            frame = read_table(path)
            steps = {
                "read_table": lambda path=path: read_table(path),
                "prepare (drop)": lambda frame=frame: prepare(frame, "target"),
                "prepare (fill)": lambda frame=frame: prepare(frame, "target", missing="fill"),
            }
            for name, step in steps.items():
                seconds, peak = measure(step, args.repeats)
                out = step()
                shape = f"{out.shape[0]:,} x {out.shape[1]}" if name == "read_table" else f"{out.table.shape}"
                rows.append(
                    {
                        "rows": n,
                        "step": name,
                        "file MB": round(path.stat().st_size / 2**20, 2),
                        "seconds": round(seconds, 3),
                        "peak MB": round(peak, 1),
                        "out": shape,
                    }
                )
    show(table(rows, title="workbench.tabular: read_table and prepare (median wall time, traced peak)"))


if __name__ == "__main__":
    main()
