"""Fit the lesson's models to a :class:`Prepared` table, on its train rows only (a workbook's numbers).

:func:`fit_prepared` fits what a table's workbook shows, from the table alone (it reads no
file), on the rows :func:`~workbench.titanic.split.valid_mask` leaves for training (80%,
seed 42, as the course notebook):

* ``linear``: the least-squares optimum (its floor: no fit of the sheet goes below it);
* ``nnet``: two ReLUs of linear units, added up: random starts (the lesson's
  ``RAND()-0.5``), Gauss-Newton steps of every start, an L-BFGS finish of the best;
* ``sigmoid`` (a 0/1 target only): the linear model squashed into 0..1, by L-BFGS.

The ``mmult`` sheet shows ``nnet``'s parameters transposed, as the lesson copies them.
"""

from __future__ import annotations

import numpy as np
import torch

from ..errors import WorkbenchError
from ..limits import check_memory, check_seed
from ..numerics import DTYPE, least_squares, linear, one_thread, relu_sum, uniform_start
from ..titanic.split import valid_mask
from ..titanic.steps import LBFGS_ITERATIONS, gauss_newton_steps, gn_chunk, lbfgs
from ..titanic.submission import Params
from .recipe import Prepared

#: The net's random starts: as many as fit a budget of rows x inputs x starts, between 8 and 64
#: (more starts find lower minima; on the lesson's 570 train rows 64 reach MSE 0.1342, 8 0.1357);
#: and the Gauss-Newton steps each takes before the best is finished by L-BFGS.
NET_BUDGET, NET_STARTS, NET_STEPS = 2_000_000, (8, 64), 10

#: What a fit holds beyond Python's and torch's own: copies of each Jacobian and of the inputs,
#: and numbers per start and row (its predictions, ReLUs and losses), measured with margin
#: (bench/tabular_build.py: 92,233 rows x 34 features take about 120 MB; this says 226 MB).
FIT_COPIES, FIT_PER_START = 3, 12


def net_starts(rows: int, inputs: int) -> int:
    """The net's random starts for ``rows`` train rows of ``inputs`` inputs (:data:`NET_BUDGET`)."""
    low, high = NET_STARTS
    return min(high, max(low, NET_BUDGET // max(1, rows * inputs)))


def fit_memory(rows: int, inputs: int) -> int:
    """About how many bytes :func:`fit_prepared` needs: the train rows' inputs (a few copies),
    Gauss-Newton's Jacobians (rows x 2 inputs, float64, for :func:`~workbench.titanic.steps.gn_chunk`
    starts at a time) and their working copies, and every start's predictions."""
    starts, size = net_starts(rows, inputs), 2 * inputs
    at_once = min(starts, gn_chunk(rows, size))
    return 8 * rows * (FIT_COPIES * (at_once * size + inputs) + FIT_PER_START * starts)


def fit_prepared(prep: Prepared, *, seed: int = 0, valid: np.ndarray | None = None) -> dict[str, Params]:
    """The fits of ``prep``'s model sheets, by sheet: ``linear``, ``nnet``, and ``sigmoid`` for a 0/1 target.

    Args:
        prep: a table from :func:`~workbench.tabular.prepare`.
        seed: seeds every random start.
        valid: ``True`` for the validation rows (never fitted on); by default ``prep.valid``,
            the rows the recipe's statistics left out (:func:`~workbench.titanic.split.valid_mask`
            of the table's rows: 20%, seed 42).
    """
    if not isinstance(prep, Prepared):
        raise WorkbenchError(f"fit_prepared takes a Prepared table (prepare()); got {type(prep).__name__}")
    check_seed(seed)
    n = len(prep.table)
    default = valid_mask(n) if prep.valid is None else prep.valid
    valid = default if valid is None else np.asarray(valid, dtype=bool)
    if valid.shape != (n,) or valid.all():
        raise WorkbenchError(
            f"valid: one True or False per row of the table ({n}), some False; got {valid.shape}"
        )
    rows, inputs = int((~valid).sum()), len(prep.features)
    check_memory(fit_memory(rows, inputs), f"fitting {rows:,} rows x {inputs} inputs", "the number of rows")
    x = torch.tensor(prep.X[~valid], dtype=DTYPE)
    y = torch.tensor(prep.y[~valid], dtype=DTYPE)
    with one_thread():
        fits = {"linear": _linear(x, y), "nnet": _net(x, y, seed)}
        if prep.target.kind == "binary":
            fits["sigmoid"] = _sigmoid(x, y, seed)
    return fits


def predict(fit: Params, x: np.ndarray) -> np.ndarray:
    """``fit``'s predictions for the rows of ``x`` (``Prepared.X`` or some of its rows)."""
    # torch.tensor copies: Prepared.X is read-only, which torch.as_tensor would warn about.
    w, x = torch.tensor(fit.params, dtype=DTYPE), torch.tensor(np.asarray(x, dtype="float64"), dtype=DTYPE)
    with torch.no_grad():
        out = relu_sum(w, x) if fit.model == "nnet" else linear(w, x)
        return (torch.sigmoid(out) if fit.sigmoid else out).numpy()


def _mse(forward, x: torch.Tensor, y: torch.Tensor):
    return lambda w: ((forward(w, x) - y) ** 2).mean(-1)


def _linear(x: torch.Tensor, y: torch.Tensor) -> Params:
    w = least_squares(x.numpy(), y.numpy())
    loss = float(np.mean((x.numpy() @ w - y.numpy()) ** 2))
    return Params(w, None, "linear", method="lstsq", train_loss=loss)


def _net(x: torch.Tensor, y: torch.Tensor, seed: int) -> Params:
    begins = torch.from_numpy(uniform_start((net_starts(*x.shape), 2, x.shape[1]), seed))
    found, losses = gauss_newton_steps("nnet", begins, x, y, False, NET_STEPS)
    best = int(torch.argmin(losses[-1]))
    loss_fn = _mse(relu_sum, x, y)
    params, history, _ = lbfgs(loss_fn, found[best], LBFGS_ITERATIONS)
    start = begins[best].numpy()
    return Params(params.numpy(), start, "nnet", method="gauss-newton, lbfgs", train_loss=history[-1])


def _sigmoid(x: torch.Tensor, y: torch.Tensor, seed: int) -> Params:
    start = torch.from_numpy(uniform_start((x.shape[1],), seed))
    loss_fn = _mse(lambda w, x: torch.sigmoid(linear(w, x)), x, y)
    params, history, _ = lbfgs(loss_fn, start, LBFGS_ITERATIONS)
    return Params(params.numpy(), start.numpy(), "linear", True, method="lbfgs", train_loss=history[-1])
