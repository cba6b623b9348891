"""The lesson's feature table, and the fill policy for prediction.

Reference numbers were computed once with the standard library only (csv, math,
statistics reading the bundled train.csv), independently of workbench.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.titanic.features import COLUMNS, DERIVED, RAW

# math.fsum of each derived column over the 712 lesson rows (standard library only).
COLUMN_SUMS = {
    "Age_N": 263.814625,
    "log_Fare": 939.4693309304987,
    "Pclass_1": 184.0,
    "Pclass_2": 173.0,
    "Embark_S": 554.0,
    "Embark_C": 130.0,
    "Male": 453.0,
    "Ones": 712.0,
}


def test_shape_columns_and_types(table):
    assert table.shape == (712, 16)
    assert list(table.columns) == [
        "Survived", "Embarked", "Pclass", "Sex", "Age", "Fare", "SibSp", "Parch",
        "Age_N", "log_Fare", "Pclass_1", "Pclass_2", "Embark_S", "Embark_C", "Male", "Ones",
    ]  # fmt: skip
    for name in table.columns:
        if name not in ("Sex", "Embarked"):
            assert table[name].dtype == np.float64, name
    assert wb.FEATURES == (
        "SibSp", "Parch", "Age_N", "log_Fare", "Pclass_1", "Pclass_2",
        "Embark_S", "Embark_C", "Male", "Ones",
    )  # fmt: skip


def test_rows_keep_file_order(table):
    assert table.index.name == "PassengerId"
    assert list(table.index[:6]) == [1, 2, 3, 4, 5, 7]  # passenger 6 has no Age
    assert table.index[-1] == 891 and table.index.is_monotonic_increasing
    assert table[["Age", "Embarked"]].notna().all().all()
    assert table["Survived"].sum() == 288 and table["SibSp"].sum() == 366 and table["Parch"].sum() == 308


def test_first_row_is_the_lessons(table):
    # A 22-year-old third-class man from Southampton who paid 7.25.
    row = table.iloc[0]
    assert row["Age_N"] == 22 / 80
    assert row["log_Fare"] == math.log10(8.25)
    assert [row[c] for c in ("Pclass_1", "Pclass_2", "Embark_S", "Embark_C", "Male", "Ones")] == [
        0, 0, 1, 0, 1, 1,
    ]  # fmt: skip


@pytest.mark.parametrize("name", list(COLUMN_SUMS))
def test_derived_column_sums(table, name):
    assert math.fsum(table[name]) == pytest.approx(COLUMN_SUMS[name], abs=1e-12)


def test_every_derived_column_has_an_excel_formula_on_the_same_cells():
    cells = {"Age": "E3", "Fare": "F3", "Pclass": "C3", "Embarked": "B3", "Sex": "D3", "max_Age": "$E$1"}
    formulas = {d.name: d.formula(cells) for d in DERIVED}
    assert formulas == {
        "Age_N": "=E3/$E$1",
        "log_Fare": "=LOG10(F3+1)",
        "Pclass_1": "=IF(C3=1,1,0)",
        "Pclass_2": "=IF(C3=2,1,0)",
        "Embark_S": '=IF(B3="S",1,0)',
        "Embark_C": '=IF(B3="C",1,0)',
        "Male": '=IF(D3="male",1,0)',
        "Ones": "1",
    }
    assert RAW + tuple(formulas) == COLUMNS


def test_lesson_table_needs_training_layout():
    with pytest.raises(wb.DataError, match="needs the training layout"):
        wb.lesson_table(wb.load_titanic(wb.TEST_CSV))


def test_lesson_table_rejects_blank_fare_in_a_kept_row():
    raw = wb.load_titanic()
    raw.loc[3, "Fare"] = np.nan
    with pytest.raises(wb.DataError, match="Fare is blank for PassengerId 4"):
        wb.lesson_table(raw)


def test_lesson_table_rejects_all_zero_ages():
    raw = wb.load_titanic()
    raw["Age"] = raw["Age"] * 0
    with pytest.raises(wb.DataError, match="divides by zero"):
        wb.lesson_table(raw)


def test_fill_values_come_from_the_training_table():
    # statistics.median over the 712 lesson rows; Southampton is the most common port.
    assert wb.FillValues.from_training() == wb.FillValues(age=28.0, fare=15.64585, embarked="S", max_age=80.0)


def test_prediction_table_gives_every_test_passenger_finite_features():
    test = wb.prediction_table()
    assert test.shape == (418, 15) and "Survived" not in test
    x = test[list(wb.FEATURES)].to_numpy()
    assert np.isfinite(x).all()
    # Passenger 1044 has no Fare: the training median fills it.
    assert test.loc[1044, "log_Fare"] == math.log10(15.64585 + 1)
    # 86 missing ages become 28, scaled by the training maximum (80), not test's 76.
    raw = wb.load_titanic(wb.TEST_CSV)
    missing = raw.loc[raw["Age"].isna(), "PassengerId"]
    assert len(missing) == 86
    assert (test.loc[missing, "Age_N"] == 28 / 80).all()
    assert test["Age_N"].max() == 76 / 80


def test_prediction_table_on_training_rows_matches_the_lesson_table(table):
    filled = wb.prediction_table(wb.TRAIN_CSV)
    assert filled.shape == (891, 16)
    pd.testing.assert_frame_equal(filled.loc[table.index], table)


@pytest.mark.parametrize("d", DERIVED, ids=lambda d: d.name)
def test_each_pandas_line_computes_its_column(table, d):
    """The pandas line the features sheet shows is what Python computes (evaluated here on the table)."""
    column = lambda v: np.broadcast_to(np.asarray(v, dtype=float), (len(table),))
    got = eval(d.pandas, {"np": np, "pd": pd}, {"rows": table})  # the library's own text, not input
    np.testing.assert_array_equal(column(got), column(d.python(table, table["Age"].max())))
    assert len(d.why) > 40 and "{" not in d.why
