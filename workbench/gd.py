"""Full-batch gradient descent with torch autograd: the lesson's loop, and nothing else.

::

    for epoch in range(epochs):
        loss = loss_fn(params)          # forward
        loss.backward()                 # gradients by autograd
        with torch.no_grad():
            params -= lr * params.grad  # one step downhill
        params.grad.zero_()             # the lesson's notebooks forgot this line

Every model in workbench (the Titanic models and the small regressions) trains
with :func:`gradient_descent`. ``start`` may carry a leading batch dimension of K
random starts; ``loss_fn`` then returns K losses and the K descents run at once as
one tensor computation (their gradients do not mix, because each start's loss
depends only on its own parameters).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .errors import DivergenceError, WorkbenchError

#: A loss that grew this many epochs in a row is diverging, not wobbling.
PATIENCE = 20
#: The losses are checked for divergence this many epochs at a time, as one numpy computation: a
#: check of its own each epoch was a large share of a small fit's time. A descent that blows up runs on
#: at most this many epochs more (on numbers, inf or NaN) before it stops, at the epoch it blew up.
CHECK_EVERY = 32


def gradient_descent(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    *,
    lr: float,
    epochs: int,
    zero_grad: bool = True,
    callback: Callable[[int, torch.Tensor], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Run ``epochs`` steps of ``params -= lr * grad`` from ``start``; return the final parameters
    (the shape of ``start``) and the loss history: the loss before every step and after the last,
    ``epochs + 1`` rows, each a scalar or one loss per start (``history[0]`` is the starting loss,
    ``history[-1]`` the loss of the final parameters).

    Args:
        loss_fn: maps parameters to a loss (scalar, or one per start).
        start: the initial parameters; not modified.
        lr: the learning rate (step size).
        epochs: the number of steps.
        zero_grad: zero the gradient after each step, as the lesson's ``update()`` does
            (``a.grad.zero_()``). ``False`` shows what forgetting it does: torch adds each
            new gradient to the old ones, so they pile up from step to step.
        callback: called as ``callback(epoch, loss)`` with every loss recorded in
            ``history`` (epochs 0 to ``epochs``), e.g. to draw a progress bar.

    Raises:
        WorkbenchError: a learning rate that is not positive, or negative epochs.
        DivergenceError: a loss became NaN or infinite, or grew for
            :data:`PATIENCE` epochs in a row: the learning rate is too large.
    """
    if not lr > 0:
        raise WorkbenchError(f"the learning rate must be positive; got {lr}")
    if epochs < 0:
        raise WorkbenchError(f"epochs must be 0 or more; got {epochs}")
    params = start.detach().clone().requires_grad_(True)
    history = None  # filled in place: no allocation per epoch, so memory stays flat
    checked = 0  # the epochs before this one are checked for divergence
    for epoch in range(epochs + 1):
        loss = loss_fn(params)
        value = loss.detach()
        if history is None:
            history = torch.empty((epochs + 1, *value.shape), dtype=value.dtype)
            losses = history.numpy()  # the same memory, as numpy: cheaper per call on one number
        losses[epoch] = value.numpy()
        if epoch - checked + 1 == CHECK_EVERY or epoch == epochs:
            _check(losses, checked, epoch + 1, lr)
            checked = epoch + 1
        if callback is not None:
            callback(epoch, value)
        if epoch == epochs:
            break
        (loss if loss.ndim == 0 else loss.sum()).backward()  # K starts: their losses' sum, each its own
        with torch.no_grad():
            params -= lr * params.grad
        if zero_grad:
            params.grad.zero_()
    return params.detach(), history


def _check(losses: np.ndarray, new: int, end: int, lr: float) -> None:
    """Raise DivergenceError at the first epoch from ``new`` to ``end - 1`` whose loss is not
    finite or has grown :data:`PATIENCE` epochs in a row (``losses``: one row per epoch)."""
    first = max(0, new - PATIENCE)  # the epochs a run of growth ending at ``new`` started from
    seen = losses[first:end].reshape(end - first, -1)
    grew = np.zeros(seen.shape, dtype=np.int64)
    grew[1:] = seen[1:] > seen[:-1]
    grown = np.cumsum(grew, axis=0)
    streak = np.zeros(len(seen), dtype=bool)  # PATIENCE growths in a row end at this epoch
    streak[PATIENCE:] = (grown[PATIENCE:] - grown[:-PATIENCE] == PATIENCE).any(1)
    broken = ~np.isfinite(seen).all(1)
    bad = np.flatnonzero((broken | streak)[new - first :])
    if not len(bad):
        return
    epoch = new + int(bad[0])
    hint = f"the learning rate {lr:g} is too large; try a smaller one, e.g. {lr / 10:g}"
    if broken[epoch - first]:
        raise DivergenceError(f"gradient descent diverged at epoch {epoch} (the loss is not finite): {hint}")
    raise DivergenceError(
        f"gradient descent diverged: the loss grew for {PATIENCE} epochs in a row up to epoch {epoch}: {hint}"
    )
