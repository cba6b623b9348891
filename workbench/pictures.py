"""Pictures of the small regressions: fits, loss curves, and the lesson's animation.

* :func:`fit_png`: the points and the fitted curve (and the starting one, dashed).
* :func:`loss_png`: loss curves on one log-scale plot, e.g. full-batch descent
  against mini-batch SGD.
* :func:`relu_units_png`: the same points fitted by 1, 2, 4, 8 ReLUs.
* :func:`overfitting_png`: train and valid loss of nets with more and more ReLUs.
* :func:`lr_sweep_png`: the loss a descent ends at against its learning rate.
* :func:`descent_gif`: the 2019 lesson's animation, the line moving toward the
  points step by step.

matplotlib draws on its Agg canvas directly (no pyplot, no global state, no
window), Pillow assembles the GIF. The bytes are deterministic: PNGs carry no
"Software" or date metadata, and every GIF frame is reduced to one shared
palette without dithering. Files are written atomically.
"""

from __future__ import annotations

import io
import math
import os
import re
import textwrap
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
from numpy.typing import ArrayLike
from PIL import Image, ImageDraw, ImageFont

from . import numerics
from .errors import WorkbenchError
from .files import atomic_path, write_bytes
from .regression.fits import Fit

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

POINTS = "#ED7D31"  # orange, as the lesson's scatter
CURVE = "#2F5597"
START = "#A6A6A6"
DPI = 100
#: How long an animation holds its last frame.
HOLD_MS = 1500


@dataclass(frozen=True)
class Words:
    """A picture's words: its title, its axes' labels (empty: the picture's own), and its lines'
    labels by their role (``"floor"``, ``"train"``, ``"valid"``, ``"best"``: each picture says which)."""

    title: str
    x: str = ""
    y: str = ""
    lines: Mapping[str, str] = field(default_factory=dict)


def load() -> None:
    """Import matplotlib now: before forking a process that draws pictures too, so that neither
    imports it again."""
    _canvas(1, 1)


