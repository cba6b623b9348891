"""The lessons' small regressions' points: seeded datasets, and any CSV of numbers.

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
* any CSV of numbers with :func:`read_dataset`;
* :func:`scaled`: any of these with each x column centred and divided by its half-range.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from numpy.typing import ArrayLike

from ..csv_files import read_csv, to_float
from ..errors import DataError, WorkbenchError
from ..numerics import DTYPE, uniform_start
from .models import design, max_stable_lr, param_shape, relu_start


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
    #: The lesson's own starting parameters, where it had fixed ones, and where they come from
    #: (or, without them, how ``start`` is drawn): the by_hand sheet says which it starts at.
    lesson_start: tuple[float, ...] | None = None
    start_from: str = ""

    @property
    def n(self) -> int:
        return len(self.y)


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
            " [0, 1): the noise averages 0.5, so the best intercept a2 is near 2.5, not the lesson's 2"
            f" (torch.Generator seed {seed}). Model [x, 1] @ (a1, a2) from (-1, 1), lr 0.1."
        ),
        seed=seed,
        lesson_start=(-1.0, 1.0),
        start_from="its a = tensor(-1., 1)",
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
    return x32.astype("float64"), _noisy(fx, np.random.RandomState(seed))


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
        lesson_start=(1.5, 1.5, 1.5),
        start_from="its sliders",
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
        start_from="drawn at random, like the book's torch.randn(3)",
    )


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
        # The 2022 notebook's double ReLU: @interact(m1=-1.5, b1=-1.5, m2=1.5, b2=1.5).
        lesson_start=(-1.5, -1.5, 1.5, 1.5) if units == 2 else None,
        start_from="its sliders, drawn with no points to fit" if units == 2 else "kinks spread over x",
    )


#: The lessons' datasets by name: each a function of a ``seed`` keyword (the one registry).
MAKERS: dict[str, Callable[..., Dataset]] = {
    make.__name__: make
    for make in (
        line,
        quadratic,
        speed,
        relu,
    )
}
DATASETS: tuple[str, ...] = tuple(MAKERS)


def held_out(data: Dataset) -> tuple[np.ndarray, np.ndarray]:
    """New points for the ``quadratic`` or ``relu`` dataset, ``(x, y)``, to score a fit on.

    One x in each gap between neighbouring x of the data, at a uniform place in it, and y from
    the same curve and the same kind of noise (see :func:`_lesson3_points`), all drawn with numpy
    seed ``data.seed + 1``. Between the points is where a fit's extra bends show: a fit that
    learned the curve scores on them about as on its own points; one that learned its points'
    noise does not.
    """
    if data.name not in ("quadratic", "relu") or data.seed is None:
        raise WorkbenchError(
            f"held-out points are drawn for the quadratic and relu datasets; not for {data.name}"
        )
    rng = np.random.RandomState(data.seed + 1)
    xs = np.sort(data.x[:, 0])
    x = xs[:-1] + rng.uniform(size=len(xs) - 1) * np.diff(xs)
    return x[:, None], _noisy(3 * x**2 + 2 * x + 1, rng)


def _noisy(fx: np.ndarray, rng: np.random.RandomState) -> np.ndarray:
    """The course notebook's ``add_noise(f(x), 0.15, 1.5)``: f(x) (1 + normal(0, 0.15)) + normal(0, 1.5)."""
    return fx * (1 + rng.normal(scale=0.15, size=fx.shape)) + rng.normal(scale=1.5, size=fx.shape)


def scale_of(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Each x column's centre and half-range: ``(max + min) / 2`` and ``(max - min) / 2``."""
    x = np.asarray(x, dtype="float64")
    lo, hi = x.min(axis=0), x.max(axis=0)
    return (hi + lo) / 2, (hi - lo) / 2


def unscaled_params(model: str, params: ArrayLike, centre: ArrayLike, half: ArrayLike) -> np.ndarray:
    """Parameters fitted on :func:`scaled` x, in the units of x itself: the same curve.

    With s = (x - centre) / half: a quadratic a s^2 + b s + k of one x is
    (a/h^2) x^2 + (b/h - 2ac/h^2) x + (ac^2/h^2 - bc/h + k); each linear unit (alone, or
    inside a ReLU) m . s + k is (m/h) . x + (k - sum of m c/h). ``params`` as the model's
    (p,) or (units, p).
    """
    w = np.asarray(params, dtype="float64")
    c, h = np.asarray(centre, dtype="float64"), np.asarray(half, dtype="float64")
    if model == "quadratic":
        a, b, k = w
        c, h = c[0], h[0]
        return np.array([a / h**2, b / h - 2 * a * c / h**2, a * c**2 / h**2 - b * c / h + k])
    rows = np.atleast_2d(w)
    m, k = rows[:, :-1], rows[:, -1]
    out = np.column_stack([m / h, k - (m * c / h).sum(1)])
    return out.reshape(w.shape)


def scaled(data: Dataset, *, lr: float | None = None) -> Dataset:
    """``data`` with each x column centred and divided by its half-range, so it runs from -1 to 1.

    The same points and start, the same model; the fitted curve and the least-squares
    floor are the same curve and floor, only its parameters change meaning. ``lr``
    defaults to half the largest stable rate of the scaled design (see
    :func:`max_stable_lr`), as for :func:`read_dataset`. The fastbook's roller
    coaster needs it: its ``time^2`` column reaches 361 while the column of ones stays
    1, so no single rate suits both (the Titanic lesson divides Age by its maximum
    for the same reason).

    Raises:
        WorkbenchError: an x column holds one value only (it cannot be scaled).
    """
    centre, half = scale_of(data.x)
    flat = [name for name, h in zip(data.x_names, half, strict=True) if h == 0]
    if flat:
        raise WorkbenchError(f"{data.name}: column {flat[0]!r} holds one value only; it cannot be scaled")
    x = (data.x - centre) / half
    names = tuple(f"scaled {name}" for name in data.x_names)
    if lr is None:
        lr = max_stable_lr(design("linear" if data.model == "relu" else data.model, x, names)[0]) / 2
    how = "; ".join(
        f"{new} = ({old} - {c:.6g}) / {h:.6g}"
        for new, old, c, h in zip(names, data.x_names, centre, half, strict=True)
    )
    return Dataset(
        name=f"{data.name}_scaled",
        x=x,
        y=data.y,
        x_names=names,
        y_name=data.y_name,
        model=data.model,
        units=data.units,
        start=data.start,
        lr=float(lr),
        epochs=data.epochs,
        recipe=f"{data.recipe} Scaled: {how}, from -1 to 1; lr {lr:.4g}.",
        seed=data.seed,
    )


def load_dataset(name: str, *, seed: int | None = None) -> Dataset:
    """One of :data:`DATASETS` by name; ``seed=None`` uses the recipe's default seed."""
    if name not in MAKERS:
        raise WorkbenchError(f"unknown dataset {name!r}; choose one of {', '.join(DATASETS)}")
    return MAKERS[name]() if seed is None else MAKERS[name](seed=seed)


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
    read = read_csv(path, rows_are="rows of numbers, such as x,y")
    header, records, lines = read.header, read.rows, read.lines
    if read.unnamed:  # x and y by position: a pandas index saved first would be taken for x
        where = read.header.index(read.unnamed[0]) + 1
        raise DataError(f"{path}: column {where} has no name in the header row", path=path)
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
            number = to_float(v, decimal_comma=read.decimal_comma)
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
