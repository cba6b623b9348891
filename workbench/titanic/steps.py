"""The steps every net's fit takes, for the lesson's table and any table's: batched Gauss-Newton,
L-BFGS with an exact Newton finish.

On the rows where each ReLU is active the net is a linear model, so a Gauss-Newton step is a
least-squares solve: cheap when batched over many starts. L-BFGS (scipy, fed torch's exact
loss and gradient in float64) finishes a start, as Excel's Solver does, and a few Newton steps
then land on the minimum.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from ..numerics import DTYPE, one_thread
from .models import forward, jacobian

#: Iteration limit of one L-BFGS run, and its stopping tolerances: tight, so
#: ``linear`` lands on the least-squares optimum to about 1e-12.
LBFGS_ITERATIONS = 1000
LBFGS_OPTIONS = {"ftol": 1e-15, "gtol": 1e-10, "maxfun": 20_000}

#: Gauss-Newton: how many times a step may be halved to make the loss go down, and the
#: ridge added to the normal equations (their entries are up to the number of rows).
GN_HALVINGS = 10
GN_RIDGE = 1e-9

#: Gauss-Newton's (starts, rows, P) Jacobian is built for as many starts at a time as fit in this
#: many bytes (at least one): each start's step solves its own normal equations, so a big table
#: holds one start's Jacobian, not every start's (the lesson's 256 starts on 891 rows: 36 MB, one go).
GN_CHUNK_BYTES = 64 * 2**20

#: Newton steps at most after each L-BFGS run (see :func:`_newton`); two or three suffice.
NEWTON_STEPS = 6


Loss = Callable[[torch.Tensor], torch.Tensor]
#: Parameters -> (the loss, its gradient, flat), both computed in numpy.
Gradient = Callable[[np.ndarray], tuple[float, np.ndarray]]


def mse_loss(model: str, x: torch.Tensor, y: torch.Tensor, sigmoid: bool) -> Loss:
    """The lesson's loss: one mean squared error per start."""
    return lambda params: ((forward(model, params, x, sigmoid=sigmoid) - y) ** 2).mean(-1)


