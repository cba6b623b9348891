"""The lessons' small regressions: seeded datasets, their models, and their fits.

Before Titanic, the lessons teach gradient descent on toy data. Each is a
:class:`Dataset` with a documented, seeded recipe:

* ``line`` (2019 lesson 2, "SGD from scratch"): 100 points on ``y = 3x + 2`` plus
  uniform noise, fitted by ``[x, 1] @ (a1, a2)`` from (-1, 1) with lr 0.1.
* ``quadratic`` (2022 lesson 3): the course notebook's 20 noisy points of
  ``3x^2 + 2x + 1``, fitted by ``a x^2 + b x + c`` from (1.5, 1.5, 1.5), lr 0.01.
* ``speed`` (fastbook chapter 4): a roller coaster's speed over 20 seconds, the
  same quadratic model, lr 1e-5 (the time^2 column makes larger steps diverge).
* ``relu``: the quadratic's points fitted by a sum of K ReLUs (K = 2 is the
  lesson's "double ReLU"; more units bend the line into any curve).
* any CSV of numbers with :func:`read_dataset`.

Three models, all trained on mean squared error:

* ``linear``: ``[x..., 1] @ w`` (the line when there is one x column);
* ``quadratic``: ``[x^2, x, 1] @ (a, b, c)``;
* ``relu``: ``sum_k relu([x..., 1] @ w_k)``, K rows of parameters.

Each turns x into a *design matrix* ``phi`` (the columns the parameters multiply);
the forward pass is then a kernel of :mod:`workbench.numerics` (``linear`` for
``phi @ w``, ``relu_sum`` for the sum of ReLUs), and every fit runs
:func:`workbench.gd.gradient_descent`. :func:`descend` also keeps the parameters
and the gradient at every step: a spreadsheet's ``descent`` sheet recomputes
exactly those rows. :func:`sgd` is the 2019 lesson's mini-batch variant.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import ArrayLike

from ..errors import DataError, DivergenceError, WorkbenchError
from ..files import read_csv, to_float
from ..gd import gradient_descent
from ..numerics import DTYPE, KERNELS, one_thread, uniform_start

MODELS: tuple[str, ...] = ("linear", "quadratic", "relu")
DATASETS: tuple[str, ...] = ("line", "quadratic", "speed", "relu")


@dataclass(frozen=True)
class Dataset:
    """Points to fit, and how the lesson fits them.

    ``x`` is (n, d) and ``y`` is (n,), both float64. ``model``, ``units`` (the
    number of ReLUs, for ``relu``), ``start``, ``lr`` and ``epochs`` are the
    lesson's choices for a full-batch fit; :func:`fit_dataset` can override each.
    ``recipe`` says in one paragraph how the points were made.
    """

    name: str
    x: np.ndarray
    y: np.ndarray
    x_names: tuple[str, ...]
    y_name: str
    model: str
    start: np.ndarray
    lr: float
    epochs: int
    recipe: str
    units: int = 1
    seed: int | None = None

    @property
    def n(self) -> int:
        return len(self.y)


# --- models -------------------------------------------------------------------


def design(model: str, x: np.ndarray, x_names: Sequence[str]) -> tuple[np.ndarray, tuple[str, ...]]:
    """The design matrix of ``model`` on inputs ``x`` (n, d), and its column names.

    ``linear`` and ``relu`` read ``[x..., 1]``; ``quadratic`` reads ``[x^2, x, 1]``
    and needs exactly one x column. The column of ones makes the last parameter
    (of each unit) an intercept.
    """
    x = np.asarray(x, dtype="float64")
    ones = np.ones((len(x), 1))
    if model in ("linear", "relu"):
        return np.hstack([x, ones]), (*x_names, "Ones")
    if model == "quadratic":
        if x.shape[1] != 1:
            raise WorkbenchError(
                f"the quadratic model needs exactly one x column; got {x.shape[1]} ({', '.join(x_names)})"
            )
        return np.hstack([x**2, x, ones]), (f"{x_names[0]}^2", x_names[0], "Ones")
    raise WorkbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def kind(model: str) -> str:
    """The kernel of :mod:`workbench.numerics` that computes ``model`` on its design matrix."""
    return "relu_sum" if model == "relu" else "linear"


def param_names(model: str, width: int, units: int = 1) -> tuple[str, ...]:
    """The lessons' names for the parameters, flattened row by row.

    ``linear``: ``a1 .. a{width}`` (the 2019 lesson's ``a``; the last is the
    intercept); ``quadratic``: ``a, b, c``; ``relu``: ``m1, b1, m2, b2, ...`` with one
    input, else ``w1_1 .. w1_{width}, w2_1, ...`` (each unit's last is its intercept).
    """
    if model == "linear":
        return tuple(f"a{j + 1}" for j in range(width))
    if model == "quadratic":
        return ("a", "b", "c")
    if model == "relu":
        if width == 2:
            return tuple(name for k in range(units) for name in (f"m{k + 1}", f"b{k + 1}"))
        return tuple(f"w{k + 1}_{j + 1}" for k in range(units) for j in range(width))
    raise WorkbenchError(f"unknown model {model!r}; choose one of {', '.join(MODELS)}")


def param_shape(model: str, width: int, units: int = 1) -> tuple[int, ...]:
    """``(width,)`` for the linear-in-parameters models, ``(units, width)`` for ``relu``."""
    return (units, width) if model == "relu" else (width,)


def max_stable_lr(phi: np.ndarray) -> float:
    """The learning rate above which full-batch descent on MSE diverges, for ``phi @ w``.

    The MSE's Hessian is ``2/n phi^T phi``; a step multiplies the error along its
    top eigenvector by ``1 - lr * lambda_max``, which grows in size once
    ``lr > 2 / lambda_max``.
    """
    hessian = 2 / len(phi) * phi.T @ phi
    return float(2 / np.linalg.eigvalsh(hessian)[-1])


# --- datasets -----------------------------------------------------------------


def line(seed: int = 0, n: int = 100) -> Dataset:
    """The 2019 lesson's line: ``y = 3 x + 2 + noise``.

    ``x`` is uniform on [-1, 1), the noise uniform on [0, 1), both drawn (in that
    order) from a ``torch.Generator`` seeded with ``seed``, as the lesson drew them
    with torch's ``uniform_`` and ``rand`` (unseeded there). Because the noise has
    mean 1/2, the best intercept is about 2.5, not 2, and the best MSE is about
    the noise's variance, 1/12.
    """
    g = torch.Generator().manual_seed(seed)
    x = torch.empty(n, dtype=DTYPE).uniform_(-1, 1, generator=g)
    noise = torch.rand(n, generator=g, dtype=DTYPE)
    y = x * 3 + 2 + noise
    return Dataset(
        name="line",
        x=x.numpy()[:, None],
        y=y.numpy(),
        x_names=("x",),
        y_name="y",
        model="linear",
        start=np.array([-1.0, 1.0]),
        lr=0.1,
        epochs=100,
        recipe=(
            f"fast.ai 2019 lesson 2: {n} points, x uniform on [-1, 1), y = 3x + 2 + noise uniform on"
            f" [0, 1) (torch.Generator seed {seed}). Model [x, 1] @ (a1, a2) from (-1, 1), lr 0.1."
        ),
        seed=seed,
    )


def _lesson3_points(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """The 2022 course notebook's noisy quadratic, reproduced value for value.

    The notebook runs ``np.random.seed(42)``, ``x = torch.linspace(-2, 2, steps=20)``
    (float32) and ``add_noise(f(x), 0.15, 1.5)`` with
    ``add_noise(y, mult, add) = y * (1 + normal(scale=mult)) + normal(scale=add)``.
    A ``np.random.RandomState(seed)`` draws the same legacy normal stream as the
    global seed, without touching numpy's global state. ``f(x)`` is computed in
    float32 like the notebook's tensor, and ``x`` keeps its float32 values: the
    evenly spaced points rounded to float32 (torch's own float32 ``linspace`` differs
    from that in the last bit at some points, and differently on different CPUs).
    """
    x32 = np.linspace(-2, 2, 20).astype("float32")
    fx = (3 * x32**2 + 2 * x32 + 1).astype("float64")
    rng = np.random.RandomState(seed)
    y = fx * (1 + rng.normal(scale=0.15, size=fx.shape)) + rng.normal(scale=1.5, size=fx.shape)
    return x32.astype("float64"), y


def quadratic(seed: int = 42) -> Dataset:
    """The 2022 lesson's quadratic ``3x^2 + 2x + 1`` on 20 noisy points in [-2, 2].

    The course notebook's own recipe and seed (42), see :func:`_lesson3_points`; its
    mean absolute error at a = b = c = 1.1 is the notebook's 2.42. The fit starts
    from (1.5, 1.5, 1.5) with lr 0.01, as the video did, on MSE.
    """
    x, y = _lesson3_points(seed)
    return Dataset(
        name="quadratic",
        x=x[:, None],
        y=y,
        x_names=("x",),
        y_name="y",
        model="quadratic",
        start=np.array([1.5, 1.5, 1.5]),
        lr=0.01,
        epochs=300,
        recipe=(
            "fast.ai 2022 lesson 3: 20 points x evenly spaced on [-2, 2], y = (3x^2 + 2x + 1)"
            f" * (1 + normal(0, 0.15)) + normal(0, 1.5) (the course notebook's recipe, numpy seed {seed})."
            " Model a x^2 + b x + c from (1.5, 1.5, 1.5), lr 0.01."
        ),
        seed=seed,
    )


def speed(seed: int = 0) -> Dataset:
    """Fastbook chapter 4's roller coaster: ``speed = 3 randn + 0.75 (t - 9.5)^2 + 1``.

    ``t`` is 0..19 seconds. The 20 noise values and then the 3 starting parameters
    (standard normal, as the book's ``torch.randn(3)``) are drawn from a
    ``torch.Generator`` seeded with ``seed``. lr 1e-5: ``t^2`` reaches 361, so the
    Hessian's largest eigenvalue is about 56,000 and any lr above about 3.5e-5
    diverges, while the intercept barely moves at the lr that is stable.
    """
    g = torch.Generator().manual_seed(seed)
    t = torch.arange(0, 20, dtype=DTYPE)
    y = torch.randn(20, generator=g, dtype=DTYPE) * 3 + 0.75 * (t - 9.5) ** 2 + 1
    start = torch.randn(3, generator=g, dtype=DTYPE)
    return Dataset(
        name="speed",
        x=t.numpy()[:, None],
        y=y.numpy(),
        x_names=("time",),
        y_name="speed",
        model="quadratic",
        start=start.numpy(),
        lr=1e-5,
        epochs=100,
        recipe=(
            "fastbook chapter 4: a roller coaster's speed at time 0..19 s,"
            f" speed = 3 randn + 0.75 (time - 9.5)^2 + 1 (torch.Generator seed {seed})."
            " Model a t^2 + b t + c from a standard normal start, lr 1e-5."
        ),
        seed=seed,
    )


def relu_start(x: np.ndarray, units: int) -> np.ndarray:
    """A start for ``units`` ReLUs of one input: kinks spread evenly inside x's range.

    Unit k is ``relu(m_k x + b_k)`` with slope m_k = -1, +1, -1, ... and its kink
    ``-b_k / m_k`` at the k-th of ``units`` evenly spaced points strictly inside
    [min x, max x]. A random start in [-0.5, 0.5) often leaves a unit at zero on
    every point, where its gradient is zero and it never learns (a "dead" ReLU);
    the lesson, too, placed its ReLUs by hand with sliders.
    """
    x = np.asarray(x, dtype="float64").ravel()
    kinks = np.linspace(x.min(), x.max(), units + 2)[1:-1]
    slopes = np.where(np.arange(units) % 2 == 0, -1.0, 1.0)
    return np.stack([slopes, -slopes * kinks], axis=1)


def relu(seed: int = 42, units: int = 2) -> Dataset:
    """The quadratic's points fitted by a sum of ``units`` ReLUs (see :func:`relu_start`)."""
    if units < 1:
        raise WorkbenchError(f"a sum of ReLUs needs at least one unit; got {units}")
    x, y = _lesson3_points(seed)
    return Dataset(
        name="relu",
        x=x[:, None],
        y=y,
        x_names=("x",),
        y_name="y",
        model="relu",
        units=units,
        start=relu_start(x, units),
        lr=0.03,
        epochs=300,
        recipe=(
            f"the quadratic's 20 points (numpy seed {seed}) fitted by a sum of {units} ReLUs,"
            " relu(m1 x + b1) + relu(m2 x + b2) + ..., kinks starting evenly spread over x, lr 0.03."
        ),
        seed=seed,
    )


def load_dataset(name: str, *, seed: int | None = None) -> Dataset:
    """One of :data:`DATASETS` by name; ``seed=None`` uses the recipe's default seed."""
    makers = {"line": line, "quadratic": quadratic, "speed": speed, "relu": relu}
    if name not in makers:
        raise WorkbenchError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return makers[name]() if seed is None else makers[name](seed=seed)


def read_dataset(
    path: str | os.PathLike[str],
    *,
    y: str | None = None,
    model: str = "linear",
    units: int = 2,
    lr: float | None = None,
    epochs: int = 100,
    seed: int = 0,
) -> Dataset:
    """A CSV of numbers as a :class:`Dataset`: columns ``x...`` and a target.

    Args:
        path: a UTF-8 CSV with a header row and at least one data row; every
            field a finite number.
        y: the target column; by default the column named ``y``, else the last.
        model: ``linear`` (any number of x columns), ``quadratic`` (one x column)
            or ``relu`` (``units`` ReLUs).
        lr: the learning rate; by default half the largest stable one for the
            linear or quadratic design (see :func:`max_stable_lr`), divided by
            ``units`` for ``relu`` (K units answer a step K times as strongly).
        epochs: full-batch steps.
        seed: the start, uniform on [-0.5, 0.5) like the lesson's ``RAND()-0.5``
            from a ``torch.Generator`` with this seed (for ``relu`` with one x
            column, :func:`relu_start` instead).

    Raises:
        DataError: naming the file, column and row of the first problem.
    """
    path = Path(path)
    header, rows = _read_numbers(path)
    target = y if y is not None else ("y" if "y" in header else header[-1])
    if target not in header:
        raise DataError(
            f"{path}: no column {target!r} to predict (found: {', '.join(header)})", path=path, column=target
        )
    values = np.array(rows, dtype="float64")
    j = header.index(target)
    x_names = tuple(h for h in header if h != target)
    x = np.delete(values, j, axis=1)
    if model == "quadratic" and x.shape[1] != 1:
        raise DataError(
            f"{path}: the quadratic model needs exactly one x column besides {target!r};"
            f" found {len(x_names)} ({', '.join(x_names)})",
            path=path,
        )
    if model == "relu" and units < 1:
        raise WorkbenchError(f"a sum of ReLUs needs at least one unit; got {units}")
    units = units if model == "relu" else 1
    start, lr = _start_and_lr(model, x, x_names, units, seed, lr)
    return Dataset(
        name=path.stem,
        x=x,
        y=values[:, j],
        x_names=x_names,
        y_name=target,
        model=model,
        units=units,
        start=start,
        lr=lr,
        epochs=epochs,
        recipe=f"read from {path.name}: {len(values)} rows, x = {', '.join(x_names)}, y = {target}.",
        seed=seed,
    )


def _start_and_lr(
    model: str, x: np.ndarray, x_names: tuple[str, ...], units: int, seed: int, lr: float | None
) -> tuple[np.ndarray, float]:
    """A read dataset's start, and its learning rate: ``lr`` or the default :func:`read_dataset` gives."""
    phi, _ = design(model, x, x_names)
    if model == "relu" and x.shape[1] == 1:
        start = relu_start(x, units)
    else:
        start = uniform_start(param_shape(model, phi.shape[1], units), seed)
    if lr is not None:
        return start, float(lr)
    lr = max_stable_lr(design("linear" if model == "relu" else model, x, x_names)[0]) / 2
    return start, float(lr / units if model == "relu" else lr)


def _read_numbers(path: Path) -> tuple[list[str], list[list[float]]]:
    """Header and numeric rows of a CSV, or a DataError that says where it is wrong."""
    header, records, lines = read_csv(path, rows_are="rows of numbers, such as x,y")
    for i, name in enumerate(header):
        if not name:
            raise DataError(f"{path}: column {i + 1} of the header has no name", path=path)
    if len(header) < 2:
        raise DataError(
            f"{path}: needs at least two columns, x and y; the header has only {header[0]!r}",
            path=path,
            column=header[0],
        )
    if not records:
        raise DataError(f"{path}: has a header but no rows of numbers", path=path)
    rows = []
    for i, (line_no, fields) in enumerate(zip(lines, records, strict=True), start=1):
        row = []
        for name, v in zip(header, fields, strict=True):
            number = to_float(v)
            if number is None:
                found = "is empty" if not v else f"has {v!r}"
                raise DataError(
                    f"{path}: column {name!r}, row {i} (line {line_no}) {found}; expected a finite number",
                    path=path,
                    column=name,
                    row=i,
                )
            row.append(number)
        rows.append(row)
    return header, rows


# --- fitting ------------------------------------------------------------------


@dataclass(frozen=True)
class Trajectory:
    """Every step of one full-batch gradient descent on MSE.

    ``params[t]`` are the parameters before step t (``params[0]`` is the start,
    ``params[-1]`` the result), ``losses[t]`` their MSE and ``grads[t]`` the MSE's
    gradient there, so ``params[t + 1] = params[t] - lr * grads[t]``. Arrays have
    ``epochs + 1`` rows. ``kind`` is ``"linear"`` (``phi @ w``) or ``"relu_sum"``
    (``sum_k relu(phi @ w_k)``). With ``zero_grad=False`` (the notebooks' bug)
    each step used the sum of all gradients so far instead of ``grads[t]``.
    """

    kind: str
    lr: float
    params: np.ndarray
    losses: np.ndarray
    grads: np.ndarray
    zero_grad: bool = True

    @property
    def epochs(self) -> int:
        return len(self.losses) - 1


def _mse(kind_: str, phi: torch.Tensor, y: torch.Tensor):
    return lambda p: ((KERNELS[kind_](p, phi) - y) ** 2).mean(-1)


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
        done = gradient_descent(loss, start_t, lr=lr, epochs=epochs, zero_grad=zero_grad)
        path = torch.stack(seen).requires_grad_(True)
        mse(path).sum().backward()  # every step's gradient at once: the loss is batched over steps
    return Trajectory(
        kind, float(lr), path.detach().numpy(), done.history.numpy(), path.grad.numpy(), zero_grad
    )


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
        path = descend(phi, data.y, start, kind=kind(model), lr=lr, epochs=epochs, zero_grad=zero_grad)
    except DivergenceError as e:
        limit = ""
        if not zero_grad:
            limit = " (zero_grad=False: the gradients piled up from step to step, the notebooks' bug)"
        elif model != "relu":
            limit = f" (on {data.name}, plain descent diverges above lr {max_stable_lr(phi):.4g})"
        raise DivergenceError(f"{data.name}: {e}{limit}") from None
    names = param_names(model, phi.shape[1], units)
    return Fit(data, model, units, phi, phi_names, names, path)


# --- mini-batch SGD -------------------------------------------------------------


@dataclass(frozen=True)
class SGDRun:
    """Mini-batch stochastic gradient descent, recorded epoch by epoch.

    ``params[e]`` and ``losses[e]`` are the parameters after ``e`` epochs and
    their MSE on *all* points (comparable with a full-batch :class:`Fit`);
    ``batch_losses`` holds each step's loss on its own mini-batch.
    """

    batch_size: int
    lr: float
    steps_per_epoch: int
    params: np.ndarray
    losses: np.ndarray
    batch_losses: np.ndarray


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
    units: int | None = None,
    start: ArrayLike | None = None,
) -> SGDRun:
    """The 2019 lesson's SGD: each step descends the loss of a random mini-batch.

    Runs :func:`~workbench.gd.gradient_descent` with a loss that takes the next
    mini-batch of :func:`batches` at every step. Defaults as in :func:`fit_dataset`.

    Raises:
        DivergenceError: the learning rate is too large.
    """
    model, units, phi, _ = _settings(data, model, units)
    start = _start(data, model, units, phi, start)
    lr = data.lr if lr is None else lr
    epochs = data.epochs if epochs is None else epochs
    x = torch.as_tensor(phi, dtype=DTYPE)
    y = torch.as_tensor(data.y, dtype=DTYPE)
    plan = batches(data.n, batch_size, epochs, seed)
    f = kind(model)
    seen: list[torch.Tensor] = []

    def batch_loss(p: torch.Tensor) -> torch.Tensor:
        step = len(seen)
        seen.append(p.detach().clone())
        rows = plan[step] if step < len(plan) else slice(None)  # the call after the last step: all points
        return ((KERNELS[f](p, x[rows]) - y[rows]) ** 2).mean(-1)

    start_t = torch.as_tensor(np.asarray(start, dtype="float64"), dtype=DTYPE)
    try:
        with one_thread():
            done = gradient_descent(batch_loss, start_t, lr=lr, epochs=len(plan))
    except DivergenceError as e:
        raise DivergenceError(f"{data.name}, mini-batch SGD: {e}") from None
    per_epoch = math.ceil(data.n / batch_size)
    params = torch.stack(seen[::per_epoch])
    with torch.no_grad():
        losses = _mse(f, x, y)(params)
    return SGDRun(batch_size, float(lr), per_epoch, params.numpy(), losses.numpy(), done.history[:-1].numpy())
