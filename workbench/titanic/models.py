"""The lesson's three models, in torch, with each step's Excel formula beside it.

All three read the 10 inputs of :data:`~workbench.titanic.features.FEATURES` (the last
one is ``Ones``, so the last parameter is the intercept) and predict ``Survived``:

* ``linear``: ``X @ w``, ``w`` of shape (10,). On the sheet, ``=SUMPRODUCT(inputs, params)``.
* ``nnet``: two parameter rows ``W`` of shape (2, 10); ``relu(X @ W[0]) + relu(X @ W[1])``.
  No output weights, no sigmoid: exactly the lesson's "neural net".
* ``mmult``: the same net as one matrix product: ``W`` of shape (10, 2),
  ``relu(X @ W).sum(1)``; on the sheet, one ``=MMULT(inputs, params)`` array.
  ``nnet`` with ``W`` and ``mmult`` with ``W.T`` give identical predictions.

``sigmoid=True`` squashes any model's output into 0..1 (the lesson's "wouldn't
it be cool to keep predictions between 0 and 1?").

Everything is float64, so numbers match a spreadsheet's doubles.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Literal

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike
from threadpoolctl import threadpool_limits

from ..errors import WorkbenchError
from .features import FEATURES

Model = Literal["linear", "nnet", "mmult"]
MODELS: tuple[str, ...] = ("linear", "nnet", "mmult")
DTYPE = torch.float64

# The sheet's formulas for each step of the forward pass, as templates the workbook
# writer fills with cell references. They compute what forward() computes.
PREDICT_EXCEL = "=SUMPRODUCT({inputs},{params})"  # one linear unit: X @ w
MMULT_EXCEL = "=MMULT({inputs},{params})"  # every row's linear units at once: X @ W
RELU_EXCEL = "=IF({lin}<0,0,{lin})"  # torch.relu
SIGMOID_EXCEL = "=1/(1+EXP(-{z}))"  # torch.sigmoid
LOSS_EXCEL = "=({pred}-{target})^2"  # one row's squared error
MSE_EXCEL = "=AVERAGE({losses})"  # mean squared error
# ((...)=(...))*1 turns TRUE/FALSE into 1/0: the double minus --(...) does that in Excel, LibreOffice
# and Gnumeric, but the formulas package evaluates it to 0.
ACCURACY_EXCEL = "=SUMPRODUCT((({preds}>0.5)=({targets}=1))*1)/ROWS({targets})"


def param_shape(model: str) -> tuple[int, ...]:
    """The shape of one model's parameters: (10,), (2, 10) or (10, 2)."""
    n = len(FEATURES)
    shapes = {"linear": (n,), "nnet": (2, n), "mmult": (n, 2)}
    if model not in shapes:
        raise WorkbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    return shapes[model]


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
    gain nothing from threads; with torch's and scipy's thread pools both spinning on
    2 cores, each call was 25x slower, and scipy's L-BFGS 5-8x slower beside any other
    busy process. The numbers are the same with one thread or more.
    """
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        with threadpool_limits(limits=1, user_api="blas"):
            yield
    finally:
        torch.set_num_threads(before)


def forward(model: str, params: torch.Tensor, x: torch.Tensor, *, sigmoid: bool = False) -> torch.Tensor:
    """Predictions for the rows of ``x`` (n, 10).

    ``params`` has the model's shape, or a leading batch dimension K (K parameter
    sets evaluated at once, as batched random starts need). Returns shape (n,) or
    (K, n).
    """
    if model == "linear":
        out = params @ x.T  # (..., n)
    elif model == "nnet":
        out = torch.relu(params @ x.T).sum(-2)  # (..., 2, n) -> (..., n)
    elif model == "mmult":
        # X @ W, computed as (W.T @ X.T).T on a contiguous copy of W.T: a matrix product
        # written the other way round (or on a strided view) takes another BLAS kernel that
        # rounds differently. This way mmult runs nnet's very float operations, so the two
        # give identical predictions and gradients, to the last bit.
        out = torch.relu(params.transpose(-1, -2).contiguous() @ x.T).sum(-2)  # (..., 2, n) -> (..., n)
    else:
        param_shape(model)  # raises the clear error
    return torch.sigmoid(out) if sigmoid else out


def jacobian(model: str, params: torch.Tensor, x: torch.Tensor, *, sigmoid: bool = False) -> torch.Tensor:
    """How each prediction moves with each parameter: shape (..., n, P), P = ``params[0].numel()``.

    Column ``p`` is the derivative of every row's prediction with respect to the
    ``p``-th parameter (row-major order, as ``params.reshape(K, -1)``). Without a
    sigmoid the models are linear in their parameters on each ReLU's active rows, so
    this is ``x`` for ``linear``, and ``x`` on the rows where that ReLU is active (zero
    elsewhere) for each ReLU of the net. Gauss-Newton needs this matrix; autograd
    gives only its product with one vector per backward pass.
    """
    if model == "linear":
        jac = x.expand(*params.shape[:-1], *x.shape)  # (..., n, 10)
    elif model in ("nnet", "mmult"):
        w = params if model == "nnet" else params.transpose(-1, -2)
        active = (w @ x.T > 0).to(x.dtype)  # (..., 2, n): relu's slope, 0 at the kink as torch's
        jac = (active[..., None] * x).transpose(-3, -2)  # (..., n, 2, 10)
        if model == "mmult":
            jac = jac.transpose(-1, -2)  # (..., n, 10, 2): mmult's parameter layout
        jac = jac.reshape(*jac.shape[:-2], -1)
    else:
        raise WorkbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    if sigmoid:
        s = torch.sigmoid(forward(model, params, x))
        jac = (s * (1 - s))[..., None] * jac
    return jac


def inputs(table: pd.DataFrame) -> torch.Tensor:
    """The (n, 10) float64 input matrix of a feature table."""
    missing = [f for f in FEATURES if f not in table]
    if missing:
        raise WorkbenchError(
            f"the table has no column {missing[0]!r}; build it with lesson_table() or prediction_table()"
        )
    return torch.tensor(table[list(FEATURES)].to_numpy(dtype="float64"), dtype=DTYPE)


def targets(table: pd.DataFrame) -> torch.Tensor:
    """The (n,) float64 ``Survived`` column of a feature table."""
    if "Survived" not in table:
        raise WorkbenchError("the table has no 'Survived' column, so there is nothing to score against")
    return torch.tensor(table["Survived"].to_numpy(dtype="float64"), dtype=DTYPE)


def as_params(model: str, params: ArrayLike | torch.Tensor) -> torch.Tensor:
    """Parameters as a float64 tensor of the model's shape (a clear error otherwise)."""
    shape = param_shape(model)
    # Contiguous, so a transposed array (e.g. nnet params passed as mmult's .T) takes the
    # same BLAS kernel, and rounds the same, as a fresh one.
    t = torch.as_tensor(np.ascontiguousarray(params, dtype="float64"), dtype=DTYPE)
    if tuple(t.shape) != shape:
        raise WorkbenchError(f"{model} needs parameters of shape {shape}; got {tuple(t.shape)}")
    if not torch.isfinite(t).all():
        raise WorkbenchError(f"{model} parameters must be finite numbers; got {t.tolist()}")
    return t


def predict(model: str, params: ArrayLike, table: pd.DataFrame, *, sigmoid: bool = False) -> np.ndarray:
    """Each row's prediction, as a float64 numpy array."""
    with torch.no_grad():
        return forward(model, as_params(model, params), inputs(table), sigmoid=sigmoid).numpy()


def mse(model: str, params: ArrayLike, table: pd.DataFrame, *, sigmoid: bool = False) -> float:
    """Mean squared error of the predictions against ``Survived``: the lesson's loss."""
    y = targets(table).numpy()
    return float(np.mean((predict(model, params, table, sigmoid=sigmoid) - y) ** 2))


def accuracy(model: str, params: ArrayLike, table: pd.DataFrame, *, sigmoid: bool = False) -> float:
    """Share of rows where ``prediction > 0.5`` matches ``Survived``."""
    y = targets(table).numpy()
    return float(np.mean((predict(model, params, table, sigmoid=sigmoid) > 0.5) == (y == 1)))
