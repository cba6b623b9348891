"""prepare(): choose the recipe for a table's columns, apply it, and say why (rules: see the package)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError, WorkbenchError
from . import columns as C
from .read import missing_markers, typed_column
from .recipe import Feature, LeftOut, Prepared, Target

#: A column with at most this many levels (text, or whole numbers) becomes n-1 dummies.
MAX_LEVELS = 10
#: A text column with more levels, different on at least this share of its rows, is an
#: identifier or free text (Name, Ticket) and is left out; with fewer it is an error.
FREE_TEXT_SHARE = 0.5
#: A column missing on more than this share of the rows is left out (Titanic's Cabin: 77%).
MAX_MISSING = 0.5
#: The most features (dummies and Ones included) a sheet shows; the lesson has 10.
MAX_FEATURES = 200
#: The fewest rows kept: at least this many, and at least twice the number of features.
MIN_ROWS = 10


@dataclass(frozen=True)
class Options:
    """The user's choices, checked: column names in ``drop``, ``log``, ``category``, ``numeric``."""

    target: str
    drop: frozenset[str]
    log: frozenset[str]
    category: frozenset[str]
    numeric: frozenset[str]
    fill: bool


def prepare(
    frame: pd.DataFrame,
    target: str,
    *,
    drop: Iterable[str] = (),
    log: Iterable[str] = (),
    category: Iterable[str] = (),
    numeric: Iterable[str] = (),
    missing: str = "drop",
    na: Iterable[str] = (),
    recipe: str = "auto",
) -> Prepared:
    """Turn a table into the lesson's kind of table: scaled numbers, dummies, ones, a target.

    Args:
        frame: the rows (e.g. from :func:`read_table`; ``frame.attrs["source"]`` names the
            file in messages). It is not changed.
        target: the column to predict: two values (0/1, accuracy) or numbers (RMSE).
        drop: columns to leave out. ``log``: columns to take LOG10(x+1) of, then scale.
            ``category``: columns to turn into dummies whatever their levels.
            ``numeric``: columns to scale as numbers (e.g. whole numbers with few values).
        missing: ``"drop"`` rows missing a used value (the lesson's way), or ``"fill"`` them
            with the median (numbers) or the most common level (categories) of the rows.
        na: more text values that mean missing, besides empty, NA, N/A, NaN, nan and ?.
        recipe: ``"auto"`` (the rules of :mod:`workbench.tabular`) or ``"lesson"`` (Kaggle's
            Titanic only: exactly :func:`workbench.lesson_table`).

    Returns:
        A :class:`Prepared`: the table, the kept raw rows, and every choice with its reason.

    Raises:
        WorkbenchError: a bad option (unknown column, a column in two options).
        DataError: the target missing, constant, or text with more than two values; a
            category with too many levels; too few rows; too many features.
    """
    if not isinstance(frame, pd.DataFrame):
        raise WorkbenchError(
            f"prepare takes a pandas DataFrame (got {type(frame).__name__}); read a CSV"
            " file with workbench.tabular.read_table(path) first"
        )
    if recipe == "lesson":
        from .lesson import lesson_prepared

        return lesson_prepared(frame, target, (drop, log, category, numeric), missing)
    if recipe != "auto":
        raise WorkbenchError(f"recipe must be 'auto' or 'lesson'; got {recipe!r}")
    source = frame.attrs.get("source")
    opts = _options(frame, target, drop, log, category, numeric, missing, source)
    return _auto(frame, _typed(frame, missing_markers(na), source), opts, source)


