"""The small regressions' fits: full-batch gradient descent, every step kept, and mini-batch SGD.

Every fit runs :func:`workbench.gd.gradient_descent`. :func:`descend` also keeps the
parameters and the gradient at every step (a :class:`Trajectory`): a spreadsheet's
``descent`` sheet recomputes exactly those rows. :func:`sgd` is the 2019 lesson's
mini-batch variant: a :class:`Trajectory` too, with each step's batch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import torch
from numpy.typing import ArrayLike

from ..errors import DivergenceError, WorkbenchError
from ..gd import gradient_descent
from ..numerics import DTYPE, KERNELS, least_squares_floor, one_thread, uniform_start
from .datasets import Dataset
from .models import design, kind, max_stable_lr, param_names, param_shape, relu_start


@dataclass(frozen=True)
class Trajectory:
    """Every step of one gradient descent on MSE: full-batch, or mini-batch SGD.

    ``params[t]`` are the parameters before step t (``params[0]`` is the start,
    ``params[-1]`` the result), ``losses[t]`` their MSE on every point and ``grads[t]`` its
    gradient there. Arrays have ``steps + 1`` rows. ``kind`` is ``"linear"`` (``phi @ w``) or
    ``"relu_sum"`` (``sum_k relu(phi @ w_k)``).

    Full batch: ``params[t + 1] = params[t] - lr * grads[t]``. With ``zero_grad=False``
    (forgetting ``a.grad.zero_()``) each step used the sum of all gradients so far instead.

    Mini-batch (``batch_size`` set, by :func:`sgd`): step t takes the points ``rows[t]``
    (0-based row numbers), and ``params[t + 1] = params[t] - lr * batch_grads[t]``, where
    ``batch_losses[t]`` and ``batch_grads[t]`` are the MSE on those points and its gradient
    (``steps`` rows each); ``grads[t]`` is the full-batch gradient they estimate. The rows were
    drawn with ``seed``; ``steps_per_epoch`` steps see every point once.
    """

    kind: str
    lr: float
    params: np.ndarray
    losses: np.ndarray
    grads: np.ndarray
    zero_grad: bool = True
    batch_size: int | None = None
    seed: int | None = None
    steps_per_epoch: int = 1
    rows: tuple[np.ndarray, ...] | None = None
    batch_losses: np.ndarray | None = None
    batch_grads: np.ndarray | None = None

    @property
    def steps(self) -> int:
        return len(self.losses) - 1

    @property
    def epochs(self) -> int:
        """Full passes over the points: ``steps`` for full-batch descent."""
        return self.steps // self.steps_per_epoch


def _mse(kind_: str, phi: torch.Tensor, y: torch.Tensor):
    return lambda p: ((KERNELS[kind_](p, phi) - y) ** 2).mean(-1)


#: Every step's gradient comes from one backward pass over the steps' predictions, in groups of
#: steps whose predictions take at most this many bytes: a big table's hundred steps of every row
#: at once would hold several copies of (steps x rows) numbers. The lesson's tables take one group.
STEPS_BATCH_BYTES = 8 * 2**20


def descend(
    phi: ArrayLike,
    y: ArrayLike,
    start: ArrayLike,
    *,
    kind: str = "linear",
    lr: float,
    epochs: int,
    zero_grad: bool = True,
) -> Trajectory:
    """Full-batch gradient descent on MSE with :func:`~workbench.gd.gradient_descent`, step by step.

    Args:
        phi: the (n, p) design matrix.
        y: the (n,) targets.
        start: (p,) for ``kind="linear"``, (K, p) for ``kind="relu_sum"``.
        lr, epochs, zero_grad: as for ``gradient_descent``.

    Raises:
        DivergenceError: the learning rate is too large.
    """
    x = torch.as_tensor(np.asarray(phi, dtype="float64"), dtype=DTYPE)
    t = torch.as_tensor(np.asarray(y, dtype="float64"), dtype=DTYPE)
    mse = _mse(kind, x, t)
    seen: list[torch.Tensor] = []

    def loss(p: torch.Tensor) -> torch.Tensor:
        seen.append(p.detach().clone())  # gradient_descent calls us once per step, in order
        return mse(p)

    start_t = torch.as_tensor(np.asarray(start, dtype="float64"), dtype=DTYPE)
    with one_thread():
        _, history = gradient_descent(loss, start_t, lr=lr, epochs=epochs, zero_grad=zero_grad)
        steps = torch.stack(seen).requires_grad_(True)
        # every step's gradient at once: the loss is batched over steps
        group = max(1, STEPS_BATCH_BYTES // (8 * x.shape[0] * (start_t.numel() // x.shape[1])))
        for lo in range(0, len(steps), group):
            mse(steps if group >= len(steps) else steps[lo : lo + group]).sum().backward()
    return Trajectory(kind, float(lr), steps.detach().numpy(), history.numpy(), steps.grad.numpy(), zero_grad)


@dataclass(frozen=True)
class Fit:
    """A :class:`Dataset` fitted by one model: its design matrix and its descent."""

    data: Dataset
    model: str
    units: int
    phi: np.ndarray
    phi_names: tuple[str, ...]
    param_names: tuple[str, ...]
    trajectory: Trajectory

    @property
    def params(self) -> np.ndarray:
        """The final parameters."""
        return self.trajectory.params[-1]

    @property
    def losses(self) -> np.ndarray:
        """MSE before each step and after the last: ``epochs + 1`` values."""
        return self.trajectory.losses

    @property
    def floor(self) -> float | None:
        """The least-squares floor: the lowest MSE any parameters reach (numpy's lstsq).

        ``None`` for a sum of ReLUs, whose lowest loss has no closed form.
        """
        if self.model == "relu":
            return None
        return least_squares_floor(self.phi, self.data.y)

    def loss_and_gradient(self, params: ArrayLike) -> tuple[float, np.ndarray]:
        """The MSE of ``params`` on the data and its gradient (autograd), shaped like ``params``."""
        p = torch.tensor(np.asarray(params, dtype="float64"), dtype=DTYPE, requires_grad=True)
        x = torch.as_tensor(self.phi, dtype=DTYPE)
        y = torch.as_tensor(self.data.y, dtype=DTYPE)
        loss = _mse(kind(self.model), x, y)(p)
        loss.backward()
        return float(loss.detach()), p.grad.numpy()

    def predict(self, params: ArrayLike | None = None, x: ArrayLike | None = None) -> np.ndarray:
        """Predictions of ``params`` (the final ones by default) at ``x`` (the data's by default)."""
        xs = self.data.x if x is None else np.asarray(x, dtype="float64").reshape(-1, self.data.x.shape[1])
        phi = design(self.model, xs, self.data.x_names)[0]
        p = self.params if params is None else np.asarray(params, dtype="float64")
        with torch.no_grad():
            return KERNELS[kind(self.model)](torch.as_tensor(p), torch.as_tensor(phi)).numpy()


def _settings(data: Dataset, model: str | None, units: int | None) -> tuple[str, int, np.ndarray, tuple]:
    """The model, its number of units, design matrix and column names, defaults from ``data``."""
    model = data.model if model is None else model
    if units is None:
        units = data.units if model == data.model else 2
    units = units if model == "relu" else 1
    if units < 1:
        raise WorkbenchError(f"a sum of ReLUs needs at least one unit; got {units}")
    phi, phi_names = design(model, data.x, data.x_names)
    return model, units, phi, phi_names


def _start(data: Dataset, model: str, units: int, phi: np.ndarray, start: ArrayLike | None) -> np.ndarray:
    """``start`` checked against the model's shape; by default the dataset's (or a neutral) start."""
    if start is None:
        if model == data.model and units == data.units:
            start = data.start
        elif model == "relu":
            one_x = data.x.shape[1] == 1
            start = relu_start(data.x, units) if one_x else uniform_start((units, phi.shape[1]), 0)
        else:
            start = np.zeros(phi.shape[1])
    shape = param_shape(model, phi.shape[1], units)
    start = np.asarray(start, dtype="float64")
    if start.shape != shape:
        raise WorkbenchError(f"{model} on {data.name} needs a start of shape {shape}; got {start.shape}")
    return start


def fit_dataset(
    data: Dataset,
    *,
    model: str | None = None,
    units: int | None = None,
    lr: float | None = None,
    epochs: int | None = None,
    start: ArrayLike | None = None,
    zero_grad: bool = True,
) -> Fit:
    """Full-batch gradient descent of ``data`` with the lesson's settings, or others.

    Each argument left ``None`` takes the dataset's value. A model other than the
    dataset's starts at zero (linear, quadratic) or at :func:`relu_start`.

    Raises:
        DivergenceError: the learning rate is too large (the message says so, and
            for linear and quadratic models, where descent stops being stable).
    """
    model, units, phi, phi_names = _settings(data, model, units)
    start = _start(data, model, units, phi, start)
    lr = data.lr if lr is None else lr
    epochs = data.epochs if epochs is None else epochs
    try:
        trajectory = descend(phi, data.y, start, kind=kind(model), lr=lr, epochs=epochs, zero_grad=zero_grad)
    except DivergenceError as e:
        limit = ""
        if not zero_grad:
            limit = " (zero_grad=False: the gradients piled up from step to step, a.grad.zero_() forgotten)"
        elif model != "relu":
            limit = f" (on {data.name}, plain descent diverges above lr {max_stable_lr(phi):.4g})"
        raise DivergenceError(f"{data.name}: {e}{limit}") from None
    names = param_names(model, phi.shape[1], units)
    return Fit(data, model, units, phi, phi_names, names, trajectory)


def lr_sweep(data: Dataset, lrs: Sequence[float], *, epochs: int | None = None) -> np.ndarray:
    """The MSE after ``epochs`` full-batch steps (the dataset's by default) at each learning
    rate of ``lrs``, as :func:`fit_dataset` would end; ``inf`` where descent diverged.

    The 2019 lesson's advice, as one picture: too low a rate barely moves in the steps
    given, too high a rate blows up.
    """
    model, units, phi, _ = _settings(data, None, None)
    start = torch.as_tensor(_start(data, model, units, phi, None), dtype=DTYPE)
    mse = _mse(kind(model), torch.as_tensor(phi, dtype=DTYPE), torch.as_tensor(data.y, dtype=DTYPE))
    epochs = data.epochs if epochs is None else epochs
    finals = []
    with one_thread():  # only the losses: none of a fit's per-step gradients
        for lr in lrs:
            try:
                finals.append(float(gradient_descent(mse, start, lr=float(lr), epochs=epochs)[1][-1]))
            except DivergenceError:
                finals.append(np.inf)
    return np.array(finals, dtype="float64")


#: The numbers of ReLUs :func:`more_units` sums by default.
UNITS = (1, 2, 4, 8)


def more_units(data: Dataset, *, units: Sequence[int] = UNITS, epochs: int = 1000) -> tuple[Fit, ...]:
    """Sums of ``units`` ReLUs, each fitted on ``data`` by :func:`fit_dataset` (``epochs`` steps
    from :func:`relu_start`): under- and over-fitting, once :func:`held_out_scores` scores them
    on new points too.
    """
    return tuple(fit_dataset(data, model="relu", units=k, epochs=epochs) for k in units)


@dataclass(frozen=True)
class HeldOut:
    """The numbers of a ``held_out`` sheet: sums of more and more ReLUs scored on the points they
    were fitted on and on held-out ones, computed before the sheet is written.

    ``fits[i]`` sums ``units[i]`` ReLUs; ``train_pred[i]`` and ``valid_pred[i]`` are its
    predictions at the data's x and at ``x_valid``; ``train_loss[i]`` and ``valid_loss[i]`` their MSE.
    Too few ReLUs fit neither set (under-fitting); more lower the train loss and stop helping
    on new points (over-fitting: the extra bends follow the noise of the points fitted).
    """

    fits: tuple[Fit, ...]
    x_valid: np.ndarray
    y_valid: np.ndarray
    train_pred: tuple[np.ndarray, ...]
    valid_pred: tuple[np.ndarray, ...]
    train_loss: np.ndarray
    valid_loss: np.ndarray

    @property
    def units(self) -> tuple[int, ...]:
        return tuple(f.units for f in self.fits)


def held_out_scores(fits: Sequence[Fit], x_valid: ArrayLike, y_valid: ArrayLike) -> HeldOut:
    """:func:`more_units`' ``fits`` (of one dataset of one x) scored on their own points and on
    ``x_valid``, ``y_valid``."""
    xv = np.asarray(x_valid, dtype="float64").reshape(-1, fits[0].data.x.shape[1])
    yv = np.asarray(y_valid, dtype="float64").reshape(-1)
    if len(xv) != len(yv) or not len(yv):
        raise WorkbenchError(f"held-out x and y must have one value per point; got {len(xv)} and {len(yv)}")
    train_pred = tuple(_relu_sum_at(f, f.data.x[:, 0]) for f in fits)
    valid_pred = tuple(_relu_sum_at(f, xv[:, 0]) for f in fits)
    valid = [np.mean((f.predict(x=xv) - yv) ** 2) for f in fits]
    train = [f.losses[-1] for f in fits]
    return HeldOut(tuple(fits), xv, yv, train_pred, valid_pred, np.array(train), np.array(valid))


def _relu_sum_at(fit: Fit, xs: np.ndarray) -> np.ndarray:
    """A sum of ReLUs of one x, ``relu(m x + b)`` added up, at each of ``xs``: as the sheet's cells add it."""
    w = fit.params.reshape(fit.units, 2)
    return np.array([float(np.maximum(w[:, 0] * x + w[:, 1], 0).sum()) for x in xs])


# --- mini-batch SGD -------------------------------------------------------------


def batches(n: int, batch_size: int, epochs: int, seed: int) -> list[torch.Tensor]:
    """The row indices of every mini-batch, epoch after epoch.

    Each epoch shuffles the rows with ``torch.randperm`` (one ``torch.Generator``
    seeded once with ``seed``) and cuts the order into batches of ``batch_size``
    (the last may be smaller), so every point is seen once per epoch.
    """
    if not 1 <= batch_size <= n:
        raise WorkbenchError(f"the batch size must be between 1 and the {n} points; got {batch_size}")
    g = torch.Generator().manual_seed(seed)
    out = []
    for _ in range(epochs):
        order = torch.randperm(n, generator=g)
        out.extend(order[i : i + batch_size] for i in range(0, n, batch_size))
    return out


def sgd(
    data: Dataset,
    *,
    batch_size: int = 10,
    lr: float | None = None,
    epochs: int | None = None,
    seed: int = 0,
    model: str | None = None,
) -> Trajectory:
    """The 2019 lesson's SGD: each step descends the loss of a random mini-batch, every step kept.

    Runs :func:`~workbench.gd.gradient_descent` with a loss that takes the next mini-batch of
    :func:`batches` at every step: ``epochs`` passes over the points, ``ceil(n / batch_size)``
    steps each, from the start :func:`fit_dataset` takes. Defaults as in :func:`fit_dataset`.
    The result's ``losses`` are on every point, to set beside full-batch descent, which makes
    one step per epoch.

    Raises:
        DivergenceError: the learning rate is too large.
    """
    model, units, phi, _ = _settings(data, model, None)
    lr = data.lr if lr is None else lr
    x = torch.as_tensor(phi, dtype=DTYPE)
    y = torch.as_tensor(data.y, dtype=DTYPE)
    plan = batches(data.n, batch_size, data.epochs if epochs is None else epochs, seed)
    f = kind(model)
    seen: list[torch.Tensor] = []

    def batch_loss(p: torch.Tensor) -> torch.Tensor:
        step = len(seen)
        seen.append(p.detach().clone())
        rows = plan[step] if step < len(plan) else slice(None)  # the call after the last step: all points
        return ((KERNELS[f](p, x[rows]) - y[rows]) ** 2).mean(-1)

    start = torch.as_tensor(_start(data, model, units, phi, None), dtype=DTYPE)
    try:
        with one_thread():
            gradient_descent(batch_loss, start, lr=lr, epochs=len(plan))
    except DivergenceError as e:
        raise DivergenceError(f"{data.name}, mini-batch SGD: {e}") from None
    params = torch.stack(seen).requires_grad_(True)
    with one_thread():
        batch_losses = torch.stack([_mse(f, x[r], y[r])(p) for p, r in zip(params[:-1], plan, strict=True)])
        batch_grads = torch.autograd.grad(batch_losses.sum(), params)[0][:-1]
        losses = _mse(f, x, y)(params)
        grads = torch.autograd.grad(losses.sum(), params)[0]
    return Trajectory(
        f, float(lr), params.detach().numpy(), losses.detach().numpy(), grads.numpy(),
        batch_size=batch_size, seed=seed, steps_per_epoch=math.ceil(data.n / batch_size),
        rows=tuple(r.numpy() for r in plan), batch_losses=batch_losses.detach().numpy(),
        batch_grads=batch_grads.numpy(),
    )  # fmt: skip


def sgd_steps(
    data: Dataset,
    *,
    batch_size: int = 10,
    lr: float | None = None,
    epochs: int = 10,
    seed: int = 0,
) -> Trajectory:
    """:func:`sgd` for ``epochs`` epochs with the dataset's model, for a spreadsheet's ``minibatch``
    sheet: every batch must hold ``batch_size`` points (``batch_size`` divides the number of
    points), so each step's batch fills a row of cells.

    Raises:
        WorkbenchError: the batch size does not divide the number of points.
        DivergenceError: the learning rate is too large.
    """
    if data.n % batch_size:
        raise WorkbenchError(
            f"{data.name}: the batch size {batch_size} must divide the {data.n} points, to record each step"
        )
    return sgd(data, batch_size=batch_size, lr=lr, epochs=epochs, seed=seed)
