"""What the train and held-out losses do as a net sums more ReLUs, in words computed from the numbers.

Headings and picture titles that state a conclusion ("train loss falls, valid loss rises") take
it from here, so they say what the numbers under them show, whatever a build finds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def loss_trend(
    units: ArrayLike,
    train: ArrayLike,
    valid: ArrayLike,
    *,
    valid_name: str = "valid",
    margin: ArrayLike | None = None,
) -> str:
    """What the losses do, e.g. ``train loss falls at every size; valid loss lowest at 8 ReLUs, ...``.

    ``units`` in increasing order; ``valid_name`` names the second set (``held-out``). ``margin``:
    per size, how far above the lowest valid loss its own may lie and still be as low, as far as
    the valid rows can tell (:func:`~workbench.titanic.compare.valid_margin`); the sizes within it
    are said together (``valid loss as low (within its margin) from 2 to 16 ReLUs``).
    """
    units, train, valid = (np.asarray(a, dtype="float64") for a in (units, train, valid))
    if np.all(np.diff(train) < 0):
        fits = "train loss falls at every size"
    else:
        fits = f"train loss lowest at {_relus(units[np.argmin(train)])}"
    best = int(np.argmin(valid))
    near = np.zeros(len(valid)) if margin is None else np.asarray(margin, dtype="float64")
    low = np.flatnonzero(valid - valid[best] <= near)  # as low as the lowest, as far as one can tell
    if len(low) == 1:
        lowest = f"{valid_name} loss lowest at"
        at = _relus(units[best])
    else:
        lowest = f"{valid_name} loss as low (within its margin)"
        run = low[-1] - low[0] == len(low) - 1
        at = f"from {units[low[0]]:.0f} to {_relus(units[low[-1]])}" if run else "at " + _sizes(units[low])
    if low[-1] == len(valid) - 1:
        return f"{fits}; {lowest} {'the most, ' if len(low) == 1 else ''}{at} (no over-fitting yet)"
    return f"{fits}; {lowest} {at}, higher with more (over-fitting)"


def _sizes(units: np.ndarray) -> str:
    """``2, 4 and 16 ReLUs``."""
    names = [f"{k:.0f}" for k in units]
    return f"{', '.join(names[:-1])} and {_relus(units[-1])}"


def _relus(k: float) -> str:
    return f"{k:.0f} ReLU{'s' if k != 1 else ''}"


def rate_trend(lr: float, losses: ArrayLike, floor: float) -> str:
    """What descent at one learning rate did, from its losses: for the line's animations' titles."""
    losses = np.asarray(losses, dtype="float64")
    steps = len(losses) - 1
    if np.all(np.diff(losses) > 0):
        return f"lr {lr:g}: the loss grows at every step ({losses[0]:.3g} to {losses[-1]:.3g} in {steps})"
    if losses[-1] > losses[0]:
        return f"lr {lr:g}: the loss grows from {losses[0]:.3g} to {losses[-1]:.3g} in {steps} steps"
    return f"lr {lr:g}: after {steps} steps the loss is {losses[-1] / floor:.3g} times the lowest"


def step_trend(lr: float, positions: ArrayLike, best: float) -> str:
    """What steps along one parameter did, from where they landed, e.g. ``lr 0.9: bounces across the bottom,
    further out each time`` or ``lr 0.02: creeps, 31% of the way to the bottom in 10 steps``."""
    p = np.asarray(positions, dtype="float64") - best
    steps = len(p) - 1
    crossings = int(np.sum(np.sign(p[1:]) * np.sign(p[:-1]) < 0))
    if crossings == steps:
        way = "further out" if abs(p[-1]) > abs(p[0]) else "closer in"
        return f"lr {lr:g}: bounces across the bottom, {way} each time"
    if crossings == 0:
        done = 1 - abs(p[-1]) / abs(p[0])
        return f"lr {lr:g}: creeps, {done:.0%} of the way to the bottom in {steps} steps"
    return f"lr {lr:g}: crosses the bottom {crossings} times in {steps} steps"


def spread_words(values: ArrayLike) -> str:
    """How a column's values spread, from its quantiles, e.g. ``half under 14.5, the top 1% over 262,
    the largest 512``: why the lesson takes a log of a few huge values."""
    v = np.asarray(values, dtype="float64")
    median, top, largest = np.median(v), np.quantile(v, 0.99), v.max()
    return f"half under {median:.3g}, the top 1% over {top:.3g}, the largest {largest:.3g}"
