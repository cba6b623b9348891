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

Each model is one record of :data:`MODELS` (shape, forward pass, Jacobian, how its sheet
computes it, its default fit); the kernels themselves live in :mod:`workbench.numerics`.
Everything is float64, so numbers match a spreadsheet's doubles.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Literal

import numpy as np
import pandas as pd
import torch
from numpy.typing import ArrayLike

from .. import numerics
from ..errors import WorkbenchError
from ..numerics import (  # noqa: F401  (the Excel templates, re-exported beside the models)
    DTYPE,
    LOSS_EXCEL,
    MMULT_EXCEL,
    MSE_EXCEL,
    PREDICT_EXCEL,
    RELU_EXCEL,
    SIGMOID_EXCEL,
    one_thread,
    uniform_start,
)
from .features import FEATURES

# ((...)=(...))*1 turns TRUE/FALSE into 1/0: the double minus --(...) does that in Excel, LibreOffice
# and Gnumeric, but the formulas package evaluates it to 0.
ACCURACY_EXCEL = "=SUMPRODUCT((({preds}>0.5)=({targets}=1))*1)/ROWS({targets})"

# The same over one set of rows (``{sets}`` holds "train" or "valid" per row, ``{name}`` which).
SET_MSE_EXCEL = '=AVERAGEIF({sets},"{name}",{losses})'
SET_ACCURACY_EXCEL = '=SUMPRODUCT((({preds}>0.5)=({targets}=1))*({sets}="{name}"))/COUNTIF({sets},"{name}")'

Tensor = torch.Tensor


@dataclass(frozen=True)
class Recipe:
    """How ``fit(model)`` trains a model by default: its method, and gd's settings."""

    method: str  # the default method of fit(model)
    lr: float  # gd step size
    epochs: int  # gd steps
    starts: int  # random starts descending at once
    gauss_newton: int  # Gauss-Newton steps of every start after gd
    polish: int  # how many of the best starts L-BFGS finishes


@dataclass(frozen=True)
class Model:
    """One of the lesson's models: everything Python and the workbook need to know about it.

    Attributes:
        name: what users type (``fit("nnet")``, ``workbench fit nnet``).
        shape: the shape of its parameters.
        units: its linear units (the sheet's Lin columns): 1 for linear, 2 for the net.
        forward: ``forward(params, x)``, the predictions of the rows of ``x`` (n, 10);
            ``params`` may carry a leading batch dimension K, then the result is (K, n).
        jacobian: ``jacobian(params, x)``, d prediction / d parameter, (..., n, P) with the
            parameters flattened row-major, as ``params.reshape(K, -1)``.
        lin_excel: how the sheet computes the linear units: ``"sumproduct"``, one
            :data:`PREDICT_EXCEL` per unit and row, or ``"mmult"``, one :data:`MMULT_EXCEL`
            array over every row (then the parameters are a 10 x units block of columns).
        sheet, title, note, what: its sheet in ``titanic.xlsx``, the sheet's title and
            note, and its one-line description on the summary sheet.
        recipe: the defaults of :func:`workbench.fit` for this model.
        relu_sum: the model is a sum of ReLUs of linear units, so method ``search`` can find
            its exact minima (:mod:`~workbench.titanic.patterns`).
        transpose_of: the model whose parameters, transposed, this one's are (``mmult`` is
            ``nnet`` as one matrix product); it is fitted as that model and transposed.
    """

    name: str
    shape: tuple[int, ...]
    units: int
    forward: Callable[[Tensor, Tensor], Tensor]
    jacobian: Callable[[Tensor, Tensor], Tensor]
    lin_excel: Literal["sumproduct", "mmult"]
    sheet: str
    title: str
    note: str
    what: str
    recipe: Recipe
    relu_sum: bool = False
    transpose_of: str | None = None


def _flat(jac: Tensor) -> Tensor:
    return jac.reshape(*jac.shape[:-2], -1)


def _mmult_forward(w: Tensor, x: Tensor) -> Tensor:
    # X @ W, computed as (W.T @ X.T).T on a contiguous copy of W.T: a matrix product written
    # the other way round (or on a strided view) takes another BLAS kernel that rounds
    # differently. This way mmult runs nnet's very float operations, so the two give identical
    # predictions and gradients, to the last bit.
    return numerics.relu_sum(w.transpose(-1, -2).contiguous(), x)


