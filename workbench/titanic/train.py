"""Fit the lesson's models: gradient descent from random starts, Gauss-Newton, L-BFGS, least squares.

Three methods minimise the lesson's loss (mean squared error against ``Survived``):

* ``"gd"``: :func:`~workbench.gd.gradient_descent`, the lesson's loop. With
  ``starts=K`` the K random starts descend at once, as one batched tensor
  computation, and the best is returned. ``gauss_newton=G`` then takes G
  Gauss-Newton steps of all K starts at once (on each ReLU's active rows the net
  is a linear model, so each step is a least-squares solve), and ``polish=M``
  finishes the M best starts with L-BFGS, the way Excel's Solver finishes the job.
* ``"lbfgs"``: scipy's L-BFGS-B (a quasi-Newton method, Solver-like) fed the
  exact loss and gradient that torch autograd computes, in float64.
* ``"lstsq"``: the closed-form least-squares optimum (``linear`` only).

Why the net needs all three stages (``bench/fit_quality.py`` measures them): the
two-ReLU net has many poor local minima (dead ReLUs, the lesson's Solver stopped at
MSE 0.1432), and the good one (about 0.1289) is reached from few random starts.
Gradient descent is slow here (the loss's curvature differs 484-fold between
directions, and lr 0.1 is about the largest step that is stable when both ReLUs
cover every row), so its ranking of the starts says little; L-BFGS converges but
costs 0.1 to 0.5 s per start, one start at a time. Gauss-Newton steps are cheap when
batched, and 20 of them bring most starts close to the bottom of their basin.

Every start is the lesson's ``RAND()-0.5``: uniform on [-0.5, 0.5), drawn from a
``torch.Generator`` seeded with ``seed`` (see :func:`start_params`), so the same
call gives the same numbers.

``mmult`` is ``nnet`` with its parameters transposed, and
:func:`~workbench.titanic.models.forward` computes both with the same floating-point
operations. Fitting ``mmult`` therefore fits the (2, 10) layout from the transposed
start and transposes the result: ``fit("mmult", seed=s).params`` is exactly
``fit("nnet", seed=s).params.T``, as the lesson's two sheets hold the same numbers.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
import scipy.linalg
import scipy.optimize
import torch

from ..errors import DivergenceError, WorkbenchError
from ..gd import gradient_descent
from ..limits import check_memory, check_seed
from .features import lesson_table
from .models import (
    DTYPE,
    accuracy,
    forward,
    inputs,
    jacobian,
    one_thread,
    param_shape,
    targets,
    uniform_start,
)

METHODS: tuple[str, ...] = ("gd", "lbfgs", "lstsq")


@dataclass(frozen=True)
class Recipe:
    """Default settings of ``fit(model)`` for one model (see :data:`DEFAULTS`)."""

    lr: float  # gd step size
    epochs: int  # gd steps; for lbfgs the iteration limit is LBFGS_ITERATIONS
    starts: int  # random starts descending at once
    gauss_newton: int  # Gauss-Newton steps of every start after gd
    polish: int  # how many of the best starts L-BFGS finishes


#: The defaults of :func:`fit`, per model. For ``linear``, lr 0.1 is half the
#: largest stable step (2 / 9.56, the top eigenvalue of the loss's Hessian);
#: 1000 epochs get within about 1e-4 of the least-squares floor, the rest is
#: slow (the Hessian's condition number is 484). For the net: 256 random starts,
#: 100 epochs of gd at lr 0.1, 20 Gauss-Newton steps of every start, and an L-BFGS
#: finish of the 2 best reach MSE 0.12893 to 0.12895 for each of seeds 0 to 9 in
#: 2 to 3 s (the lesson's Solver stopped at 0.1432; ``bench/fit_quality.py``).
DEFAULTS: dict[str, Recipe] = {
    "linear": Recipe(lr=0.1, epochs=1000, starts=1, gauss_newton=0, polish=0),
    "nnet": Recipe(lr=0.1, epochs=100, starts=256, gauss_newton=20, polish=2),
    "mmult": Recipe(lr=0.1, epochs=100, starts=256, gauss_newton=20, polish=2),
}

#: Iteration limit of one L-BFGS run, and its stopping tolerances: tight, so
#: ``linear`` lands on the least-squares optimum to about 1e-12.
LBFGS_ITERATIONS = 1000
LBFGS_OPTIONS = {"ftol": 1e-15, "gtol": 1e-10, "maxfun": 20_000}

#: Gauss-Newton: how many times a step may be halved to make the loss go down, and the
#: ridge added to the normal equations (their entries are up to the number of rows).
GN_HALVINGS = 10
GN_RIDGE = 1e-9

#: Newton steps at most after each L-BFGS run (see :func:`_newton`); two or three suffice.
NEWTON_STEPS = 6

#: Memory of a gd fit, per random start and table row: what one forward and backward pass
#: of all starts holds at once (measured at 157 bytes for the net with a sigmoid), and per
#: parameter what a Gauss-Newton step adds (its (K, n, P) jacobian and the products made
#: from it: measured about 2 copies plus 12 numbers per row). See :func:`fit_memory`.
GD_BYTES = 192
GN_COPIES, GN_EXTRA = 2, 12


@dataclass(frozen=True, eq=False)
class Fit:
    """The outcome of :func:`fit`.

    Attributes:
        model, method: what was fitted, and how.
        params: the fitted parameters, float64, in the model's shape.
        start: where the returned fit started (the lesson's ``RAND()-0.5``).
        loss: mean squared error of ``params`` on the table.
        accuracy: share of rows where ``prediction > 0.5`` matches ``Survived``.
        history: the loss along the way of the returned start. ``gd``: before every
            epoch and after the last (``epochs + 1`` values), then the loss after
            each Gauss-Newton step, then, if it was polished, after every L-BFGS
            iteration. ``lbfgs``: the
            starting loss, then one value per iteration. ``lstsq``: one value.
        seconds: wall time of the whole fit.
        epochs: gd epochs, or L-BFGS iterations of the returned start; 0 for lstsq.
        lr: the gd learning rate (``None`` for the other methods).
        seed, starts, sigmoid: as passed to :func:`fit`.
        final_losses: every start's final loss (gd: after the Gauss-Newton steps,
            before any polish), the spread that shows how often a random start
            lands in a poor minimum.
        best: index of the returned start among the ``starts``.
        gauss_newton: Gauss-Newton steps taken by every gd start.
        polish: how many of the best gd starts L-BFGS finished.
        polish_iterations: L-BFGS iterations spent on the returned start.
    """

    model: str
    method: str
    params: np.ndarray
    start: np.ndarray
    loss: float
    accuracy: float
    history: np.ndarray
    seconds: float
    epochs: int
    lr: float | None
    seed: int
    starts: int
    sigmoid: bool
    final_losses: np.ndarray
    best: int = 0
    gauss_newton: int = 0
    polish: int = 0
    polish_iterations: int = 0

    def as_model(self, model: str) -> Fit:
        """The same fit seen as ``nnet`` or ``mmult`` (parameters transposed).

        Both models compute the same numbers from transposed parameters, so this is
        exactly what :func:`fit` returns for the other one, without fitting again.
        """
        if {model, self.model} != {"nnet", "mmult"}:
            if model == self.model:
                return self
            raise WorkbenchError(f"a {self.model} fit can be seen as {self.model} only, not as {model}")
        return replace(self, model=model, params=self.params.T.copy(), start=self.start.T.copy())

    def as_dict(self) -> dict[str, object]:
        """The fit as plain Python values (lists and numbers), e.g. for JSON."""
        out: dict[str, object] = {}
        for name, value in vars(self).items():
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out


def start_params(model: str, seed: int = 0, starts: int = 1) -> np.ndarray:
    """The lesson's ``RAND()-0.5`` starting parameters, shape ``(starts, *param_shape(model))``.

    Uniform on [-0.5, 0.5) from :func:`~workbench.titanic.models.uniform_start`. The first
    start does not depend on ``starts``. ``mmult``'s starts are the transposes of
    ``nnet``'s, as the lesson copies the same random numbers to both sheets.
    """
    _check_count("starts", starts, 1)
    shape = param_shape("nnet" if model == "mmult" else model)
    drawn = uniform_start((starts, *shape), seed)
    return np.ascontiguousarray(drawn.swapaxes(-1, -2)) if model == "mmult" else drawn


def fit_memory(
    model: str, rows: int, *, method: str = "gd", starts: int = 1, epochs: int = 0, gauss_newton: int = 0
) -> int:
    """About how many bytes :func:`fit` needs beyond what Python and torch hold already.

    gd runs every start on every row at once, so it needs ``starts x rows`` numbers for each
    tensor of its forward and backward pass; Gauss-Newton adds a ``(starts, rows, P)``
    jacobian; the loss history keeps one number per start and epoch, and one Python float per
    epoch for the returned start. L-BFGS and least squares run one start at a time.
    """
    size = math.prod(param_shape(model))
    if method != "gd":
        return rows * (GD_BYTES + 8 * GN_COPIES * size) + (LBFGS_OPTIONS["maxfun"] + 1) * 64
    work = starts * rows * (GD_BYTES + (8 * (GN_COPIES * size + GN_EXTRA) if gauss_newton else 0))
    return work + (epochs + gauss_newton + 1) * (starts * 16 + 64)


def fit(
    model: str,
    table: pd.DataFrame | None = None,
    *,
    method: str = "gd",
    lr: float | None = None,
    epochs: int | None = None,
    seed: int = 0,
    starts: int | None = None,
    gauss_newton: int | None = None,
    polish: int | None = None,
    sigmoid: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Fit:
    """Fit one of the lesson's models to a feature table by minimising MSE.

    Args:
        model: ``"linear"``, ``"nnet"`` or ``"mmult"``.
        table: a table from :func:`~workbench.lesson_table` (the default).
        method: ``"gd"``, ``"lbfgs"`` or ``"lstsq"`` (``linear`` only).
        lr: gd learning rate; default from :data:`DEFAULTS`.
        epochs: gd epochs (default from :data:`DEFAULTS`), or the L-BFGS
            iteration limit per start (default :data:`LBFGS_ITERATIONS`).
        seed: seeds the random starts (:func:`start_params`).
        starts: random starts; gd runs them at once, lbfgs one after another.
            Default from :data:`DEFAULTS` for gd, 1 for lbfgs.
        gauss_newton: gd only: Gauss-Newton steps of every start after gd.
            Default from :data:`DEFAULTS`.
        polish: gd only: finish this many of the best starts with L-BFGS.
            Default from :data:`DEFAULTS`. ``gauss_newton=0, polish=0`` is the
            lesson's plain gradient descent.
        sigmoid: squash predictions into 0..1 before the loss.
        progress: called as ``progress(done, total)`` after each gd epoch, each
            Gauss-Newton step and each L-BFGS run, e.g. to draw a progress bar.

    Raises:
        WorkbenchError: an unknown model or method, lstsq for a net, a bad count.
        DivergenceError: the gd learning rate is too large for this model.
    """
    param_shape(model)  # an unknown model raises here, listing the choices
    check_seed(seed)
    if method not in METHODS:
        raise WorkbenchError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if model == "mmult":
        # The same net in the other layout (see the module docstring).
        kwargs = dict(method=method, lr=lr, epochs=epochs, seed=seed, starts=starts)
        kwargs.update(gauss_newton=gauss_newton, polish=polish)
        return fit("nnet", table, **kwargs, sigmoid=sigmoid, progress=progress).as_model("mmult")

    began = time.perf_counter()
    table = lesson_table() if table is None else table
    x, y = inputs(table), targets(table)
    loss_fn = _loss_fn(model, x, y, sigmoid)
    recipe = DEFAULTS[model]
    if method == "lstsq":
        if model != "linear" or sigmoid:
            raise WorkbenchError(
                "lstsq is the closed-form optimum of the linear model without a sigmoid;"
                f" fit {model}{' with sigmoid' if sigmoid else ''} with method 'gd' or 'lbfgs'"
            )
        given = {"lr": lr, "epochs": epochs, "starts": starts, "gauss_newton": gauss_newton, "polish": polish}
        for name, value in given.items():
            if value is not None:
                raise WorkbenchError(f"lstsq has no {name}: it solves the least-squares problem in one go")
        fitted = scipy.linalg.lstsq(x.numpy(), y.numpy())[0]
        params = torch.as_tensor(fitted, dtype=DTYPE)
        loss = loss_fn(params).item()
        return _result(model, method, params, torch.zeros_like(params), [loss], began, 0, None, seed,
                       1, sigmoid, np.array([loss]), table)  # fmt: skip

    if method == "lbfgs":
        if lr is not None or gauss_newton is not None or polish is not None:
            raise WorkbenchError(
                "lbfgs has no learning rate, Gauss-Newton steps or polish; those belong to method 'gd'"
            )
        starts = 1 if starts is None else starts
        limit = LBFGS_ITERATIONS if epochs is None else epochs
        _check_count("epochs", limit, 0)
        begins = torch.from_numpy(start_params(model, seed, starts))
        runs = []
        for k in range(starts):
            runs.append(_lbfgs(loss_fn, begins[k], limit))
            if progress is not None:
                progress(k + 1, starts)
        finals = np.array([run[1][-1] for run in runs])
        best = int(np.argmin(finals))
        params, history, iterations = runs[best]
        return _result(model, method, params, begins[best], history, began, iterations, None, seed,
                       starts, sigmoid, finals, table, best=best)  # fmt: skip

    lr = recipe.lr if lr is None else float(lr)
    epochs = recipe.epochs if epochs is None else epochs
    starts = recipe.starts if starts is None else starts
    gauss_newton = recipe.gauss_newton if gauss_newton is None else gauss_newton
    polish = min(recipe.polish, starts) if polish is None else polish
    _check_count("epochs", epochs, 0)
    _check_count("starts", starts, 1)
    _check_count("gauss_newton", gauss_newton, 0)
    _check_count("polish", polish, 0)
    if polish > starts:
        raise WorkbenchError(f"polish={polish} is more than starts={starts}; polish at most {starts} starts")
    if not (math.isfinite(lr) and lr > 0):
        raise WorkbenchError(f"the learning rate must be a positive finite number; got {lr}")
    check_memory(
        fit_memory(model, len(x), starts=starts, epochs=epochs, gauss_newton=gauss_newton),
        f"fitting {model} by gd ({starts:,} starts x {len(x):,} rows, {epochs:,} epochs,"
        f" {gauss_newton} Gauss-Newton steps)",
        "--starts, --epochs or --gauss-newton",
    )
    begins = torch.from_numpy(start_params(model, seed, starts))
    total = epochs + gauss_newton + polish

    def tick(done: int, _loss: torch.Tensor | None = None) -> None:
        if progress is not None and done > 0:
            progress(done, total)

    # One thread: the numbers are the same bit for bit on one or two (tests check it), and
    # a second thread spinning beside another busy process made fits up to 30x slower.
    with one_thread():
        how = f"{starts} start{'s' if starts > 1 else ''}, seed {seed}"
        try:
            descent = gradient_descent(loss_fn, begins, lr=lr, epochs=epochs, callback=tick)
        except DivergenceError as err:
            raise DivergenceError(f"fitting {model} ({how}): {err}") from err
        found, path = descent.params, descent.history
        # A step that is fine only goes downhill, so the best start ends below the best start's
        # beginning; otherwise the steps overshot into dead ReLUs or a saturated sigmoid.
        first, last = path[0].min().item(), path[-1].min().item()
        if epochs and not last < first:
            raise DivergenceError(
                f"fitting {model} ({how}): gradient descent diverged: after {epochs} epochs the best"
                f" loss is {last:.6g}, no lower than the best start's {first:.6g}: the learning rate"
                f" {lr:g} is too large; try a smaller one, e.g. {lr / 10:g}"
            )
        if gauss_newton:
            found, steps = _gauss_newton(
                model, found, x, y, sigmoid, gauss_newton, progress=lambda i: tick(epochs + i)
            )
            path = torch.cat([path, steps])
    finals = path[-1].numpy()
    best = int(np.argmin(finals))
    params, history, iterations = found[best], path[:, best].numpy().copy(), 0
    # L-BFGS finishes the `polish` best starts; the best finish wins (ties: the better start).
    finished = np.inf
    for done, k in enumerate(np.argsort(finals, kind="stable")[:polish], start=1):
        polished, steps, nit = _lbfgs(loss_fn, found[k], LBFGS_ITERATIONS)
        if steps[-1] < finished:
            finished, params, best, iterations = steps[-1], polished, int(k), nit
            history = np.concatenate([path[:, k].numpy(), steps[1:]])
        tick(epochs + gauss_newton + done)
    extra = dict(best=best, gauss_newton=gauss_newton, polish=polish, polish_iterations=iterations)
    return _result(model, method, params, begins[best], history, began, epochs, lr, seed, starts,
                   sigmoid, finals, table, **extra)  # fmt: skip


def compare(table: pd.DataFrame | None = None, *, seed: int = 0, starts: int | None = None) -> pd.DataFrame:
    """Every model fitted by every method it has, side by side.

    One row per model x method: ``gd`` is the lesson's plain loop from one random
    start (1000 epochs); ``gd+gn+lbfgs`` is :func:`fit`'s default for the net (batched
    random starts, Gauss-Newton steps, an L-BFGS finish of the best); ``lbfgs``
    starts once, like the lesson's Solver; ``lstsq`` is the optimum of ``linear``.
    ``mmult`` gives ``nnet``'s numbers exactly and is left out.

    Args:
        table: a lesson table (the bundled one by default).
        seed: seeds every random start.
        starts: random starts of the ``gd+gn+lbfgs`` rows (default from
            :data:`DEFAULTS`); fewer is faster and usually worse.

    Returns:
        Columns ``model, method, starts, epochs, loss, accuracy, gap, seconds``,
        where ``gap`` is the loss minus the least-squares floor of ``linear``.
    """
    table = lesson_table() if table is None else table
    floor = fit("linear", table, method="lstsq")
    runs = [
        ("linear", "lstsq", floor),
        ("linear", "lbfgs", fit("linear", table, method="lbfgs", seed=seed)),
        ("linear", "gd", fit("linear", table, seed=seed)),
        ("nnet", "lbfgs", fit("nnet", table, method="lbfgs", seed=seed)),
        ("nnet", "gd", fit("nnet", table, seed=seed, epochs=1000, starts=1, gauss_newton=0, polish=0)),
        ("nnet", "gd+gn+lbfgs", fit("nnet", table, seed=seed, starts=starts)),
    ]
    return pd.DataFrame(
        [{**comparison_row(model, method, f, floor.loss), "seconds": f.seconds} for model, method, f in runs]
    )


def comparison_row(model: str, method: str, fit: Fit, floor: float) -> dict[str, object]:
    """One row of a comparison: ``model, method, starts, epochs, loss, accuracy, gap``.

    ``gap`` is ``fit.loss - floor``, the distance to the least-squares floor of ``linear``.
    """
    return {
        "model": model,
        "method": method,
        "starts": fit.starts,
        "epochs": fit.epochs,
        "loss": fit.loss,
        "accuracy": fit.accuracy,
        "gap": fit.loss - floor,
    }


Loss = Callable[[torch.Tensor], torch.Tensor]


def _loss_fn(model: str, x: torch.Tensor, y: torch.Tensor, sigmoid: bool) -> Loss:
    """The lesson's loss: one mean squared error per start."""
    return lambda params: ((forward(model, params, x, sigmoid=sigmoid) - y) ** 2).mean(-1)