def _auto(frame: pd.DataFrame, data: pd.DataFrame, opts: Options, source: str | None) -> Prepared:
    """The rules of :mod:`workbench.tabular` in order: the target, the columns, the rows, the features."""
    target = opts.target
    has_target = data[target].notna().to_numpy()
    target_rec = C.target(target, data[target], source)
    data = data[has_target]
    candidates, left_out = _first_pass(data, opts)
    rows, rows_note = _rows(data, candidates, opts, len(frame), int((~has_target).sum()))
    features, more_left_out = _features(data.loc[rows], candidates, opts, source)
    _check_size(features, int(rows.sum()), rows_note, candidates, data, opts, source)
    constant = {x.column for x in more_left_out}
    raw = data.loc[rows, [target, *(c for c in candidates if c not in constant)]]
    return Prepared(
        _table(raw, target_rec, features),
        raw,
        target_rec,
        tuple(features),
        tuple(left_out + more_left_out),
        "fill" if opts.fill else "drop",
        len(frame),
        rows_note,
        "auto",
        source,
    )


def _table(raw: pd.DataFrame, target: Target, features: list[Feature]) -> pd.DataFrame:
    """The prepared numbers: the target, then each feature's pandas function of the raw rows."""
    columns = {target.name: np.asarray(target.python(raw), dtype="float64")}
    for f in features:  # gathered first: a frame grown a column at a time warns, on a wide table
        columns[f.name] = np.asarray(f.python(raw), dtype="float64") if f.kind != "ones" else 1.0
    return pd.DataFrame(columns, index=raw.index)


def _names(value: Iterable[str], option: str) -> frozenset[str]:
    names = (value,) if isinstance(value, str) else tuple(value)
    for n in names:
        if not isinstance(n, str):
            raise WorkbenchError(f"{option}= takes column names; got {n!r}")
    return frozenset(names)


def _options(frame, target, drop, log, category, numeric, missing, source) -> Options:
    where = f"{source}: " if source else ""
    if target not in frame.columns:
        shown = ", ".join(map(repr, list(frame.columns)[:20])) + (", ..." if frame.shape[1] > 20 else "")
        raise DataError(
            f"{where}no column {target!r} to predict (--target); the columns are {shown}",
            path=source,
            column=str(target),
        )
    if missing not in ("drop", "fill"):
        raise WorkbenchError(f"missing must be 'drop' or 'fill'; got {missing!r}")
    sets = {
        k: _names(v, k)
        for k, v in (("drop", drop), ("log", log), ("category", category), ("numeric", numeric))
    }
    for option, names in sets.items():
        for n in sorted(names):
            if n not in frame.columns:
                raise WorkbenchError(f"{where}{option}= names {n!r}, which is not a column of the table")
            if n == target:
                raise WorkbenchError(f"{option}= names the target {n!r}; the target is never a feature")
            others = [o for o, s in sets.items() if o != option and n in s]
            if others:
                raise WorkbenchError(f"{n!r} is in both {option}= and {others[0]}=; choose one")
    return Options(target, sets["drop"], sets["log"], sets["category"], sets["numeric"], missing == "fill")


def _typed(frame: pd.DataFrame, markers: frozenset[str], source: str | None) -> pd.DataFrame:
    """Every column as float64 numbers or text (object, NaN where missing)."""
    out = {}
    for name in frame.columns:
        col = frame[name]
        if not isinstance(name, str):
            raise WorkbenchError(f"column names must be text; got {name!r} (rename the columns)")
        if pd.api.types.is_bool_dtype(col) or (
            pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_complex_dtype(col)
        ):
            x = col.astype("float64")
            bad = np.isinf(x.to_numpy())
            if bad.any():
                row = x.index[int(np.argmax(bad))]
                raise DataError(
                    f"{source or 'the table'}: column {name!r}, row {row} is infinite",
                    path=source,
                    column=name,
                )
            out[name] = x
        elif pd.api.types.is_object_dtype(col) or isinstance(
            col.dtype, (pd.StringDtype, pd.CategoricalDtype)
        ):
            values = [None if pd.isna(v) else str(v) for v in col.astype(object)]
            out[name] = typed_column(values, name, markers, source=source, index=frame.index)
        else:
            raise DataError(
                f"{source or 'the table'}: column {name!r} holds {col.dtype} values, neither"
                f" numbers nor text: convert it, or pass drop=[{name!r}]",
                path=source,
                column=name,
            )
    return pd.DataFrame(out, index=frame.index)


