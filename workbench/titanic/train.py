"""Fit the lesson's models: gradient descent from random starts, Gauss-Newton, L-BFGS, least squares.

Four methods minimise the lesson's loss (mean squared error against ``Survived``):

* ``"search"`` (the net's default): its lowest minimum, found exactly. Random starts
  take batched Gauss-Newton steps, the best are finished exactly as the quadratic
  program of their activation pattern (:mod:`~workbench.titanic.patterns`), and the
  best minimum then *hops*: rows near a ReLU's kink are pushed across it and
  finished again, until no hop finds a lower minimum.
* ``"gd"``: :func:`~workbench.gd.gradient_descent`, the lesson's loop. With
  ``starts=K`` the K random starts descend at once, as one batched tensor
  computation, and the best is returned. ``gauss_newton=G`` then takes G
  Gauss-Newton steps of all K starts at once (on each ReLU's active rows the net
  is a linear model, so each step is a least-squares solve), and ``polish=M``
  finishes the M best starts with L-BFGS, the way Excel's Solver finishes the job.
* ``"lbfgs"``: scipy's L-BFGS-B (a quasi-Newton method, Solver-like) fed the
  exact loss and gradient that torch autograd computes, in float64.
* ``"lstsq"``: the closed-form least-squares optimum (``linear`` only).

Why the net needs more than gradient descent (``bench/net_search.py`` measures it): the
two-ReLU net has many local minima (dead ReLUs; the lesson's Solver stopped at MSE
0.1432), a few of them within 1e-5 of each other near 0.1289, and each sits on
ReLU kinks, where the loss is not smooth. Gradient descent crawls (the loss's
curvature differs 484-fold between directions) and L-BFGS stops near a kink, short
of the minimum; Gauss-Newton steps are cheap when batched and bring most starts into
their basin, and the exact finish lands on the minimum itself.

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
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd
import torch

from ..errors import DivergenceError, WorkbenchError
from ..gd import gradient_descent
from ..limits import check_memory, check_seed
from ..numerics import DTYPE, least_squares, one_thread, uniform_start
from . import patterns
from .models import accuracy, get, inputs, param_shape, targets
from .steps import LBFGS_ITERATIONS, LBFGS_OPTIONS, Loss, gauss_newton_steps, gn_chunk, lbfgs, mse_loss

METHODS: tuple[str, ...] = ("gd", "lbfgs", "lstsq", "search")

#: Method ``search`` (its random starts and Gauss-Newton steps are the model's recipe's,
#: :attr:`~workbench.titanic.models.Model.recipe`): how many of the best are finished exactly,
#: how many rows nearest each kink a hop pushes across, and how many hops at most (two or three
#: reach the lowest minimum from any seed tried).
SEARCH_FINISH, SEARCH_NEAR, SEARCH_HOPS = 8, 200, 10
#: Gauss-Newton steps from a pushed point: it starts beside a minimum, so fewer suffice.
SEARCH_HOP_STEPS = 8

#: Memory of a gd fit, per random start and table row: what one forward and backward pass
#: of all starts holds at once (measured at 157 bytes for the net with a sigmoid), and per
#: parameter what a Gauss-Newton step adds (its (K, n, P) jacobian and the products made
#: from it: measured about 2 copies plus 12 numbers per row). The net's step, built a block at a
#: time (:func:`~workbench.titanic.steps.gauss_newton_steps`), holds no jacobian: about one copy's
#: worth and 6 numbers per row. See :func:`fit_memory`.
GD_BYTES = 192
GN_COPIES, GN_EXTRA = 2, 12
GN_BLOCK_COPIES, GN_BLOCK_EXTRA = 1, 6

#: ``progress(done, total)`` after each gd epoch, Gauss-Newton step and L-BFGS run.
Progress = Callable[[int, int], None]


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
            iteration. ``lbfgs``: the starting loss, then one value per iteration.
            ``lstsq``: one value. ``search``: the returned start's loss, after each
            Gauss-Newton step, its exact minimum, then each hop's lower minimum.
        seconds: wall time of the whole fit.
        epochs: gd epochs (0 for lbfgs and lstsq).
        iterations: L-BFGS iterations spent on the returned start (method ``lbfgs``, or
            gd's polish); 0 when L-BFGS did not run.
        lr: the gd learning rate (``None`` for the other methods).
        seed, starts, sigmoid: as passed to :func:`fit`.
        final_losses: every start's final loss (gd: after the Gauss-Newton steps,
            before any polish), the spread that shows how often a random start
            lands in a poor minimum.
        best: index of the returned start among the ``starts``.
        gauss_newton: Gauss-Newton steps taken by every gd start.
        polish: how many of the best gd starts L-BFGS finished.
        hops: method ``search``: how many hops across ReLU kinks found a lower minimum.
    """

    model: str
    method: str
    params: np.ndarray
    start: np.ndarray
    loss: float
    accuracy: float
    history: np.ndarray
    seconds: float
    seed: int
    starts: int
    sigmoid: bool
    final_losses: np.ndarray
    epochs: int = 0
    iterations: int = 0
    lr: float | None = None
    best: int = 0
    gauss_newton: int = 0
    polish: int = 0
    hops: int = 0

    def as_model(self, model: str) -> Fit:
        """The same fit seen as ``nnet`` or ``mmult`` (parameters transposed).

        Both models compute the same numbers from transposed parameters, so this is
        exactly what :func:`fit` returns for the other one, without fitting again.
        """
        if model == self.model:
            return self
        if get(model).transpose_of != self.model and get(self.model).transpose_of != model:
            raise WorkbenchError(f"a {self.model} fit can be seen as {self.model} only, not as {model}")
        return replace(self, model=model, params=self.params.T.copy(), start=self.start.T.copy())

    def as_dict(self) -> dict[str, object]:
        """The fit as plain Python values (lists and numbers), e.g. for JSON."""
        out: dict[str, object] = {}
        for name, value in vars(self).items():
            out[name] = value.tolist() if isinstance(value, np.ndarray) else value
        return out

    def curve(self) -> np.ndarray:
        """The loss by step for a chart: gd epochs, Gauss-Newton steps, then where the fit ended.

        L-BFGS's own iterations and the search's hops are left out: their count can vary
        with the CPU's rounding, and a curve of fixed length keeps a chart's layout the
        same on every machine.
        """
        if self.method == "search":
            return np.append(self.history[: 1 + self.gauss_newton], self.loss)
        if not self.polish:
            return self.history
        return np.append(self.history[: self.epochs + 1 + self.gauss_newton], self.loss)


