"""The numerical kernels both the Titanic models and the small regressions run on.

Two predictors of a design matrix ``x`` (n, P), each with an optional leading batch
dimension K on its parameters (K random starts evaluated at once):

* :func:`linear`: ``x @ w``, ``w`` of shape (P,);
* :func:`relu_sum`: ``sum_k relu(x @ w_k)``, ``w`` of shape (units, P): the lesson's
  "neural net" (two units on Titanic, any number in the regressions).

Each has its Jacobian (how every prediction moves with every parameter), which
Gauss-Newton needs. Everything is float64, so numbers match a spreadsheet's doubles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import scipy.linalg
import torch
from threadpoolctl import threadpool_limits

DTYPE = torch.float64

# Each step of a forward pass as the spreadsheet writes it: templates the workbook writers
# fill with cell references. They compute what the functions below compute.
PREDICT_EXCEL = "=SUMPRODUCT({inputs},{params})"  # one linear unit: x @ w
MMULT_EXCEL = "=MMULT({inputs},{params})"  # every row's linear units at once: x @ W
RELU_EXCEL = "=IF({lin}<0,0,{lin})"  # torch.relu
SIGMOID_EXCEL = "=1/(1+EXP(-{z}))"  # torch.sigmoid
# The same for any z. 1/(1+EXP(-z)) is #NUM! in spreadsheets once EXP(-z) overflows (z < -709), and
# LibreOffice calls a power that underflows #NUM! as well, so the loss (Preds-y)^2 of a Preds below
# 1e-154 fails too. z is clamped to -300..300, where the sigmoid is already within 1e-130 of 0 or 1:
# no value moves by more than that, and no EXP or square leaves the doubles.
STABLE_SIGMOID_EXCEL = "=1/(1+EXP(-MAX(-300,MIN({z},300))))"
LOSS_EXCEL = "=({pred}-{target})^2"  # one row's squared error
MSE_EXCEL = "=AVERAGE({losses})"  # mean squared error


def linear(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``x @ w`` for every row: shape (..., n)."""
    return w @ x.T


def relu_sum(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``sum_k relu(x @ w_k)`` for every row: shape (..., n), ``w`` of shape (..., units, P)."""
    return torch.relu(w @ x.T).sum(-2)  # (..., units, n) -> (..., n)


def linear_jacobian(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """d prediction / d w: ``x`` itself, shape (..., n, P)."""
    return x.expand(*w.shape[:-1], *x.shape)


def relu_sum_jacobian(w: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """d prediction / d w, shape (..., n, units, P): ``x`` on the rows where unit k is active, else 0.

    The slope at the kink is 0, as torch's relu has it.
    """
    active = (w @ x.T > 0).to(x.dtype)  # (..., units, n)
    return (active[..., None] * x).transpose(-3, -2)


#: The predictors by name, as :class:`workbench.regression.Trajectory` records its ``kind``.
KERNELS = {"linear": linear, "relu_sum": relu_sum}


def least_squares(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """The parameters ``w`` that make ``mean((x @ w - y) ** 2)`` smallest (the smallest such ``w``).

    Singular values below ``max(x.shape) * eps`` of the largest are rounding noise, not the
    data's (numpy's cutoff): a near-tie of columns then gives no weights of 1e17.
    """
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    return scipy.linalg.lstsq(x, y, cond=max(x.shape) * np.finfo("float64").eps)[0]


def least_squares_floor(x: np.ndarray, y: np.ndarray) -> float:
    """The lowest mean squared error any linear parameters reach on ``x``, ``y``."""
    x, y = np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64")
    return float(np.mean((x @ least_squares(x, y) - y) ** 2))


def uniform_start(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """The lesson's ``RAND()-0.5``, seeded: uniform on [-0.5, 0.5) from a ``torch.Generator``.

    Every random start in workbench comes from here, so one seed gives the same
    numbers in the Titanic fits, the regressions and the descent sheets.
    """
    generator = torch.Generator().manual_seed(int(seed))
    return (torch.rand(shape, generator=generator, dtype=DTYPE) - 0.5).numpy()


@contextmanager
def one_thread() -> Iterator[None]:
    """Run torch, and the BLAS under numpy and scipy, on one thread inside the block.

    Small tensors and many tiny calls (L-BFGS steps, the regressions' 20-point fits)
    gain nothing from threads, and on a shared 2-core machine the thread pools of torch
    and scipy spinning beside another busy process made them many times slower
    (``bench/`` measures it). The numbers are the same with one thread or more.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)
