"""The ``workbench`` command (also ``python -m workbench``).

Each subcommand is a thin layer over the library: ``build`` over
:func:`workbench.build.build_all`, ``fit`` over :func:`workbench.titanic.train.fit`, ``check``
over :func:`workbench.sheets.read.check.check_workbook`, ``predict`` over
:func:`workbench.titanic.submission.kaggle_submission`, ``compare`` over
:func:`workbench.titanic.compare.compare`. Modules that import torch are imported only when a
command runs, so ``workbench --help`` answers at once.

Every :class:`~workbench.errors.WorkbenchError` (and an ``OSError`` such as an
unwritable output) is printed as one line, ``workbench: error: ...``, with exit
status 2; ``--debug`` also prints the traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import io
import os
import re
import sys
import time
import traceback
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from . import cli_text as text
from .errors import DataError, WorkbenchError

if TYPE_CHECKING:  # not at run time: `workbench --help` does not import torch
    import pandas as pd

    from .titanic.train import Fit

PROG = "workbench"

#: Exit statuses, as diff and grep use them; a closed output pipe (``| head -1``) ends the
#: command quietly with the status a shell reports for SIGPIPE, as other Unix tools do.
OK, DISAGREE, ERROR, PIPE = 0, 1, 2, 141

#: ``build``'s default folder: :data:`workbench.build.WORKBOOKS`, named here so that a build
#: with nothing to do never imports torch.
WORKBOOKS = "workbooks"


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``workbench`` command with ``argv`` (default ``sys.argv[1:]``); return the exit status."""
    _robust_output()
    parser = _parser()
    argv = sys.argv[1:] if argv is None else list(argv)
    _Parser.argv = tuple(argv)
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return OK
    args.began = time.perf_counter()  # before torch loads: the import is part of the wait
    try:
        # Every problem a user can act on is raised as an error; numpy's overflow notes are not.
        with _threads(args.command), warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            status = args.run(args)
            sys.stdout.flush()
            return status
    except BrokenPipeError:
        # Whoever read our output has gone: say nothing, and let nothing flush at exit either.
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return PIPE
    except (WorkbenchError, OSError) as e:
        if args.debug:
            traceback.print_exc()
        print(f"{PROG}: error: {_one_line(e)}", file=sys.stderr)
        return ERROR
    except KeyboardInterrupt:
        print(f"\n{PROG}: interrupted", file=sys.stderr)
        return 130


def _robust_output() -> None:
    """Print any text the terminal's encoding cannot show as escapes (``\\xe9``), never fail on it.

    A header or file name may hold any character; ``PYTHONIOENCODING=ascii`` or a C locale
    would otherwise end the command in a UnicodeEncodeError.
    """
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            with contextlib.suppress(ValueError, OSError):
                reconfigure(errors="backslashreplace")


def _threads(command: str) -> contextlib.AbstractContextManager[None]:
    """One thread for the math libraries (:func:`workbench.numerics.one_thread`). Not for
    ``build``: it limits them itself, once it knows it has work to do, and a build with
    nothing to do should not wait for torch to load."""
    if command == "build":
        return contextlib.nullcontext()
    from .numerics import one_thread

    return one_thread()


def _one_line(e: BaseException) -> str:
    if isinstance(e, OSError) and not isinstance(e, WorkbenchError) and e.strerror:
        where = f"{e.filename}: " if e.filename else ""
        return f"{where}{e.strerror}"
    return " ".join(str(e).split()) or type(e).__name__


# --- the commands ------------------------------------------------------------------------------