def start_params(model: str, seed: int = 0, starts: int = 1) -> np.ndarray:
    """The lesson's ``RAND()-0.5`` starting parameters, shape ``(starts, *param_shape(model))``.

    Uniform on [-0.5, 0.5) from :func:`~workbench.numerics.uniform_start`. The first
    start does not depend on ``starts``. A model that is another's transpose (``mmult``)
    starts from that model's starts transposed, as the lesson copies the same random
    numbers to both sheets.
    """
    check_count("starts", starts, 1)
    of = get(model).transpose_of
    drawn = uniform_start((starts, *param_shape(of or model)), seed)
    return np.ascontiguousarray(drawn.swapaxes(-1, -2)) if of else drawn


def fit_memory(
    model: str, rows: int, *, method: str = "gd", starts: int = 1, epochs: int = 0, gauss_newton: int = 0
) -> int:
    """About how many bytes :func:`fit` needs beyond what Python and torch hold already.

    gd runs every start on every row at once, so it needs ``starts x rows`` numbers for each
    tensor of its forward and backward pass; Gauss-Newton adds a ``(starts, rows, P)``
    jacobian (for at most :func:`gn_chunk` starts at a time); the loss history keeps one number
    per start and epoch, and one Python float per epoch for the returned start. L-BFGS and least
    squares run one start at a time.
    """
    size = math.prod(param_shape(model))
    if method == "search":  # Gauss-Newton on every start at once, then one start at a time
        starts = max(starts, 2 * SEARCH_NEAR)
        epochs, gauss_newton = 0, max(gauss_newton, 1)
    elif method != "gd":
        return rows * (GD_BYTES + 8 * GN_COPIES * size) + (LBFGS_OPTIONS["maxfun"] + 1) * 64
    copies, extra = (GN_BLOCK_COPIES, GN_BLOCK_EXTRA) if model == "nnet" else (GN_COPIES, GN_EXTRA)
    work = starts * rows * (GD_BYTES + (8 * extra if gauss_newton else 0))
    if gauss_newton:  # the Jacobians (or blocks) of as many starts as a step builds at once
        work += min(starts, gn_chunk(rows, size)) * rows * 8 * copies * size
    return work + (epochs + gauss_newton + 1) * (starts * 16 + 64)


