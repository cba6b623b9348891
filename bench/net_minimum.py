"""Issue 18, goal 1: is the default search's minimum of the net the global one? The evidence.

No proof: the net's loss has a minimum on each of astronomically many activation
patterns. What this script measures, from the minimum ``fit("nnet")`` returns:

* **every single crossing**: each of the 712 rows pushed just across each ReLU's kink
  (1,424 starting points), each followed by 20 Gauss-Newton steps and the exact finish
  (:func:`workbench.titanic.patterns.exact_minimum`): how many end lower;
* **pairs of crossings**: the 30 rows nearest each kink, every pair of them pushed at
  once (1,770 starting points), likewise;
* **many starts**: ``--starts`` random starts (default 4,096), 20 Gauss-Newton steps,
  the 64 best finished exactly: the distinct minima they reach, lowest first.

Run from the repository root::

    .venv/bin/python bench/net_minimum.py
    .venv/bin/python bench/net_minimum.py --quick   # seconds: from a short gd fit, 4 rows, 3 near each
                                                    # kink, 8 starts (CI runs it)
"""

from __future__ import annotations

import argparse
import itertools
import time

import numpy as np
import torch
from common import machine, quick_options, show, table

import workbench as wb
from workbench.numerics import one_thread
from workbench.titanic import patterns
from workbench.titanic.models import inputs, targets
from workbench.titanic.steps import gauss_newton_steps
from workbench.titanic.train import start_params


def finish_all(starts: np.ndarray, x: torch.Tensor, y: torch.Tensor) -> np.ndarray:
    """The exact minimum's loss reached from each start (Gauss-Newton, then the exact finish)."""
    found, _ = gauss_newton_steps("nnet", torch.from_numpy(starts), x, y, False, 20)
    xs, ys = x.numpy(), y.numpy()
    return np.array([patterns.loss(patterns.exact_minimum(w.numpy(), xs, ys), xs, ys) for w in found])


def pushed(w: np.ndarray, x: np.ndarray, unit: int, row: int, by: float = 1e-3) -> np.ndarray:
    margin = x[row] @ w[unit]
    v = w.copy()
    v[unit] += ((-by if margin > 0 else by) - margin) / (x[row] @ x[row]) * x[row]
    return v


def crossings(
    best: np.ndarray, x: torch.Tensor, y: torch.Tensor, rows: int | None = None, nearest: int = 30
) -> list[dict[str, object]]:
    """From ``best``: each of the first ``rows`` rows (all by default) across each kink, then
    every pair of the ``nearest`` rows to each kink."""
    xs = x.numpy()
    singles = [(k, i) for k in range(2) for i in range(len(xs) if rows is None else rows)]
    margins = np.abs(best @ xs.T)
    near = [(k, int(i)) for k in range(2) for i in np.argsort(margins[k], kind="stable")[:nearest]]
    rows = []
    for name, moves in (
        ("every row across each kink", [[m] for m in singles]),
        (
            f"pairs of the {nearest} rows nearest each kink",
            [list(p) for p in itertools.combinations(near, 2)],
        ),
    ):
        began = time.perf_counter()
        starts = []
        for move in moves:
            w = best
            for k, i in move:
                w = pushed(w, xs, k, i)
            starts.append(w)
        chunks = np.array_split(np.stack(starts), min(16, len(starts)))
        ends = np.concatenate([finish_all(np.stack(c), x, y) for c in chunks])
        lowest = patterns.loss(best, xs, y.numpy())
        rows.append({
            "from the default's minimum": name, "starting points": len(moves),
            "lowest end": f"{ends.min():.13f}", "ends lower (by > 1e-12)": int((ends < lowest - 1e-12).sum()),
            "seconds": round(time.perf_counter() - began, 1),
        })  # fmt: skip
    return rows


def many_starts(count: int, x: torch.Tensor, y: torch.Tensor) -> list[dict[str, object]]:
    found, steps = gauss_newton_steps(
        "nnet", torch.from_numpy(start_params("nnet", 0, count)), x, y, False, 20
    )
    xs, ys = x.numpy(), y.numpy()
    kept = min(64, count)
    best = np.argsort(steps[-1].numpy(), kind="stable")[:kept]
    ends = [patterns.loss(patterns.exact_minimum(found[k].numpy(), xs, ys), xs, ys) for k in best]
    values, counts = np.unique(np.round(ends, 11), return_counts=True)
    return [
        {"minimum (MSE)": f"{v:.11f}", f"of the {kept} best starts": int(c)}
        for v, c in zip(values, counts, strict=True)
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--starts", type=int, default=4096, help="random starts of the many-start check")
    parser.add_argument(
        "--quick",
        action="store_true",
        help="seconds: from a short gd fit, 4 rows, 3 near each kink, 8 starts",
    )
    args = parser.parse_args()
    rows, nearest = (4, 3) if args.quick else (None, 30)
    if args.quick:
        args.starts = 8
    if not args.quick:  # run_all.py prints it once
        show(table([machine()], title="machine"))
    t = wb.lesson_table(wb.load_titanic())
    x, y = inputs(t), targets(t)
    with one_thread():
        short = quick_options("nnet", {"method": "gd"}) if args.quick else {}
        fitted = wb.fit("nnet", t, seed=0, **short)
        show(
            f"fit('nnet', seed=0, **{short}): MSE {fitted.loss!r} after {fitted.hops} hop(s),"
            f" {fitted.seconds:.2f} s\n"
        )
        show(
            table(
                crossings(fitted.params, x, y, rows, nearest),
                title="crossing kinks from the default's minimum",
            )
        )
        show(
            table(
                many_starts(args.starts, x, y)[:8],
                title=f"{args.starts:,} random starts, the {min(64, args.starts)} best finished",
            )
        )


if __name__ == "__main__":
    main()