def _build(args: argparse.Namespace) -> int:
    if args.target is not None:
        return _build_table(args)
    named = ("drop", "log", "category", "numeric", "na", "keep_leak", "sample")
    table_only = [o for o in named if getattr(args, o) is not None and getattr(args, o) != []]
    table_only += [o for o, d in (("missing", "drop"), ("recipe", "auto")) if getattr(args, o) != d]
    if table_only:
        flag = table_only[0].replace("_", "-")
        raise WorkbenchError(f"--{flag} is for a table of your own: give --target COLUMN too")
    from . import stamp
    from .files import output_folder

    out = WORKBOOKS if args.out is None else args.out
    build_key = stamp.key(args.data, args.seed)
    # Locked from the stamp's reading to its writing: no other build's files get vouched for.
    with output_folder(out) as folder:
        kept = None if args.force else stamp.reusable(folder, build_key)
        if kept is not None:
            kept += f"\n\n{out}: nothing changed since this build, so its files are kept (--force rebuilds)"
            print(kept)
            _clean(args, Path(out))
            return OK
        stamp.check(folder, args.data)  # before the build replaces any output, not after
        from dataclasses import replace

        from .build import build_all

        imported = time.perf_counter() - args.began
        with _progress(args) as bar:
            try:
                result = build_all(args.data, folder, seed=args.seed, progress=bar)
            except DataError as e:  # a file with no Titanic column: most likely a table of one's own
                if args.data is None or "a Kaggle Titanic file has" not in str(e):
                    raise
                raise DataError(
                    f"{e}; a table of your own is built with --target COLUMN", path=e.path
                ) from None
        # The import (torch, pandas, matplotlib) is part of what a user waits for: report it too.
        report = replace(result, seconds={"import": imported, **result.seconds}).report()
        stamp.write(folder, build_key, list(result.files), report)
    print(report)
    _clean(args, Path(out))
    return OK


def _clean(args: argparse.Namespace, out: Path) -> None:
    """``--clean``: the clean copy of titanic.xlsx beside it, for a learner to rebuild."""
    if args.clean:
        from .sheets.books.clean import write_clean_copies

        for path in write_clean_copies(out, seed=args.seed):
            print(f"{path}: the lesson's sheets without their formulas, for a learner to rebuild")


def _build_table(args: argparse.Namespace) -> int:
    """``build --data FILE --target COL``: any table's workbook (not stamped: one file, one fit)."""
    if args.clean:
        raise WorkbenchError(
            "--clean writes the lesson's Titanic sheets without formulas; leave out --target"
        )
    if args.data is None:
        raise WorkbenchError("--target needs --data FILE.csv, the table whose column it names")
    from dataclasses import replace

    from .build import build_table
    from .tabular import hints

    imported = time.perf_counter() - args.began
    named = ("drop", "log", "category", "numeric", "keep_leak")
    recipe = {k: getattr(args, k) for k in named if getattr(args, k)}
    with hints.cli():  # the recipe's hints name flags (--drop x), not keywords (drop=['x'])
        result = build_table(
            args.data, args.target, WORKBOOKS if args.out is None else args.out, seed=args.seed,
            na=args.na or (), sample=args.sample, missing=args.missing, recipe=args.recipe, **recipe,
        )  # fmt: skip
        print(replace(result, seconds={"import": imported, **result.seconds}).report())
    return OK


def _fit(args: argparse.Namespace) -> int:
    from .titanic.data import TRAIN_CSV, load_titanic
    from .titanic.features import lesson_table
    from .titanic.submission import write_params
    from .titanic.train import fit

    if args.json is not None:
        from .files import check_target

        check_target(args.json, inputs=[args.data or TRAIN_CSV])  # before the fit, not after it
    table = lesson_table(load_titanic(args.data))
    options = {
        "lr": args.lr,
        "epochs": args.epochs,
        "iterations": args.iterations,
        "starts": args.starts,
        "gauss_newton": args.gauss_newton,
        "polish": args.polish,
    }
    with _progress(args) as bar:
        tick = None if bar is None else (lambda done, total: bar(f"fit {args.model}", done, total))
        fitted = fit(
            args.model,
            table,
            method=args.method,
            seed=args.seed,
            sigmoid=args.sigmoid,
            progress=tick,
            **{k: v for k, v in options.items() if v is not None},
        )
    print(_how(fitted))
    print(f"loss (MSE) {fitted.loss:.10f}   accuracy {fitted.accuracy:.2%}   ({fitted.seconds:.1f} s)")
    print(_params_frame(fitted).to_string(float_format=lambda v: f"{v: .10f}"))
    if args.json is not None:
        write_params(args.json, fitted)
        if not args.quiet:
            print(f"wrote {args.json}", file=sys.stderr)
    return OK


