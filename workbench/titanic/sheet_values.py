"""The numbers a model sheet caches, computed before any sheet is written.

A model sheet (``linear``, ``nnet``, ``mmult``, ``sigmoid``, on ``titanic.xlsx`` or any table's
book) caches, beside each formula, the value Python computes for it: every linear unit, the
predictions, each row's loss, and its results (loss and metric on the train rows, the valid rows
and every row). :func:`sheet_values` computes them with the registry's forward pass, the code the
fits use, so the writers only write.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cached_property

import numpy as np
import torch

from ..numerics import DTYPE, least_squares_floor
from .models import Model


@dataclass(frozen=True)
class Rows:
    """A model sheet's rows: inputs ``x`` (n, P), targets ``y`` (n,), and which are valid rows."""

    x: np.ndarray
    y: np.ndarray
    is_valid: np.ndarray

    @cached_property
    def floor(self) -> float:
        """The least-squares floor of every row: the lowest loss any linear parameters reach."""
        return least_squares_floor(self.x, self.y)


@dataclass(frozen=True)
class SheetValues:
    """Python's numbers for one model sheet: its parameters (yellow) and their random start (grey),
    every linear unit, the predictions, each row's loss and set, the results, the start's loss
    on every row, and the least-squares floor there."""

    params: np.ndarray
    start: np.ndarray | None
    lin: np.ndarray  # (units, n): every linear unit's value
    preds: np.ndarray
    loss: np.ndarray  # each row's squared error
    sets: np.ndarray  # "train" or "valid" per row
    results: dict[str, float]  # label of a sheet's result -> value
    start_loss: float | None
    floor: float


def scores(preds: np.ndarray, y: np.ndarray, *, binary: bool) -> tuple[float, float]:
    """The MSE of ``preds`` against ``y``, then the metric: the accuracy (a 0/1 target: a prediction
    above 0.5 counts as 1) or, for a numeric target, the RMSE."""
    loss = float(np.mean((preds - y) ** 2))
    return loss, float(np.mean((preds > 0.5) == (y == 1))) if binary else float(np.sqrt(loss))


def sheet_values(
    model: Model,
    sigmoid: bool,
    rows: Rows,
    params: np.ndarray,
    start: np.ndarray | None,
    results: Sequence[tuple[str, str]],
) -> SheetValues:
    """The values of a sheet of ``model`` (squashed by a sigmoid or not) with ``params`` (from
    ``start``) on ``rows``; ``results``: the labels of (loss, metric) on the train rows, the valid
    rows and every row, the metric an RMSE when its label says so."""
    lin, preds = _forward(model, sigmoid, rows.x, params)
    y, is_valid = rows.y, rows.is_valid
    values = {}
    every = np.ones_like(is_valid, dtype=bool)
    for (loss, metric), part in zip(results, (~is_valid, is_valid, every), strict=True):
        values[loss], values[metric] = scores(preds[part], y[part], binary="RMSE" not in metric)
    sets = np.where(is_valid, "valid", "train").astype(object)
    start_loss = (
        None if start is None else float(np.mean((_forward(model, sigmoid, rows.x, start)[1] - y) ** 2))
    )
    return SheetValues(params, start, lin, preds, (preds - y) ** 2, sets, values, start_loss, rows.floor)


def _forward(model: Model, sigmoid: bool, x: np.ndarray, params: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every linear unit (units, n) and the predictions (n,) of ``params`` on the rows of ``x``."""
    xt, w = torch.tensor(np.asarray(x, dtype="float64"), dtype=DTYPE), torch.tensor(params, dtype=DTYPE)
    # One parameter row per linear unit (an MMULT model's columns as rows), so every sheet's Lin
    # columns come from the same product.
    w_rows = w.T.contiguous() if model.lin_excel == "mmult" else w
    with torch.no_grad():
        lin = (w_rows @ xt.T).numpy().reshape(-1, len(x))
        out = model.forward(w, xt)
        return lin, (torch.sigmoid(out) if sigmoid else out).numpy()