def fit(
    model: str,
    table: pd.DataFrame,
    *,
    method: str | None = None,
    seed: int = 0,
    sigmoid: bool = False,
    progress: Progress | None = None,
    **options: int | float | None,
) -> Fit:
    """Fit one of the lesson's models to a feature table by minimising MSE.

    Args:
        model: a name in :data:`~workbench.titanic.models.MODELS`: ``"linear"``,
            ``"nnet"`` or ``"mmult"``.
        table: a table from :func:`~workbench.lesson_table` (load the CSV first: a fit
            never reads a file).
        method: ``"gd"``, ``"lbfgs"``, ``"lstsq"`` (``linear`` only) or ``"search"``
            (``nnet`` and ``mmult`` without a sigmoid). Default: the model's recipe, so
            ``search`` for the net, ``gd`` otherwise.
        seed: seeds the random starts (:func:`start_params`).
        sigmoid: squash predictions into 0..1 before the loss.
        progress: called as ``progress(done, total)`` after each gd epoch, each
            Gauss-Newton step and each L-BFGS run, e.g. to draw a progress bar.
        options: the method's own settings, each defaulting to the model's recipe
            (:attr:`~workbench.titanic.models.Model.recipe`). ``gd``: ``lr``, ``epochs``,
            ``starts`` (descending at once), ``gauss_newton`` (steps of every start after
            gd), ``polish`` (finish this many of the best starts with L-BFGS);
            ``gauss_newton=0, polish=0`` is the lesson's plain gradient descent.
            ``lbfgs``: ``iterations`` (limit per start, :data:`LBFGS_ITERATIONS`) and
            ``starts`` (one after another, default 1). ``lstsq``: none. ``search``:
            ``starts`` and ``gauss_newton`` (default: the model's recipe).

    Raises:
        WorkbenchError: an unknown model or method, lstsq for a net, an option the method
            does not have, a bad count.
        DivergenceError: the gd learning rate is too large for this model.
    """
    record = get(model)
    check_seed(seed)
    if not isinstance(table, pd.DataFrame):
        raise WorkbenchError(
            f"fit needs a feature table, e.g. lesson_table(load_titanic(path)); got {type(table).__name__}"
        )
    if method is None:
        method = record.recipe.method if not sigmoid else "gd"
    if method not in METHODS:
        raise WorkbenchError(f"unknown method {method!r}; choose one of {', '.join(METHODS)}")
    if record.transpose_of:  # the same model in the other layout: fit that one, transpose
        return fit(record.transpose_of, table, method=method, seed=seed, sigmoid=sigmoid,
                   progress=progress, **options).as_model(model)  # fmt: skip
    began = time.perf_counter()
    x, y = inputs(table), targets(table)
    problem = _Problem(model, x, y, mse_loss(model, x, y, sigmoid), seed, sigmoid, progress)
    given = {name: value for name, value in options.items() if value is not None}
    _check_options(method, given)
    fitted = FITTERS[method](problem, **given)
    return _result(fitted, problem, method, table, began)


#: The options each method takes (see :func:`fit`).
OPTIONS: dict[str, tuple[str, ...]] = {
    "gd": ("lr", "epochs", "starts", "gauss_newton", "polish"),
    "lbfgs": ("iterations", "starts"),
    "lstsq": (),
    "search": ("starts", "gauss_newton"),
}