def _mmult_jacobian(w: Tensor, x: Tensor) -> Tensor:
    # nnet's Jacobian of W.T, with its (unit, input) axes swapped into mmult's (input, unit) layout
    return _flat(numerics.relu_sum_jacobian(w.transpose(-1, -2), x).transpose(-1, -2))


_N = len(FEATURES)
_NET = Recipe(method="search", lr=0.1, epochs=100, starts=256, gauss_newton=20, polish=2)

#: The lesson's models by name: the one registry. For ``linear``, lr 0.1 is half the largest
#: stable step (2 / 9.56, the top eigenvalue of the loss's Hessian); 1000 epochs get within
#: about 1e-4 of the least-squares floor (the Hessian's condition number is 484). For the
#: net: 256 random starts, 100 epochs of gd at lr 0.1, 20 Gauss-Newton steps of every start
#: and an L-BFGS finish of the 2 best (the lesson's Solver stopped at MSE 0.1432;
#: ``bench/fit_quality.py`` measures what this recipe reaches, seed by seed).
MODELS: dict[str, Model] = {
    m.name: m
    for m in (
        Model(
            name="linear",
            shape=(_N,),
            units=1,
            forward=numerics.linear,
            jacobian=numerics.linear_jacobian,
            lin_excel="sumproduct",
            sheet="linear",
            title="linear: the lesson's linear model",
            note="Preds = SUMPRODUCT of the row's 10 inputs (SibSp ... Ones) and the 10 parameters; Loss ="
            " (Preds - Survived)^2; Total loss = the mean of Loss (MSE).",
            what="SUMPRODUCT of inputs and parameters",
            recipe=Recipe(method="gd", lr=0.1, epochs=1000, starts=1, gauss_newton=0, polish=0),
        ),
        Model(
            name="nnet",
            shape=(2, _N),
            units=2,
            forward=numerics.relu_sum,
            jacobian=lambda w, x: _flat(numerics.relu_sum_jacobian(w, x)),
            lin_excel="sumproduct",
            sheet="nnet",
            title="nnet: the lesson's neural net, two linear units through ReLUs, added up",
            note="Lin1, Lin2 = SUMPRODUCT of the row's inputs with parameter rows 1 and 2;"
            " ReLU = IF(Lin<0,0,Lin); Preds = ReLU1 + ReLU2; Loss and Total loss as on linear.",
            what="two ReLUs of SUMPRODUCTs, added",
            recipe=_NET,
            relu_sum=True,
        ),
        Model(
            name="mmult",
            shape=(_N, 2),
            units=2,
            forward=_mmult_forward,
            jacobian=_mmult_jacobian,
            lin_excel="mmult",
            sheet="mmult",
            title="mmult: the same neural net as one matrix multiplication",
            note="Lin1:Lin2 for every row is ONE array formula, =MMULT(inputs, parameters): the inputs"
            " times the 10 x 2 parameter block (nnet's rows as columns). Then as on nnet.",
            what="nnet as one MMULT",
            recipe=_NET,
            relu_sum=True,
            transpose_of="nnet",
        ),
    )
}


def get(model: str) -> Model:
    """The registry's record of ``model``, or a clear error listing the choices."""
    if not isinstance(model, str) or model not in MODELS:
        raise WorkbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")
    return MODELS[model]


def param_shape(model: str) -> tuple[int, ...]:
    """The shape of one model's parameters: (10,), (2, 10) or (10, 2)."""
    return get(model).shape


def forward(model: str, params: Tensor, x: Tensor, *, sigmoid: bool = False) -> Tensor:
    """Predictions for the rows of ``x`` (n, 10): shape (n,), or (K, n) for K parameter sets."""
    out = get(model).forward(params, x)
    return torch.sigmoid(out) if sigmoid else out


def jacobian(model: str, params: Tensor, x: Tensor, *, sigmoid: bool = False) -> Tensor:
    """How each prediction moves with each parameter: shape (..., n, P), P = ``params[0].numel()``.

    Without a sigmoid the models are linear in their parameters on each ReLU's active rows,
    so this is ``x`` on the active rows. Gauss-Newton needs this matrix; autograd gives only
    its product with one vector per backward pass.
    """
    jac = get(model).jacobian(params, x)
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
