"""The small regressions' three models, as design matrices.

* ``linear``: ``[x..., 1] @ w`` (the line when there is one x column);
* ``quadratic``: ``[x^2, x, 1] @ (a, b, c)``;
* ``relu``: ``sum_k relu([x..., 1] @ w_k)``, K rows of parameters.

Each turns x into a *design matrix* ``phi`` (the columns the parameters multiply);
the forward pass is then a kernel of :mod:`workbench.numerics` (``linear`` for
``phi @ w``, ``relu_sum`` for the sum of ReLUs).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from ..errors import WorkbenchError

MODELS: tuple[str, ...] = ("linear", "quadratic", "relu")


def design(model: str, x: np.ndarray, x_names: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """The design matrix of ``model`` on inputs ``x`` (n, d), and its column names.

    ``linear`` and ``relu`` read ``[x..., 1]``; ``quadratic`` reads ``[x^2, x, 1]``
    and needs exactly one x column. The column of ones makes the last parameter
    (of each unit) an intercept.
    """
    x = np.asarray(x, dtype="float64")
    ones = np.ones((len(x), 1))
    if model in ("linear", "relu"):
        return np.hstack([x, ones]), (*x_names, "Ones")
    if model == "quadratic":
        if x.shape[1] != 1:
            raise WorkbenchError(
                f"the quadratic model needs exactly one x column; got {x.shape[1]} ({', '.join(x_names)})"
            )
        return np.hstack([x**2, x, ones]), (f"{x_names[0]}^2", x_names[0], "Ones")
    raise WorkbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def kind(model: str) -> str:
    """The kernel of :mod:`workbench.numerics` that computes ``model`` on its design matrix."""
    return "relu_sum" if model == "relu" else "linear"


def param_names(model: str, width: int, units: int = 1) -> tuple[str, ...]:
    """The lessons' names for the parameters, flattened row by row.

    ``linear``: ``a1 .. a{width}`` (the 2019 lesson's ``a``; the last is the
    intercept); ``quadratic``: ``a, b, c``; ``relu``: ``m1, b1, m2, b2, ...`` with one
    input, else ``w1_1 .. w1_{width}, w2_1, ...`` (each unit's last is its intercept).
    """
    if model == "linear":
        return tuple(f"a{j + 1}" for j in range(width))
    if model == "quadratic":
        return ("a", "b", "c")
    if model == "relu":
        if width == 2:
            return tuple(name for k in range(units) for name in (f"m{k + 1}", f"b{k + 1}"))
        return tuple(f"w{k + 1}_{j + 1}" for k in range(units) for j in range(width))
    raise WorkbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def param_shape(model: str, width: int, units: int = 1) -> tuple[int, ...]:
    """``(width,)`` for the linear-in-parameters models, ``(units, width)`` for ``relu``."""
    return (units, width) if model == "relu" else (width,)


def max_stable_lr(phi: np.ndarray) -> float:
    """The learning rate above which full-batch descent on MSE diverges, for ``phi @ w``.

    The MSE's Hessian is ``2/n phi^T phi``; a step multiplies the error along its
    top eigenvector by ``1 - lr * lambda_max``, which grows in size once
    ``lr > 2 / lambda_max``.
    """
    hessian = 2 / len(phi) * phi.T @ phi
    return float(2 / np.linalg.eigvalsh(hessian)[-1])


def relu_start(x: np.ndarray, units: int) -> np.ndarray:
    """A start for ``units`` ReLUs of one input: kinks spread evenly inside x's range.

    Unit k is ``relu(m_k x + b_k)`` with slope m_k = -1, +1, -1, ... and its kink
    ``-b_k / m_k`` at the k-th of ``units`` evenly spaced points strictly inside
    [min x, max x]. A random start in [-0.5, 0.5) often leaves a unit at zero on
    every point, where its gradient is zero and it never learns (a "dead" ReLU);
    the lesson, too, placed its ReLUs by hand with sliders.
    """
    x = np.asarray(x, dtype="float64").ravel()
    kinks = np.linspace(x.min(), x.max(), units + 2)[1:-1]
    slopes = np.where(np.arange(units) % 2 == 0, -1.0, 1.0)
    return np.stack([slopes, -slopes * kinks], axis=1)


def bend_ratio(phi: np.ndarray) -> float:
    """How many times more sharply the MSE on the design ``phi`` bends along its steepest direction
    than along its flattest: the largest over the smallest eigenvalue of ``2/n phi^T phi``."""
    values = np.linalg.eigvalsh(2 / len(phi) * phi.T @ phi)
    return float(values[-1] / values[0])
