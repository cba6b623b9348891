"""Issue 22 item 1: what a learner's own Solver run finds on the ``nnet`` sheet, from random starts.

Excel's GRG Nonlinear is a local method: it goes downhill from the cells' values and stops
in the first dip. BFGS (scipy, exact gradient) does the same; here it starts from STARTS
seeded draws of ``RAND()-0.5`` (uniform on [-0.5, 0.5], like the sheet's New start row)
and minimises the sheet's Solver objective, the train loss of the two-ReLU net on the
lesson's 712 rows. Printed: where the runs end, as shares of the starts.

    .venv/bin/python bench/nnet_starts.py                 # 200 starts, seed 0; about 20 s
    .venv/bin/python bench/nnet_starts.py --starts 1000 --seed 1
"""

from __future__ import annotations

import argparse

import numpy as np
from scipy.optimize import minimize

import workbench as wb


def net_loss(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> tuple[float, np.ndarray]:
    """The nnet sheet's train loss (mean of (ReLU1 + ReLU2 - Survived)^2) and its gradient."""
    w = w.reshape(2, -1)
    lin = x @ w.T
    err = np.maximum(lin, 0).sum(axis=1) - y
    grad = 2 / len(y) * ((err[:, None] * (lin > 0)).T @ x)
    return float(np.mean(err**2)), grad.ravel()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--starts", type=int, default=200)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--quick", action="store_true", help="seconds: 5 starts (the shares mean nothing)")
    args = parser.parse_args()
    if args.quick:
        args.starts = 5
    table = wb.lesson_table()
    train, _ = wb.validation_split(table)
    x = train[list(wb.FEATURES)].to_numpy(dtype=float)
    y = train["Survived"].to_numpy(dtype=float)
    floor = float(np.mean((x @ np.linalg.lstsq(x, y, rcond=None)[0] - y) ** 2))  # the linear model's best
    dead = float(np.mean(y**2))  # every ReLU below 0 on every row: every prediction 0
    rng = np.random.default_rng(args.seed)
    ends = []
    for _ in range(args.starts):
        start = rng.uniform(-0.5, 0.5, size=2 * x.shape[1])
        done = minimize(net_loss, start, args=(x, y), jac=True, method="BFGS", options={"gtol": 1e-9})
        ends.append(done.fun)
    ends = np.array(ends)
    bins = {
        f"dead: both ReLUs off on every row, loss {dead:.3f}": np.abs(ends - dead) < 1e-9,
        f"near the linear model's best ({floor:.4f}), within 0.005": np.abs(ends - floor) < 0.005,
        "below 0.140": ends < 0.140,
        "below 0.135": ends < 0.135,
    }
    print(f"{args.starts} starts (seed {args.seed}), BFGS on {len(y)} train rows", end="; ")
    print(f"lowest end {ends.min():.4f}\n")
    print("| where the run ends | starts | share |")
    print("|---|---:|---:|")
    for name, hit in bins.items():
        print(f"| {name} | {int(hit.sum())} | {hit.mean():.1%} |")
    other = ~(bins[next(iter(bins))] | (ends < floor + 0.005))
    print(f"| elsewhere (between, or above the linear best) | {int(other.sum())} | {other.mean():.1%} |")
    print("\nquantiles of the end loss:", np.round(np.quantile(ends, [0, 0.1, 0.25, 0.5, 0.75, 0.9, 1]), 4))


if __name__ == "__main__":
    main()
