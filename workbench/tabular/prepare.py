"""prepare(): choose the recipe for a table's columns, apply it, and say why (rules: see the package)."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np
import pandas as pd
import scipy.linalg

from ..errors import DataError, WorkbenchError
from ..titanic.split import valid_mask
from . import columns as C
from . import hints
from .read import MAX_LEVELS, missing_markers, typed_column
from .recipe import Feature, LeftOut, Prepared, Target

#: A column with at most :data:`MAX_LEVELS` levels (text, or whole numbers) becomes n-1 dummies.
#: A text column with more levels, different on at least this share of its rows, is an
#: identifier or free text (Name, Ticket) and is left out; with fewer it is an error.
FREE_TEXT_SHARE = 0.5
#: A column missing on more than this share of the rows is left out (Titanic's Cabin: 77%).
MAX_MISSING = 0.5
#: The most features (dummies and Ones included) a sheet shows; the lesson has 10.
MAX_FEATURES = 200
#: The fewest rows kept: at least this many, and at least twice the number of features.
MIN_ROWS = 10
#: A column that alone explains at least this share of the target's variance on the train rows
#: (the best rising or falling curve through a number, each level's mean for a category) is a
#: leak: computed from the target (logwage for wage) or known only after it (a lifeboat for
#: survival). Real predictors stay far below: on the tables the tests use, at most 0.96.
LEAK = 0.98
#: Fewer train rows than this prove nothing either way: no leak is looked for.
LEAK_ROWS = 20
#: A feature whose train-row values lie this close (relative to their own size) to a sum of
#: the features before it adds nothing the fit can tell apart: its weight would be arbitrary,
#: and least squares on such a table returns weights of 1e17 that cancel out (a duplicate
#: dummy: No_Garage in four garage columns).
DEPENDENT = 1e-9


def _dropped() -> tuple[str, str]:
    """A column the user left out, and the reason shown (in the caller's words: drop= or --drop)."""
    return ("drop", f"you asked to leave it out ({hints.keyword('drop')})")


@dataclass(frozen=True)
class Options:
    """The user's choices, checked: column names in ``drop``, ``log``, ``category``, ``numeric``."""

    target: str
    drop: frozenset[str]
    log: frozenset[str]
    category: frozenset[str]
    numeric: frozenset[str]
    fill: bool
    keep_leak: frozenset[str] = frozenset()
    source: str | None = None  # the file, for messages


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
    keep_leak: Iterable[str] = (),
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
        na: more text values that mean missing, besides empty, NA, N/A, n/a, #N/A, NaN,
            nan and ?.
        keep_leak: columns to use even though alone they predict the target almost perfectly
            on the train rows (:data:`LEAK`); by default such a column is left out, with a warning.
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
    chosen = {"drop": drop, "log": log, "category": category, "numeric": numeric, "keep_leak": keep_leak}
    opts = _options(frame, target, chosen, missing)
    dates = _dates(frame, opts)
    kept = frame.drop(columns=[d.column for d in dates])
    typed = _typed(kept, missing_markers(na), source, opts)
    return _auto(frame, typed, opts, source, dates)


def _dates(frame: pd.DataFrame, opts: Options) -> list[LeftOut]:
    """Columns of dates, times or durations (a DataFrame's, not a CSV's: a CSV's dates are text),
    left out: a spreadsheet stores a date as a count of days from a start that differs between
    programs and settings (1900 or 1904), so a formula of it would not give pandas' number."""
    out = []
    for name in frame.columns:
        col = frame[name]
        if not (
            pd.api.types.is_datetime64_any_dtype(col)
            or pd.api.types.is_timedelta64_dtype(col)
            or isinstance(col.dtype, pd.PeriodDtype)
        ):
            continue
        if name in opts.drop:
            out.append(LeftOut(name, *_dropped()))
            continue
        for option, names in (("log", opts.log), ("category", opts.category), ("numeric", opts.numeric)):
            if name in names or name == opts.target:
                what = hints.keyword("target" if name == opts.target else option)
                raise WorkbenchError(
                    f"{what} names {name!r}, which holds {col.dtype} values (dates or times): convert"
                    " them to numbers (such as the year) or to text first"
                )
        out.append(
            LeftOut(
                name,
                "dates",
                f"dates or times ({col.dtype}): a spreadsheet counts days from a start that differs"
                " between programs, so its formulas would not give pandas' numbers; convert them to"
                " numbers (such as the year) or text to use them",
            )
        )
    return out


def _auto(
    frame: pd.DataFrame, data: pd.DataFrame, opts: Options, source: str | None, dates: list[LeftOut]
) -> Prepared:
    """The rules of :mod:`workbench.tabular` in order: the target, the columns, the rows, the features."""
    target = opts.target
    data = _as_cells(data, opts)
    has_target = data[target].notna().to_numpy()
    target_rec = C.target(target, data[target], source)
    data = data[has_target]
    candidates, left_out = _first_pass(data, opts)
    at = {name: i for i, name in enumerate(frame.columns)}
    left_out = sorted(dates + left_out, key=lambda x: at[x.column])
    read = f"{len(frame)} rows read" + (f"; {how}" if (how := frame.attrs.get("read_as")) else "")
    rows, rows_note = _rows(data, candidates, opts, read, int((~has_target).sum()))
    kept = data.loc[rows]
    # The fits hold these rows out; so do the recipe's statistics (largest values, fills, levels).
    valid = valid_mask(len(kept)) if len(kept) >= MIN_ROWS else np.zeros(len(kept), dtype=bool)
    leaks = _leaks(kept[~valid], target_rec, candidates, opts)
    left_out += leaks
    candidates = [c for c in candidates if c not in {x.column for x in leaks}]
    y_train = np.asarray(target_rec.python(kept[~valid]), dtype="float64")
    features, more_left_out = _features(kept, kept[~valid], y_train, candidates, opts, source)
    features, duplicates = _independent(features, kept[~valid])
    more_left_out += duplicates
    _check_size(features, (int(rows.sum()), int((~has_target).sum()), rows_note), candidates, data, opts)
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
        valid,
        grouped=tuple(c for c in frame.attrs.get("grouped", ()) if c in raw),
        percents=tuple(c for c, u in frame.attrs.get("units", {}).items() if u == "%" and c in raw),
    )


