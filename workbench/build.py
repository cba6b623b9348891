"""``workbench build``: fit every model and write every workbook and picture.

:func:`build_all` is the project's main job, as a library function (the command line
is a thin layer over it)::

    import workbench as wb
    result = wb.build_all()         # the bundled train.csv -> ./workbooks/
    print(result.report())

It loads the passengers, builds the lesson's table, fits each model once, and
writes into ``out``:

* ``titanic.xlsx``: the lesson's sheets (linear, nnet, mmult, sigmoid) holding the
  fitted parameters and their random starts, the ``descent`` sheet (gradient descent
  done by formulas on the ``linear`` sheet's own input cells), and ``summary``
  (a comparison of the training runs below and their loss curves).
* ``titanic_loss.png``: those loss curves.
* ``submission.csv``: Kaggle's submission for ``test.csv`` from the ``nnet`` fit.
* the small regressions' workbooks and pictures
  (:func:`~workbench.sheets.regression_book.write_regression_outputs`).

The fits (every one seeded, so the same call writes the same bytes):

==========  ============  =====================================================
model       method        what it is
==========  ============  =====================================================
linear      lstsq         the least-squares optimum: the floor no fit goes below
linear      lbfgs         Solver's way, from ``RAND()-0.5``: the ``linear`` sheet
linear      gd            the lesson's loop from ``RAND()-0.5``
nnet        lbfgs         Solver's way, one random start
nnet        gd            the lesson's loop, one random start, 1000 epochs
nnet        gd+gn+lbfgs   :data:`NNET_RECIPE`: the ``nnet`` and ``mmult`` sheets
sigmoid     lbfgs         linear squashed into 0..1: the ``sigmoid`` sheet
==========  ============  =====================================================

:data:`NNET_RECIPE` is the one place that says how hard the build trains the net.

The build runs torch on one thread (:func:`~workbench.titanic.models.one_thread`): its tensors
are small, and on a 2-core machine shared with other work, torch's spinning threads
made the fits 5 to 40 times slower. The numbers are the same to the last bit with one
thread or two, so the written files are too.

Output is deterministic on one machine with one set of library versions: the same
seed writes the same bytes, whether from Python or from the command. Across CPUs the
math libraries round differently in the last bits, which can change which of the net's
starts wins; the workbooks are then the same semantically (same formulas, layout and
strings; numbers to a stated tolerance), which is what the tests check against the
committed ``workbooks/``.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd

from . import pictures
from .errors import WorkbenchError
from .files import check_target
from .limits import check_memory, check_seed
from .sheets.descent import add_titanic_descent_sheet
from .sheets.regression_book import regression_outputs, write_regression_outputs
from .sheets.titanic_book import input_ranges, write_titanic_book
from .titanic import train
from .titanic.data import TEST_CSV, load_titanic
from .titanic.features import FEATURES, FillValues, lesson_table
from .titanic.models import one_thread
from .titanic.submission import kaggle_submission, write_submission

#: Where :func:`build_all` and ``workbench build`` write by default: ``workbooks/`` in the
#: current folder. Run from a checkout's root, that is the repository's committed
#: ``workbooks/``; from anywhere else (an installed wheel), a new folder there.
WORKBOOKS = Path("workbooks")

#: The seed of every random start when :func:`build_all` is given none.
SEED = 0

#: How the build trains the net (``nnet``; ``mmult`` is the same fit transposed): gradient
#: descent from ``starts`` random starts at once, ``gauss_newton`` Gauss-Newton steps of
#: every start, then L-BFGS finishes the ``polish`` best, as Excel's Solver would (see
#: :mod:`workbench.titanic.train`). The build uses :data:`workbench.titanic.train.DEFAULTS` as they are:
#: they reach MSE 0.1289 in about 2 s. Should they grow slow, reduce them here (for
#: example ``replace(train.DEFAULTS["nnet"], starts=64)``) to keep the build quick.
NNET_RECIPE: train.Recipe = train.DEFAULTS["nnet"]

#: How :func:`build_all` fits each model sheet's parameters (:func:`fit_sheet`; ``mmult``
#: is ``nnet``'s fit transposed). ``linear`` and ``sigmoid`` are fitted Solver's way,
#: by L-BFGS from one random start, which reaches their optimum.
SHEET_FITS: dict[str, dict[str, object]] = {
    "linear": {"model": "linear", "method": "lbfgs"},
    "nnet": {"model": "nnet", "method": "gd", **asdict(NNET_RECIPE)},
    "sigmoid": {"model": "linear", "method": "lbfgs", "sigmoid": True},
}

#: Every file :func:`build_all` writes into ``out``, in order.
OUTPUTS: tuple[str, ...] = ("titanic.xlsx", "titanic_loss.png", "submission.csv", *regression_outputs())

#: The fewest passengers (rows with an Age) the build fits: one per parameter of the linear
#: model, so its least-squares optimum is one point.
MIN_ROWS = len(FEATURES)

#: Memory of writing the workbooks, per passenger: XlsxWriter keeps every cell of a sheet.
WRITE_BYTES_PER_ROW = 20_000

#: ``progress(stage, done, total)``: what the build is doing, e.g. to draw a progress bar.
Progress = Callable[[str, int, int], None]


@dataclass(frozen=True)
class BuildResult:
    """What :func:`build_all` did.

    Attributes:
        out: the folder written to.
        files: every file written, in the order written.
        fits: the fits on the workbook's model sheets (``linear``, ``nnet``, ``mmult``,
            ``sigmoid``), as :class:`~workbench.titanic.train.Fit`.
        comparison: one row per training run (see the module docstring): ``model,
            method, starts, epochs, loss, accuracy, gap, sheet``, where ``gap`` is the
            loss minus the least-squares floor of ``linear`` and ``sheet`` names the
            workbook sheet showing that run. The summary sheet shows this table.
        seconds: wall time of each stage: ``load``, ``fit``, ``write``.
    """

    out: Path
    files: tuple[Path, ...]
    fits: dict[str, train.Fit]
    comparison: pd.DataFrame
    seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> str:
        """The comparison as a short text table, then what was written and how long it took."""
        table = self.comparison.to_string(
            index=False,
            formatters={
                "loss": "{:.6f}".format,
                "accuracy": "{:.2%}".format,
                "gap": "{:+.2e}".format,
            },
        )
        seconds = self.seconds
        took = ", ".join(f"{stage} {s:.1f} s" for stage, s in seconds.items())
        return (
            f"{table}\n\nwrote {len(self.files)} files to {self.out}"
            f" in {sum(seconds.values()):.1f} s ({took})"
        )


def build_all(
    data: str | os.PathLike[str] | None = None,
    out: str | os.PathLike[str] = WORKBOOKS,
    *,
    seed: int | None = None,
    progress: Progress | None = None,
) -> BuildResult:
    """Fit every model on the Titanic data and write every workbook and picture into ``out``.

    Args:
        data: a Kaggle ``train.csv``; the bundled one by default.
        out: the folder to write (created if missing); existing files are replaced,
            each only by a complete new one.
        seed: seeds every random start. ``None``: seed :data:`SEED` for the Titanic
            fits, and each small regression keeps its own recipe's seed.
        progress: called as ``progress(stage, done, total)`` while fitting and writing.

    Returns:
        A :class:`BuildResult`.

    Raises:
        DataError: ``data`` is not a Titanic training CSV.
        WorkbenchError: ``seed`` is not a 32-bit seed, ``out`` cannot be written, an output
            name is taken by something other than a regular file, there are fewer than
            :data:`MIN_ROWS` passengers, or the build would need more memory than the budget
            (:mod:`workbench.limits`). All of it is checked before anything is fitted or written.
    """
    if seed is not None:
        check_seed(seed)
    folder = _writable_folder(out)
    for name in OUTPUTS:
        check_target(folder / name)
    with one_thread():  # see the module docstring: same numbers, far less time on a shared machine
        return _build(data, folder, seed, progress)


def _build(
    data: str | os.PathLike[str] | None, out: Path, seed: int | None, progress: Progress | None
) -> BuildResult:
    began = time.perf_counter()
    passengers = load_titanic(data)
    table = lesson_table(passengers)
    _check_size(data, len(passengers), len(table))
    loaded = time.perf_counter()

    fits, comparison, histories = _fit_all(table, SEED if seed is None else seed, progress)
    fitted = time.perf_counter()

    def stage(name: str, done: int, total: int = 4) -> None:
        if progress is not None:
            progress(name, done, total)

    titanic_seed = SEED if seed is None else seed
    inputs, target = input_ranges(len(table))
    files: list[Path] = []
    stage("write titanic.xlsx", 0)
    files.append(
        write_titanic_book(
            out / "titanic.xlsx",
            passengers,
            table,
            fits,
            comparison=comparison,
            histories=histories,
            extra_sheets=[
                lambda book: add_titanic_descent_sheet(
                    book, table, seed=titanic_seed, inputs=inputs, target=target
                )
            ],
        )
    )
    stage("write pictures", 1)
    floor = float(comparison.loss[(comparison.model == "linear") & (comparison.method == "lstsq")].iloc[0])
    files.append(
        pictures.loss_png(
            histories,
            out / "titanic_loss.png",
            title="Titanic: training loss by step",
            floor=floor,
            xlabel="step (gd epochs; the best net then takes Gauss-Newton steps)",
            floor_label="linear model's least-squares floor",
        )
    )
    stage("write submission.csv", 2)
    fill = FillValues.from_training(table)
    kaggle = kaggle_submission("nnet", fits["nnet"].params, TEST_CSV, fill=fill)
    files.append(write_submission(out / "submission.csv", kaggle))
    stage("write regressions", 3)
    files.extend(write_regression_outputs(out, seed=seed))
    stage("write regressions", 4)
    written = time.perf_counter()

    seconds = {"load": loaded - began, "fit": fitted - loaded, "write": written - fitted}
    return BuildResult(out, tuple(files), fits, comparison, seconds)


def _writable_folder(out: str | os.PathLike[str]) -> Path:
    """``out`` as an existing folder we may write into (created, empty, if missing), or a clear error."""
    if not str(out).strip():
        raise WorkbenchError("the output folder is empty; give a folder name (e.g. --out workbooks)")
    out = Path(out)
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if existing.exists() and not existing.is_dir():
        raise WorkbenchError(f"cannot write to the folder {out}: {existing} is a file, not a folder")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WorkbenchError(f"cannot write to the folder {out}: permission denied")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise WorkbenchError(f"cannot write to the folder {out}: {e.strerror or e}") from None
    return out


def _check_size(data: str | os.PathLike[str] | None, raw: int, rows: int) -> None:
    """Refuse too few passengers to fit, or so many that the build would exhaust memory."""
    where = "the training data" if data is None else str(data)
    if rows < MIN_ROWS:
        raise WorkbenchError(
            f"{where}: has {rows} passenger{'s' if rows != 1 else ''} with an Age (of {raw} rows);"
            f" the build needs at least {MIN_ROWS}, one per parameter of the linear model"
        )
    fit = train.fit_memory(
        "nnet",
        rows,
        starts=NNET_RECIPE.starts,
        epochs=NNET_RECIPE.epochs,
        gauss_newton=NNET_RECIPE.gauss_newton,
    )
    check_memory(
        fit + raw * WRITE_BYTES_PER_ROW, f"building from {where} ({raw:,} rows)", "the number of rows"
    )


def fit_sheet(
    sheet: str,
    table: pd.DataFrame | None = None,
    *,
    seed: int = SEED,
    progress: Callable[[int, int], None] | None = None,
) -> train.Fit:
    """Fit one model sheet's parameters as :func:`build_all` does (see :data:`SHEET_FITS`).

    ``mmult`` is ``nnet``'s fit seen in the other layout (parameters transposed).
    """
    if sheet not in (*SHEET_FITS, "mmult"):
        raise WorkbenchError(
            f"no model sheet is called {sheet!r}; choose one of linear, nnet, mmult, sigmoid"
        )
    kwargs = dict(SHEET_FITS["nnet" if sheet == "mmult" else sheet])
    fitted = train.fit(kwargs.pop("model"), table, seed=seed, progress=progress, **kwargs)
    return fitted.as_model("mmult") if sheet == "mmult" else fitted


def _fit_all(
    table: pd.DataFrame, seed: int, progress: Progress | None
) -> tuple[dict[str, train.Fit], pd.DataFrame, dict[str, np.ndarray]]:
    """Every fit of the build, once: the sheets' fits, the comparison rows, the loss curves."""

    def run(label: str, fit: Callable[..., train.Fit], *args: object, **kwargs: object) -> train.Fit:
        tick = None if progress is None else (lambda done, total: progress(f"fit {label}", done, total))
        if tick is not None:
            tick(0, 1)
        done = fit(*args, table, seed=seed, progress=tick, **kwargs)
        if tick is not None:
            tick(1, 1)
        return done

    best = f"nnet ({NNET_RECIPE.starts} starts, Gauss-Newton, L-BFGS)"
    plain = {"epochs": 1000, "starts": 1, "gauss_newton": 0, "polish": 0}  # as train.compare
    runs = [  # (model, method, sheets showing it, fit), in the comparison's order
        ("linear", "lstsq", "", run("linear (least squares)", train.fit, "linear", method="lstsq")),
        ("linear", "lbfgs", "linear", run("linear (L-BFGS)", fit_sheet, "linear")),
        ("linear", "gd", "", run("linear (gradient descent)", train.fit, "linear")),
        ("nnet", "lbfgs", "", run("nnet (L-BFGS, 1 start)", train.fit, "nnet", method="lbfgs")),
        ("nnet", "gd", "", run("nnet (gradient descent, 1 start)", train.fit, "nnet", **plain)),
        ("nnet", "gd+gn+lbfgs", "nnet, mmult", run(best, fit_sheet, "nnet")),
        ("sigmoid", "lbfgs", "sigmoid", run("sigmoid (L-BFGS)", fit_sheet, "sigmoid")),
    ]
    floor = runs[0][3].loss
    comparison = pd.DataFrame(
        [
            {**train.comparison_row(model, method, f, floor), "sheet": sheet}
            for model, method, sheet, f in runs
        ]
    )
    by_sheet = {sheet: f for _, _, sheets, f in runs for sheet in sheets.split(", ") if sheet}
    by_sheet["mmult"] = by_sheet["mmult"].as_model("mmult")
    linear_gd, nnet_gd, nnet_best = runs[2][3], runs[4][3], runs[5][3]
    # The best net's curve: its gd epochs, its Gauss-Newton steps, then where L-BFGS ended.
    # L-BFGS's iterations are left out: their count varies with the CPU's rounding, and a
    # curve of fixed length keeps the summary's layout and chart the same on every machine.
    stepped = nnet_best.epochs + 1 + nnet_best.gauss_newton
    histories = {
        "linear: gradient descent": linear_gd.history,
        "nnet: gradient descent, 1 start": nnet_gd.history,
        f"nnet: best of {nnet_best.starts} starts (gd, then Gauss-Newton, then L-BFGS's end)": np.append(
            nnet_best.history[:stepped], nnet_best.loss
        ),
    }
    return by_sheet, comparison, histories
