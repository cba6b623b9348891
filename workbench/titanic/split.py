"""The validation set: rows held out of fitting, to see how a model does on passengers it never saw.

:func:`validation_split` draws the rows as fastai's ``RandomSplitter(valid_pct=0.2, seed=42)``
does in the course's notebook 05 (linear model and neural net from scratch): seed torch's
random generator with ``seed``, take ``torch.randperm(n)``, and the first ``int(valid_pct * n)``
positions of that permutation are the validation rows. fastai is not a dependency, so this
follows its source (``torch.manual_seed(seed); rand_idx = torch.randperm(len(o))``) rather than
calling it, with a private ``torch.Generator`` so the global seed is untouched. What cannot
match: the notebook splits all 891 passengers (it fills the missing ages), the lesson's
sheet keeps 712, so the same procedure picks other passengers.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import torch

from ..errors import WorkbenchError
from ..limits import check_seed
from ..numerics import least_squares
from .models import inputs, targets

#: The course notebook's split: 20% of the rows, seed 42.
VALID_PCT, SPLIT_SEED = 0.2, 42


def valid_mask(rows: int, valid_pct: float = VALID_PCT, seed: int = SPLIT_SEED) -> np.ndarray:
    """``True`` for the validation rows among ``rows`` positions (see the module docstring)."""
    check_seed(seed)
    if isinstance(valid_pct, bool) or not (isinstance(valid_pct, (int, float)) and 0 < valid_pct < 1):
        raise WorkbenchError(f"valid_pct must be a number between 0 and 1 (e.g. 0.2); got {valid_pct!r}")
    cut = int(valid_pct * rows)
    if not 0 < cut < rows:
        raise WorkbenchError(
            f"valid_pct={valid_pct:g} of {rows} rows leaves {cut} validation rows and {rows - cut}"
            " training rows; each set needs at least one"
            + (f" (use at least {math.ceil(1 / valid_pct)} rows)" if cut == 0 else "")
        )
    perm = torch.randperm(rows, generator=torch.Generator().manual_seed(int(seed))).numpy()
    mask = np.zeros(rows, dtype=bool)
    mask[perm[:cut]] = True
    return mask


def validation_split(
    table: pd.DataFrame, valid_pct: float = VALID_PCT, seed: int = SPLIT_SEED
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split a table into training and validation rows: ``(train, valid)``.

    ``int(valid_pct * len(table))`` rows are drawn for validation, as fastai's
    ``RandomSplitter(valid_pct, seed)`` draws them (module docstring); the rest are for
    training. The two are disjoint, together every row, each in the table's own order,
    and the same rows every time for the same table and seed. For the lesson's 712 rows:
    570 train, 142 valid.

    Raises:
        WorkbenchError: ``valid_pct`` is not between 0 and 1, ``seed`` is not a 32-bit seed,
            or either set would be empty.
    """
    mask = valid_mask(len(table), valid_pct, seed)
    return table[~mask], table[mask]


#: How many seeded splits :func:`valid_below_train` draws.
LUCK_SPLITS = 1000


def valid_below_train(table: pd.DataFrame, splits: int = LUCK_SPLITS, valid_pct: float = VALID_PCT) -> float:
    """The share of random splits on which the linear model does better on its valid rows than on
    its train rows: how much one split's "valid loss below train loss" is luck.

    Split ``k`` is :func:`valid_mask` with seed ``k`` (0 to ``splits - 1``); on each, the linear
    model's least-squares fit on the train rows, then its mean squared error on both sets.
    """
    x, y = inputs(table).numpy(), targets(table).numpy()
    valid = np.stack([valid_mask(len(table), valid_pct, seed) for seed in range(splits)])
    w = _least_squares_each(x, y, ~valid)
    errors = (w @ x.T - y) ** 2  # (splits, rows)
    on_valid = (errors * valid).sum(1) / valid.sum(1)
    on_train = (errors * ~valid).sum(1) / (~valid).sum(1)
    return float(np.mean(on_valid < on_train))


def _least_squares_each(x: np.ndarray, y: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """:func:`~workbench.numerics.least_squares` on each set of ``rows`` (K x n booleans): (K, P).

    By the normal equations of every set at once where they are well conditioned (the lesson's
    splits: a thousand least squares in one product), by ``least_squares`` itself where not (a
    small table whose train rows leave a dummy all zero, say).
    """
    n, p = x.shape
    weights = rows.astype(x.dtype)
    gram = (weights @ (x[:, :, None] * x[:, None, :]).reshape(n, p * p)).reshape(-1, p, p)
    scale = np.linalg.eigvalsh(gram)
    sound = scale[:, 0] > 1e-8 * scale[:, -1]
    w = np.empty((len(rows), p))
    w[sound] = np.linalg.solve(gram[sound], ((weights[sound] * y) @ x)[..., None])[..., 0]
    for k in np.flatnonzero(~sound):
        w[k] = least_squares(x[rows[k]], y[rows[k]])
    return w