def _independent(features: list[Feature], train: pd.DataFrame) -> tuple[list[Feature], list[LeftOut]]:
    """The features less those that the train rows cannot tell apart from the ones before them
    (Ones first), each left out with its reason."""
    n = len(train)
    if n < len(features):
        return features, []
    order = [features[-1], *features[:-1]]  # the intercept is never the one left out
    x = np.column_stack([np.broadcast_to(np.asarray(f.python(train), "float64"), (n,)) for f in order])
    kept, out = list(range(len(order))), []
    while True:
        r = scipy.linalg.qr(x[:, kept], mode="r")[0]
        size = np.linalg.norm(x[:, kept], axis=0)
        small = np.flatnonzero(np.abs(np.diag(r)) <= DEPENDENT * np.maximum(size, 1e-300))
        if not len(small):
            break
        k = kept.pop(int(small[0]))
        same = next((order[j].name for j in kept if np.array_equal(x[:, j], x[:, k])), None)
        how = f"it equals {same} on every train row" if same else "on the train rows it is a sum of others"
        out.append(
            LeftOut(order[k].name, "duplicate", f"{how}: the fit cannot tell them apart, so it is left out")
        )
    keep = {order[j].name for j in kept}
    return [f for f in features if f.name in keep], out


def _as_cells(data: pd.DataFrame, opts: Options) -> pd.DataFrame:
    """Numbers a formula tests for equality (a category's levels, a 0/1 target's two values) as an
    .xlsx cell keeps them, to 16 significant digits: every spreadsheet reads 1234567890123456789 as
    1234567890123457024, and pandas must compare the same number (two values that differ only in
    the 17th digit are one level)."""
    out = data
    for name in data.columns:
        col = data[name]
        levels = col.dropna().unique()
        if col.dtype == object or (len(levels) > MAX_LEVELS and name not in opts.category):
            continue
        kept = {v: float(f"{v:.16g}") for v in levels}
        if any(k != v for k, v in kept.items()):
            out = out.assign(**{name: col.map(kept)})
    return out


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


