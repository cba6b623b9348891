"""The comparison of every model by every training method, and the over-fitting sweep of bigger nets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
import torch

from ..limits import check_seed
from ..numerics import relu_sum, uniform_start
from .models import accuracy, inputs, mse, targets
from .split import SPLIT_SEED, VALID_PCT, validation_split
from .steps import Loss, lbfgs, relu_sum_gradient
from .train import Fit, Progress, check_count, fit


@dataclass(frozen=True)
class Run:
    """One training run of the comparison (:func:`compare`, the build, the summary sheet).

    ``model`` is what the comparison calls it (``sigmoid`` is ``linear`` squashed), ``method``
    how it was trained, ``fit`` the arguments of :func:`fit`, ``sheets`` the workbook sheets
    showing its parameters, ``curve`` the label of its loss curve on the summary chart
    (``{starts}`` is filled in), if it has one.
    """

    model: str
    method: str
    label: str
    fit: dict[str, object]
    sheets: tuple[str, ...] = ()
    curve: str | None = None


#: Every run of the comparison, in its order. The ``search`` run is :func:`fit`'s default for the
#: net; ``gd`` is the lesson's plain loop from one random start. (The previous default, gd from
#: 256 starts with Gauss-Newton and L-BFGS, is left out: on the train rows it stops in minima
#: 3e-5 apart depending on the CPU's rounding; bench/net_search.py compares it.)
RUNS: tuple[Run, ...] = (
    Run("linear", "lstsq", "linear (least squares)", {"model": "linear", "method": "lstsq"}),
    Run("linear", "lbfgs", "linear (L-BFGS)", {"model": "linear", "method": "lbfgs"}, ("linear",)),
    Run("linear", "gd", "linear (gradient descent)", {"model": "linear"}, curve="linear: gradient descent"),
    Run("nnet", "lbfgs", "nnet (L-BFGS, 1 start)", {"model": "nnet", "method": "lbfgs"}),
    Run(
        "nnet",
        "gd",
        "nnet (gradient descent, 1 start)",
        {"model": "nnet", "method": "gd", "epochs": 1000, "starts": 1, "gauss_newton": 0, "polish": 0},
        curve="nnet: gradient descent, 1 start",
    ),
    Run(
        "nnet",
        "search",
        "nnet ({starts} starts, Gauss-Newton, exact minima, hops)",
        {"model": "nnet"},
        ("nnet", "mmult"),
        curve="nnet: best of {starts} starts (Gauss-Newton steps, then the exact minimum)",
    ),
    Run(
        "sigmoid",
        "lbfgs",
        "sigmoid (L-BFGS)",
        {"model": "linear", "method": "lbfgs", "sigmoid": True},
        ("sigmoid",),
    ),
)


def run(what: Run, table: pd.DataFrame, *, seed: int = 0, starts: int | None = None,
        progress: Progress | None = None) -> Fit:  # fmt: skip
    """Fit one comparison run; ``starts`` replaces the default of the net's many-start runs."""
    kwargs = dict(what.fit)
    if what.method == "search" and starts is not None:
        kwargs["starts"] = starts
    return fit(kwargs.pop("model"), table, seed=seed, progress=progress, **kwargs)


def compare(
    table: pd.DataFrame,
    *,
    seed: int = 0,
    starts: int | None = None,
    valid_pct: float = VALID_PCT,
    split_seed: int = SPLIT_SEED,
) -> pd.DataFrame:
    """Every run of :data:`RUNS` side by side: fitted on the train rows, scored on the valid rows.

    Args:
        table: a lesson table, split by :func:`~workbench.titanic.split.validation_split`
            (``valid_pct``, ``split_seed``: the course notebook's 20%, seed 42).
        seed: seeds every random start.
        starts: random starts of the net's many-start runs (default: the net's recipe);
            fewer is faster and usually worse.

    Returns:
        Columns ``model, method, starts, epochs, train_loss, valid_loss, train_accuracy,
        valid_accuracy, vs_linear_floor, seconds`` (see :func:`comparison`).
    """
    train_rows, valid_rows = validation_split(table, valid_pct, split_seed)
    fits = [run(r, train_rows, seed=seed, starts=starts) for r in RUNS]
    frame = comparison(RUNS, fits, valid_rows)
    frame["seconds"] = [f.seconds for f in fits]
    return frame


#: How a comparison's numbers are printed (``DataFrame.to_string(formatters=...)``).
FORMATS: dict[str, Callable[[float], str]] = {
    "train_loss": "{:.6f}".format,
    "valid_loss": "{:.6f}".format,
    "train_accuracy": "{:.2%}".format,
    "valid_accuracy": "{:.2%}".format,
    "vs_linear_floor": "{:+.2e}".format,
    "seconds": "{:.2f}".format,
}


