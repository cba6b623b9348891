"""The lesson's features: each derived column defined once, in pandas and in Excel.

fast.ai's lesson 3 (2022) turns the Titanic passengers into ten numbers per row.
Every derived column is one :class:`Derived` record below, holding its pandas
computation and its Excel formula side by side, so the workbook writer and the
Python code read the same definition and cannot drift apart.

Two policies turn raw passengers into a table of features:

* :func:`lesson_table` (training): exactly the lesson's sheet. Rows with a blank
  Age or Embarked are dropped (712 of 891 remain, in file order) and Age is scaled
  by the table's own maximum, as ``=Age/MAX(Age)`` does on the sheet.
* :func:`prediction_table` (prediction, e.g. Kaggle's ``test.csv``): no row is
  dropped. Gaps are filled with statistics of the *training* table (median Age,
  median Fare, most common port: see :class:`FillValues`) and Age is scaled by the
  training table's maximum, so a model fitted on train sees test rows on the same
  scale.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

from ..errors import DataError
from .data import TEST_CSV, load_titanic

#: The raw columns of the lesson's model sheets, in the sheet's order.
RAW = ("Survived", "Embarked", "Pclass", "Sex", "Age", "Fare", "SibSp", "Parch")


@dataclass(frozen=True)
class Derived:
    """One derived column: its meaning, its pandas computation and its Excel formula.

    ``python(rows, max_age)`` computes the column from the raw columns; ``pandas`` is that
    computation as one line of pandas, for reading (a test checks the two agree). ``excel``
    is the same computation as a formula template: ``{Age}``, ``{Fare}``, ``{Pclass}``,
    ``{Embarked}``, ``{Sex}`` stand for the row's raw cells and ``{max_Age}`` for the
    cell holding the maximum Age. A template without a leading ``=`` is a constant.
    ``why`` is the reason the lesson makes the column, in plain words.
    """

    name: str
    meaning: str
    python: Callable[[pd.DataFrame, float], pd.Series | float]
    excel: str
    pandas: str = ""
    why: str = ""

    def formula(self, cells: Mapping[str, str]) -> str:
        """The Excel formula (or constant) for one row, given its cell references."""
        return self.excel.format(**cells)


def _is(column: str, value: object) -> Callable[[pd.DataFrame, float], pd.Series]:
    return lambda rows, _max_age: (rows[column] == value).astype("float64")


_DUMMY = "a yes/no (1/0) column, so a parameter can add or take away a fixed amount for {}"

DERIVED: tuple[Derived, ...] = (
    Derived("Age_N", "age scaled into 0..1 by the maximum age",
            lambda rows, max_age: rows["Age"] / max_age, "={Age}/{max_Age}",
            'rows["Age"] / rows["Age"].max()',
            "Ages run from under 1 to 80; divided by the largest, every age lies between 0 and 1, like the"
            " yes/no columns, so no column's size swamps the others when multiplied by a random parameter"),
    Derived("log_Fare", "base-10 log of fare + 1 (tames a few huge fares; not scaled further)",
            lambda rows, _: np.log10(rows["Fare"] + 1), "=LOG10({Fare}+1)",
            'np.log10(rows["Fare"] + 1)',
            "Most fares are under 30 but a few reach 512: money is like that. The log squeezes the few"
            " huge fares together and spreads the many small ones (it ends up between 0 and 2.7); +1 keeps"
            " a fare of 0 at 0 instead of minus infinity"),
    Derived("Pclass_1", "1 for first class", _is("Pclass", 1), "=IF({Pclass}=1,1,0)",
            '(rows["Pclass"] == 1).astype(float)', _DUMMY.format("first class")),
    Derived("Pclass_2", "1 for second class (third class is the baseline: n levels, n-1 dummies)",
            _is("Pclass", 2), "=IF({Pclass}=2,1,0)", '(rows["Pclass"] == 2).astype(float)',
            _DUMMY.format("second class") + "; third class has no column (0 in both says third class)"),
    Derived("Embark_S", "1 for Southampton", _is("Embarked", "S"), '=IF({Embarked}="S",1,0)',
            '(rows["Embarked"] == "S").astype(float)', _DUMMY.format("boarding at Southampton")),
    Derived("Embark_C", "1 for Cherbourg (Queenstown is the baseline)",
            _is("Embarked", "C"), '=IF({Embarked}="C",1,0)', '(rows["Embarked"] == "C").astype(float)',
            _DUMMY.format("boarding at Cherbourg") + "; Queenstown (Q) has no column (0 in both says Q)"),
    Derived("Male", "1 for a man", _is("Sex", "male"), '=IF({Sex}="male",1,0)',
            '(rows["Sex"] == "male").astype(float)', _DUMMY.format("men") + "; women are the 0s"),
    Derived("Ones", "always 1: its parameter is the intercept", lambda rows, _: 1.0, "1", "1.0",
            "Always 1: its parameter is then added to every prediction as it is (the constant b of"
            " y = mx + b), so the model needs no separate constant"),
)  # fmt: skip

#: The 10 model inputs, in the lesson's order. SibSp and Parch are used unscaled.
FEATURES: tuple[str, ...] = (
    "SibSp", "Parch", "Age_N", "log_Fare", "Pclass_1", "Pclass_2",
    "Embark_S", "Embark_C", "Male", "Ones",
)  # fmt: skip

COLUMNS: tuple[str, ...] = RAW + tuple(d.name for d in DERIVED)


def _table(rows: pd.DataFrame, max_age: float) -> pd.DataFrame:
    """Raw columns (numbers as float64) followed by every derived column."""
    out = pd.DataFrame(index=pd.Index(rows["PassengerId"].to_numpy(), name="PassengerId"))
    for name in RAW:
        if name in rows:
            col = rows[name].to_numpy()
            out[name] = col if name in ("Sex", "Embarked") else col.astype("float64")
    for d in DERIVED:
        value = d.python(rows, max_age)
        out[d.name] = np.asarray(value, dtype="float64") if np.ndim(value) else float(value)
    return out


def lesson_table(raw: pd.DataFrame | None = None) -> pd.DataFrame:
    """The lesson's table: training rows with Age and Embarked present, in file order.

    Args:
        raw: passengers from :func:`~workbench.load_titanic` (training layout, with
            ``Survived``); the bundled ``train.csv`` by default.

    Returns:
        712 rows for the bundled data, indexed by PassengerId, with the columns
        ``Survived, Embarked, Pclass, Sex, Age, Fare, SibSp, Parch`` then
        ``Age_N, log_Fare, Pclass_1, Pclass_2, Embark_S, Embark_C, Male, Ones``;
        every numeric column is float64.

    Raises:
        DataError: no ``Survived`` column, no row left, a blank Fare in a kept row,
            or every kept age is 0 (Age_N would divide by zero).
    """
    raw = load_titanic() if raw is None else raw
    if "Survived" not in raw:
        raise DataError(
            "lesson_table needs the training layout with a 'Survived' column;"
            " use prediction_table() for Kaggle's test.csv",
            column="Survived",
        )
    rows = raw[raw["Age"].notna() & raw["Embarked"].notna()]
    if rows.empty:
        raise DataError("no passenger has both Age and Embarked, so the lesson table is empty")
    blank_fare = rows["Fare"].isna().to_numpy()
    if blank_fare.any():
        i = int(np.argmax(blank_fare))
        raise DataError(
            f"Fare is blank for PassengerId {rows['PassengerId'].iloc[i]}; the lesson's policy"
            " drops only rows missing Age or Embarked (use prediction_table to fill gaps)",
            column="Fare",
        )
    max_age = float(rows["Age"].max())
    if max_age <= 0:
        raise DataError("every age is 0, so Age / MAX(Age) divides by zero", column="Age")
    return _table(rows, max_age)


@dataclass(frozen=True)
class FillValues:
    """What :func:`prediction_table` puts in a gap, all taken from the training table.

    The statistics come from the rows the model was fitted on (the lesson table),
    so prediction rows look like training rows: median Age and Fare (robust to the
    few very old passengers and very large fares), the most common port, and the
    maximum Age used to scale ``Age_N``.
    """

    age: float
    fare: float
    embarked: str
    max_age: float

    @classmethod
    def from_training(cls, table: pd.DataFrame | None = None) -> FillValues:
        """Fill values from a lesson table (the bundled training data by default)."""
        table = lesson_table() if table is None else table
        return cls(
            age=float(table["Age"].median()),
            fare=float(table["Fare"].median()),
            # mode() sorts ties alphabetically, so the choice is deterministic.
            embarked=str(table["Embarked"].mode().iloc[0]),
            max_age=float(table["Age"].max()),
        )


def prediction_table(
    raw: pd.DataFrame | str | os.PathLike[str] | None = None,
    *,
    fill: FillValues | None = None,
) -> pd.DataFrame:
    """Features for every passenger, gaps filled from the training data.

    Args:
        raw: passengers from :func:`~workbench.load_titanic`, or a CSV path; the
            bundled Kaggle ``test.csv`` by default.
        fill: the values for gaps and the Age scale; by default
            ``FillValues.from_training()`` on the bundled ``train.csv``.

    Returns:
        One row per passenger, in file order, with the columns of
        :func:`lesson_table` (``Survived`` only when the input has it) and every
        feature finite.
    """
    if raw is None or isinstance(raw, (str, os.PathLike)):
        raw = load_titanic(TEST_CSV if raw is None else raw)
    fill = FillValues.from_training() if fill is None else fill
    rows = raw.copy()
    rows["Age"] = rows["Age"].fillna(fill.age)
    rows["Fare"] = rows["Fare"].fillna(fill.fare)
    rows["Embarked"] = rows["Embarked"].fillna(fill.embarked)
    return _table(rows, fill.max_age)