def _canvas(width: float, height: float) -> Figure:
    """An empty figure on its own Agg canvas. matplotlib is imported by the first picture, not
    with workbench: commands that draw none (a table's book, check, predict) never load it."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _figure(width: float = 6.4, height: float = 4.2, *, below: float = 0.0) -> tuple[Figure, Axes]:
    """A figure with one plot and fixed margins, in inches; ``below`` adds room under the x label.

    Fixed margins instead of matplotlib's constrained layout, which measured every
    tick label of every figure again and took half the time of drawing the pictures.
    """
    fig = _canvas(width, height)
    left, right, top, bottom = 0.9, 0.2, 0.4, 0.55 + below
    fig.subplots_adjust(
        left=left / width, right=1 - right / width, top=1 - top / height, bottom=bottom / height
    )
    return fig, _axes(fig)


def _axes(fig: Figure, *where: int) -> Axes:
    """A plot on ``fig`` (``where`` as ``add_subplot`` takes it) whose title sits on its top edge.
    By default matplotlib measures everything drawn along that edge (every tick label) to lift the
    title above it, a sixth of drawing these pictures; nothing is drawn there."""
    from matplotlib import rc_context

    with rc_context({"axes.titley": 1.0}):
        return fig.add_subplot(*where)


def _save_png(fig: Figure, path: str | os.PathLike[str]) -> Path:
    _plain_log_labels(fig)
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return write_bytes(path, buf.getvalue())


#: Math text's exponents, as Unicode superscripts.
_SUPERSCRIPTS = str.maketrans(
    "0123456789-\N{MINUS SIGN}", "\u2070\u00b9\u00b2\u00b3\u2074\u2075\u2076\u2077\u2078\u2079\u207b\u207b"
)


def _plain_log_labels(fig: Figure) -> None:
    """Label every log axis of ``fig`` as matplotlib does (10^-2, 2 x 10^0), in Unicode superscripts
    instead of math text, whose parser builds itself anew in every process that draws: a tenth of a
    second, more than a picture takes to draw."""
    from matplotlib.ticker import LogFormatterSciNotation

    class Plain(LogFormatterSciNotation):
        def __call__(self, x: float, pos: int | None = None) -> str:
            label = super().__call__(x, pos)
            math = re.fullmatch(r"\$\\mathdefault\{(.*)\}\$", label)
            if math is None:
                return label
            mantissa, _, power = math[1].partition("^")
            return mantissa.replace("\\times", "\N{MULTIPLICATION SIGN}") + power.strip("{}").translate(
                _SUPERSCRIPTS
            )

    for axis in (axis for ax in fig.axes for axis in (ax.xaxis, ax.yaxis)):
        if axis.get_scale() != "log":
            continue
        for get, put in ((axis.get_major_formatter, axis.set_major_formatter),
                         (axis.get_minor_formatter, axis.set_minor_formatter)):  # fmt: skip
            if type(get()) is LogFormatterSciNotation:  # not labels a picture gave its ticks itself
                put(Plain(axis.get_transform().base, labelOnlyBase=get().labelOnlyBase))


def _grid(result: Fit, count: int = 200) -> np.ndarray:
    x = result.data.x[:, 0]
    return np.linspace(x.min(), x.max(), count)


def fit_png(result: Fit, path: str | os.PathLike[str]) -> Path:
    """The points and the fitted curve (the start dashed); predicted vs true for several x columns."""
    data = result.data
    fig, ax = _figure()
    if data.x.shape[1] == 1:
        grid = _grid(result)
        ax.scatter(data.x[:, 0], data.y, s=18, color=POINTS, label="data", zorder=3)
        start = result.trajectory.params[0]
        ax.plot(grid, result.predict(start, grid), "--", color=START, label="start")
        ax.plot(
            grid, result.predict(x=grid), color=CURVE, lw=2.2, label=f"after {result.trajectory.epochs} steps"
        )
        ax.set_xlabel(data.x_names[0])
        ax.set_ylabel(data.y_name)
        low, high = np.percentile(data.y, [0, 100])
        pad = 0.25 * (high - low)
        ax.set_ylim(low - pad, high + pad)  # a far-off start curve should not squash the points
    else:
        pred = result.predict()
        ax.scatter(data.y, pred, s=18, color=POINTS, label="points", zorder=3)
        ends = [data.y.min(), data.y.max()]
        ax.plot(ends, ends, color=CURVE, lw=1.5, label="prediction = truth")
        ax.set_xlabel(f"true {data.y_name}")
        ax.set_ylabel(f"predicted {data.y_name}")
    ax.set_title(f"{data.name}: MSE {result.losses[0]:.4g} at the start, {result.losses[-1]:.4g} at the end")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return _save_png(fig, path)


def loss_png(
    runs: Mapping[str, ArrayLike],
    path: str | os.PathLike[str],
    *,
    words: Words = Words("loss by epoch"),
    floor: float | None = None,
) -> Path:
    """Loss curves, one per run (label -> loss at epochs 0, 1, ...), on a log scale.

    ``floor`` draws the lowest loss any parameters reach (least squares) as a dashed line,
    labelled ``words.lines["floor"]``.
    """
    if not runs:
        raise WorkbenchError("loss_png needs at least one loss curve")
    floor_label = words.lines.get("floor", "least-squares floor")
    labels = [str(label) for label in runs]
    if floor is not None and floor > 0:
        labels.append(f"{floor_label} {floor:.4g}")
    wide = max(map(len, labels)) > 32
    rows = math.ceil(len(labels) / (1 if wide else 2))
    fig, ax = _figure(6.4, 4.6, below=0.15 + 0.2 * rows)
    for (label, losses), style in zip(runs.items(), ("-", "-", ":", "-."), strict=False):
        y = np.asarray(losses, dtype="float64")
        if y.ndim != 1 or not np.isfinite(y).all() or (y <= 0).any():
            raise WorkbenchError(f"the loss curve {label!r} must be positive finite numbers, one per epoch")
        ax.plot(np.arange(len(y)), y, style, lw=1.8, label=label)
    if floor is not None and floor > 0:
        ax.axhline(floor, color="black", lw=1, ls="--", label=labels[-1])
    ax.set_yscale("log")
    ax.set_xlabel(words.x or "epoch (one pass over the data)")
    ax.set_ylabel(words.y or "MSE on all points (log scale)")
    ax.set_title(words.title)
    ax.legend(
        frameon=False,
        loc="lower center",
        bbox_to_anchor=(0.5, 0.02),
        bbox_transform=fig.transFigure,
        ncol=1 if wide else 2,
        fontsize=9,
    )
    ax.grid(alpha=0.3, which="both")
    return _save_png(fig, path)


def relu_units_png(fits: Sequence[Fit], path: str | os.PathLike[str]) -> Path:
    """The same points fitted by sums of different numbers of ReLUs."""
    if not fits:
        raise WorkbenchError("relu_units_png needs at least one fit")
    data = fits[0].data
    fig, ax = _figure()
    ax.scatter(data.x[:, 0], data.y, s=18, color=POINTS, label="data", zorder=3)
    grid = _grid(fits[0])
    # Fits that end alike would hide each other: the fewer the units, the wider the line and
    # the lower it lies, each with its own dashes, so a wide line shows around thinner ones.
    styles = ("-", "--", "-.", ":")
    for i, f in enumerate(fits):
        label = f"{f.units} ReLU{'s' if f.units > 1 else ''}: MSE {f.losses[-1]:.3g}"
        width = 1.4 + 2.4 * (len(fits) - 1 - i) / max(1, len(fits) - 1)
        ax.plot(
            grid, f.predict(x=grid), styles[i % 4], lw=width, label=label, zorder=2 + len(fits) - i, alpha=0.9
        )
    ax.set_xlabel(data.x_names[0])
    ax.set_ylabel(data.y_name)
    ax.set_title("adding ReLUs together bends a line into any curve")
    ax.legend(frameon=False)
    ax.grid(alpha=0.3)
    return _save_png(fig, path)


def descent_gif(
    result: Fit,
    path: str | os.PathLike[str],
    *,
    every: int = 1,
    frame_ms: int = 60,
    title: str | None = None,
    follow: bool = False,
) -> Path:
    """The lesson's animation: the fitted curve after each step of the descent, as a looping GIF.

    ``every`` draws every n-th step (plus the last); ``frame_ms`` is each frame's
    duration (the last holds :data:`HOLD_MS`); ``title`` by default names the data and the rate.
    ``follow`` sizes the y axis to hold every frame's curve, for a descent that flies off.
    """
    data = result.data
    if data.x.shape[1] != 1:
        raise WorkbenchError("descent_gif draws one x column against y")
    path_params, losses = result.trajectory.params, result.losses
    steps = sorted({*range(0, len(losses), max(1, every)), len(losses) - 1})
    grid = _grid(result)
    fig, ax = _figure(4.8, 3.6)
    ax.scatter(data.x[:, 0], data.y, s=14, color=POINTS, zorder=3)
    curves = {t: result.predict(path_params[t], grid) for t in steps}
    (line,) = ax.plot(grid, curves[steps[0]], color=CURVE, lw=2.2, animated=True)
    shown = [data.y, *curves.values()] if follow else [data.y]
    low, high = min(map(np.min, shown)), max(map(np.max, shown))
    ax.set_ylim(low - 0.5 * (high - low), high + 0.5 * (high - low))
    ax.set_xlabel(data.x_names[0])
    ax.set_ylabel(data.y_name)
    ax.set_title(title or f"{data.name}: gradient descent, lr {result.trajectory.lr:g}", fontsize=10)
    ax.grid(alpha=0.3)
    # Blitting: draw the still parts once, then only the line on each frame. Its label is drawn by
    # Pillow, in matplotlib's own monospace font: matplotlib lays out and renders a new string's
    # glyphs anew, which took more than half of each frame.
    canvas = fig.canvas
    canvas.draw()
    background = canvas.copy_from_bbox(fig.bbox)
    font, corner = _label_font(fig), ax.transAxes.transform((0.03, 0.95))
    at = (round(corner[0]), round(fig.bbox.height - corner[1]))  # Pillow counts rows from the top
    frames = []
    for t in steps:
        canvas.restore_region(background)
        line.set_ydata(curves[t])
        ax.draw_artist(line)
        frame = Image.frombuffer("RGBA", canvas.get_width_height(), canvas.buffer_rgba()).convert("RGB")
        ImageDraw.Draw(frame).text(at, f"step {t:3d}  MSE {losses[t]:.4f}", fill="black", font=font)
        frames.append(frame)
    # One palette for every frame (from the first, which has every colour): no flicker, same bytes.
    palette = frames[0].quantize(colors=64, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
    gif = [palette] + [f.quantize(palette=palette, dither=Image.Dither.NONE) for f in frames[1:]]
    durations = [frame_ms] * (len(gif) - 1) + [HOLD_MS]
    with atomic_path(path) as tmp:
        gif[0].save(tmp, format="GIF", save_all=True, append_images=gif[1:], duration=durations, loop=0)
    return Path(path)


def _label_font(fig: Figure) -> ImageFont.FreeTypeFont:
    """matplotlib's monospace font at its text size, for Pillow to draw with."""
    from matplotlib import rcParams
    from matplotlib.font_manager import FontProperties, findfont

    size = rcParams["font.size"] * fig.dpi / 72  # points to pixels
    return ImageFont.truetype(findfont(FontProperties(family="monospace")), size)