def _how(fitted: Fit) -> str:
    """One line saying how the fit ran, e.g. ``nnet: method lbfgs; seed 0; 1 start, 41 iterations``."""
    starts = f"{fitted.starts} start{'s' if fitted.starts > 1 else ''}"
    how = [f"method {fitted.method}"]
    if fitted.method != "lstsq":
        how.append(f"seed {fitted.seed}")
    if fitted.method == "gd":
        how.append(f"{starts}, {fitted.epochs} epochs, lr {fitted.lr:g}")
        if fitted.gauss_newton:
            how.append(f"{fitted.gauss_newton} Gauss-Newton steps")
        if fitted.polish:
            how.append(f"best of {fitted.polish} polished by L-BFGS ({fitted.iterations} iterations)")
    elif fitted.method == "lbfgs":
        how.append(f"{starts}, {fitted.iterations} iterations")
    elif fitted.method == "search":
        hops = f"{fitted.hops} hop{'s' if fitted.hops != 1 else ''} to a lower minimum"
        how.append(f"{starts}, {fitted.gauss_newton} Gauss-Newton steps, exact minima, {hops}")
    name = f"{fitted.model}{' with sigmoid' if fitted.sigmoid else ''}"
    return f"{name}: {'; '.join(how)}"


def _params_frame(fitted: Fit) -> pd.DataFrame:
    """The parameters as a table: a row per input, a column per ReLU unit."""
    import numpy as np
    import pandas as pd

    from .titanic.features import FEATURES

    labels = [*FEATURES[:-1], "Ones (Const)"]
    params = np.asarray(fitted.params)
    if params.ndim == 1:
        return pd.DataFrame({"parameter": params}, index=labels)
    units = params if fitted.model == "nnet" else params.T  # nnet's rows, mmult's columns
    return pd.DataFrame({f"unit {k + 1}": row for k, row in enumerate(units)}, index=labels)


def _check(args: argparse.Namespace) -> int:
    if args.grade:
        from .sheets.read.grade import grade_workbook

        graded = grade_workbook(args.workbook)
        print(graded.report())
        return OK if graded.ok else DISAGREE
    from .sheets.read.check import check_workbook
    from .sheets.read.table_check import check_table_book
    from .sheets.read.table_reader import is_table_book

    table = str(args.workbook).lower().endswith(".xlsx") and is_table_book(args.workbook)
    result = (check_table_book if table else check_workbook)(args.workbook, recalc=args.recalc)
    print(result.report())
    return OK if result.ok else DISAGREE


def _predict(args: argparse.Namespace) -> int:
    from .sheets.read.table_reader import is_table_book

    if args.params is not None and str(args.params).lower().endswith(".xlsx") and is_table_book(args.params):
        return _predict_table(args)
    from .build import SEED, fit_sheet
    from .files import check_target
    from .limits import check_seed
    from .sheets.read.read_book import load_params
    from .titanic.data import TEST_CSV, TRAIN_CSV, load_titanic
    from .titanic.features import FillValues, lesson_table
    from .titanic.submission import Params, kaggle_submission, write_submission

    # Before any reading or fitting; never one of the files it reads.
    check_target(args.out, inputs=[args.data or TRAIN_CSV, args.test or TEST_CSV, args.params])
    if args.seed is not None:
        check_seed(args.seed, "--seed")
    table = lesson_table(load_titanic(args.data))
    if args.params is not None:
        found = load_params(args.params, args.model)
    else:
        kind = args.model or "nnet"
        with _progress(args) as bar:
            tick = None if bar is None else (lambda done, total: bar(f"fit {kind}", done, total))
            fitted = fit_sheet(kind, table, seed=SEED if args.seed is None else args.seed, progress=tick)
        found = Params(
            fitted.params,
            model=fitted.model,
            sigmoid=fitted.sigmoid,
            source=f"{kind} fitted on the train rows (80%) of the training data",
        )
    test = TEST_CSV if args.test is None else args.test
    frame = kaggle_submission(
        found.model, found.params, test, fill=FillValues.from_training(table), sigmoid=found.sigmoid
    )
    write_submission(args.out, frame)
    survived = int(frame["Survived"].sum())
    print(
        f"wrote {args.out}: {len(frame)} passengers, {survived} predicted to survive"
        f" ({found.kind}, parameters from {found.source})"
    )
    return OK


