"""recipe="lesson": Kaggle's Titanic table exactly as the lesson builds it, by the Titanic code itself.

The table is :func:`workbench.lesson_table` of the rows; the recipe records restate
:data:`workbench.titanic.features.DERIVED` with the ``{col}``/``{max_col}`` placeholders of
:mod:`workbench.tabular.recipe`, so a workbook writer handles both recipes alike.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from ..errors import DataError, WorkbenchError
from ..titanic.data import PORTS, REQUIRED, SEXES
from ..titanic.features import DERIVED, FEATURES, lesson_table
from .recipe import Feature, LeftOut, Prepared, Target

#: Each dummy's level and the level the lesson gave no column.
LEVELS = {
    "Pclass_1": (1, 3),
    "Pclass_2": (2, 3),
    "Embark_S": ("S", "Q"),
    "Embark_C": ("C", "Q"),
    "Male": ("male", "female"),
}
WHOLE = ("PassengerId", "Pclass", "SibSp", "Parch", "Survived")


def lesson_prepared(frame: pd.DataFrame, target: str, extras: tuple, missing: str) -> Prepared:
    """The lesson's Titanic table and its recipe (see :func:`workbench.tabular.prepare`)."""
    if target != "Survived":
        raise WorkbenchError(
            f"recipe='lesson' is the lesson's Titanic table, whose target is 'Survived'"
            f" (got {target!r}); use recipe='auto' for other tables"
        )
    if missing != "drop" or any((e,) if isinstance(e, str) else tuple(e) for e in extras):
        raise WorkbenchError(
            "recipe='lesson' is fixed: no drop=, log=, category=, numeric=, and rows"
            " missing Age or Embarked are dropped; use recipe='auto' to choose"
        )
    source = frame.attrs.get("source")
    raw = titanic_rows(frame, source)
    table = lesson_table(raw)
    kept = raw[raw["Age"].notna() & raw["Embarked"].notna()].set_index("PassengerId", drop=False)
    kept.index = table.index
    max_age = float(kept["Age"].max())
    features = tuple(_feature(name, kept, max_age) for name in FEATURES)
    used = {"PassengerId", "Survived", *(f.source for f in features if f.source)}
    left_out = tuple(
        LeftOut(c, "identifier", "the passenger's id: the table's index, not a feature")
        if c == "PassengerId"
        else LeftOut(c, "lesson", "the lesson leaves it out")
        for c in frame.columns
        if c not in used
    )
    survived = Target(
        "Survived",
        "binary",
        "accuracy",
        "0 = died, 1 = survived: a 0/1 target, scored by accuracy (a prediction above 0.5 counts as 1)",
        lambda rows: rows["Survived"].astype("float64"),
        "={col}",
        ((0, 0), (1, 1)),
    )
    note = (
        f"{len(frame)} rows read; {len(frame) - len(table)} rows missing Age or Embarked dropped, as the"
        f" lesson does; {len(table)} rows kept"
    )
    columns = ["Survived", *dict.fromkeys(f.source for f in features if f.source)]
    return Prepared(
        table, kept[columns], survived, features, left_out, "drop", len(frame), note, "lesson", source
    )


def _feature(name: str, kept: pd.DataFrame, max_age: float) -> Feature:
    if name in ("SibSp", "Parch"):
        return Feature(
            name,
            name,
            "raw",
            f"a small count ({kept[name].min():g} to {kept[name].max():g}), used"
            " as it is, unscaled, as the lesson does",
            lambda rows: rows[name].astype("float64"),
            "={col}",
        )
    d = next(d for d in DERIVED if d.name == name)
    if name == "Ones":
        return Feature(name, None, "ones", f"{d.meaning}, as the lesson does", lambda rows: 1.0, d.excel)
    source = re.search(r"\{(?!max_)(\w+)\}", d.excel).group(1)
    excel = d.excel.replace("{" + source + "}", "{col}").replace("{max_" + source + "}", "{max_col}")
    python = lambda rows, d=d: d.python(rows, max_age)
    if name == "Age_N":
        return Feature(
            name,
            source,
            "scaled",
            f"{d.meaning}, as the lesson does",
            python,
            excel,
            scale=max_age,
            scale_excel="=MAX({range})",
            stats="df",
        )
    if name == "log_Fare":
        return Feature(name, source, "log", f"{d.meaning}, as the lesson does", python, excel)
    level, baseline = LEVELS[name]
    return Feature(
        name,
        source,
        "dummy",
        f"{d.meaning}, as the lesson does (its baseline {baseline!r} has no column)",
        python,
        excel,
        level=level,
        baseline=baseline,
    )


def titanic_rows(frame: pd.DataFrame, source: str | None) -> pd.DataFrame:
    """The frame in :func:`workbench.load_titanic`'s layout, or a DataError naming column and row."""
    where = f"{source}: " if source else ""
    absent = [c for c in (*REQUIRED, "Survived") if c not in frame.columns]
    if absent:
        raise DataError(
            f"{where}recipe='lesson' needs Kaggle's Titanic train.csv columns; {absent[0]!r} is missing",
            path=source,
            column=absent[0],
        )
    out = frame.reset_index(drop=True)

    def fail(name: str, bad: np.ndarray, expected: str) -> DataError:
        i = int(np.argmax(bad))
        return DataError(
            f"{where}column {name!r}, row {frame.index[i]} has {out[name].iloc[i]!r}; the lesson"
            f" recipe expects {expected}",
            path=source,
            column=name,
        )

    for name in WHOLE:
        x = pd.to_numeric(out[name], errors="coerce").astype("float64").to_numpy()
        bad = ~np.isfinite(x) | (x % 1 != 0)
        if bad.any():
            raise fail(name, bad, "a whole number")
        out[name] = x.astype("int64")
    for name in ("Age", "Fare"):
        x = pd.to_numeric(out[name], errors="coerce")
        bad = (x.isna() & out[name].notna()).to_numpy()
        if bad.any():
            raise fail(name, bad, "a number or nothing")
        out[name] = x.astype("float64")
    for name, allowed, blank_ok in (("Sex", SEXES, False), ("Embarked", PORTS, True)):
        col = out[name].astype(object).where(out[name].notna(), np.nan)
        bad = ~(col.isin(allowed) | (col.isna() & blank_ok)).to_numpy()
        if bad.any():
            raise fail(name, bad, "one of " + ", ".join(map(repr, allowed)))
        out[name] = col
    return out
