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

import numpy as np
import torch

from ..numerics import DTYPE
from .models import Model


@dataclass(frozen=True)
class SheetValues:
    """Python's numbers for one model sheet."""

    lin: np.ndarray  # (units, n): every linear unit's value
    preds: np.ndarray
    loss: np.ndarray  # each row's squared error
    sets: np.ndarray  # "train" or "valid" per row
    results: dict[str, float]  # label of a sheet's result -> value


def scores(preds: np.ndarray, y: np.ndarray, *, binary: bool) -> tuple[float, float]:
    """The MSE of ``preds`` against ``y``, then the metric: the accuracy (a 0/1 target: a prediction
    above 0.5 counts as 1) or, for a numeric target, the RMSE."""
    loss = float(np.mean((preds - y) ** 2))
    return loss, float(np.mean((preds > 0.5) == (y == 1))) if binary else float(np.sqrt(loss))


def sheet_values(
    model: Model,
    sigmoid: bool,
    x: np.ndarray,
    y: np.ndarray,
    params: np.ndarray,
    is_valid: np.ndarray,
    results: Sequence[tuple[str, str]],
) -> SheetValues:
    """The values of a sheet of ``model`` (squashed by a sigmoid or not) with ``params`` on rows
    ``x``, ``y``; ``results``: the labels of (loss, metric) on the train rows, the valid rows and
    every row, the metric an RMSE when its label says so."""
    xt, w = torch.tensor(np.asarray(x, dtype="float64"), dtype=DTYPE), torch.tensor(params, dtype=DTYPE)
    # One parameter row per linear unit (an MMULT model's columns as rows), so every sheet's Lin
    # columns come from the same product.
    w_rows = w.T.contiguous() if model.lin_excel == "mmult" else w
    with torch.no_grad():
        lin = (w_rows @ xt.T).numpy().reshape(-1, len(y))
        out = model.forward(w, xt)
        preds = (torch.sigmoid(out) if sigmoid else out).numpy()
    values = {}
    every = np.ones_like(is_valid, dtype=bool)
    for (loss, metric), rows in zip(results, (~is_valid, is_valid, every), strict=True):
        values[loss], values[metric] = scores(preds[rows], y[rows], binary="RMSE" not in metric)
    sets = np.where(is_valid, "valid", "train").astype(object)
    return SheetValues(lin, preds, (preds - y) ** 2, sets, values)
