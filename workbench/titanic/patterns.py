"""The net's exact minima: activation patterns, a quadratic program on each, and hops between them.

The lesson's net ``relu(X a) + relu(X b)`` is a plain linear model on each *activation
pattern*, the rows each ReLU is on. Keeping the pattern is a set of linear
inequalities (``x_i . a >= 0`` on a's active rows, ``<= 0`` elsewhere), so on one
pattern the MSE is a convex quadratic with linear constraints: a small quadratic
program (QP) with one exact answer. Gradient descent and L-BFGS only crawl towards
it, and stop near the kinks where a row's ReLU switches; the QP lands on it.

* :func:`pattern_minimum` solves the QP from a point that keeps the pattern
  (a primal active-set method: the constraints that bind are rows sitting exactly on
  a ReLU's kink).
* :func:`exact_minimum` then lets a bound row cross its kink when its Lagrange
  multiplier says the loss would fall, and solves again, until no row wants to: a
  true local minimum of the net, to the last digits.
* :func:`pushed_across` makes the starting points of a *hop*: copies of a minimum with
  one row near a kink pushed just across it. :func:`workbench.titanic.train.fit`'s
  method ``search`` runs Gauss-Newton and the exact finish from them, and moves to
  the lowest minimum found, until a hop finds none lower.
"""

from __future__ import annotations

import numpy as np

#: A bound row's Lagrange multiplier above this says the loss falls if the row crosses its kink.
CROSS = 1e-10
#: Active-set iterations at most per QP (each adds or drops one bound row).
QP_STEPS = 500


def active(w: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Which rows each ReLU is on: shape (units, n), True where ``x @ w_k > 0``."""
    return (w @ x.T) > 0


def loss(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """The net's mean squared error."""
    return float(np.mean((np.maximum(x @ w.T, 0).sum(1) - y) ** 2))


def pattern_minimum(
    on: np.ndarray, w: np.ndarray, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, list[int], np.ndarray]:
    """The minimum of the MSE over parameters that keep the pattern ``on``, from ``w`` (which must).

    Returns the parameters, the bound constraints (index ``k * n + i``: row i on unit k's
    kink) and their Lagrange multipliers.
    """
    units, n = on.shape
    p = x.shape[1]
    jac = np.concatenate([on[k][:, None] * x for k in range(units)], 1)  # (n, units * p)
    hess, grad = jac.T @ jac, jac.T @ y
    sign = np.where(on, 1.0, -1.0)
    rows = np.zeros((units * n, units * p))  # constraint rows: sign * x_i . w_k >= 0
    for k in range(units):
        rows[k * n : (k + 1) * n, k * p : (k + 1) * p] = sign[k][:, None] * x
    flat = w.ravel().copy()
    bound = list(np.nonzero(rows @ flat <= 1e-12 * np.linalg.norm(rows, axis=1))[0])
    multipliers = np.zeros(0)
    for _ in range(QP_STEPS):
        step, multipliers = _equality_qp(hess, grad - hess @ flat, rows[bound])
        if np.linalg.norm(step) <= 1e-13 * (1 + np.linalg.norm(flat)):
            if not bound or multipliers.min() >= -CROSS:
                break
            bound.pop(int(np.argmin(multipliers)))  # this row may leave its kink
            continue
        flat, blocking = _longest_step(rows, flat, step, bound)
        if blocking is not None:
            bound.append(blocking)
    else:  # out of steps: the multipliers of the bound rows where it stopped
        multipliers = _equality_qp(hess, grad - hess @ flat, rows[bound])[1]
    return flat.reshape(w.shape), bound, multipliers


def _equality_qp(hess: np.ndarray, grad: np.ndarray, bound: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``s' H s / 2 - g' s`` with the bound rows held on their kinks: the step and multipliers."""
    size, m = len(hess), len(bound)
    kkt = np.zeros((size + m, size + m))
    kkt[:size, :size], kkt[:size, size:], kkt[size:, :size] = hess, -bound.T, bound
    solution = np.linalg.lstsq(kkt, np.concatenate([grad, np.zeros(m)]), rcond=None)[0]
    return solution[:size], solution[size:]


def _longest_step(
    rows: np.ndarray, flat: np.ndarray, step: np.ndarray, bound: list[int]
) -> tuple[np.ndarray, int | None]:
    """Go along ``step`` as far as 1, or until a row reaches its kink (returned, to be bound)."""
    slope, margin = rows @ step, rows @ flat
    closing = slope < -1e-15
    closing[bound] = False
    if closing.any():
        ratios = -margin[closing] / slope[closing]
        first = int(np.argmin(ratios))
        if ratios[first] < 1.0:
            return flat + max(ratios[first], 0.0) * step, int(np.nonzero(closing)[0][first])
    return flat + step, None


def exact_minimum(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """A true local minimum of the net near ``w``: the pattern's QP, then rows crossing kinks downhill.

    A bound row whose multiplier is positive pulls the loss across its kink: the pattern
    with that row switched (and every row with the same inputs, which must switch
    together) is solved from the same point, which keeps both patterns. The first such
    switch that lowers the loss is taken; when none does, no row can cross and the point
    is a local minimum of the net, exactly.
    """
    on = active(w, x)
    w, bound, multipliers = pattern_minimum(on, w, x, y)
    best = loss(w, x, y)
    while True:
        pulls = sorted(zip(multipliers, bound, strict=True), reverse=True)
        for pull, c in pulls:
            if pull <= CROSS:
                return w
            k, i = divmod(c, x.shape[0])
            crossed = on.copy()
            crossed[k, (x == x[i]).all(1)] = not on[k, i]
            moved, moved_bound, moved_multipliers = pattern_minimum(crossed, w, x, y)
            if loss(moved, x, y) < best - 1e-15:
                on, w, bound, multipliers, best = (
                    crossed,
                    moved,
                    moved_bound,
                    moved_multipliers,
                    loss(moved, x, y),
                )
                break
        else:
            return w


def pushed_across(w: np.ndarray, x: np.ndarray, near: int, by: float = 1e-3) -> np.ndarray:
    """Copies of ``w``, each with one ReLU moved so that one row sits just across its kink.

    For each unit, the ``near`` rows closest to its kink: the unit's weights move along
    the row's inputs (the smallest move) until the row's pre-activation is ``-by`` if it
    was on, ``+by`` if it was off. Shape ``(units * near, *w.shape)``.
    """
    margins = w @ x.T
    moved = []
    for k in range(len(w)):
        for i in np.argsort(np.abs(margins[k]), kind="stable")[:near]:
            v = w.copy()
            aim = -by if margins[k, i] > 0 else by
            v[k] += (aim - margins[k, i]) / (x[i] @ x[i]) * x[i]
            moved.append(v)
    return np.stack(moved)