def _gauss_newton(
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
    loss_fn = _loss_fn(model, x, y, sigmoid)
    ridge = GN_RIDGE * torch.eye(params[0].numel(), dtype=DTYPE)
    history = []
    with torch.no_grad():
        loss = loss_fn(params)
        for i in range(1, iterations + 1):
            jac = jacobian(model, params, x, sigmoid=sigmoid)  # (K, n, P)
            flat = params.reshape(len(params), -1, 1)  # (K, P, 1)
            # Linearised at params, the predictions are pred + jac @ (new - params); fit them to y.
            aim = y[..., None] - forward(model, params, x, sigmoid=sigmoid)[..., None] + jac @ flat
            jac_t = jac.transpose(-1, -2)
            new = torch.linalg.solve(jac_t @ jac + ridge, jac_t @ aim)
            step = (new - flat).reshape(params.shape)
            moved = torch.zeros_like(loss, dtype=torch.bool)
            for halving in range(GN_HALVINGS + 1):
                trial = params + step / 2**halving
                trial_loss = loss_fn(trial)
                better = (trial_loss < loss) & ~moved
                params = torch.where(better.view(-1, *[1] * (params.dim() - 1)), trial, params)
                loss = torch.where(better, trial_loss, loss)
                moved |= better
                if moved.all():
                    break
            history.append(loss)
            if progress is not None:
                progress(i)
    return params, torch.stack(history)


def _lbfgs(
    loss_fn: Callable[[torch.Tensor], torch.Tensor], start: torch.Tensor, iterations: int
) -> tuple[torch.Tensor, list[float], int]:
    """Minimise from ``start`` with scipy's L-BFGS-B and torch's exact gradient.

    Returns the parameters, the loss at the start and after every iteration, and
    the number of iterations.
    """
    shape = start.shape

    def loss_and_grad(flat: np.ndarray) -> tuple[float, np.ndarray]:
        params = torch.from_numpy(flat.reshape(shape)).requires_grad_(True)
        loss = loss_fn(params)
        loss.backward()
        return loss.item(), params.grad.numpy().ravel()

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


def _result(
    model: str,
    method: str,
    params: torch.Tensor,
    start: torch.Tensor,
    history: list[float],
    began: float,
    epochs: int,
    lr: float | None,
    seed: int,
    starts: int,
    sigmoid: bool,
    final_losses: np.ndarray,
    table: pd.DataFrame,
    **extra: int,
) -> Fit:
    values = params.detach().numpy().astype("float64", copy=True)
    return Fit(
        model=model,
        method=method,
        params=values,
        start=start.numpy().copy(),
        loss=float(history[-1]),
        accuracy=accuracy(model, values, table, sigmoid=sigmoid),
        history=np.asarray(history, dtype="float64"),
        seconds=time.perf_counter() - began,
        epochs=epochs,
        lr=lr,
        seed=int(seed),
        starts=starts,
        sigmoid=sigmoid,
        final_losses=np.asarray(final_losses, dtype="float64"),
        **extra,
    )


def _check_count(name: str, value: int, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise WorkbenchError(f"{name} must be a whole number >= {least}; got {value!r}")
