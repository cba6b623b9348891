"""The small regression lessons: one record each, and the build writes every one.

Before Titanic, the lessons fit a line, a quadratic, a roller coaster's speed and a sum of ReLUs
by gradient descent. Each is a :class:`Lesson` of :data:`LESSONS`: its dataset (a name of
:data:`~workbench.regression.DATASETS`), the sheets its workbook adds, the lines its sheets say,
and the pictures it adds to the two every lesson has (the fit, and the loss per update).
:func:`write_lesson` writes one; the build writes them all, with no branch per lesson.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from . import pictures, regression
from .regression import (
    Dataset,
    Fit,
    bend_ratio,
    fit_dataset,
    load_dataset,
    lr_sweep,
    max_stable_lr,
    scaled,
    sgd,
    sgd_steps,
)
from .sheets.books.regression import Extras, write_regression_book
from .sheets.write.trend import loss_trend, rate_trend, step_trend


@dataclass(frozen=True)
class Run:
    """A lesson being written: its points, the lesson's own fit of them, the seed, the folder."""

    data: Dataset
    result: Fit
    seed: int | None
    out: Path


def _nothing(run: Run) -> dict:
    return {}


def _no_sheets(run: Run) -> Extras:
    return Extras()


def _no_lines(run: Run) -> list[str]:
    return []


def _no_pictures(run: Run, sheets: Extras) -> list[Path]:
    return []


@dataclass(frozen=True)
class Lesson:
    """One small regression lesson.

    Attributes:
        name: its dataset, a name of :data:`~workbench.regression.DATASETS`; its files are
            ``<name>.xlsx``, ``<name>_fit.png``, ``<name>_loss.png``, then ``outputs``.
        sheets: what its workbook adds (:class:`~workbench.sheets.books.regression.Extras`:
            ``scaled``, ``minibatch``, ``held_out``, ``pile_up``, ``by_hand_notes``).
        notes: lines for its descent sheet.
        curves: more loss curves for ``<name>_loss.png``, label -> loss per update.
        pictures: writes its own pictures into ``run.out`` (given what ``sheets`` made), in
            the order of ``outputs``, and returns their paths.
        outputs: the file names ``pictures`` writes.
    """

    name: str
    sheets: Callable[[Run], Extras] = _no_sheets
    notes: Callable[[Run], list[str]] = _no_lines
    curves: Callable[[Run], dict] = _nothing
    pictures: Callable[[Run, Mapping[str, Any]], list[Path]] = _no_pictures
    outputs: tuple[str, ...] = field(default=())

    @property
    def files(self) -> tuple[str, ...]:
        """Every file :func:`write_lesson` writes for this lesson, in order."""
        return (f"{self.name}.xlsx", f"{self.name}_fit.png", f"{self.name}_loss.png", *self.outputs)


def write_lesson(lesson: Lesson, out: Path, seed: int | None = None) -> list[Path]:
    """Fit ``lesson``'s points as the lesson does, write its workbook and pictures into ``out``."""
    data = load_dataset(lesson.name, seed=seed)
    run = Run(data, fit_dataset(data), seed, out)
    sheets = lesson.sheets(run)
    result = run.result
    book = write_regression_book(result, out / f"{data.name}.xlsx", notes=lesson.notes(run), extras=sheets)
    fit = pictures.fit_png(result, out / f"{data.name}_fit.png")
    runs = {
        f"full-batch gradient descent (all {data.n} points per update)": result.losses,
        **lesson.curves(run),
    }
    loss = pictures.loss_png(
        runs,
        out / f"{data.name}_loss.png",
        words=pictures.Words(
            f"{data.name}: loss after each update (lr {result.trajectory.lr:g})",
            x="update (one step of the parameters)",
        ),
        floor=result.floor,
    )
    return [book, fit, loss, *lesson.pictures(run, sheets)]


# ---------------------------------------------------------------------------------------------
# line: the 2019 lesson's "SGD from scratch"

#: What the 2019 lesson printed every 10 steps (its data were not seeded).
LESSON_LINE_LOSSES = (8.8945, 1.6115, 0.5759, 0.2435, 0.1356, 0.1006, 0.0892, 0.0855, 0.0843, 0.0839)

#: The line's learning rates too low and too high (above ``2 / lambda_max``, about 1.0) to
#: animate, as the 2019 lesson asks students to try, with the steps each animation draws:
#: the high one's loss grows at every step, so a few steps show it flying off.
LINE_LR_TOO_LOW, LINE_LR_TOO_HIGH = (0.01, 100), (1.1, 12)

#: The line's learning rates that ``line_lr_sweep.png`` tries, 100 steps each.
LINE_LR_SWEEP = tuple(float(v) for v in np.geomspace(1e-3, 1.5, 23))


def _line_sheets(run: Run) -> Extras:
    return Extras(minibatch=sgd_steps(run.data, seed=0 if run.seed is None else run.seed))


def _line_notes(run: Run) -> list[str]:
    ours = ", ".join(f"{v:.4f}" for v in run.result.losses[:100:10])
    lesson = ", ".join(f"{v:.4f}" for v in LESSON_LINE_LOSSES)
    return [f"Loss every 10 steps here: {ours}. The lesson's unseeded run printed: {lesson}."]


