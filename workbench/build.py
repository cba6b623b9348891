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
* ``titanic_overfitting.png``: train and valid loss of nets summing more and more ReLUs
  (:func:`~workbench.titanic.compare.more_units`).
* ``submission.csv``: Kaggle's submission for ``test.csv`` from the model sheet with the
  lowest valid loss (:func:`choose`), that model fitted again on every row, train and valid,
  as the course does before submitting.

Every fit of the comparison sees only the train rows of
:func:`~workbench.titanic.split.validation_split` (80%, seed 42, as the course notebook); the
valid rows score it. Only the submission's model, once chosen, is fitted on every row.
* the small regressions' workbooks and pictures (:func:`write_regression_outputs`),
  with the line's descent animated at three learning rates and a sweep of rates.

The fits (every one seeded, so the same call writes the same bytes):

==========  ============  =====================================================
model       method        what it is
==========  ============  =====================================================
linear      lstsq         the least-squares optimum: the floor no fit goes below
linear      lbfgs         Solver's way, from ``RAND()-0.5``: the ``linear`` sheet
linear      gd            the lesson's loop from ``RAND()-0.5``
nnet        lbfgs         Solver's way, one random start
nnet        gd            the lesson's loop, one random start, 1000 epochs
nnet        search        :data:`NNET_RECIPE`'s default method: the ``nnet`` and ``mmult`` sheets
sigmoid     lbfgs         linear squashed into 0..1: the ``sigmoid`` sheet
==========  ============  =====================================================

:data:`NNET_RECIPE` is the one place that says how hard the build trains the net.

The build runs torch on one thread (:func:`~workbench.numerics.one_thread`): its tensors
are small, and on a machine shared with other work, spinning threads make the fits many
times slower. The numbers are the same to the last bit with one thread or two, so the
written files are too. The small regressions' books and pictures, which need nothing of the
Titanic fits, are written meanwhile by a second process on two cores or more
(:mod:`workbench.lesson_files`), by the same code, to the same bytes.