def _first_pass(data: pd.DataFrame, opts: Options) -> tuple[list[str], list[LeftOut]]:
    """Leave out the user's drops, empty, constant, mostly missing, identifier and free-text columns."""
    candidates, left_out = [], []
    forced = opts.log | opts.category | opts.numeric
    n = len(data)
    for name in data.columns:
        if name == opts.target:
            continue
        col = data[name]
        present = col.dropna()
        levels = present.nunique()
        gaps = n - len(present)
        why = None
        if name in opts.drop:
            why = ("drop", "you asked to leave it out (drop=)")
        elif present.empty:
            why = ("empty", "no row has a value")
        elif levels == 1:
            why = (
                "constant",
                f"every row with a value holds {C.shown(present.iloc[0])}: it cannot tell rows apart",
            )
        elif name in forced:
            pass
        elif gaps > MAX_MISSING * n:
            why = (
                "mostly missing",
                f"missing on {gaps} of {n} rows ({gaps / n:.0%}, more than"
                f" {MAX_MISSING:.0%}): dropping those rows would lose most of the table, and filling"
                " them would invent most of the column",
            )
        elif col.dtype == object and levels > MAX_LEVELS and levels >= FREE_TEXT_SHARE * len(present):
            why = (
                "free text",
                f"an identifier or free text: {levels} different values in {len(present)}"
                f" rows (like Titanic's Name and Ticket); pass category=[{name!r}] to use it anyway",
            )
        elif col.dtype != object and levels == n > MAX_LEVELS and (present % 1 == 0).all():
            why = (
                "identifier",
                f"an identifier: a different whole number on each of the {n} rows (like"
                f" PassengerId); pass numeric=[{name!r}] to use it anyway",
            )
        if why is None:
            candidates.append(name)
        else:
            left_out.append(LeftOut(name, *why))
    return candidates, left_out


def _rows(data: pd.DataFrame, candidates: list[str], opts: Options, n_read: int, no_target: int):
    """The rows kept (a boolean mask) and a sentence saying which were dropped and why."""
    note = f"{n_read} rows read"
    if no_target:
        note += f"; {no_target} without a value of {opts.target!r} dropped (nothing to learn from)"
    gaps = data[candidates].isna()
    if opts.fill:
        filled = int(gaps.any(axis=1).sum())
        return np.ones(len(data), dtype=bool), note + f"; gaps in {filled} rows filled from the rows"
    keep = ~gaps.any(axis=1).to_numpy()
    if not keep.all():
        per = ", ".join(f"{c} {k}" for c, k in gaps.sum().items() if k)
        note += f"; {int((~keep).sum())} rows missing a value dropped, as the lesson does ({per})"
    return keep, note + f"; {int(keep.sum())} rows kept"


def _features(data: pd.DataFrame, candidates: list[str], opts: Options, source: str | None):
    """The features of the kept rows, in column order, then Ones; and columns constant on them."""
    taken = {opts.target}
    features: list[Feature] = []
    left_out: list[LeftOut] = []
    too_many: list[tuple[str, int]] = []
    for name in candidates:
        col = data[name]
        present = col.dropna()
        levels = present.nunique()
        if levels <= 1:
            left_out.append(
                LeftOut(name, "constant", "holds one value on every row kept: it cannot tell rows apart")
            )
            continue
        text = col.dtype == object
        whole = not text and bool((present % 1 == 0).all())
        if name in opts.category or (
            name not in opts.log | opts.numeric and (text or (whole and levels <= MAX_LEVELS))
        ):
            if name not in opts.category and levels > MAX_LEVELS:
                too_many.append((name, levels))
                continue
            if levels > MAX_FEATURES:  # its dummies and Ones alone are too many: refused before making them
                raise _too_many_features(f"at least {levels}", name, levels - 1, source)
            features += C.dummies(name, col, _category_words(name, opts, text, levels), taken)
        elif text:
            option = "log" if name in opts.log else "numeric"
            raise WorkbenchError(f"{option}= names {name!r}, which holds text, not numbers")
        else:
            features.append(_number(name, col, opts, source, taken))
    if too_many:
        shown = ", ".join(f"{n!r} ({k} levels)" for n, k in too_many)
        names = ", ".join(repr(n) for n, _ in too_many)
        where = f"{source}: " if source else ""
        raise DataError(
            f"{where}{shown}: more than {MAX_LEVELS} levels make too many dummies for a"
            f" category; pass drop=[{names}] (--drop) to leave out, or category=[{names}]"
            " (--category) to make the dummies anyway",
            path=source,
            column=too_many[0][0],
        )
    features.append(C.ones(taken))
    return features, left_out