def lr_sweep_png(
    sweep: tuple[ArrayLike, ArrayLike],
    path: str | os.PathLike[str],
    *,
    title: str,
    limit: float | None = None,
    floor: float | None = None,
    chosen: float | None = None,
) -> Path:
    """The loss a descent ends at against its learning rate (log-log); ``inf`` marks divergence.

    ``sweep``: the learning rates and the loss each ended at (:func:`~workbench.regression.lr_sweep`).
    ``limit`` draws the rate above which descent diverges, ``floor`` the lowest loss any
    parameters reach, ``chosen`` the rate the lesson uses.
    """
    lr, end = (np.asarray(a, dtype="float64") for a in sweep)
    if not (lr.ndim == 1 and len(lr) and lr.shape == end.shape and (lr > 0).all()):
        raise WorkbenchError(
            f"learning rates and final losses must be two lists of one length; got {lr.shape}"
        )
    ok = np.isfinite(end)
    fig, ax = _figure(6.4, 4.4)
    ax.plot(lr[ok], end[ok], "o-", color=CURVE, label="loss after the steps")
    top = end[ok].max() * 3 if ok.any() else 1.0
    if (~ok).any():
        ax.plot(lr[~ok], np.full((~ok).sum(), top), "x", color="#C00000", ms=9, mew=2, label="diverged")
    if limit is not None:
        ax.axvline(limit, color="#C00000", lw=1, ls=":", label=f"diverges above lr {limit:.3g}")
    if floor is not None:
        ax.axhline(floor, color="black", lw=1, ls="--", label=f"least-squares floor {floor:.4g}")
    if chosen is not None:
        ax.axvline(chosen, color=POINTS, lw=1.5, label=f"the lesson's lr {chosen:g}")
    ax.set_xscale("log")
    ax.set_yscale("log")
    ax.set_xlabel("learning rate (log scale)")
    ax.set_ylabel("MSE after the steps (log scale)")
    ax.set_title(title, fontsize=11)
    ax.legend(frameon=True, framealpha=0.9, fontsize=9, loc="center right", bbox_to_anchor=(0.9, 0.55))
    ax.grid(alpha=0.3, which="both")
    return _save_png(fig, path)