def _options(frame: pd.DataFrame, target: str, chosen: dict[str, Iterable[str]], missing: str) -> Options:
    """``chosen``: the column names given for ``drop``, ``log``, ``category``, ``numeric`` and
    ``keep_leak``, checked against the table and each other."""
    source = frame.attrs.get("source")
    where = f"{source}: " if source else ""
    if target not in frame.columns:
        shown = ", ".join(map(repr, list(frame.columns)[:20])) + (", ..." if frame.shape[1] > 20 else "")
        raise DataError(
            f"{where}no column {target!r} to predict ({hints.keyword('target')}); the columns are"
            f" {shown}{hints.meant(target, frame.columns, ': {}')}",
            path=source,
            column=str(target),
        )
    if missing not in ("drop", "fill"):
        raise WorkbenchError(f"missing must be 'drop' or 'fill'; got {missing!r}")
    sets = {k: _names(chosen.get(k, ()), k) for k in ("drop", "log", "category", "numeric")}
    for option, names in sets.items():
        for n in sorted(names):
            if n not in frame.columns:
                raise WorkbenchError(
                    f"{where}{hints.keyword(option)} names {n!r}, which is not a column of the table"
                    + hints.meant(n, frame.columns, "; {}")
                )
            if n == target:
                raise WorkbenchError(
                    f"{hints.keyword(option)} names the target {n!r}; the target is never a feature"
                )
            others = [o for o, s in sets.items() if o != option and n in s]
            if others:
                raise WorkbenchError(
                    f"{n!r} is in both {hints.keyword(option)} and {hints.keyword(others[0])}; choose one"
                )
    keep = _names(chosen.get("keep_leak", ()), "keep_leak")
    for n in sorted(keep - set(frame.columns)):
        raise WorkbenchError(
            f"{where}{hints.keyword('keep_leak')} names {n!r}, which is not a column of the table"
            + hints.meant(n, frame.columns, "; {}")
        )
    return Options(
        target, sets["drop"], sets["log"], sets["category"], sets["numeric"], missing == "fill", keep, source
    )