def _check_options(method: str, given: dict[str, object]) -> None:
    for name in given:
        if name not in OPTIONS[method]:
            has = ", ".join(OPTIONS[method]) or "no options: it solves the least-squares problem in one go"
            owner = next((m for m, names in OPTIONS.items() if name in names), None)
            where = f"; {name} belongs to method {owner!r}" if owner else ""
            raise WorkbenchError(f"method {method!r} has no {name} (it has {has}){where}")


@dataclass(frozen=True)
class _Problem:
    """What every method minimises: the model's loss on rows ``x``, ``y``, from starts seeded by ``seed``."""

    model: str
    x: torch.Tensor
    y: torch.Tensor
    loss_fn: Loss
    seed: int
    sigmoid: bool
    progress: Progress | None


@dataclass
class _Fitted:
    """What one method found: the returned start's parameters and history, and the counts."""

    params: torch.Tensor
    start: torch.Tensor
    history: Sequence[float] | np.ndarray
    final_losses: np.ndarray
    starts: int = 1
    best: int = 0
    counts: dict[str, object] = field(default_factory=dict)


def _fit_lstsq(p: _Problem, **_: object) -> _Fitted:
    """The closed-form least-squares optimum of the linear model."""
    model, sigmoid, x, y, loss_fn = p.model, p.sigmoid, p.x, p.y, p.loss_fn
    if model != "linear" or sigmoid:
        raise WorkbenchError(
            "lstsq is the closed-form optimum of the linear model without a sigmoid;"
            f" fit {model}{' with sigmoid' if sigmoid else ''} with method 'gd' or 'lbfgs'"
        )
    params = torch.as_tensor(least_squares(x.numpy(), y.numpy()), dtype=DTYPE)
    loss = loss_fn(params).item()
    return _Fitted(params, torch.zeros_like(params), [loss], np.array([loss]))


def _fit_lbfgs(p: _Problem, iterations: int = LBFGS_ITERATIONS, starts: int = 1, **_: object) -> _Fitted:
    """L-BFGS from ``starts`` random starts, one after another; the best wins."""
    check_count("iterations", iterations, 0)
    begins = torch.from_numpy(start_params(p.model, p.seed, starts))
    runs = []
    for k in range(starts):
        runs.append(lbfgs(p.loss_fn, begins[k], iterations))
        if p.progress is not None:
            p.progress(k + 1, starts)
    finals = np.array([run[1][-1] for run in runs])
    best = int(np.argmin(finals))
    params, history, nit = runs[best]
    return _Fitted(params, begins[best], history, finals, starts, best, {"iterations": nit})


def _fit_gd(p: _Problem, **given: float) -> _Fitted:
    """Batched gd from random starts, Gauss-Newton steps of every start, an L-BFGS polish of the best."""
    model, x, y, loss_fn, progress = p.model, p.x, p.y, p.loss_fn, p.progress
    recipe = get(model).recipe
    lr = float(given.get("lr", recipe.lr))
    epochs, starts = given.get("epochs", recipe.epochs), given.get("starts", recipe.starts)
    gauss_newton = given.get("gauss_newton", recipe.gauss_newton)
    polish = given.get("polish", min(recipe.polish, starts) if isinstance(starts, int) else recipe.polish)
    counts = dict(epochs=epochs, lr=lr, gauss_newton=gauss_newton, polish=polish)
    _check_gd(model, len(x), starts, counts)
    begins = torch.from_numpy(start_params(model, p.seed, starts))
    total = epochs + gauss_newton + polish

    def tick(done: int, _loss: torch.Tensor | None = None) -> None:
        if progress is not None and done > 0:
            progress(done, total)

    with one_thread():  # the numbers are the same bit for bit on one thread or more (tests check it)
        found, path = _descend(p, begins, lr, epochs, tick)
        if gauss_newton:
            found, steps = gauss_newton_steps(
                model, found, x, y, p.sigmoid, gauss_newton, progress=lambda i: tick(epochs + i)
            )
            path = torch.cat([path, steps])
    finals = path[-1].numpy()
    best = int(np.argmin(finals))
    params, history, iterations = found[best], path[:, best].numpy().copy(), 0
    # L-BFGS finishes the `polish` best starts; the best finish wins (ties: the better start).
    finished = np.inf
    for done, k in enumerate(np.argsort(finals, kind="stable")[:polish], start=1):
        polished, steps, nit = lbfgs(loss_fn, found[k], LBFGS_ITERATIONS)
        if steps[-1] < finished:
            finished, params, best, iterations = steps[-1], polished, int(k), nit
            history = np.concatenate([path[:, k].numpy(), steps[1:]])
        tick(epochs + gauss_newton + done)
    return _Fitted(params, begins[best], history, finals, starts, best, counts | {"iterations": iterations})