def _category_words(name: str, opts: Options, text: bool, levels: int) -> str:
    if name in opts.category:
        return "you asked for dummies (category=)"
    if text:
        return f"text with {levels} levels: a category"
    return (
        f"whole numbers with only {levels} different values, taken as categories like the lesson's"
        f" Pclass (pass numeric=[{name!r}] to scale them as numbers)"
    )


def _number(name: str, col: pd.Series, opts: Options, source: str | None, taken: set[str]) -> Feature:
    present = col.dropna()
    fill = float(present.median()) if opts.fill and len(present) < len(col) else None
    low, high = float(present.min()), float(present.max())
    if name in opts.log:
        if low < 0:
            raise DataError(
                f"{source + ': ' if source else ''}log= names {name!r}, which has negative values"
                f" (min {C.num(low)}); LOG10(x+1) needs x >= 0",
                path=source,
                column=name,
            )
        return C.log_scaled(
            C.unique_name(f"log_{name}_N", taken), name, col, fill, "you asked for a log (log=)"
        )
    if name not in opts.numeric and C.is_long_tailed(col):
        why = f"{name} is long-tailed ({C.tail_words(col)}, at least {C.LONG_TAIL:g}x)"
        return C.log_scaled(C.unique_name(f"log_{name}_N", taken), name, col, fill, why)
    if name in opts.numeric:
        why = "you asked to scale it as a number (numeric=)"
    elif low < 0:
        why = f"{name} is numbers from {C.num(low)} to {C.num(high)}, some negative (so no log)"
    else:
        why = f"{name} is numbers from {C.num(low)} to {C.num(high)}, not long-tailed ({C.tail_words(col)})"
    return C.scaled(C.unique_name(f"{name}_N", taken), name, col, fill, why)


def _too_many_features(total: int | str, column: str, makes: int, source: str | None) -> DataError:
    where = f"{source}: " if source else ""
    return DataError(
        f"{where}{total} features (dummies and Ones included) are more than the"
        f" {MAX_FEATURES} a sheet shows; {column!r} alone makes {makes}: pass"
        f" drop=[{column!r}] (--drop)",
        path=source,
        column=column,
    )


def _check_size(features, n_rows, note, candidates, data, opts: Options, source) -> None:
    """Refuse more features than a sheet shows, or fewer rows than a fit needs."""
    where = f"{source}: " if source else ""
    if len(features) > MAX_FEATURES:
        per = pd.Series([f.source for f in features if f.source]).value_counts()
        raise _too_many_features(len(features), str(per.index[0]), int(per.iloc[0]), source)
    need = max(MIN_ROWS, 2 * len(features))
    if n_rows >= need:
        return
    advice = "use a larger table or drop= some columns"
    if not opts.fill:
        gaps = data[candidates].isna().sum().sort_values(ascending=False)
        worst = ", ".join(f"{c} {k}" for c, k in gaps.head(3).items() if k)
        advice = "pass missing='fill' (--missing fill) to fill gaps from the rows instead" + (
            f", or drop= the columns with most gaps ({worst})" if worst else ""
        )
    raise DataError(
        f"{where}too few rows: {note}, and a fit of {len(features)} features needs at least"
        f" {need} (twice the features, at least {MIN_ROWS}); {advice}",
        path=source,
    )