def _line_curves(run: Run) -> dict[str, np.ndarray]:
    """Mini-batch SGD over as many updates as the full-batch descent (``n / batch`` an epoch). (The
    2019 line's loop zeroed its gradients; forgetting to is the quadratic's story.)"""
    batch, updates = 10, run.result.trajectory.epochs
    per_epoch = -(-run.data.n // batch)
    seed = 0 if run.seed is None else run.seed
    minibatch = sgd(run.data, batch_size=batch, epochs=max(1, updates // per_epoch), seed=seed)
    return {f"mini-batch SGD ({batch} points per update)": minibatch.losses}


def _line_pictures(run: Run, sheets: Extras) -> list[Path]:
    """The descent animated; at a rate too low and one too high; every rate's end."""
    data, result, out = run.data, run.result, run.out
    files = [pictures.descent_gif(result, out / "line_descent.gif")]
    for (lr, steps), name in (
        (LINE_LR_TOO_LOW, "line_lr_too_low.gif"),
        (LINE_LR_TOO_HIGH, "line_lr_too_high.gif"),
    ):
        descent = fit_dataset(data, lr=lr, epochs=steps)
        few = steps < 50  # the one that flies off: slower frames, and a y axis that follows it
        files.append(
            pictures.descent_gif(
                descent,
                out / name,
                every=1 if few else 2,
                frame_ms=250 if few else 60,
                title=f"line, {rate_trend(lr, descent.losses, result.floor)}",
                follow=few,
            )
        )
    sweep = pictures.lr_sweep_png(
        (LINE_LR_SWEEP, lr_sweep(data, LINE_LR_SWEEP)),
        out / "line_lr_sweep.png",
        title=f"line: loss after {result.trajectory.epochs} steps, by learning rate",
        limit=max_stable_lr(result.phi),
        floor=result.floor,
        chosen=data.lr,
    )
    return [*files, sweep, _line_parabola(run)]


#: The parabola's rates, as multiples of 1 / its curvature (2 / curvature is where steps stop
#: shrinking), and the steps each takes: one just too high, bouncing out; one far too low, creeping.
PARABOLA_RATES = ((2.1, 6), (0.05, 10))


def parabola_steps(phi: np.ndarray, y: np.ndarray, w: np.ndarray, j: int, lr: float, steps: int):
    """Descent along parameter j alone, the others held at ``w``: where each step lands, and its loss."""
    w = np.array(w, dtype="float64")
    at, losses = [], []
    for _ in range(steps + 1):
        res = phi @ w - y
        at.append(w[j])
        losses.append(float(np.mean(res**2)))
        w[j] -= lr * 2 / len(y) * phi[:, j] @ res
    return np.array(at), np.array(losses)


def _line_parabola(run: Run) -> Path:
    """The loss against the slope alone (the intercept at its best): a parabola, and the steps on it
    at a rate too high and one too low, as the lessons draw them."""
    phi, y, name = run.result.phi, run.data.y, run.result.param_names[0]
    best = np.linalg.lstsq(phi, y, rcond=None)[0]
    start = best.copy()
    start[0] = run.data.start[0]
    bend = 2 / len(y) * phi[:, 0] @ phi[:, 0]  # the loss's curvature along the slope
    runs = []
    for times, steps in PARABOLA_RATES:
        lr = float(f"{times / bend:.2g}")
        at, losses = parabola_steps(phi, y, start, 0, lr, steps)
        runs.append((step_trend(lr, at, best[0]), at, losses))
    reach = max(abs(at - best[0]).max() for _, at, _ in runs) * 1.1
    grid = np.linspace(best[0] - reach, best[0] + reach, 201)
    curve = [float(np.mean((phi @ np.r_[g, best[1:]] - y) ** 2)) for g in grid]
    other = ", ".join(run.result.param_names[1:])
    return pictures.parabola_png(
        (grid, curve), runs, run.out / "line_parabola.png",
        title=f"line: the loss against {name} alone ({other} at its best) is a parabola",
        xlabel=name,
    )  # fmt: skip


# ---------------------------------------------------------------------------------------------
# quadratic: the 2022 lesson 3's "fit a function"

#: What the 2022 lesson's video showed at a = b = c = 1.5 (its points are not the published notebook's).
VIDEO_QUADRATIC = {"mse": 11.46, "after one step": 10.11}


def _quadratic_start(run: Run) -> list[str]:
    """The quadratic's start beside the video's: the video ran on other noise than the notebook's."""
    result = run.result
    if (result.data.name, result.model, result.data.seed) != ("quadratic", "quadratic", 42):
        return []
    loss, grad = result.loss_and_gradient(result.trajectory.params[0])
    after = result.losses[1]
    ones = result.loss_and_gradient(np.ones(3))

    def signs(g):
        return ", ".join(f"{name} {v:+.3g}" for name, v in zip(result.param_names, g, strict=True))

    video = (
        f"The video started here, at 1.5, 1.5, 1.5, with an MSE of {VIDEO_QUADRATIC['mse']} and every"
        f" gradient negative ({VIDEO_QUADRATIC['after one step']} after one step of lr 0.01)."
    )
    ours = (
        "These are the course notebook's points (numpy seed 42; its mean absolute error at 1.1 is the"
        f" notebook's 2.42): at 1.5 their MSE is {loss:.4g} and the gradients are {signs(grad)}"
        f" ({after:.4g} after one step). The video ran on other noise, which it does not show."
    )
    ones_after = result.loss_and_gradient(np.ones(3) - result.trajectory.lr * ones[1])[0]
    like = (
        "Type 1 into each yellow cell of by_hand for a start like the video's:"
        f" MSE {ones[0]:.4g}, gradients {signs(ones[1])} ({ones_after:.4g} after one step)."
    )
    return [video, ours, like]


#: Steps the quadratic's pile_up sheet draws, with and without ``a.grad.zero_()``: enough for the
#: piled-up loss to fall, overshoot and rise.
PILE_UP_STEPS = 12


def _quadratic_sheets(run: Run) -> Extras:
    """by_hand's start beside the video's, and the 2022 loop's missing ``a.grad.zero_()``, by formulas."""
    correct = fit_dataset(run.data, epochs=PILE_UP_STEPS)
    piled = fit_dataset(run.data, epochs=PILE_UP_STEPS, zero_grad=False)
    return Extras(by_hand_notes=_quadratic_start(run), pile_up=(correct, piled))


def _quadratic_curves(run: Run) -> dict[str, np.ndarray]:
    """The 2022 loop as it ran: ``a.grad.zero_()`` forgotten, the gradients pile up."""
    return {"full batch, forgetting a.grad.zero_() (gradients pile up)": fit_dataset(
        run.data, zero_grad=False).losses}  # fmt: skip


# ---------------------------------------------------------------------------------------------
# speed: fastbook chapter 4's roller coaster; relu: the quadratic's points by a sum of ReLUs


def _relu_sheets(run: Run) -> Extras:
    fits = regression.more_units(run.data)
    return Extras(held_out=regression.held_out_scores(fits, *regression.held_out(run.data)))


def _relu_pictures(run: Run, sheets: Extras) -> list[Path]:
    """Each sum of ReLUs drawn, and their train and held-out losses."""
    units, data, out = sheets.held_out, run.data, run.out
    trend = loss_trend(units.units, units.train_loss, units.valid_loss, valid_name="held-out")
    return [
        pictures.relu_units_png(list(units.fits), out / "relu_units.png"),
        pictures.overfitting_png(
            units.units, units.train_loss, units.valid_loss, out / "relu_overfitting.png",
            words=pictures.Words(
                f"relu, {data.n} points and {len(units.y_valid)} new ones: {trend}", x="ReLUs summed",
                lines={"valid": "held out (new points)", "train": "train (the points fitted)",
                       "best": "lowest held-out loss"},
            ),
        ),
    ]  # fmt: skip


def _speed_pictures(run: Run, sheets: Extras) -> list[Path]:
    """The roller coaster's valley, raw and scaled: why descent stalls on the raw time."""
    raw, scaled_fit = run.result, sheets.scaled
    ratios = [bend_ratio(f.phi) for f in (raw, scaled_fit)]
    title = (
        f"speed: the loss bends {ratios[0]:,.0f} times more sharply one way than another on the raw"
        f" time, {ratios[1]:,.1f} times once time is scaled"
    )
    shapes = [("a long thin valley" if r > 100 else "a rounder bowl") for r in ratios]  # from the numbers
    panels = [(f"raw time: {shapes[0]}", raw), (f"scaled time: {shapes[1]}", scaled_fit)]
    return [pictures.valley_png(panels, run.out / "speed_valley.png", title=title)]


#: The lessons the build writes, in order.
LESSONS: dict[str, Lesson] = {
    lesson.name: lesson
    for lesson in (
        Lesson(
            "line",
            sheets=_line_sheets,
            notes=_line_notes,
            curves=_line_curves,
            pictures=_line_pictures,
            outputs=(
                "line_descent.gif",
                "line_lr_too_low.gif",
                "line_lr_too_high.gif",
                "line_lr_sweep.png",
                "line_parabola.png",
            ),
        ),
        Lesson("quadratic", sheets=_quadratic_sheets, notes=_quadratic_start, curves=_quadratic_curves),
        Lesson(
            "speed",
            sheets=lambda run: Extras(scaled=fit_dataset(scaled(run.data))),
            pictures=_speed_pictures,
            outputs=("speed_valley.png",),
        ),
        Lesson(
            "relu",
            sheets=_relu_sheets,
            pictures=_relu_pictures,
            outputs=("relu_units.png", "relu_overfitting.png"),
        ),
    )
}

#: The order in which the build's two processes take the lessons
#: (:class:`workbench.lesson_files._Fork`): the longest to write first, so that what is left when
#: the build's own process is done is quick to share.
LONGEST_FIRST: tuple[str, ...] = ("line", "relu", "speed", "quadratic")