def gauss_newton_steps(
    model: str,
    params: torch.Tensor,
    x: torch.Tensor,
    y: torch.Tensor,
    sigmoid: bool,
    iterations: int,
    progress: Callable[[int], None] | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss-Newton steps for K starts at once; returns the parameters and the K losses per step.

    On each ReLU's active rows the net is a linear model, so one step solves that
    linear least-squares problem, as ``lstsq`` does for ``linear``: the normal
    equations of the model's :func:`~workbench.titanic.models.jacobian` (with a sigmoid, of
    its linearisation). The tiny ridge :data:`GN_RIDGE` picks, among equally good
    solutions, the one with the smallest parameters, as ``lstsq``'s minimum-norm
    solution does: weights that no active row sees go to zero. The ReLUs then switch
    on or off on some rows, so the step is halved, up to :data:`GN_HALVINGS` times,
    until the loss goes down; a start whose loss cannot go down stays where it is.
    """
    loss_fn = mse_loss(model, x, y, sigmoid)
    ridge = GN_RIDGE * torch.eye(params[0].numel(), dtype=DTYPE)
    history = []
    with torch.no_grad():
        loss = loss_fn(params)
        chunk = gn_chunk(len(x), params[0].numel())
        for i in range(1, iterations + 1):
            steps = [
                _gauss_newton_step(model, params[k : k + chunk], x, y, sigmoid, ridge)
                for k in range(0, len(params), chunk)
            ]
            step = steps[0] if len(steps) == 1 else torch.cat(steps)
            params, loss = params.clone(), loss.clone()
            waiting = torch.arange(len(params))  # the starts whose step has not lowered the loss yet
            for halving in range(GN_HALVINGS + 1):
                # only those starts' losses: after the first try, few are left
                trial = params[waiting] + step[waiting] / 2**halving
                trial_loss = loss_fn(trial)
                better = trial_loss < loss[waiting]
                params[waiting[better]], loss[waiting[better]] = trial[better], trial_loss[better]
                waiting = waiting[~better]
                if not len(waiting):
                    break
            history.append(loss)
            if progress is not None:
                progress(i)
    return params, torch.stack(history)


def gn_chunk(rows: int, size: int) -> int:
    """How many starts' Jacobians (``rows`` x ``size`` parameters each) a Gauss-Newton step builds
    at once: :data:`GN_CHUNK_BYTES`' worth, at least one."""
    return max(1, GN_CHUNK_BYTES // (8 * rows * size))


def _gauss_newton_step(
    model: str, params: torch.Tensor, x: torch.Tensor, y: torch.Tensor, sigmoid: bool, ridge: torch.Tensor
) -> torch.Tensor:
    """The full Gauss-Newton step of each start in ``params`` (before any halving)."""
    if model == "nnet" and not sigmoid:
        return _relu_sum_step(params, x, y, ridge)
    jac = jacobian(model, params, x, sigmoid=sigmoid)  # (K, n, P)
    flat = params.reshape(len(params), -1, 1)  # (K, P, 1)
    # Linearised at params, the predictions are pred + jac @ (new - params); fit them to y.
    aim = y[..., None] - forward(model, params, x, sigmoid=sigmoid)[..., None] + jac @ flat
    jac_t = jac.transpose(-1, -2)
    new = torch.linalg.solve(jac_t @ jac + ridge, jac_t @ aim)
    return (new - flat).reshape(params.shape)


def _relu_sum_step(w: torch.Tensor, x: torch.Tensor, y: torch.Tensor, ridge: torch.Tensor) -> torch.Tensor:
    """:func:`_gauss_newton_step` of a sum of ReLUs, ``w`` (K, units, P), from its normal equations
    built a block at a time: unit u's Jacobian is ``x`` on the rows where u is active, so the block
    (u, v) of J^T J is ``x_S^T x_S``, S the rows where u and v are both active, without the
    (K, n, units * P) Jacobian."""
    starts, units, p = w.shape
    # One product per start (x repeated, not one matrix of every start's rows): each start's sums
    # are then added in the same order however many starts a chunk holds.
    z = torch.bmm(w, x.expand(starts, *x.shape).transpose(-1, -2)).numpy()  # (K, units, n)
    xs, active = x.numpy(), z > 0
    r = y.numpy() - np.maximum(z, 0).sum(1)  # (K, n)
    pairs = [(u, v) for u in range(units) for v in range(u, units)]
    both = np.stack([active[:, u] & active[:, v] for u, v in pairs], axis=1)  # (K, pairs, n)
    grams = _gram(xs, both)  # (K, pairs, P, P)
    jtj = np.empty((starts, units, p, units, p))
    for k, (u, v) in enumerate(pairs):
        jtj[:, u, :, v] = grams[:, k]
        jtj[:, v, :, u] = grams[:, k].transpose(0, 2, 1)
    jtr = ((active * r[:, None]) @ xs).reshape(starts, -1)  # (K, units * P)
    # The step to new = (J^T J + ridge)^-1 J^T (r + J w), without forming new: new - w.
    a = jtj.reshape(starts, units * p, units * p) + ridge.numpy()
    step = np.linalg.solve(a, (jtr - w.numpy().reshape(starts, -1) @ ridge.numpy())[..., None])
    return torch.from_numpy(step.reshape(w.shape))


#: Up to this many entries in the table of every row's outer product x x^T (rows x P x P: 4 MB),
#: :func:`_gram` makes each start's ``x_S^T x_S`` from it in one call for all starts; beyond, a
#: start at a time from S's rows alone, where the products' own work outweighs Python's per start
#: (the lesson's 256 starts x 570 rows: 3x quicker in one call; 100,000 rows x 20 inputs: slower,
#: and 320 MB).
GRAM_BATCH = 2**19


def _gram(x: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """``x_S^T x_S`` for each set S of rows in ``rows`` (K x m x n booleans): shape (K, m, P, P)."""
    n, p = x.shape
    if n * p * p <= GRAM_BATCH:
        outer = (x[:, :, None] * x[:, None, :]).reshape(n, p * p)  # each row's x x^T
        # One product per start, of its m sets at once (not one product of every start's sets): on
        # some BLAS kernels that one's sums depend on how many starts it holds.
        return np.matmul(rows.astype(x.dtype), outer).reshape(*rows.shape[:2], p, p)
    # numpy computes a matrix's own A^T A as one (syrk) product, half the work of A^T B
    return np.stack([[xs.T @ xs for xs in (x[s] for s in sets)] for sets in rows])


def relu_sum_gradient(x: torch.Tensor, y: torch.Tensor) -> Gradient:
    """The mean squared error of a sum of ReLUs ``w`` (units, P) on ``x``, ``y`` and its gradient,
    for :func:`lbfgs`: unit k's is ``2/n sum_i r_i x_i`` over the rows i where k is active, ``r``
    the residuals (the slope at the kink 0, as torch's relu has it). Written out, it skips
    autograd's bookkeeping, most of the work on a table as small as the lesson's.
    """
    xs, ys = x.numpy(), y.numpy()

    def loss_and_grad(w: np.ndarray) -> tuple[float, np.ndarray]:
        z = w @ xs.T  # (units, n)
        r = np.maximum(z, 0).sum(0) - ys
        return float(r @ r) / len(ys), (((z > 0) * (2 / len(ys) * r)) @ xs).ravel()

    return loss_and_grad


def lbfgs(
    loss_fn: Callable[[torch.Tensor], torch.Tensor],
    start: torch.Tensor,
    iterations: int,
    *,
    finish: bool = True,
    gradient: Gradient | None = None,
) -> tuple[torch.Tensor, list[float], int]:
    """Minimise from ``start`` with scipy's L-BFGS-B and torch's exact gradient.

    Returns the parameters, the loss at the start and after every iteration, and
    the number of iterations. ``finish``: Newton steps at the end (:func:`_newton`).
    ``gradient``: the loss and its gradient, written out by hand (as
    :func:`relu_sum_gradient`), instead of torch's autograd on ``loss_fn``.
    """
    import scipy.optimize  # here, not at the top: a build's second process, which fits no net, never loads it

    shape = start.shape

    def autograd(flat: np.ndarray) -> tuple[float, np.ndarray]:
        params = torch.from_numpy(flat.reshape(shape)).requires_grad_(True)
        loss = loss_fn(params)
        loss.backward()
        return loss.item(), params.grad.numpy().ravel()

    loss_and_grad = autograd if gradient is None else (lambda flat: gradient(flat.reshape(shape)))

    history = [loss_fn(start).item()]

    def record(intermediate_result: scipy.optimize.OptimizeResult) -> None:
        history.append(float(intermediate_result.fun))

    with one_thread():
        if iterations == 0:
            return start.clone(), history, 0
        done = scipy.optimize.minimize(
            loss_and_grad,
            start.numpy().ravel(),
            jac=True,
            method="L-BFGS-B",
            callback=record,
            options={**LBFGS_OPTIONS, "maxiter": iterations},
        )
    params = torch.from_numpy(done.x.reshape(shape).copy())
    # The callback saw each iterate's loss; make sure the last one is that of the result.
    history[-1] = loss_fn(params).item()
    if not finish:
        return params, history, int(done.nit)
    params = _newton(loss_fn, params)
    history[-1] = min(history[-1], loss_fn(params).item())
    return params, history, int(done.nit)


def _newton(loss_fn: Loss, params: torch.Tensor) -> torch.Tensor:
    """Finish a minimisation with Newton steps, to land on the minimum itself.

    L-BFGS stops when the loss stops changing, at rounding level; on a flat valley the
    parameters are then known only to about the square root of machine precision, and
    their last digits depend on how the CPU rounded along the way. Newton's step solves
    for where the gradient is zero, so a few steps pin the parameters to the minimum's
    own digits, the same on any CPU. (For the net, on its ReLUs' active rows, the
    Hessian is the least-squares one, so this is the exact least-squares solve there.)
    A step is kept only while it shrinks the gradient; a Hessian that is not positive
    definite (not at a minimum) stops the finish.
    """
    shape = params.shape

    def flat_loss(flat: torch.Tensor) -> torch.Tensor:
        return loss_fn(flat.reshape(shape))

    def gradient(p: torch.Tensor) -> torch.Tensor:
        p = p.detach().requires_grad_(True)
        return torch.autograd.grad(flat_loss(p), p)[0]

    flat = params.reshape(-1)
    grad = gradient(flat)
    for _ in range(NEWTON_STEPS):
        hessian = torch.autograd.functional.hessian(flat_loss, flat)
        factor, info = torch.linalg.cholesky_ex(hessian)
        if info.item() != 0:
            break
        trial = flat - torch.cholesky_solve(grad[:, None], factor)[:, 0]
        trial_grad = gradient(trial)
        if not trial_grad.norm() < grad.norm() or not flat_loss(trial) <= flat_loss(flat) * (1 + 1e-14):
            break
        flat, grad = trial.detach(), trial_grad
    return flat.reshape(shape)
