"""Build the recipe's records for one column: scaled or logged numbers, dummies, ones, the target.

Each builder takes the column's values in the train rows (every statistic, a largest value, a
median, the levels and their counts, comes from them alone: the valid rows stay unseen, as a
test set) and how many kept rows miss a value, and returns records whose pandas computation and
Excel template compute the same numbers on every row (see :mod:`workbench.tabular.recipe`). Two
judgements of a column close the module: the share of the target it alone explains
(:func:`explained`, for leaks and the feature budget) and whether it numbers the rows
(:func:`numbering`, an identifier).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError
from .read import MAX_LEVELS
from .recipe import Feature, Target

#: Long-tailed: non-negative and the maximum at least this many times the median. Divided by
#: its maximum, such a column puts half its rows below 0.1, squeezed near zero by a few huge
#: values; LOG10(x+1) spreads them out. The lesson's Fare (max 512, 35x its median) passes,
#: its Age (max 80, 2.9x) does not.
LONG_TAIL = 10.0


def num(x: float) -> str:
    """A number for a reason, short: 512.3292 -> '512.3', 3.0 -> '3'."""
    return f"{x:.4g}"


def level_text(level: float | str) -> str:
    """A level as it reads in a column name: 3.0 -> '3', 'S' -> 'S'."""
    if isinstance(level, str):
        return level
    return str(int(level)) if float(level).is_integer() else repr(float(level))


def shown(level: float | str) -> str:
    """A level in a sentence: text quoted, a number plain."""
    return repr(level) if isinstance(level, str) else level_text(level)


#: Excel refuses a text constant of more than 255 characters in a formula: a longer level is
#: joined (&) from pieces of at most this many (a character beyond Unicode's first plane is 2).
LITERAL_PIECE = 120


#: Every control character, tab and line feed too (unlike csv_files.CONTROL, what a cell drops):
#: XML 1.0 cannot hold most in a formula, and reading the file turns a carriage return into a line
#: feed, so each is written as CHAR(code), the same character in every engine.
_CHAR_CODED = re.compile(r"([\x00-\x1f])")


def excel_literal(level: float | str) -> str:
    """A level as an Excel literal: text in double quotes (a quote doubled; a control character
    as CHAR(code)), a number written as an .xlsx cell holds it (16 significant digits: an engine
    computing in more digits, as Gnumeric does, then reads the literal and the cell as one number)."""
    if not isinstance(level, str):
        return f"{float(level):.16G}"
    pieces = []
    for k, text in enumerate(_CHAR_CODED.split(level)):  # odd k: a control character
        if k % 2:
            pieces.append(f"CHAR({ord(text)})")
        else:
            pieces += ['"' + text[i : i + LITERAL_PIECE].replace('"', '""') + '"'
                       for i in range(0, len(text), LITERAL_PIECE)]  # fmt: skip
    return "&".join(pieces) or '""'


def is_level(level: float | str) -> str:
    """A template's condition, true where the row's cell ``{col}`` holds ``level``, as pandas' ``==``
    tests it.

    Text is compared with EXACT: a spreadsheet's ``=`` ignores case, and each engine folds
    letters its own way (LibreOffice and Gnumeric take 'a' = 'A', Greek sigma = final sigma,
    'TRUE' = 'true'; Gnumeric also 'ß' = 'ss'), so ``=`` would merge levels that pandas keeps apart.
    """
    literal = excel_literal(level).replace("{", "{{").replace("}", "}}")  # a template's own braces
    return f"EXACT({{col}},{literal})" if isinstance(level, str) else f"{{col}}={literal}"


def is_long_tailed(values: pd.Series) -> bool:
    """Non-negative, with the maximum at least :data:`LONG_TAIL` times the median."""
    x = values.dropna()
    return bool(x.min() >= 0 and x.max() >= LONG_TAIL * x.median())


def tail_words(values: pd.Series) -> str:
    x = values.dropna()
    median, top = float(x.median()), float(x.max())
    ratio = f"{top / median:.3g}x" if median > 0 else "far above"
    return f"max {num(top)} is {ratio} its median {num(median)}"


def scaled(name: str, source: str, values: pd.Series, fill: float | None, why: str, gaps: int = 0) -> Feature:
    """x / max |x| of the train rows (after filling): a number in -1..1, the lesson's Age_N."""
    x = values if fill is None else values.fillna(fill)
    scale = float(max(x.max(), -x.min()))
    cell = "{col}" if fill is None else 'IF({col}="",{fill_col},{col})'
    return Feature(
        name,
        source,
        "scaled",
        f"{why}: divided by its largest absolute value on the train rows, {num(scale)}, so it lies in"
        f" -1..1 (the lesson's Age / MAX(Age)){_filled(gaps, fill)}",
        lambda raw: (raw[source] if fill is None else raw[source].fillna(fill)) / scale,
        f"={cell}/{{max_col}}",
        scale,
        "=MAX(MAX({range}),-MIN({range}))",
        fill,
        None if fill is None else "=MEDIAN({range})",
    )