def _typed(frame: pd.DataFrame, markers: frozenset[str], source: str | None, opts: Options) -> pd.DataFrame:
    """Every column as float64 numbers or text (object, NaN where missing); the text of a column
    to drop as text, and a few words among a category's many numbers as its levels
    (:func:`~workbench.tabular.read.typed_column`)."""
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
            missing = col.isna().to_numpy()
            values = [None if m else str(v) for v, m in zip(col.astype(object), missing, strict=True)]
            out[name] = typed_column(
                values,
                name,
                markers,
                source=source,
                index=frame.index,
                text=name in opts.drop,
                words=name in opts.category,
            )
        else:
            raise DataError(
                f"{source or 'the table'}: column {name!r} holds {col.dtype} values, neither"
                f" numbers nor text: convert it, or pass {hints.option('drop', [name])}",
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
            why = _dropped()
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
        elif col.dtype == object and levels > MAX_LEVELS and C.dates(present):
            why = (
                "dates",
                f"dates ({levels} different, such as {C.shown(present.iloc[0])}): the lesson's table holds"
                " numbers and categories; a number made from them, such as the year or the days since the"
                " first, would be a column of its own",
            )
        elif col.dtype == object and levels > MAX_LEVELS and levels >= FREE_TEXT_SHARE * len(present):
            why = (
                "free text",
                f"an identifier or free text: {levels} different values in {len(present)}"
                f" rows (like Titanic's Name and Ticket); pass {hints.option('category', [name])}"
                " to use it anyway",
            )
        elif (
            col.dtype != object
            and levels == n > MAX_LEVELS
            and (present % 1 == 0).all()
            and C.numbering(present)
        ):
            why = (
                "identifier",
                f"an identifier: a different whole number on each of the {n} rows, numbering them (like"
                f" PassengerId); pass {hints.option('numeric', [name])} to use it anyway",
            )
        if why is None:
            candidates.append(name)
        else:
            left_out.append(LeftOut(name, *why))
    return candidates, left_out


def _leaks(train: pd.DataFrame, target: Target, candidates: list[str], opts: Options) -> list[LeftOut]:
    """The columns that alone explain at least :data:`LEAK` of the target on the train rows."""
    if len(train) < LEAK_ROWS:
        return []
    y = np.asarray(target.python(train), dtype="float64")
    out = []
    for name in candidates:
        col = train[name]
        share = C.explained(col, y, min_rows=LEAK_ROWS)
        if share < LEAK or name in opts.keep_leak:
            continue
        how = (
            "each of its levels' mean"
            if col.dtype == object
            else "the best rising or falling curve through it"
        )
        out.append(
            LeftOut(
                name,
                "leak",
                f"warning: alone it explains {share:.1%} of {target.name!r} on the train rows ({how}):"
                " a column computed from the target, or known only after it, predicts nothing a new row"
                f" could use; pass {hints.option('keep_leak', [name])} to use it anyway",
            )
        )
    return out


def _rows(data: pd.DataFrame, candidates: list[str], opts: Options, read: str, no_target: int):
    """The rows kept (a boolean mask) and a sentence, after ``read`` (how many rows were read),
    saying which were dropped and why."""
    note = read
    if no_target:
        note += f"; {no_target} without a value of {opts.target!r} dropped (nothing to learn from)"
    gaps = data[candidates].isna()
    if opts.fill:
        filled = int(gaps.any(axis=1).sum())
        return np.ones(len(data), dtype=bool), note + f"; gaps in {filled} rows filled from the rows"
    keep = ~gaps.any(axis=1).to_numpy()
    if not keep.all():
        per = ", ".join(f"{c} {k}" for c, k in gaps.sum().items() if k)
        dropped = int((~keep).sum())
        note += f"; {dropped} row{'s' * (dropped > 1)} missing a value dropped, as the lesson does ({per})"
    return keep, note + f"; {int(keep.sum())} rows kept"


@dataclass
class _Plan:
    """What one column becomes: a number (one feature) or a category showing at most ``cap``
    levels, the lumped ``other`` included (``None``: every level)."""

    name: str
    category: bool
    levels: int
    whole: bool
    cap: int | None = None
    lumped: str = ""

    @property
    def width(self) -> int:
        """How many features the column makes."""
        return min(self.levels, self.cap or self.levels) - 1 if self.category else 1


def _features(
    data: pd.DataFrame,
    train: pd.DataFrame,
    y: np.ndarray,
    candidates: list[str],
    opts: Options,
    source: str | None,
):
    """The features of the kept rows from the ``train`` rows' statistics (``y``: their target), in
    column order, then Ones; and the columns left out: constant on the train rows, or beyond the
    budget of features (:func:`_fit_budget`)."""
    plans, left_out = [], []
    for name in candidates:
        plan = _plan(name, train[name], opts)
        if plan is None:
            left_out.append(
                LeftOut(name, "constant", "holds one value on every train row: it cannot tell rows apart")
            )
        else:
            plans.append(plan)
    beyond = _fit_budget(
        plans, len(data), opts, source, lambda name: C.explained(train[name], y, min_rows=LEAK_ROWS)
    )
    left_out += beyond
    plans = [p for p in plans if p.name not in {x.column for x in beyond}]
    taken = {opts.target}
    features: list[Feature] = []
    for plan in plans:
        col, gaps = train[plan.name], int(data[plan.name].isna().sum())
        if plan.category:
            why = _category_words(plan.name, opts, col.dtype == object, plan.levels)
            features += C.dummies(plan.name, col, why, taken, (_keep(plan), plan.lumped), gaps)
        else:
            features.append(_number(plan.name, col, data[plan.name], opts, taken, plan.lumped))
    features.append(C.ones(taken))
    return features, left_out


def _plan(name: str, col: pd.Series, opts: Options) -> _Plan | None:
    """The column's first plan (``None``: constant on the kept rows); a category of more than
    :data:`MAX_LEVELS` levels keeps its most common ones and lumps the rest."""
    present = col.dropna()
    levels = present.nunique()
    if levels <= 1:
        return None
    text = col.dtype == object
    whole = not text and bool((present % 1 == 0).all())
    if name in opts.category:
        return _Plan(name, True, levels, whole)
    if name in opts.log | opts.numeric:
        if text:
            option = "log" if name in opts.log else "numeric"
            raise WorkbenchError(f"{hints.keyword(option)} names {name!r}, which holds text, not numbers")
        return _Plan(name, False, levels, whole)
    if text and levels > MAX_LEVELS:
        lumped = f": a category shows at most {MAX_LEVELS} levels (as scikit-learn's max_categories)"
        return _Plan(name, True, levels, whole, MAX_LEVELS, lumped)
    return _Plan(name, text or (whole and levels <= MAX_LEVELS), levels, whole)


def _keep(plan: _Plan) -> int | None:
    """How many levels keep their own column (the baseline included), the rest lumped."""
    if plan.cap is None or plan.levels <= plan.cap:
        return None
    return plan.cap - 1


def _fit_budget(
    plans: list[_Plan], n_rows: int, opts: Options, source: str | None, explained: Callable[[str], float]
) -> list[LeftOut]:
    """Shrink the widest categories until the features fit a sheet and the rows; then leave out
    the columns that alone explain least of the target (``explained(name)``: a share of its
    variance on the train rows), the user's own choices kept; else refuse, naming every column to
    leave out at once."""
    budget = min(MAX_FEATURES, n_rows // 2) - 1  # Ones is the last feature
    bound = (
        f"a sheet shows at most {MAX_FEATURES} features"
        if n_rows // 2 >= MAX_FEATURES
        else f"a fit of {n_rows} rows takes at most {n_rows // 2} features (twice as many rows)"
    )
    total = sum(p.width for p in plans)
    # One level at a time from the widest category, so the cut is shared out evenly.
    while total > budget:
        shrink = [p for p in plans if p.category and p.width > 1 and p.name not in opts.category]
        if not shrink:
            break
        widest = max(shrink, key=lambda p: (p.width, p.whole))  # a tie: whole numbers become one number
        if widest.whole:
            widest.lumped = f"; taken as a number, not {widest.width} dummies: {bound}"
            widest.category = False
        else:
            widest.cap, widest.lumped = widest.width, f": {bound}"
        total = sum(p.width for p in plans)
    over = sum(p.width for p in plans) - budget
    if over <= 0 or n_rows < MIN_ROWS:
        return []
    chosen = opts.category | opts.log | opts.numeric
    shares = {p.name: explained(p.name) for p in plans if p.name not in chosen}  # in column order
    by_name = {p.name: p for p in plans}
    gone = set()
    for name in sorted(shares, key=shares.__getitem__):  # a tie: the earlier column
        if over <= 0:
            break
        gone.add(name)
        over -= by_name[name].width
    if over > 0:  # the user's own choices alone are too many
        _refuse_size([p for p in plans if p.name not in gone], over, budget, n_rows, source)
    out = []
    for name in (n for n in shares if n in gone):
        keep = hints.option("category" if by_name[name].category else "numeric", [name])
        out.append(LeftOut(name, "budget", (
            f"alone it explains {shares[name]:.1%} of {opts.target!r} on the train rows, less than the"
            f" columns kept, and {bound}; pass {keep} to keep it"
        )))  # fmt: skip
    return out


def _refuse_size(plans: list[_Plan], over: int, budget: int, n_rows: int, source: str | None) -> None:
    drop, freed = [], 0
    for p in sorted(plans, key=lambda p: -p.width):
        if freed >= over:
            break
        drop.append(p.name)
        freed += p.width
    where = f"{source}: " if source else ""
    raise DataError(
        f"{where}{sum(p.width for p in plans) + 1} features (Ones included) for {n_rows} rows; a fit needs at"
        f" least twice as many rows as features and a sheet shows at most {MAX_FEATURES}, so {budget + 1}"
        f" at most: leave out {len(drop)} {'column' if len(drop) == 1 else 'columns'},"
        f" e.g. {hints.option('drop', drop)}",
        path=source,
        column=drop[0],
    )


def _category_words(name: str, opts: Options, text: bool, levels: int) -> str:
    if name in opts.category:
        return f"you asked for dummies ({hints.keyword('category')})"
    if text:
        return f"text with {levels} levels: a category"
    return (
        f"whole numbers with only {levels} different values, taken as categories like the lesson's"
        f" Pclass (pass {hints.option('numeric', [name])} to scale them as numbers)"
    )


def _number(name: str, col: pd.Series, kept: pd.Series, opts: Options, taken: set[str], lumped="") -> Feature:
    """A number column scaled (or logged) by its train rows ``col``; ``kept``: every kept row's
    value (the signs a log needs are checked on all of them)."""
    present, gaps, source = col.dropna(), int(kept.isna().sum()), opts.source
    # With missing="fill" every number gets a fill, gaps or none: new rows may have them
    fill = float(present.median()) if opts.fill else None
    low, high = float(present.min()), float(present.max())
    negative = float(kept.min()) < 0
    if name in opts.log:
        if negative:
            raise DataError(
                f"{source + ': ' if source else ''}{hints.keyword('log')} names {name!r}, which has negative"
                f" values (min {C.num(float(kept.min()))}); LOG10(x+1) needs x >= 0",
                path=source,
                column=name,
            )
        why = f"you asked for a log ({hints.keyword('log')})"
        return C.log_scaled(C.unique_name(f"log_{name}_N", taken), name, col, fill, why, gaps)
    if name not in opts.numeric and not negative and C.is_long_tailed(col):
        why = f"{name} is long-tailed ({C.tail_words(col)}, at least {C.LONG_TAIL:g}x)"
        return C.log_scaled(C.unique_name(f"log_{name}_N", taken), name, col, fill, why, gaps)
    if name in opts.numeric:
        why = f"you asked to scale it as a number ({hints.keyword('numeric')})"
    elif negative:
        why = f"{name} is numbers from {C.num(float(kept.min()))} to {C.num(high)}, some negative (so no log)"
    else:
        why = f"{name} is numbers from {C.num(low)} to {C.num(high)}, not long-tailed ({C.tail_words(col)})"
    why += lumped
    return C.scaled(C.unique_name(f"{name}_N", taken), name, col, fill, why, gaps)


def _check_size(features, rows: tuple[int, int, str], candidates, data, opts: Options) -> None:
    """Refuse fewer rows than a fit needs (the features were kept within the rows by the budget).
    ``rows``: how many are kept, how many had no target, and the sentence saying so."""
    (n_rows, no_target, note), need, source = rows, max(MIN_ROWS, 2 * len(features)), opts.source
    if n_rows >= need:
        return
    where = f"{source}: " if source else ""
    advice = "use a larger table"
    gaps = data[candidates].isna().sum().sort_values(ascending=False)
    if len(data) < need < len(data) + no_target:  # the rows with a target are too few, whatever else
        advice = f"choose a target column with a value on more rows, or {advice}"
    elif not opts.fill and gaps.any():
        worst = [c for c, k in gaps.head(3).items() if k]
        advice = (
            f"pass {hints.option('missing', 'fill')} to fill gaps from the rows instead of dropping"
            f" those rows, or {hints.option('drop', worst)} (the columns with most gaps)"
        )
    raise DataError(
        f"{where}too few rows: {note}, and a fit of {len(features)} features needs at least"
        f" {need} (twice the features, at least {MIN_ROWS}); {advice}",
        path=source,
    )