def parabola_png(
    curve: tuple[ArrayLike, ArrayLike],
    runs: Sequence[tuple[str, ArrayLike, ArrayLike]],
    path: str | os.PathLike[str],
    *,
    title: str,
    xlabel: str,
) -> Path:
    """The loss against one parameter (a parabola) and, one panel per run, the steps taken on it.

    ``curve``: the parameter's values and the loss at each; ``runs``: (panel title, where each
    step landed, the loss there), e.g. a rate too high bouncing across the bottom and one too
    low creeping toward it.
    """
    xs, ys = (np.asarray(a, dtype="float64") for a in curve)
    if xs.ndim != 1 or xs.shape != ys.shape or not runs:
        raise WorkbenchError("the parabola needs one loss per parameter value, and at least one run")
    fig = _canvas(5 * len(runs), 4.4)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.83, bottom=0.13, wspace=0.22)
    for k, (label, at, loss) in enumerate(runs):
        ax = _axes(fig, 1, len(runs), k + 1)
        ax.plot(xs, ys, color=CURVE, lw=2)
        at, loss = np.asarray(at, dtype="float64"), np.asarray(loss, dtype="float64")
        ax.plot(at, loss, "o-", color=POINTS, lw=1.2, ms=5)
        ax.plot(at[:1], loss[:1], "o", color=START, ms=8, label="start")
        for t in range(len(at) - 1):
            ax.annotate("", xy=(at[t + 1], loss[t + 1]), xytext=(at[t], loss[t]),
                        arrowprops={"arrowstyle": "->", "color": POINTS, "lw": 1.2})  # fmt: skip
        ax.set_title("\n".join(textwrap.wrap(label, 48)), fontsize=10)
        ax.set_xlabel(xlabel)
        ax.set_ylabel("loss (MSE)" if k == 0 else "")
        ax.legend(fontsize=9, loc="upper center")
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    return _save_png(fig, path)