def _predict_table(args: argparse.Namespace) -> int:
    """``predict --params BOOK.xlsx --data NEW.csv``: new rows by a table's workbook and its recipe."""
    from .files import check_target, write_text
    from .sheets.read.table_reader import read_recipe, read_sheet_params
    from .tabular import hints, read_table
    from .tabular.fit import predict
    from .tabular.stored import apply, predictions
    from .titanic.submission import Params

    check_target(args.out)
    if args.data is None or args.test is not None:
        raise WorkbenchError(f"{args.params} is a table's workbook: give the rows to predict as --data FILE")
    recipe, sheet = read_recipe(args.params), args.model or "nnet"
    params = read_sheet_params(args.params, sheet, len(recipe.features))
    frame = read_table(args.data, text=recipe.text_columns, grouped=recipe.grouped)
    with hints.cli():
        x, notes = apply(recipe, frame, str(args.data))
    model = "nnet" if sheet in ("nnet", "mmult") else "linear"
    preds = predict(Params(params, None, model, sheet == "sigmoid"), x)
    rows, ones = predictions(recipe, frame, preds)
    text = io.StringIO()
    csv.writer(text, lineterminator="\n").writerows(rows)
    write_text(args.out, text.getvalue())
    print(f"wrote {args.out}: {len(frame)} rows{ones} ({sheet} sheet of {args.params})")
    for note in notes:
        print(note)
    return OK


def _compare(args: argparse.Namespace) -> int:
    from .build import NNET_RECIPE
    from .titanic.compare import FORMATS, compare
    from .titanic.data import load_titanic
    from .titanic.features import lesson_table

    table = lesson_table(load_titanic(args.data))
    starts = NNET_RECIPE.starts if args.starts is None else args.starts
    frame = compare(table, seed=args.seed, starts=starts)
    print(frame.to_string(index=False, formatters=FORMATS))
    return OK


# --- progress ----------------------------------------------------------------------------------


