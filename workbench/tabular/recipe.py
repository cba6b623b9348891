"""The records of a recipe: each feature, the target and each column left out, with its reason.

Like :class:`workbench.titanic.features.Derived`, a :class:`Feature` holds its pandas computation and
its Excel formula side by side, so a workbook writer and the Python table read one definition.
Excel templates use these placeholders:

* ``{col}``: this row's cell of the source column (the raw value, empty where missing);
* ``{max_col}``: the cell holding the feature's scale, whose own formula is
  :attr:`Feature.scale_excel` over ``{range}``, the source column's cells in the kept rows;
* ``{fill_col}``: the cell holding the fill for a missing value, whose formula is
  :attr:`Feature.fill_excel` over ``{range}`` (only with ``missing="fill"``).

A template without a leading ``=`` is a constant (the ``Ones`` column's ``1``).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from itertools import groupby
from os.path import commonprefix

import numpy as np
import pandas as pd

#: Kinds of feature: ``scaled`` (x / max |x|), ``log_scaled`` (LOG10(x+1) / max of that),
#: ``dummy`` (1 for one level, else 0), ``other`` (1 for any level but the ``kept`` ones: the
#: rare levels lumped), ``ones`` (the intercept's column). The lesson recipe also has ``raw``
#: (used as it is: SibSp, Parch) and ``log`` (LOG10(x+1) unscaled: Fare).
KINDS = ("scaled", "log_scaled", "dummy", "other", "ones", "raw", "log")


def _literal(value: float | str | None) -> str:
    """A level as Python source: text quoted, a number as a plain float (never ``np.float64(...)``)."""
    return repr(value) if isinstance(value, str) else repr(float(value))


@dataclass(frozen=True)
class Feature:
    """One model input: where it comes from, why, and how to compute it in pandas and Excel.

    ``python(raw)`` takes the kept rows' raw columns (NaN where missing) and returns the
    float64 column (a float for ``Ones``). ``scale`` and ``fill`` are the numbers that the
    ``{max_col}`` and ``{fill_col}`` cells recompute; ``level`` is a dummy's level,
    ``baseline`` the level of the same column that has no dummy, and ``kept`` the levels an
    ``other`` column is 0 for. ``stats`` is the rows the statistics come from, as pandas:
    ``df[train]`` (the train rows: the auto recipe) or ``df`` (every kept row: the lesson's).
    """

    name: str
    source: str | None
    kind: str
    reason: str
    python: Callable[[pd.DataFrame], pd.Series | float]
    excel: str
    scale: float | None = None
    scale_excel: str | None = None
    fill: float | str | None = None
    fill_excel: str | None = None
    level: float | str | None = None
    baseline: float | str | None = None
    kept: tuple[float | str, ...] = ()
    stats: str = "df[train]"

    def formula(self, cells: Mapping[str, str]) -> str:
        """The Excel formula (or constant) for one row, given ``col``, ``max_col``, ``fill_col``."""
        return self.excel.format(**cells)

    @property
    def pandas(self) -> str:
        """The computation as one line of pandas on the kept rows ``df`` (``np`` is numpy,
        ``train`` the train rows' mask)."""
        col, stat = f"df[{self.source!r}]", f"{self.stats}[{self.source!r}]"
        x = col if self.fill is None else f"{col}.fillna({stat}.median())"
        if self.kind == "dummy":
            return f"({col} == {_literal(self.level)}).astype(float)"
        if self.kind == "other":
            kept = ", ".join(map(_literal, self.kept))
            return f"({col}.notna() & ~{col}.isin([{kept}])).astype(float)"
        return {
            "scaled": f"{x} / {stat}.abs().max()",
            "log_scaled": f"np.log10({x} + 1) / np.log10({stat}.max() + 1)",
            "log": f"np.log10({x} + 1)",
            "raw": x,
            "ones": "1.0",
        }[self.kind]


@dataclass(frozen=True)
class Target:
    """What the model predicts: ``binary`` (0/1, scored by accuracy) or ``numeric`` (RMSE).

    ``mapping`` lists ``(value, 0 or 1)`` for a binary target; ``excel`` turns the row's raw
    cell ``{col}`` into the table's number, as ``python(raw)`` does.
    """

    name: str
    kind: str
    metric: str
    reason: str
    python: Callable[[pd.DataFrame], pd.Series]
    excel: str
    mapping: tuple[tuple[float | str, int], ...] = ()

    @property
    def pandas(self) -> str:
        """The computation as one line of pandas on the kept rows ``df``."""
        col = f"df[{self.name!r}]"
        if self.kind == "numeric" or self.excel == "={col}":
            return f"{col}.astype(float)"
        return f"({col} == {_literal(self.mapping[1][0])}).astype(float)"


@dataclass(frozen=True)
class LeftOut:
    """A column that is not a feature: ``why`` is one of ``drop`` (the user's), ``empty``,
    ``constant``, ``mostly missing``, ``identifier``, ``free text``, ``dates`` (a DataFrame's
    dates or times), ``leak``, ``budget`` (more features than the rows or a sheet take: the columns
    that alone explain least of the target go), ``lesson``, or ``duplicate`` (then ``column`` names
    a feature the train rows cannot tell apart from the others); ``reason`` says it in words."""

    column: str
    why: str
    reason: str


@dataclass(frozen=True)
class Prepared:
    """A CSV turned into the lesson's kind of table, with the recipe that made it.

    ``table`` has the target (float64, 0/1 or numbers) then one float64 column per feature
    in :attr:`features` order, ending with ``Ones`` (the lesson recipe keeps
    :func:`workbench.lesson_table`'s columns exactly, raw ones included). ``raw`` holds the
    same rows' source columns as read (NaN where a value was missing and is filled).
    ``valid`` marks the validation rows, whose values no statistic of the recipe has seen
    (``None``: the lesson's recipe, whose statistics are the lesson's, over every row).
    ``sample`` says so when the rows are a random sample of the file's
    (:func:`~workbench.tabular.read.sample_rows`). ``grouped``: the columns whose numbers were read
    with points between groups of digits (``1.234,5``), which new rows' are read with too;
    ``percents``: those written as percents (12% read as 0.12), which new rows' must be too.
    """

    table: pd.DataFrame
    raw: pd.DataFrame
    target: Target
    features: tuple[Feature, ...]
    left_out: tuple[LeftOut, ...]
    missing: str
    rows_read: int
    rows_note: str
    recipe: str
    source: str | None = None
    valid: np.ndarray | None = None
    sample: str | None = None
    grouped: tuple[str, ...] = ()
    percents: tuple[str, ...] = ()

    @property
    def feature_names(self) -> tuple[str, ...]:
        return tuple(f.name for f in self.features)

    @property
    def X(self) -> np.ndarray:
        """The features as a float64 matrix, rows by features."""
        return self.table[list(self.feature_names)].to_numpy(dtype="float64")

    @property
    def y(self) -> np.ndarray:
        """The target as a float64 vector."""
        return self.table[self.target.name].to_numpy(dtype="float64")

    def explain(self) -> str:
        """The recipe in plain words, one line per choice."""
        rows = f"{self.sample}; of them, {self.rows_note}" if self.sample else self.rows_note
        lines = [f"target {self.target.name!r}: {self.target.reason}", f"rows: {rows}"]
        # A column's dummies share its reason: said once for them all, not once for each
        for source, same in groupby(self.features, key=lambda f: f.source):
            same = list(same)
            dummies = [f.name for f in same if f.kind == "dummy"]
            shared = _shared_reason(source, same) if len(dummies) > 1 else None
            if shared is None:
                lines += [f"{f.name}: {f.reason}" for f in same]
                continue
            lines.append(f"{', '.join(dummies)}: 1 where {source} is that level, else 0. {shared}")
            lines += [f"{f.name}: {f.reason[: -len(shared)].rstrip()}" for f in same if f.kind != "dummy"]
        lines += [f"left out {c.column!r}: {c.reason}" for c in self.left_out]
        return "\n".join(lines)


def _shared_reason(source: str, features: list[Feature]) -> str | None:
    """The reason ``features`` (one column's dummies, and its ``other``) share after each one's first
    sentence (``1 where mfr is 'BMW', else 0.``): the column's, starting ``mfr:``; None if none."""
    ending = commonprefix([f.reason[::-1] for f in features])[::-1]  # noqa: RUF071 (strings, not paths)
    at = ending.find(f". {source}:")
    return ending[at + 2 :] if at >= 0 else None