def spread_png(columns: Sequence[tuple[str, ArrayLike]], path: str | os.PathLike[str], *, title: str) -> Path:
    """One histogram per column, side by side: each panel's title is its name (say, how it spreads)."""
    if not columns:
        raise WorkbenchError("spread_png needs at least one column")
    fig = _canvas(5 * len(columns), 4)
    fig.subplots_adjust(left=0.08, right=0.98, top=0.8, bottom=0.14, wspace=0.22)
    for k, (name, values) in enumerate(columns):
        ax = _axes(fig, 1, len(columns), k + 1)
        ax.hist(np.asarray(values, dtype="float64"), bins=40, color=POINTS)
        ax.set_title("\n".join(textwrap.wrap(name, 52)), fontsize=10)
        ax.set_ylabel("passengers" if k == 0 else "")
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    return _save_png(fig, path)


def valley_png(fits: Sequence[tuple[str, Fit]], path: str | os.PathLike[str], *, title: str) -> Path:
    """The loss around its lowest point against the first two parameters (the rest at their best),
    one panel per fit: a long thin valley where the loss bends far more sharply one way than
    another, a round bowl where it bends alike every way."""
    fig = _canvas(5 * len(fits), 4.6)
    fig.subplots_adjust(left=0.1, right=0.98, top=0.8, bottom=0.13, wspace=0.3)
    for k, (label, fit) in enumerate(fits):
        phi, y = fit.phi, fit.data.y
        best = numerics.least_squares(phi, y)
        floor = float(np.mean((phi @ best - y) ** 2))
        bend = 2 / len(phi) * np.einsum("ij,ij->j", phi, phi)  # each parameter's own curvature
        half = np.sqrt(6 * floor / bend[:2])  # where the loss rises by 3 floors along that axis alone
        a, b = (np.linspace(best[j] - half[j], best[j] + half[j], 121) for j in range(2))
        grid = np.stack(np.meshgrid(a, b), axis=-1).reshape(-1, 2)
        params = np.tile(best, (len(grid), 1))
        params[:, :2] = grid
        loss = np.mean((params @ phi.T - y) ** 2, axis=1).reshape(len(b), len(a))
        ax = _axes(fig, 1, len(fits), k + 1)
        ax.contour(
            a, b, loss, levels=floor * np.array([1.05, 1.25, 2, 4]), colors=[CURVE, CURVE, POINTS, POINTS]
        )
        ax.plot(best[0], best[1], "o", color=START, ms=6, label="lowest loss")
        ax.set_title("\n".join(textwrap.wrap(label, 52)), fontsize=10)
        ax.set_xlabel(fit.param_names[0])
        ax.set_ylabel(fit.param_names[1])
        ax.legend(fontsize=9, loc="upper right")
        ax.grid(alpha=0.3)
    fig.suptitle(title, fontsize=11)
    return _save_png(fig, path)