def _fit_search(
    p: _Problem, starts: int | None = None, gauss_newton: int | None = None, **_: object
) -> _Fitted:
    """The net's lowest minimum: random starts, Gauss-Newton, exact finishes, hops across kinks."""
    model, x, y, loss_fn, sigmoid, progress = p.model, p.x, p.y, p.loss_fn, p.sigmoid, p.progress
    recipe = get(model).recipe  # the one place that says how hard the net is searched
    starts = recipe.starts if starts is None else starts
    gauss_newton = recipe.gauss_newton if gauss_newton is None else gauss_newton
    if not get(model).relu_sum or sigmoid:
        raise WorkbenchError(
            f"method 'search' finds the exact minima of a sum of ReLUs without a sigmoid; fit {model}"
            f"{' with sigmoid' if sigmoid else ''} with method 'gd', 'lbfgs' or 'lstsq'"
        )
    check_count("starts", starts, 1)
    check_count("gauss_newton", gauss_newton, 0)
    check_memory(
        fit_memory(model, len(x), method="search", starts=starts, gauss_newton=gauss_newton),
        f"searching {model} ({starts:,} starts x {len(x):,} rows, {gauss_newton} Gauss-Newton steps)",
        "--starts or --gauss-newton",
    )
    begins = torch.from_numpy(start_params(model, p.seed, starts))
    with one_thread():
        found, steps = _newton_all(model, begins, x, y, gauss_newton, loss_fn)
        finals = steps[-1].numpy()
        best = int(np.argmin(finals))
        params, loss = _finish(found, finals, x, y)
        history = [*steps[:, best].tolist(), loss]
        hops = 0
        while hops < SEARCH_HOPS:
            nearby = torch.from_numpy(patterns.pushed_across(params, x.numpy(), SEARCH_NEAR))
            moved, moved_steps = _newton_all(
                model, nearby, x, y, min(gauss_newton, SEARCH_HOP_STEPS), loss_fn
            )
            candidate, loss = _finish(moved, moved_steps[-1].numpy(), x, y)
            if not loss < history[-1] - HOP_GAIN:
                break
            params, hops = candidate, hops + 1
            history.append(loss)
            if progress is not None:
                progress(hops, SEARCH_HOPS)
    counts = dict(gauss_newton=gauss_newton, hops=hops)
    return _Fitted(torch.from_numpy(params), begins[best], history, finals, starts, best, counts)


#: A hop must lower the loss by more than this to count (below it, rounding decides).
HOP_GAIN = 1e-13


def _newton_all(
    model: str, begins: torch.Tensor, x: torch.Tensor, y: torch.Tensor, steps: int, loss_fn: Loss
) -> tuple[torch.Tensor, torch.Tensor]:
    """Gauss-Newton steps of every start at once: the parameters and the losses, start first."""
    first = loss_fn(begins).detach()[None]
    if not steps:
        return begins, first
    found, losses = gauss_newton_steps(model, begins, x, y, False, steps)
    return found, torch.cat([first, losses])