def log_scaled(
    name: str, source: str, values: pd.Series, fill: float | None, why: str, gaps: int = 0
) -> Feature:
    """LOG10(x+1) / LOG10(max+1): a long-tailed count or amount spread over 0..1."""
    x = values if fill is None else values.fillna(fill)
    scale = float(np.log10(x.max() + 1))
    cell = "{col}" if fill is None else 'IF({col}="",{fill_col},{col})'
    return Feature(
        name,
        source,
        "log_scaled",
        f"{why}: LOG10(x+1) first, as the lesson does with Fare, then divided by the largest"
        f" log on the train rows, {num(scale)}, so it lies in 0..1{_filled(gaps, fill)}",
        lambda raw: np.log10((raw[source] if fill is None else raw[source].fillna(fill)) + 1) / scale,
        f"=LOG10({cell}+1)/{{max_col}}",
        scale,
        "=LOG10(MAX({range})+1)",
        fill,
        None if fill is None else "=MEDIAN({range})",
    )


def _filled(gaps: int, fill: float | None) -> str:
    if fill is None:
        return ""
    if not gaps:  # the fill is for new rows (workbench predict), as the lesson fills test.csv's Fare
        return f"; a missing value (none here) is filled with the median {num(fill)} of the train rows"
    return f"; {gaps} missing value{'s' * (gaps > 1)} filled with the median {num(fill)} of the train rows"


def dummies(
    source: str,
    values: pd.Series,
    why: str,
    taken: set[str],
    lump: tuple[int | None, str] = (None, ""),
    gaps: int = 0,
) -> list[Feature]:
    """One 0/1 column per level but the most common one, the baseline (ties: the first in order).

    With ``lump = (keep, why)``, only the ``keep`` most common levels (the baseline among them)
    are told apart; every other level is lumped into one ``<source>_other`` column
    (scikit-learn's one-hot encoder does the same with ``max_categories``), and ``why`` says why.
    A missing value (``missing="fill"``) counts as the baseline: all its dummies are 0; so does
    a level the train rows never show, unless it is lumped into ``other``.
    """
    keep, lumped = lump
    counts = values.value_counts(dropna=True)
    levels = sorted(counts.index)
    order = {v: i for i, v in enumerate(levels)}
    ranked = sorted(levels, key=lambda v: (-counts[v], order[v]))
    baseline = ranked[0]
    kept = ranked if keep is None or keep >= len(ranked) else ranked[:keep]
    rest = [v for v in levels if v not in set(kept)]
    n_dummies = len(kept) - 1 + bool(rest)
    words = (
        f"{source}: {why}; {len(levels)} levels, so {n_dummies}"
        f" {'dummy' if n_dummies == 1 else 'dummies'};"
        f" the baseline {shown(baseline)}, the most common ({counts[baseline]} of {len(values)} train rows),"
        " gets none:"
        " the intercept (Ones) stands for it"
        + (f"; its {gaps} missing values count as the baseline" if gaps else "")
    )
    if rest:
        words += (
            f"; the {len(rest)} least common levels ({int(counts[rest].sum())} train rows) share one column,"
            f" {source}_other{lumped}"
        )
    out = [_dummy(source, level, baseline, words, gaps, taken) for level in levels if level in kept[1:]]
    if rest:
        out.append(_other(source, kept, baseline, words, gaps, taken))
    return out