def overfitting_png(
    units: ArrayLike,
    train: ArrayLike,
    valid: ArrayLike,
    path: str | os.PathLike[str],
    *,
    words: Words,
    margin: ArrayLike | None = None,
) -> Path:
    """Train and valid loss against the number of ReLUs a net sums: over-fitting, where they part.

    ``words.lines`` may name the ``"train"``, ``"valid"`` and ``"best"`` (the lowest valid loss)
    points; the x axis says "ReLUs summed (nnet sums 2)" by default. ``margin``
    (:func:`~workbench.titanic.compare.valid_margin`) hangs a bar of that length under each valid
    point, and a dotted line marks the lowest: a bar that reaches it is as low."""
    lines = {
        "train": "train (the rows fitted)",
        "valid": "valid (rows held out)",
        "best": "lowest valid loss",
        "margin": "valid margin: a bar that reaches the dotted line is as low",
    }
    train_label, valid_label, best_label = ({**lines, **words.lines}[k] for k in ("train", "valid", "best"))
    u, train_loss, valid_loss = (np.asarray(a, dtype="float64") for a in (units, train, valid))
    if not (u.ndim == 1 and len(u) and u.shape == train_loss.shape == valid_loss.shape):
        raise WorkbenchError(
            f"units, train and valid losses must be three lists of one length; got {u.shape}"
        )
    fig, ax = _figure()
    ax.plot(u, train_loss, "o-", color=CURVE, label=train_label)
    ax.plot(u, valid_loss, "s-", color=POINTS, label=valid_label)
    best = int(np.argmin(valid_loss))
    if margin is not None:
        below = np.asarray(margin, dtype="float64")
        ax.errorbar(u, valid_loss, yerr=[below, np.zeros_like(below)], fmt="none", ecolor=POINTS,
                    elinewidth=1, capsize=4, label={**lines, **words.lines}["margin"])  # fmt: skip
        ax.axhline(valid_loss[best], color=POINTS, lw=1, ls=":")
    side = "right" if best == len(u) - 1 else "left" if best == 0 else "center"  # inside the plot
    ax.annotate(best_label, (u[best], valid_loss[best]), xytext=(0, -18),
                textcoords="offset points", ha=side, fontsize=9)  # fmt: skip
    losses = np.concatenate([train_loss, valid_loss])
    if losses.min() > 0 and losses.max() > 10 * losses.min():  # one bad fit would flatten the rest
        ax.set_yscale("log")
    ax.set_xscale("log", base=2)
    ax.set_xticks(u, [f"{v:g}" for v in u])
    ax.set_xlabel(words.x or "ReLUs summed (nnet sums 2)")
    ax.set_ylabel("MSE" + (" (log scale)" if ax.get_yscale() == "log" else ""))
    ax.set_title("\n".join(textwrap.wrap(words.title, 72)), fontsize=10)  # computed from the numbers
    ax.legend(frameon=False)
    return _save_png(fig, path)
