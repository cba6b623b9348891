"""What the train and held-out losses do as a net sums more ReLUs, in words computed from the numbers.

Headings and picture titles that state a conclusion ("train loss falls, valid loss rises") take
it from here, so they say what the numbers under them show, whatever a build finds.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike


def loss_trend(units: ArrayLike, train: ArrayLike, valid: ArrayLike, *, valid_name: str = "valid") -> str:
    """What the losses do, e.g. ``train loss falls at every size; valid loss lowest at 8 ReLUs, ...``.

    ``units`` in increasing order; ``valid_name`` names the second set (``held-out``).
    """
    units, train, valid = (np.asarray(a, dtype="float64") for a in (units, train, valid))
    if np.all(np.diff(train) < 0):
        fits = "train loss falls at every size"
    else:
        fits = f"train loss lowest at {_relus(units[np.argmin(train)])}"
    best = int(np.argmin(valid))
    if best == len(valid) - 1:
        holds = f"{valid_name} loss lowest at the most, {_relus(units[best])} (no over-fitting yet)"
    else:
        holds = f"{valid_name} loss lowest at {_relus(units[best])}, higher with more (over-fitting)"
    return f"{fits}; {holds}"


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