class _Bar:
    """A progress bar on one terminal line, redrawn in place: ``label [#####.....]  50%  3 s``."""

    WIDTH = 28

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.began = time.perf_counter()
        self.shown: tuple[str, int] | None = None

    def __call__(self, label: str, done: int, total: int) -> None:
        percent = 100 if total <= 0 else max(0, min(100, 100 * done // total))
        if (label, percent) == self.shown:
            return
        self.shown = (label, percent)
        cells = self.WIDTH * percent // 100
        seconds = time.perf_counter() - self.began
        line = f"{label[:44]:<44} [{'#' * cells}{'.' * (self.WIDTH - cells)}] {percent:3d}% {seconds:5.1f} s"
        self.stream.write(f"\r{line}")
        self.stream.flush()

    def status(self, text: str) -> None:
        """A line of free text with the elapsed seconds, in the bar's place."""
        seconds = time.perf_counter() - self.began
        self.shown = (text, -1)
        self.stream.write(f"\r{text[: 44 + self.WIDTH + 8]:<{44 + self.WIDTH + 8}} {seconds:5.1f} s")
        self.stream.flush()

    def close(self) -> None:
        """Wipe the bar, so what is printed next starts on a clean line."""
        if self.shown is not None:
            self.stream.write("\r" + " " * (44 + self.WIDTH + 16) + "\r")
            self.stream.flush()
            self.shown = None


class _progress:
    """``with _progress(args) as bar``: a :class:`_Bar` on a terminal's stderr, else None."""

    def __init__(self, args: argparse.Namespace) -> None:
        show = not args.quiet and sys.stderr.isatty()
        self.bar = _Bar(sys.stderr) if show else None

    def __enter__(self) -> _Bar | None:
        return self.bar

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()


# --- the parser --------------------------------------------------------------------------------


class _Parser(argparse.ArgumentParser):
    """argparse, with a usage mistake reported as one line like every other error."""

    #: The command line being parsed (set by :func:`main`), to say how to pass a value like ``--drop``.
    argv: tuple[str, ...] = ()

    def error(self, message: str) -> None:  # type: ignore[override]
        hint = _dash_hint(message, self.argv)
        self.exit(ERROR, f"{PROG}: error: {message}{hint}; see `{self.prog} --help`\n")


def _dash_hint(message: str, argv: Sequence[str]) -> str:
    """How to give an option a value starting with ``-`` (a column named ``--drop``), if that was the slip.

    argparse reads ``--target --drop`` as two options; ``--target=--drop`` is one option and its value.
    """
    found = re.fullmatch(r"argument (--[\w-]+)(?:/-\w)?: expected (?:one|at least one) argument", message)
    if found is None:
        return ""
    option = found.group(1)
    after = [argv[i + 1] for i, a in enumerate(argv[:-1]) if a == option and argv[i + 1].startswith("-")]
    value = after[0] if after else "-VALUE"
    return f" (a value that starts with '-' is written with '=': {option}={value})"


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--quiet", "-q", action="store_true", help="no progress bar")
    common.add_argument("--debug", action="store_true", help="show the traceback of an error")
    # On the subcommands the options default to SUPPRESS, so `workbench --debug build` works too.
    sub_common = argparse.ArgumentParser(add_help=False)
    sub_common.add_argument(
        "--quiet", "-q", action="store_true", default=argparse.SUPPRESS, help="no progress bar"
    )
    sub_common.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show the traceback of an error"
    )

    parser = _Parser(
        prog=PROG,
        description=text.MAIN_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        parents=[common],
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {_version()}")
    commands = parser.add_subparsers(dest="command", title="commands", metavar="COMMAND")

    def command(name: str, summary: str, run: Callable[[argparse.Namespace], int]):
        """A subcommand: its line in the list, its description and examples (:mod:`cli_text`)."""
        sub = commands.add_parser(
            name,
            help=summary,
            description=getattr(text, f"{name.upper()}_HELP"),
            epilog=getattr(text, f"{name.upper()}_EPILOG"),
            formatter_class=argparse.RawDescriptionHelpFormatter,
            parents=[sub_common],
        )
        sub.set_defaults(run=run)
        return sub

    data = {"metavar": "CSV", "help": "a Kaggle train.csv (default: Kaggle's train.csv, bundled)"}
    seed = {"type": int, "metavar": "N", "help": "seed of every random start (default 0)"}

    build = command(
        "build",
        "fit every model, write every workbook and picture",
        _build,
    )
    build.add_argument("--data", **data)
    build.add_argument(
        "--out",
        metavar="DIR",
        default=None,
        help="where to write (default: workbooks/ in the current folder, created if missing;"
        " in a checkout's root, the committed workbooks/)",
    )
    build.add_argument(
        "--seed",
        type=int,
        metavar="N",
        help="seed of every random start (default: 0 for the Titanic fits, each regression's own)",
    )
    build.add_argument(
        "--clean",
        action="store_true",
        help="also write titanic_clean.xlsx: the lesson's sheets without formulas, for a learner",
    )
    build.add_argument(
        "--force",
        action="store_true",
        help="build even when nothing changed since the last build into DIR (see below)",
    )
    table = build.add_argument_group(
        "any tabular CSV",
        "with --target, --data is any CSV: writes DIR/<its name>.xlsx by the lesson's recipe",
    )
    table.add_argument("--target", metavar="COLUMN", help="the column to predict (0/1 or numbers)")
    for name, what in (
        ("drop", "columns to leave out"),
        ("log", "columns to take LOG10(x+1) of, then scale"),
        ("category", "columns to turn into dummies whatever their levels"),
        ("numeric", "columns to scale as numbers (e.g. whole numbers with few values)"),
        ("na", "more values that mean missing (besides empty, NA, N/A, n/a, #N/A, NaN, nan, ?)"),
        ("keep-leak", "columns to use even though alone they predict the target almost perfectly"),
    ):
        table.add_argument(f"--{name}", nargs="+", action="extend", metavar="NAME", help=what)
    table.add_argument(
        "--missing", choices=("drop", "fill"), default="drop",
        help="rows missing a value: drop them (the lesson's way, default) or fill from the rows",
    )  # fmt: skip
    table.add_argument(
        "--sample", type=int, metavar="N",
        help="build from a random sample of N of the file's rows (drawn with --seed), said on every"
        " sheet: for a file with more rows than a sheet holds (1,048,576), or a quicker book",
    )  # fmt: skip
    table.add_argument(
        "--recipe", choices=("auto", "lesson"), default="auto",
        help="auto (the rules) or lesson (Kaggle's Titanic train.csv: exactly the lesson's table)",
    )  # fmt: skip

    fit = command("fit", "fit one model, print its loss, accuracy and parameters", _fit)
    fit.add_argument("model", choices=("linear", "nnet", "mmult"), help="the model to fit")
    fit.add_argument(
        "--method",
        choices=("gd", "lbfgs", "lstsq", "search"),
        help="default: search for nnet and mmult (gd with --sigmoid), gd for linear",
    )
    fit.add_argument(
        "--lr", type=float, help="gd learning rate (default: the model's recipe in workbench.MODELS)"
    )
    fit.add_argument("--epochs", type=int, metavar="N", help="gd epochs")
    fit.add_argument("--iterations", type=int, metavar="N", help="lbfgs: the iteration limit per start")
    fit.add_argument(
        "--starts",
        type=int,
        metavar="K",
        help="random starts (default: the model's recipe in workbench.MODELS)",
    )
    fit.add_argument(
        "--gauss-newton", type=int, metavar="G", help="gd: then G Gauss-Newton steps of every start"
    )
    fit.add_argument("--polish", type=int, metavar="M", help="gd: L-BFGS finishes the M best starts")
    fit.add_argument("--sigmoid", action="store_true", help="squash predictions into 0..1 before the loss")
    fit.add_argument("--seed", default=0, **seed)
    fit.add_argument("--data", **data)
    fit.add_argument(
        "--json", metavar="FILE", help="also save the fit as JSON (for `workbench predict --params`)"
    )

    check = command(
        "check",
        "compare a workbook's stored losses with Python's",
        _check,
    )
    check.add_argument("workbook", metavar="WORKBOOK.xlsx", help="a workbook written by `workbench build`")
    check.add_argument("--recalc", action="store_true", help="also recompute the file with LibreOffice")
    check.add_argument(
        "--grade", action="store_true", help="grade a learner's rebuilt titanic_clean.xlsx, task by task"
    )

    predict = command("predict", "write a Kaggle submission for test.csv", _predict)
    predict.add_argument(
        "--model",
        choices=("linear", "nnet", "mmult", "sigmoid"),
        help="which model (default: the JSON file's, else nnet)",
    )
    predict.add_argument(
        "--params", metavar="FILE", help="a JSON file from `workbench fit --json`, or a workbook"
    )
    predict.add_argument(
        "--test", metavar="CSV", help="the passengers to predict (default: the bundled test.csv)"
    )
    predict.add_argument("--out", metavar="FILE", default="submission.csv", help="default submission.csv")
    predict.add_argument("--data", **{**data, "help": data["help"] + "; fills gaps, fits without --params"})
    predict.add_argument("--seed", **seed)

    compare = command("compare", "every model by every training method", _compare)
    compare.add_argument(
        "--starts",
        type=_at_least_one,
        metavar="K",
        help="random starts of the many-start nnet run (default: as `workbench build`)",
    )
    compare.add_argument("--seed", default=0, **seed)
    compare.add_argument("--data", **data)

    solve = command("solve", "run LibreOffice's Solver on a sheet, save it", _solve)
    solve.add_argument("workbook", metavar="WORKBOOK.xlsx", help="a workbook written by `workbench build`")
    solve.add_argument("--sheet", default="linear", help="the sheet to solve (default linear)")
    solve.add_argument("--from-start", action="store_true", help="first paste the grey random start")
    solve.add_argument(
        "--seconds",
        type=float,
        default=0.0,
        help="seconds of swarm search after the polish (default 0: none)",
    )
    solve.add_argument("--bound", type=float, default=5.0, help="the swarm's box [-BOUND, BOUND] (default 5)")
    solve.add_argument("--no-polish", action="store_true", help="the swarm alone, no BFGS")
    solve.add_argument("--minutes", type=float, default=10.0, help="polish at most this long (default 10)")
    return parser


def _solve(args: argparse.Namespace) -> int:
    from .sheets.engines.solve import solve_workbook

    with _progress(args) as bar:
        show = None if bar is None else (lambda event: bar.status(_solve_status(args.sheet, event)))
        result = solve_workbook(
            args.workbook,
            args.sheet,
            from_start=args.from_start,
            seconds=args.seconds,
            bound=args.bound,
            polish=not args.no_polish,
            minutes=args.minutes,
            progress=show,
        )
    print(result.report())
    print(f"check it: workbench check {args.workbook}")
    return OK


def _solve_status(sheet: str, event: dict) -> str:
    if event["phase"] == "swarm":
        return f"solve {sheet}: LibreOffice's swarm {event['seconds']:.0f} s of {event['limit']:g} s"
    if event["phase"] == "polish":
        return f"solve {sheet}: polish step {event['step']}, loss {event['loss']:.10f}"
    return f"solve {sheet}: {event['phase']}, loss {event['loss']:.10f}"


def _at_least_one(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        value = 0
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be a whole number >= 1; got {text!r}")
    return value


def _version() -> str:
    from . import __version__

    return __version__