Output is deterministic on one machine with one set of library versions: the same
seed writes the same bytes, whether from Python or from the command. Across CPUs the
math libraries round differently in the last bits, which can change which of the net's
starts wins; the workbooks are then the same semantically (same formulas, layout and
strings; numbers to a stated tolerance), which is what the tests check against the
committed ``workbooks/``.
"""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path

import numpy as np
import pandas as pd

from . import lesson_files, pictures
from .errors import WorkbenchError
from .files import check_target, output_folder
from .lesson_files import REGRESSION_OUTPUTS, REGRESSIONS_BYTES, write_regression_outputs
from .limits import check_memory, check_seed
from .numerics import one_thread
from .sheets.books.tabular import (
    book_memory,
    check_table_rows,
    summary_lines,
    table_rows_limit,
    the_bar,
    write_tabular_book,
)
from .sheets.books.titanic import add_titanic_descent_sheet, input_ranges, titanic_descent, write_titanic_book
from .sheets.write.trend import loss_trend, spread_words
from .tabular import Prepared, hints, prepare, read_table, sample_rows
from .tabular.fit import fit_memory, fit_prepared, predict
from .titanic import compare, train
from .titanic.data import TEST_CSV, TRAIN_CSV, load_titanic
from .titanic.features import FEATURES, FillValues, lesson_table
from .titanic.models import MODELS, Recipe
from .titanic.sheet_values import scores
from .titanic.split import VALID_PCT, valid_below_train, valid_mask, validation_split
from .titanic.submission import Params, kaggle_submission, write_submission

#: Where :func:`build_all` and ``workbench build`` write by default: ``workbooks/`` in the
#: current folder. Run from a checkout's root, that is the repository's committed
#: ``workbooks/``; from anywhere else (an installed wheel), a new folder there.
WORKBOOKS = Path("workbooks")

#: The seed of every random start when :func:`build_all` is given none.
SEED = 0

#: How the build trains the net: the net's recipe in the model registry
#: (:data:`workbench.titanic.models.MODELS`), as :func:`~workbench.fit` uses it by default.
NNET_RECIPE: Recipe = MODELS["nnet"].recipe


#: Every file :func:`build_all` writes into ``out``, in order.
OUTPUTS: tuple[str, ...] = (
    "titanic.xlsx", "titanic_loss.png", "titanic_overfitting.png", "titanic_fare.png", "submission.csv",
    *REGRESSION_OUTPUTS,
)  # fmt: skip

#: The fewest passengers (rows with an Age) the build fits: after the valid rows are held out,
#: one train row per parameter of the linear model, so its least-squares optimum is one point.
MIN_ROWS = next(n for n in range(1, 100) if n - int(VALID_PCT * n) >= len(FEATURES))

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
            method, starts, epochs, train_loss, valid_loss, train_accuracy, valid_accuracy,
            vs_linear_floor, sheet``, where ``vs_linear_floor`` is the train loss minus the
            least-squares floor of ``linear`` and ``sheet`` names the workbook sheet showing
            that run. The summary sheet shows this table.
        chosen: the model sheet whose model made ``submission.csv`` (see :func:`choose`).
        seconds: wall time of each stage: ``load``, ``fit``, ``write``.
        submitted: the chosen sheet's run fitted again on all ``rows`` rows (train and valid),
            whose predictions are ``submission.csv``.
        rows: the passengers of the lesson table (every row with an Age).
    """

    out: Path
    files: tuple[Path, ...]
    fits: dict[str, train.Fit]
    comparison: pd.DataFrame
    chosen: str = "nnet"
    seconds: dict[str, float] = field(default_factory=dict)
    submitted: train.Fit | None = None
    rows: int = 0

    def report(self) -> str:
        """The comparison as a short text table, then what was written and how long it took."""
        table = self.comparison.to_string(
            index=False,
            formatters=compare.FORMATS,
        )
        table += (
            f"\nsubmission.csv: the {self.chosen} sheet's model, the lowest valid loss of the model sheets"
        )
        if self.submitted is not None:
            table += (
                f", fitted again on all {self.rows} rows (train and valid) before predicting:"
                f" loss {self.submitted.loss:.6f}, accuracy {self.submitted.accuracy:.2%}"
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
        out: the folder to write (created if missing, and removed again if the build fails
            before writing into it); existing files are replaced, each only by a complete new
            one. The folder is locked while the build runs: a second build into it is refused.
        seed: seeds every random start. ``None``: seed :data:`SEED` for the Titanic
            fits, and each small regression keeps its own recipe's seed.
        progress: called as ``progress(stage, done, total)`` while fitting and writing.

    Returns:
        A :class:`BuildResult`.

    Raises:
        DataError: ``data`` is not a Titanic training CSV.
        WorkbenchError: ``seed`` is not a 32-bit seed, ``out`` cannot be written or another
            build is writing into it, an output name is taken by something other than a
            regular file we may write (or by ``data`` itself), there are fewer than
            :data:`MIN_ROWS` passengers, or the build would need more memory than the budget
            (:mod:`workbench.limits`). All of it is checked before anything is fitted or written.
    """
    if seed is not None:
        check_seed(seed)
    with output_folder(out) as folder:
        for name in OUTPUTS:
            check_target(folder / name, inputs=[TRAIN_CSV if data is None else data])
        with one_thread(), _gc_frozen():  # see the module docstring
            return _build(data, folder, seed, progress)


@contextmanager
def _gc_frozen() -> Iterator[None]:
    """Inside the block, Python's garbage collector leaves alone the objects alive when it began
    (the modules imported, torch's above all; :func:`gc.freeze`). Each of its full collections
    walked every one of them, and in a forked second process it wrote to the memory of each,
    which the fork then copied page by page. An object of theirs that becomes garbage inside
    the block is collected after it."""
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


def _build(
    data: str | os.PathLike[str] | None, out: Path, seed: int | None, progress: Progress | None
) -> BuildResult:
    began = time.perf_counter()
    passengers = load_titanic(data)
    table = lesson_table(passengers)
    _check_size(data, len(passengers), len(table))
    loaded = time.perf_counter()

    regressions = lesson_files.start(out, seed)
    try:
        result = _titanic(passengers, table, out, seed, progress, regressions)
        return replace(result, seconds={"load": loaded - began, **result.seconds})
    finally:
        if regressions is not None:
            regressions.stop()


def _titanic(
    passengers: pd.DataFrame,
    table: pd.DataFrame,
    out: Path,
    seed: int | None,
    progress: Progress | None,
    regressions: lesson_files.Second | None,
) -> BuildResult:
    """The Titanic fits and their files, then the regressions' files (as ``regressions`` wrote them)."""
    began = time.perf_counter()
    train_rows, valid_rows = validation_split(table)
    fits, comparison, histories = _fit_all(train_rows, valid_rows, SEED if seed is None else seed, progress)
    units = compare.more_units(
        train_rows, valid_rows, seed=SEED if seed is None else seed, net=fits["nnet"].params
    )
    chosen, why = choose(comparison, len(table))

    # The course's last step before submitting: the chosen model, fitted again on every row.
    def tick(done: int, total: int) -> None:
        if progress is not None:
            progress(f"fit {chosen} on every row", done, total)

    submitted = fit_sheet(chosen, table, seed=SEED if seed is None else seed, every_row=True, progress=tick)
    luck = valid_below_train(table)
    fitted = time.perf_counter()

    def stage(name: str, done: int, total: int = 4) -> None:
        if progress is not None:
            progress(name, done, total)

    stage("write titanic.xlsx", 0)
    inputs, target = input_ranges(len(table))  # the descent sheet reads the linear sheet's cells
    start_seed = SEED if seed is None else seed
    descent = partial(  # its notes go to the notes sheet; its numbers are computed here, first
        add_titanic_descent_sheet, table=table, trajectory=titanic_descent(table, seed=start_seed),
        ranges=(inputs, target), notes_sheet=True,
    )  # fmt: skip
    book = write_titanic_book(
        out / "titanic.xlsx", passengers, table, fits, comparison=comparison, histories=histories,
        valid=valid_rows.index, choice=why, units=units, luck=luck, extra_sheets=[descent],
    )  # fmt: skip
    files = [book]
    stage("write pictures", 1)
    files += [*_titanic_pictures(out, comparison, histories, units), _fare_picture(out, table)]
    stage("write submission.csv", 2)
    fill = FillValues.from_training(table)
    kaggle = kaggle_submission(
        submitted.model, submitted.params, TEST_CSV, fill=fill, sigmoid=submitted.sigmoid
    )
    files.append(write_submission(out / "submission.csv", kaggle))
    stage("write regressions", 3)
    files.extend(regressions.files() if regressions else write_regression_outputs(out, seed=seed))
    stage("write regressions", 4)
    written = time.perf_counter()

    seconds = {"fit": fitted - began, "write": written - fitted}
    return BuildResult(out, tuple(files), fits, comparison, chosen, seconds, submitted, len(table))


@dataclass(frozen=True)
class TableBuildResult:
    """What :func:`build_table` did: the workbook, the table and its fits, the seconds per stage."""

    path: Path
    prepared: Prepared
    fits: dict[str, Params]
    seconds: dict[str, float] = field(default_factory=dict)

    def report(self) -> str:
        """The recipe in words, each fit's train and valid scores, and what was written."""
        prep, valid = self.prepared, valid_mask(len(self.prepared.table))
        binary = prep.target.kind == "binary"
        extra, show = ("accuracy", "{:.2%}") if binary else ("rmse", "{:.6g}")
        lines, bar, cleared = [], the_bar(prep, valid)[1], {}
        for sheet, fit in self.fits.items():
            preds = predict(fit, prep.X)
            (t, ts), (v, vs) = (scores(preds[m], prep.y[m], binary=binary) for m in (~valid, valid))
            lines.append(
                f"{sheet}: {fit.method}; train loss {t:.10g}, {extra} {show.format(ts)};"
                f" valid loss {v:.10g}, {extra} {show.format(vs)}"
            )
            cleared[sheet] = bool(vs > bar if binary else vs < bar)
        fits = "\n".join([*lines, "", *summary_lines(prep, valid), _verdict(cleared)])
        took = ", ".join(f"{stage} {s:.1f} s" for stage, s in self.seconds.items())
        total = sum(self.seconds.values())
        return f"{self.prepared.explain()}\n\n{fits}\n\nwrote {self.path} in {total:.1f} s ({took})"


def _verdict(cleared: dict[str, bool]) -> str:
    """Which sheets clear the bar on the valid rows, and which do not, from their scores."""
    yes, no = ([s for s, c in cleared.items() if c is want] for want in (True, False))
    if not no or not yes:
        return f"On the valid rows {'every' if yes else 'no'} sheet clears the bar."
    clears, does = "clears" if len(yes) == 1 else "clear", "does" if len(no) == 1 else "do"
    return f"On the valid rows {', '.join(yes)} {clears} the bar; {', '.join(no)} {does} not."


def build_table(
    data: str | os.PathLike[str],
    target: str,
    out: str | os.PathLike[str] = WORKBOOKS,
    *,
    seed: int | None = None,
    sample: int | None = None,
    **recipe: object,
) -> TableBuildResult:
    """Read any tabular CSV, prepare it by the lesson's recipe, fit, and write ``out/<file stem>.xlsx``.

    Args:
        data: the CSV file (:func:`~workbench.tabular.read_table`).
        target: the column to predict (:func:`~workbench.tabular.prepare`).
        out: the folder to write (created if missing, and removed again if the build fails;
            locked while the build runs, as :func:`build_all` does).
        seed: seeds every random start (default :data:`SEED`).
        sample: build from a random sample of this many of the file's rows (drawn with ``seed``,
            :func:`~workbench.tabular.sample_rows`), said on every sheet: for a file with more rows
            than a sheet holds, or a quicker, smaller book.
        recipe: ``drop``, ``log``, ``category``, ``numeric``, ``missing``, ``na`` (more values
            that mean missing, read so), ``recipe``, ``keep_leak``, as :func:`~workbench.tabular.prepare`
            takes them.

    Raises:
        DataError, WorkbenchError: a bad file, column or option, before anything is written.
    """
    seed = SEED if seed is None else seed
    check_seed(seed)
    with output_folder(out) as folder:
        path = folder / f"{Path(data).stem}.xlsx"
        check_target(path, inputs=[data])
        return _build_table(data, target, path, seed, sample, recipe)


def _build_table(data, target: str, path: Path, seed: int, sample: int | None, recipe: dict):
    began, said = time.perf_counter(), None
    with one_thread(), _gc_frozen():
        na, drop, category = (recipe.get(k, ()) for k in ("na", "drop", "category"))
        frame = read_table(data, na=na, text=drop, category=category)  # neither refused for a word
        if sample is not None:
            frame, said = sample_rows(frame, sample, seed)
        prepared = replace(prepare(frame, target, **recipe), sample=said)
        try:  # before the fits: a sheet's limit is known from the rows alone
            check_table_rows(prepared)
        except WorkbenchError as e:
            most = table_rows_limit(prepared)
            hint = f"--sample {most}" if hints.STYLE.get() == "cli" else f"sample={most}"
            raise WorkbenchError(
                f"{Path(data).name}: {len(prepared.table):,} rows kept; {e}; or build from a random sample"
                f" of the file's rows: {hint}"
            ) from None
        rows, inputs = int(len(prepared.table) * (1 - VALID_PCT)) + 1, len(prepared.features)
        what = f"building {path.name} ({len(prepared.table):,} rows, {inputs} features)"
        need = held_memory(prepared) + fit_memory(rows, inputs) + book_memory(prepared)
        check_memory(need, what, "the number of rows")
        loaded = time.perf_counter()
        fits = fit_prepared(prepared, seed=seed)
        fitted = time.perf_counter()
        write_tabular_book(path, prepared, fits, seed=seed)
    seconds = {"load": loaded - began, "fit": fitted - loaded, "write": time.perf_counter() - fitted}
    return TableBuildResult(path, prepared, fits, seconds)


def held_memory(prep: Prepared) -> int:
    """The bytes a prepared table holds while it is fitted and written: the columns as read, the
    features, and their matrix."""
    frames = (prep.raw, prep.table)
    return int(sum(f.memory_usage(deep=True).sum() for f in frames)) + prep.X.nbytes


def _titanic_pictures(
    out: Path, comparison: pd.DataFrame, histories: dict[str, np.ndarray], units: pd.DataFrame
) -> list[Path]:
    """The Titanic fits' loss curves, and train against valid loss as the net sums more ReLUs."""
    lstsq = (comparison.model == "linear") & (comparison.method == "lstsq")
    curves = pictures.loss_png(
        histories,
        out / "titanic_loss.png",
        words=pictures.Words(
            "Titanic: training loss by step",
            x="step (gd epochs; the best net then takes Gauss-Newton steps)",
            y="MSE on the train rows (log scale)",
            lines={"floor": "linear model's least-squares floor"},
        ),
        floor=float(comparison.train_loss[lstsq].iloc[0]),
    )
    margin = units.get("valid_margin")
    trend = loss_trend(units.units, units.train_loss, units.valid_loss, margin=margin)
    more = pictures.overfitting_png(
        units.units, units.train_loss, units.valid_loss, out / "titanic_overfitting.png",
        words=pictures.Words(f"Titanic, more ReLUs: {trend}"), margin=margin,
    )  # fmt: skip
    return [curves, more]


def _fare_picture(out: Path, table: pd.DataFrame) -> Path:
    """Fare's spread before and after the log: a few huge fares squash the rest (the lesson's reason)."""
    fare, logged = table["Fare"], table["log_Fare"]
    return pictures.spread_png(
        [(f"Fare: {spread_words(fare)}", fare), (f"LOG10(Fare+1): {spread_words(logged)}", logged)],
        out / "titanic_fare.png",
        title="Titanic: Fare's values before and after the log",
    )


def _check_size(data: str | os.PathLike[str] | None, raw: int, rows: int) -> None:
    """Refuse too few passengers to fit, or so many that the build would exhaust memory."""
    where = "the training data" if data is None else str(data)
    if rows < MIN_ROWS:
        raise WorkbenchError(
            f"{where}: has {rows} passenger{'s' if rows != 1 else ''} with an Age (of {raw} rows);"
            f" the build needs at least {MIN_ROWS}: once {VALID_PCT:.0%} are held out for validation,"
            " one per parameter of the linear model"
        )
    fit = train.fit_memory(
        "nnet",
        rows,
        starts=NNET_RECIPE.starts,
        epochs=NNET_RECIPE.epochs,
        gauss_newton=NNET_RECIPE.gauss_newton,
    )
    check_memory(
        fit + raw * WRITE_BYTES_PER_ROW + REGRESSIONS_BYTES,
        f"building from {where} ({raw:,} rows)",
        "the number of rows",
    )


def fit_sheet(
    sheet: str,
    table: pd.DataFrame,
    *,
    seed: int = SEED,
    every_row: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> train.Fit:
    """Fit one model sheet's parameters as :func:`build_all` does: the run of
    :data:`~workbench.titanic.compare.RUNS` that the sheet shows, on the train rows of ``table``
    (:func:`~workbench.titanic.split.validation_split`), seen as the sheet's model; with
    ``every_row``, on all of ``table``, as the build fits the chosen sheet for Kaggle."""
    shown = {s: r for r in compare.RUNS for s in r.sheets}
    if sheet not in shown:
        raise WorkbenchError(f"no model sheet is called {sheet!r}; choose one of {', '.join(shown)}")
    rows = table if every_row else validation_split(table)[0]
    fitted = compare.run(shown[sheet], rows, seed=seed, progress=progress)
    return fitted if sheet == "sigmoid" else fitted.as_model(sheet)


def choose(comparison: pd.DataFrame, rows: int) -> tuple[str, str]:
    """The model sheet for Kaggle's test set, and why, in a sentence for the summary.

    Among the runs shown on a model sheet (``comparison.sheet``), the lowest valid loss: the
    valid rows are the only passengers no fit has seen, as Kaggle's test passengers. The loss
    (MSE), not the accuracy: the lessons' reason, a small change of the parameters rarely
    changes the accuracy (its gradient is zero almost everywhere), while the loss moves.
    ``rows``: every passenger of the table, train and valid, which the chosen model is fitted
    on again for the submission.
    """
    shown = comparison[comparison.sheet != ""]
    row = shown.loc[shown.valid_loss.idxmin()]
    sheet = str(row.sheet).split(", ")[0]
    why = (
        f"submission.csv uses the {sheet} sheet's model ({row.model}, {row.method}): of the model sheets,"
        " its valid loss (MSE on the held-out rows, which no fit saw) is the lowest. Loss rather than"
        " accuracy, as the lessons say: a small change of the parameters rarely changes the accuracy, so"
        " it has no useful gradient, while the loss always moves. Then, as the course does before"
        f" submitting, the same model is fitted again, the same way, on all {rows} rows (train and"
        " valid); its sheet keeps the parameters fitted on the train rows."
    )
    return sheet, why


def _fit_all(
    table: pd.DataFrame, valid: pd.DataFrame, seed: int, progress: Progress | None
) -> tuple[dict[str, train.Fit], pd.DataFrame, dict[str, np.ndarray]]:
    """Every run of :data:`~workbench.titanic.compare.RUNS` on the train rows ``table``, once: the
    sheets' fits, the comparison table (scored on ``valid`` too), the loss curves."""
    fits = []
    for r in compare.RUNS:
        label = "fit " + r.label.format(starts=NNET_RECIPE.starts)
        tick = None if progress is None else (lambda done, total, label=label: progress(label, done, total))
        if tick is not None:
            tick(0, 1)
        fits.append(compare.run(r, table, seed=seed, progress=tick))
        if tick is not None:
            tick(1, 1)
    comparison = compare.comparison(compare.RUNS, fits, valid)
    comparison["sheet"] = [", ".join(r.sheets) for r in compare.RUNS]
    runs = list(zip(compare.RUNS, fits, strict=True))
    by_sheet = {s: f if s == "sigmoid" else f.as_model(s) for r, f in runs for s in r.sheets}
    curves = {r.curve.format(starts=f.starts): f.curve() for r, f in runs if r.curve}
    return by_sheet, comparison, curves