def comparison(runs: Sequence[Run], fits: Sequence[Fit], valid: pd.DataFrame) -> pd.DataFrame:
    """The runs as a table: ``model, method, starts, epochs, iterations, train_loss, valid_loss,
    train_accuracy, valid_accuracy, vs_linear_floor``.

    Each fit's own loss and accuracy are its train numbers (the table it was fitted on);
    ``valid`` are the rows held out. ``epochs`` counts gd epochs, ``iterations`` L-BFGS
    iterations (method ``lbfgs``, or gd's polish). ``vs_linear_floor`` is the train loss
    minus the least-squares floor of ``linear`` (the ``lstsq`` run): the net's is negative,
    since it goes below what a linear model can reach.
    """
    floor = next(f.loss for r, f in zip(runs, fits, strict=True) if r.method == "lstsq")
    rows = []
    for r, f in zip(runs, fits, strict=True):
        on_valid = (f.model, f.params, valid)
        rows.append({"model": r.model, "method": r.method, "starts": f.starts, "epochs": f.epochs,
                     "iterations": f.iterations,
                     "train_loss": f.loss, "valid_loss": mse(*on_valid, sigmoid=f.sigmoid),
                     "train_accuracy": f.accuracy, "valid_accuracy": accuracy(*on_valid, sigmoid=f.sigmoid),
                     "vs_linear_floor": f.loss - floor})  # fmt: skip
    return pd.DataFrame(rows)


#: :func:`more_units`: how many ReLUs each net sums, the best of how many L-BFGS starts, and
#: its iterations per start (enough to show the trend; the widest nets are not yet at a minimum).
UNITS = (1, 2, 4, 8, 16, 32)
UNITS_STARTS, UNITS_ITERATIONS = 3, 200
#: How far each split ReLU is moved apart (times a RAND()-0.5 draw), so the parts can part ways.
NUDGE = 0.1


def more_units(
    train: pd.DataFrame,
    valid: pd.DataFrame,
    *,
    units: Sequence[int] = UNITS,
    seed: int = 0,
    starts: int = UNITS_STARTS,
    iterations: int = UNITS_ITERATIONS,
    net: np.ndarray | None = None,
) -> pd.DataFrame:
    """Over-fitting made visible: the ``nnet`` sheet's model with more ReLUs, fitted on ``train``.

    Each net sums ``u`` ReLUs of linear units (``nnet`` is ``u = 2``), fitted by L-BFGS from
    ``starts`` random starts (``RAND()-0.5``, seeded), and from the net before it with each ReLU
    split in equal parts (the same predictions: a net is never fitted worse than a smaller one);
    the lowest train loss wins, so the choice never looks at ``valid``. ``net``: the ``nnet``
    sheet's parameters, which compete for the 2-ReLU row, so the sweep is fitted at least as
    well as the sheet. More ReLUs fit the train rows ever closer; whether the valid loss
    follows, the numbers say.

    Returns:
        Columns ``units, parameters, train_loss, valid_loss, valid_margin, train_accuracy,
        valid_accuracy`` (``valid_margin``: :func:`valid_margin`).
    """
    check_seed(seed)
    check_count("starts", starts, 1)
    check_count("iterations", iterations, 1)
    for u in units:
        check_count("units", u, 1)
    x, y, xv, yv = inputs(train), targets(train), inputs(valid), targets(valid)
    loss_fn: Loss = lambda w: ((relu_sum(w, x) - y) ** 2).mean(-1)
    gradient = relu_sum_gradient(x, y)
    rows, before, errors = [], None, []
    for u in units:
        begins = torch.from_numpy(uniform_start((starts, u, x.shape[1]), seed))
        found = [lbfgs(loss_fn, w, iterations, finish=False, gradient=gradient) for w in begins]
        if net is not None and np.shape(net) == (u, x.shape[1]):
            given = torch.as_tensor(np.asarray(net, dtype="float64"))
            found.append((given, [loss_fn(given).item()], 0))
        if before is not None and u % len(before) == 0:
            split = (before / (u // len(before))).repeat(u // len(before), 1)
            nudge = torch.from_numpy(uniform_start((u, x.shape[1]), seed + u)) * NUDGE
            found += [
                (split, [loss_fn(split).item()], 0),
                lbfgs(loss_fn, split + nudge, iterations, finish=False, gradient=gradient),
            ]
        w = min(found, key=lambda f: f[1][-1])[0]
        before = w
        row = {"units": u, "parameters": w.numel()}
        with torch.no_grad():
            for name, (xs, ys) in (("train", (x, y)), ("valid", (xv, yv))):
                preds = relu_sum(w, xs)
                squared = (preds - ys) ** 2
                row[f"{name}_loss"] = squared.mean().item()
                row[f"{name}_accuracy"] = ((preds > 0.5) == (ys == 1)).double().mean().item()
            errors.append(squared.numpy())  # the valid rows': the loop's last
        rows.append(row)
    frame = pd.DataFrame(rows)
    frame["valid_margin"] = valid_margin(np.stack(errors))
    return frame[["units", "parameters", "train_loss", "valid_loss", "valid_margin", "train_accuracy",
                  "valid_accuracy"]]  # fmt: skip


def valid_margin(errors: np.ndarray) -> np.ndarray:
    """How far above the lowest valid loss each net's may lie and still be as low, as far as the
    valid rows can tell: twice the standard error of the difference, row by row, between its
    squared errors and the lowest net's (0 for that net). ``errors``: (nets, valid rows).

    Another draw of valid rows would move each difference by about a standard error; one under
    two of them is within what the draw alone could make.
    """
    best = int(np.argmin(errors.mean(1)))
    differences = errors - errors[best]
    return 2 * differences.std(axis=1, ddof=1) / np.sqrt(errors.shape[1])