def _dummy(source, level, baseline, words: str, gaps: int, taken: set[str]) -> Feature:
    # A blank cell equals 0 in a numeric comparison: test for blank first.
    excel = (
        f'=IF({{col}}="",0,IF({is_level(level)},1,0))'
        if gaps and not isinstance(level, str)
        else f"=IF({is_level(level)},1,0)"
    )
    return Feature(
        unique_name(f"{source}_{level_text(level)}", taken),
        source,
        "dummy",
        f"1 where {source} is {shown(level)}, else 0. {words}",
        lambda raw: (raw[source] == level).astype("float64"),
        excel,
        level=level,
        baseline=baseline,
    )


def _other(source, kept: list, baseline, words: str, gaps: int, taken: set[str]) -> Feature:
    """1 where the level is none of ``kept`` (a missing value counts as the baseline: 0)."""
    named = ",".join(is_level(v) for v in kept)
    excel = f"=IF(OR({named}),0,1)"
    if gaps:
        excel = f'=IF({{col}}="",0,IF(OR({named}),0,1))'
    return Feature(
        unique_name(f"{source}_other", taken),
        source,
        "other",
        f"1 where {source} is none of the {len(kept)} most common levels (a level the train rows never show"
        f" too), else 0. {words}",
        lambda raw: (raw[source].notna() & ~raw[source].isin(kept)).astype("float64"),
        excel,
        baseline=baseline,
        kept=tuple(kept),
    )


def ones(taken: set[str]) -> Feature:
    """The column of ones: its parameter is the intercept."""
    name = unique_name("Ones", taken)
    return Feature(name, None, "ones", "always 1: its parameter is the intercept", lambda raw: 1.0, "1")


def unique_name(name: str, taken: set[str]) -> str:
    """``name``, or ``name_2``, ``name_3``... if taken; the result is added to ``taken``."""
    out, k = name, 1
    while out in taken:
        k += 1
        out = f"{name}_{k}"
    taken.add(out)
    return out


def target(name: str, values: pd.Series, source: str | None) -> Target:
    """The target's record: two values make a 0/1 target, more numbers a numeric one."""
    x = values.dropna()
    counts = x.value_counts()
    where = f"{source}: " if source else ""
    if x.empty:
        raise DataError(f"{where}target column {name!r} has no value on any row", path=source, column=name)
    if len(counts) == 1:
        raise DataError(
            f"{where}target column {name!r} holds {shown(counts.index[0])} on every row, so there"
            " is nothing to predict: choose another target column",
            path=source,
            column=name,
        )
    if len(counts) == 2:
        return _binary(name, sorted(counts.index))
    if values.dtype == object:
        listed = ", ".join(f"{v!r} ({c})" for v, c in counts.head(5).items())
        raise DataError(
            f"{where}target column {name!r} is text with {len(counts)} values ({listed}"
            f"{', ...' if len(counts) > 5 else ''}); the lesson's table needs a 0/1 target or a numeric"
            " one: choose a column with two values or with numbers",
            path=source,
            column=name,
        )
    return Target(
        name,
        "numeric",
        "rmse",
        f"numbers from {num(x.min())} to {num(x.max())}: the model predicts the number itself,"
        " scored by its squared error (RMSE), with no accuracy",
        lambda raw: raw[name].astype("float64"),
        "={col}",
    )