def _finish(
    found: torch.Tensor, finals: np.ndarray, x: torch.Tensor, y: torch.Tensor
) -> tuple[np.ndarray, float]:
    """The lowest exact minimum reached from the :data:`SEARCH_FINISH` best of ``found``, and its loss."""
    xs, ys = x.numpy(), y.numpy()
    best = np.argsort(finals, kind="stable")[:SEARCH_FINISH]
    minima = [patterns.exact_minimum(found[k].numpy(), xs, ys) for k in best]
    return min(((w, patterns.loss(w, xs, ys)) for w in minima), key=lambda found: found[1])


#: One function per method: adding a method is one more function here and in :data:`OPTIONS`.
FITTERS: dict[str, Callable[..., _Fitted]] = {
    "gd": _fit_gd,
    "lbfgs": _fit_lbfgs,
    "lstsq": _fit_lstsq,
    "search": _fit_search,
}


def _check_gd(model: str, rows: int, starts: int, settings: dict) -> None:
    """gd's ``starts`` and ``settings`` (``lr``, ``epochs``, ``gauss_newton``, ``polish``), checked."""
    lr, epochs, gauss_newton, polish = (settings[k] for k in ("lr", "epochs", "gauss_newton", "polish"))
    check_count("epochs", epochs, 0)
    check_count("starts", starts, 1)
    check_count("gauss_newton", gauss_newton, 0)
    check_count("polish", polish, 0)
    if polish > starts:
        raise WorkbenchError(f"polish={polish} is more than starts={starts}; polish at most {starts} starts")
    if not (math.isfinite(lr) and lr > 0):
        raise WorkbenchError(f"the learning rate must be a positive finite number; got {lr}")
    check_memory(
        fit_memory(model, rows, starts=starts, epochs=epochs, gauss_newton=gauss_newton),
        f"fitting {model} by gd ({starts:,} starts x {rows:,} rows, {epochs:,} epochs,"
        f" {gauss_newton} Gauss-Newton steps)",
        "--starts, --epochs or --gauss-newton",
    )


def _descend(
    p: _Problem, begins: torch.Tensor, lr: float, epochs: int, tick: Callable
) -> tuple[torch.Tensor, torch.Tensor]:
    """gd of every start at once; the parameters and every start's loss by epoch."""
    model, starts = p.model, len(begins)
    how = f"{starts} start{'s' if starts > 1 else ''}, seed {p.seed}"
    try:
        found, history = gradient_descent(p.loss_fn, begins, lr=lr, epochs=epochs, callback=tick)
    except DivergenceError as err:
        raise DivergenceError(f"fitting {model} ({how}): {err}") from err
    # A step that is fine only goes downhill, so the best start ends below the best start's
    # beginning; otherwise the steps overshot into dead ReLUs or a saturated sigmoid.
    first, last = history[0].min().item(), history[-1].min().item()
    if epochs and not last < first:
        raise DivergenceError(
            f"fitting {model} ({how}): gradient descent diverged: after {epochs} epochs the best"
            f" loss is {last:.6g}, no lower than the best start's {first:.6g}: the learning rate"
            f" {lr:g} is too large; try a smaller one, e.g. {lr / 10:g}"
        )
    return found, history


def _result(fitted: _Fitted, p: _Problem, method: str, table: pd.DataFrame, began: float) -> Fit:
    model, sigmoid, seed = p.model, p.sigmoid, p.seed
    values = fitted.params.detach().numpy().astype("float64", copy=True)
    history = np.asarray(fitted.history, dtype="float64")
    return Fit(
        model=model,
        method=method,
        params=values,
        start=fitted.start.numpy().copy(),
        loss=float(history[-1]),
        accuracy=accuracy(model, values, table, sigmoid=sigmoid),
        history=history,
        seconds=time.perf_counter() - began,
        seed=int(seed),
        starts=fitted.starts,
        sigmoid=sigmoid,
        final_losses=np.asarray(fitted.final_losses, dtype="float64"),
        best=fitted.best,
        **fitted.counts,
    )


def check_count(name: str, value: int, least: int) -> None:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < least:
        raise WorkbenchError(f"{name} must be a whole number >= {least}; got {value!r}")
