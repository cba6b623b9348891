"""Issue 7, item 2: K random starts of ``nnet`` trained at once, against a Python loop over them.

For K = 1, 16, 256 and 4096 starts (the lesson's ``RAND()-0.5``, seed 0), the same
gradient descent (:func:`workbench.gd.gradient_descent`, lr 0.1, ``--epochs`` epochs):

* **batched**: one call with a (K, 2, 10) tensor, as :func:`workbench.fit` runs it, on
  one torch thread (fit's policy) and on two;
* **loop**: one call per start, in a Python loop (for K = 4096 the first
  ``--loop-cap`` starts are looped and the rate is per start, so the loop's cost is
  measured, not guessed);

reported as start-epochs per CPU second (the fastest of ``--repeat`` runs: the machine
is shared, and CPU time does not count the waits for another process), the
batched/loop speed-up per start (the issue asks for >= 20x at K = 256), the same
rates in wall time, and the largest difference between the batched and the looped
parameters (the same numbers, up to rounding). A second table shows what more
starts buy: the best loss after gd alone, and after ``fit("nnet", starts=K)`` with the
other defaults (Gauss-Newton steps, L-BFGS finish).

Run from the repository root::

    .venv/bin/python bench/batched_starts.py
    .venv/bin/python bench/batched_starts.py --sizes 256 --repeat 5
    .venv/bin/python bench/batched_starts.py --quick    # seconds: K = 1 and 16, a few epochs (CI runs it)
"""

from __future__ import annotations

import argparse
import time

import torch
from common import quick_options, show, table

import workbench as wb
from workbench.gd import gradient_descent
from workbench.titanic.models import forward, inputs, one_thread, targets

SIZES = (1, 16, 256, 4096)


def descend(loss, starts: torch.Tensor, epochs: int) -> tuple[torch.Tensor, float, float]:
    """Gradient descent from ``starts``; the parameters, CPU seconds and wall seconds."""
    cpu, wall = time.process_time(), time.perf_counter()
    params, _ = gradient_descent(loss, starts, lr=wb.MODELS["nnet"].recipe.lr, epochs=epochs)
    return params, time.process_time() - cpu, time.perf_counter() - wall


def best_of(repeat: int, run) -> tuple[torch.Tensor, float, float]:
    """The fastest of ``repeat`` runs (CPU seconds), as timeit advises on a busy machine."""
    runs = [run() for _ in range(repeat)]
    return min(runs, key=lambda r: r[1])


def speed(loss, sizes: list[int], epochs: int, loop_cap: int, repeat: int) -> str:
    rows = []
    for k in sizes:
        starts = torch.from_numpy(wb.start_params("nnet", 0, k))
        looped = starts[: min(k, loop_cap)]
        n = len(looped)

        def loop(looped: torch.Tensor = looped) -> tuple[torch.Tensor, float, float]:
            runs = [descend(loss, start, epochs) for start in looped]
            return torch.stack([r[0] for r in runs]), sum(r[1] for r in runs), sum(r[2] for r in runs)

        def batch(starts: torch.Tensor = starts) -> tuple[torch.Tensor, float, float]:
            return descend(loss, starts, epochs)

        with one_thread():
            batched, batched_cpu, batched_wall = best_of(repeat, batch)
            loop_params, loop_cpu, loop_wall = best_of(repeat, loop)
        before = torch.get_num_threads()
        torch.set_num_threads(2)
        try:
            two, _, two_wall = best_of(repeat, batch)
        finally:
            torch.set_num_threads(before)
        batched_rate, loop_rate = k * epochs / batched_cpu, n * epochs / loop_cpu
        rows.append({
            "K": k,
            "batched cpu s": f"{batched_cpu:.3f}",
            "batched start-epochs/s": round(batched_rate),
            "loop cpu s": f"{loop_cpu:.3f}" + ("" if n == k else f" ({n} starts)"),
            "loop start-epochs/s": round(loop_rate),
            "speed-up per start": f"{batched_rate / loop_rate:.1f}x",
            "wall: batched, loop": f"{k * epochs / batched_wall:,.0f}, {n * epochs / loop_wall:,.0f}",
            "wall, 2 threads": f"{k * epochs / two_wall:,.0f}",
            "max |batched - loop|": f"{(batched[:n] - loop_params).abs().max().item():.1e}",
            "2 threads same bits": bool(torch.equal(two, batched)),
        })  # fmt: skip
    title = (
        f"gd on nnet, {epochs} epochs, lr {wb.MODELS['nnet'].recipe.lr}: batched vs a Python loop"
        f" (start-epochs per CPU second, one thread, best of {repeat})"
    )
    return table(rows, title=title)


def quality(loss, sizes: list[int], epochs: int, quick: bool) -> str:
    rows = []
    for k in sizes:
        starts = torch.from_numpy(wb.start_params("nnet", 0, k))
        with one_thread():
            params, _, seconds = descend(loss, starts, epochs)
            gd_best = loss(params).min().item()
        options = {"method": "gd", "starts": k, "polish": min(wb.MODELS["nnet"].recipe.polish, k)}
        if quick:
            options = {**quick_options("nnet", options), "starts": k}
        fitted = wb.fit("nnet", wb.lesson_table(), seed=0, **options)
        rows.append({
            "K": k,
            f"best after gd ({epochs} epochs)": f"{gd_best:.6f}",
            "gd s": f"{seconds:.2f}",
            "best after fit (defaults)": f"{fitted.loss:.6f}",
            "fit s": f"{fitted.seconds:.2f}",
            "starts <= 0.130 after GN": int((fitted.final_losses <= 0.130).sum()),
        })  # fmt: skip
    d = wb.MODELS["nnet"].recipe
    note = (
        f"\nfit: {d.epochs} epochs of gd, {d.gauss_newton} Gauss-Newton steps of every start,"
        f" the {d.polish} best finished by L-BFGS. Seconds are wall time.\n"
    )
    return table(rows, title="Best loss found vs K (seed 0)") + note


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--epochs", type=int, default=wb.MODELS["nnet"].recipe.epochs, help="gd epochs (default: fit's)"
    )
    parser.add_argument("--loop-cap", type=int, default=64, help="loop over at most this many starts")
    parser.add_argument("--repeat", type=int, default=3, help="time each the fastest of this many runs")
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="numbers of starts K, e.g. 256")
    parser.add_argument("--quick", action="store_true", help="seconds: K = 1 and 16, 10 epochs, one run")
    args = parser.parse_args()
    if args.quick:
        args.sizes, args.epochs, args.repeat, args.loop_cap = "1,16", 10, 1, 4
    lesson = wb.lesson_table()
    x, y = inputs(lesson), targets(lesson)
    loss = lambda w: ((forward("nnet", w, x) - y) ** 2).mean(-1)  # the lesson's MSE, one per start
    sizes = [int(k) for k in args.sizes.split(",")]
    show(speed(loss, sizes, args.epochs, args.loop_cap, args.repeat))
    show(quality(loss, sizes, args.epochs, args.quick))


if __name__ == "__main__":
    main()
