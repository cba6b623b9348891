"""Every number a small regression's ``by_hand`` or ``model`` sheet caches, computed before the sheet
is written (the writer, :mod:`workbench.sheets.write.fit_sheets`, only writes them).

The numbers are numpy's, computed as the sheet's formulas compute them: each point's Lin cells,
prediction and squared error; the least-squares optimum and its loss (models linear in their
parameters); on ``by_hand``, each parameter's gradient beside the loss with it nudged up and down;
for one x, the fitted curve the chart draws.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import WorkbenchError
from ..numerics import least_squares
from .fits import Fit, Trajectory

#: Points on the model sheet's fitted curve.
CURVE_POINTS = 41
#: The by_hand sheet's first nudge: each parameter moved up and down by this much.
NUDGE = 0.01


@dataclass(frozen=True)
class FitSheetValues:
    """The numbers of one ``by_hand`` or ``model`` sheet.

    ``params`` (units, width): the parameters shown; ``lin`` (units, n): each unit's Lin column;
    ``preds`` and ``losses``: each point's prediction and squared error, ``mse`` their mean.
    ``best`` and ``best_loss``: the least-squares optimum and its MSE (None for a sum of ReLUs).
    ``nudges`` (by_hand only): one row per parameter, its gradient and the MSE with it moved by
    +:data:`NUDGE` and -:data:`NUDGE`.
    ``curve`` (one x only): :data:`CURVE_POINTS` evenly spaced x from the data's min to its max,
    and the model's prediction at each.
    """

    params: np.ndarray
    lin: np.ndarray
    preds: np.ndarray
    losses: np.ndarray
    mse: float
    best: np.ndarray | None
    best_loss: float | None
    nudges: np.ndarray | None
    curve: tuple[np.ndarray, np.ndarray] | None


def fit_sheet_values(result: Fit, params: np.ndarray, *, nudges: bool) -> FitSheetValues:
    """The numbers of ``result``'s sheet showing ``params`` (``nudges``: the by_hand sheet's table too)."""
    linear = result.model != "relu"
    units, width = (1 if linear else result.units), result.phi.shape[1]
    params = np.asarray(params, dtype="float64").reshape(units, width)
    preds = result.predict(params.reshape(np.shape(result.params)))
    losses = (preds - result.data.y) ** 2
    best = least_squares(result.phi, result.data.y) if linear else None
    return FitSheetValues(
        params,
        params @ result.phi.T,
        preds,
        losses,
        float(np.mean(losses)),
        best,
        None if best is None else float(np.mean((result.phi @ best - result.data.y) ** 2)),
        _nudges(result, params, linear) if nudges else None,
        _curve(result, params) if result.data.x.shape[1] == 1 else None,
    )


def _nudges(result: Fit, params: np.ndarray, linear: bool) -> np.ndarray:
    """Per parameter (unit by unit): the gradient, and the MSE with it moved up and down by NUDGE.

    ``(loss at +h - loss at -h) / 2h`` is the lesson's "what if we moved it a little" turned into
    a number: the centred estimate of the derivative."""
    phi, y, n = result.phi, result.data.y, len(result.data.y)
    lin = phi @ params.T  # (n, units): each unit's Lin column
    pred = lin[:, 0] if linear else np.maximum(lin, 0).sum(1)
    rows = []
    for k in range(params.shape[0]):
        active = np.ones(n) if linear else (lin[:, k] > 0).astype(float)
        for j in range(params.shape[1]):
            grad = 2 * np.sum((pred - y) * active * phi[:, j]) / n
            plus, minus = (
                np.sum((_moved(lin, k, s * NUDGE * phi[:, j], linear) - y) ** 2) / n for s in (1, -1)
            )
            rows.append((grad, plus, minus))
    return np.array(rows)


def _moved(lin: np.ndarray, k: int, shift: np.ndarray, linear: bool) -> np.ndarray:
    """The predictions with unit k's Lin column shifted by ``shift`` (``lin`` is (n, units))."""
    if linear:
        return lin[:, 0] + shift
    relu = np.maximum(lin, 0)
    return relu.sum(1) - relu[:, k] + np.maximum(lin[:, k] + shift, 0)


def _curve(result: Fit, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:data:`CURVE_POINTS` evenly spaced x between the data's min and max, and the predictions."""
    lo, hi = float(result.data.x.min()), float(result.data.x.max())
    grid = np.array([lo + (hi - lo) * i / (CURVE_POINTS - 1) for i in range(CURVE_POINTS)])
    return grid, result.predict(params.reshape(np.shape(result.params)), x=grid)


@dataclass(frozen=True)
class DescentValues:
    """The numbers a ``descent`` sheet caches besides its trajectory's own.

    ``preds`` and ``errors``: each point's prediction and error at the last step (the step in
    view at first), ``view_loss`` their mean square; ``xtx``, ``xty``, ``yty``: the sums of the data a
    linear model's steps read (None for a sum of ReLUs); ``stable_lr``: the rate above which
    descent diverges (None: not shown); ``floor``: the least-squares floor, or a text saying why
    there is none (None: not shown), and ``ratio`` the final loss over it.
    """

    preds: np.ndarray
    errors: np.ndarray
    view_loss: float
    xtx: np.ndarray | None
    xty: np.ndarray | None
    yty: float | None
    stable_lr: float | None = None
    floor: float | str | None = None
    ratio: float | None = None


def descent_values(
    trajectory: Trajectory, data: tuple, *, stable_lr: float | None = None, floor: float | str | None = None
) -> DescentValues:
    """The numbers of a descent sheet redoing ``trajectory`` on ``data`` (X, y), as its cells compute them."""
    xs, ys = (np.asarray(a, dtype=float) for a in data)
    width = trajectory.params[-1].size
    if xs.ndim != 2 or ys.shape != (len(xs),) or width % xs.shape[1]:
        raise WorkbenchError(f"data of shapes {xs.shape} and {ys.shape} do not fit {width} parameters")
    w = trajectory.params[-1].reshape(-1, xs.shape[1])  # one row per unit
    lin = xs @ w.T  # (n, units)
    preds = lin[:, 0] if trajectory.kind == "linear" else np.maximum(lin, 0).sum(1)
    errors = preds - ys
    linear = trajectory.kind == "linear"
    ratio = trajectory.losses[-1] / floor if isinstance(floor, float | int) else None
    return DescentValues(
        preds,
        errors,
        float(np.mean(errors**2)),
        xs.T @ xs if linear else None,
        ys @ xs if linear else None,
        float(ys @ ys) if linear else None,
        stable_lr,
        floor,
        ratio,
    )


@dataclass(frozen=True)
class MinibatchValues:
    """The numbers a ``minibatch`` sheet caches besides its record's own: each step's batch errors
    (prediction minus target of each of its points, numpy's) and the least-squares floor."""

    errors: tuple[np.ndarray, ...]
    floor: float


def minibatch_values(record: Trajectory, data: tuple, floor: float) -> MinibatchValues:
    """The numbers of a minibatch sheet redoing ``record`` (:func:`~workbench.regression.sgd_steps`)
    on ``data`` (the design matrix and targets)."""
    phi, ys = (np.asarray(a, dtype="float64") for a in data)
    errors = tuple(phi[rows] @ w - ys[rows] for rows, w in zip(record.rows, record.params, strict=False))
    return MinibatchValues(errors, floor)