def _binary(name: str, pair: list) -> Target:
    low, high = pair
    if not isinstance(low, str) and (low, high) == (0, 1):
        how, excel = "0 and 1 already", "={col}"
    else:
        order = "in alphabetical order" if isinstance(low, str) else "the smaller is 0"
        how = f"{shown(low)} -> 0 and {shown(high)} -> 1 ({order})"
        excel = f"=IF({is_level(high)},1,0)"
    return Target(
        name,
        "binary",
        "accuracy",
        f"two values, {how}: a 0/1 target, scored by accuracy (a prediction above 0.5 counts as 1)",
        lambda raw: (raw[name] == high).astype("float64"),
        excel,
        ((low, 0), (high, 1)),
    )


# ---------------------------------------------------------------------------------------------
# what a column tells of the target, and whether it numbers the rows


def explained(col: pd.Series, y: np.ndarray, *, min_rows: int) -> float:
    """The share of ``y``'s variance that ``col`` alone explains: each level's mean (text, or at
    most :data:`~workbench.tabular.read.MAX_LEVELS` numbers; a missing value is a level of its own),
    or the best rising or falling curve (numbers, where present; 0 on fewer than ``min_rows``)."""
    if col.dtype == object or col.nunique() <= MAX_LEVELS:
        if col.nunique() > len(col) / 5:  # a few rows a level: its means would fit any target
            return 0.0
        groups = col.astype(object).fillna("\0missing").to_numpy()
        means = pd.Series(y).groupby(groups).transform("mean").to_numpy()
        return _r2(y, means)
    ok = col.notna().to_numpy()
    x, t = col.to_numpy(dtype="float64")[ok], y[ok]
    if len(t) < min_rows:
        return 0.0
    from scipy.optimize import isotonic_regression  # imported here: the lessons' builds never need it

    _, at = np.unique(x, return_inverse=True)
    weight = np.bincount(at).astype("float64")
    mean = np.bincount(at, t) / weight  # tied values share one point of the curve
    fits = (isotonic_regression(mean, weights=weight, increasing=up).x[at] for up in (True, False))
    return max(_r2(t, fit) for fit in fits)


def numbering(present: pd.Series) -> bool:
    """Whether different whole numbers number the rows, as PassengerId 1 to 891 does: they use at
    least a third of the numbers from their least to their largest, or rise from nine rows in ten
    to the next (R's row names of a subset: 534 of 1 to 1100, in order but one). A count or a
    measurement in whole units spreads wider and goes up and down (prison counts of 2644 to 4088
    over 48 quarters)."""
    x = present.to_numpy()
    return bool(x.max() - x.min() < 3 * len(x) or np.mean(np.diff(x) > 0) >= 0.9)


#: A date as a spreadsheet or a database writes one: 2021-03-04 (with a time: 2021-03-04 13:05:00,
#: 2021-03-04T13:05Z), 04.03.2021, 3/4/2021 or 3/4/21.
_DATE = re.compile(
    r"\d{4}-\d{1,2}-\d{1,2}(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?(?:Z|[+-]\d{2}:?\d{2})?)?"
    r"|\d{1,2}([./-])\d{1,2}\1(?:\d{4}|\d{2})(?: \d{1,2}:\d{2}(?::\d{2})?)?"
)


def dates(present: pd.Series) -> bool:
    """Whether a text column holds dates: nine in ten of its different values (of the first thousand)."""
    values = pd.unique(present.astype(str))[:1000]
    return bool(np.mean([_DATE.fullmatch(v) is not None for v in values]) >= 0.9)


def _r2(y: np.ndarray, fit: np.ndarray) -> float:
    total = float(np.sum((y - y.mean()) ** 2))
    return 0.0 if total == 0 else 1.0 - float(np.sum((y - fit) ** 2)) / total
