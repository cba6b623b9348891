"""load_titanic: reads Kaggle's files and gives a clear DataError for every bad input."""

from __future__ import annotations

import csv
import io

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import workbench as wb
from workbench.titanic.data import TRAIN_CSV


def kaggle_rows() -> list[list[str]]:
    with open(TRAIN_CSV, newline="") as f:
        return list(csv.reader(f))


def write_csv(path, rows, newline="\r\n") -> str:
    buf = io.StringIO()
    csv.writer(buf, lineterminator=newline).writerows(rows)
    path.write_text(buf.getvalue(), newline="")
    return str(path)


def with_value(tmp_path, column: str, row: int, value: str) -> str:
    """train.csv with data row ``row`` (1-based) of ``column`` set to ``value``."""
    rows = kaggle_rows()
    rows[row][rows[0].index(column)] = value
    return write_csv(tmp_path / "bad.csv", rows)


def test_bundled_train_loads_with_parsed_columns():
    raw = wb.load_titanic()
    assert raw.shape == (891, 12)
    assert list(raw.columns) == kaggle_rows()[0]
    for name in ("PassengerId", "Survived", "Pclass", "SibSp", "Parch"):
        assert raw[name].dtype == np.int64
    assert raw["Age"].dtype == np.float64 and raw["Age"].isna().sum() == 177
    assert raw["Embarked"].isna().sum() == 2 and raw["Cabin"].isna().sum() == 687
    first = raw.iloc[0]
    assert (first["Name"], first["Sex"], first["Age"], first["Fare"]) == (
        "Braund, Mr. Owen Harris",
        "male",
        22.0,
        7.25,
    )


def test_test_layout_loads_without_survived():
    raw = wb.load_titanic(wb.TEST_CSV)
    assert raw.shape == (418, 11) and "Survived" not in raw
    assert raw["Age"].isna().sum() == 86 and raw["Fare"].isna().sum() == 1


def test_lf_crlf_and_bom_read_the_same(tmp_path):
    crlf = TRAIN_CSV.read_bytes()
    lf = tmp_path / "lf.csv"
    lf.write_bytes(crlf.replace(b"\r\n", b"\n"))
    bom = tmp_path / "bom.csv"
    bom.write_bytes(b"\xef\xbb\xbf" + crlf)
    base = wb.load_titanic()
    for path in (lf, bom):
        other = wb.load_titanic(path)
        assert other.equals(base)


def test_train_csv_saved_with_semicolons_and_decimal_commas_reads_the_same(tmp_path):
    """Kaggle's file as a spreadsheet saves "CSV" where the comma is the decimal mark: fields
    between semicolons, Age 22,5 and Fare 7,25 (names keep their commas, inside quotes)."""
    rows = kaggle_rows()
    at = {name: rows[0].index(name) for name in ("Age", "Fare")}
    european = [rows[0]] + [
        [v.replace(".", ",") if j in at.values() else v for j, v in enumerate(r)] for r in rows[1:]
    ]
    path = tmp_path / "semis.csv"
    with open(path, "w", newline="") as f:
        csv.writer(f, delimiter=";").writerows(european)
    assert ";7,25;" in path.read_text()
    assert wb.load_titanic(path).equals(wb.load_titanic())


def test_extra_and_reordered_columns_are_fine(tmp_path):
    rows = kaggle_rows()
    order = list(reversed(range(len(rows[0]))))
    rows = [[r[i] for i in order] + ["x"] for r in rows]
    rows[0][-1] = "Note"
    raw = wb.load_titanic(write_csv(tmp_path / "rev.csv", rows))
    assert raw["Note"].iloc[0] == "x"
    assert wb.lesson_table(raw).equals(wb.lesson_table())


def test_trailing_blank_lines_are_ignored(tmp_path):
    path = tmp_path / "blank.csv"
    path.write_bytes(TRAIN_CSV.read_bytes() + b"\r\n\r\n")
    assert len(wb.load_titanic(path)) == 891


# (column, data row, bad value, words the message must contain)
BAD_VALUES = [
    ("Age", 5, "twenty", "expected a number"),
    ("Age", 7, "nan", "expected a number"),
    ("Age", 8, "1e400", "expected a number"),
    ("Age", 9, "-3", "cannot be negative"),
    ("Fare", 3, "$7.25", "expected a number"),
    ("Fare", 4, "-1", "cannot be negative"),
    ("SibSp", 10, "one", "expected a whole number"),
    ("Parch", 11, "1.5", "expected a whole number"),
    ("Parch", 12, "", "is empty"),
    ("Pclass", 13, "first", "expected a whole number"),
    ("Pclass", 14, "4", "expected one of 1, 2, 3"),
    ("Survived", 15, "yes", "expected a whole number"),
    ("Survived", 16, "2", "expected one of 0, 1"),
    ("Sex", 17, "Male", "expected one of 'male', 'female'"),
    ("Sex", 18, "", "expected one of 'male', 'female'"),
    ("Embarked", 19, "X", "expected one of 'S', 'C', 'Q' or empty"),
    ("Embarked", 20, "=1+1", "expected one of 'S', 'C', 'Q' or empty"),
    ("PassengerId", 21, "abc", "expected a whole number"),
]


@pytest.mark.parametrize(("column", "row", "value", "words"), BAD_VALUES)
def test_bad_value_names_file_column_and_row(tmp_path, column, row, value, words):
    path = with_value(tmp_path, column, row, value)
    with pytest.raises(wb.DataError) as e:
        wb.load_titanic(path)
    msg = str(e.value)
    assert path in msg and f"column {column!r}" in msg and f"row {row} (line {row + 1})" in msg
    assert words in msg
    assert (e.value.path, e.value.column, e.value.row) == (path, column, row)


def test_first_offending_row_is_reported(tmp_path):
    rows = kaggle_rows()
    age = rows[0].index("Age")
    rows[30][age] = "old"
    rows[12][age] = "young"
    with pytest.raises(wb.DataError, match=r"row 12 \(line 13\) has 'young'"):
        wb.load_titanic(write_csv(tmp_path / "two.csv", rows))


def test_duplicated_passenger_id(tmp_path):
    path = with_value(tmp_path, "PassengerId", 40, "7")
    with pytest.raises(wb.DataError, match=r"row 40 \(line 41\) repeats id 7 of row 7") as e:
        wb.load_titanic(path)
    assert e.value.column == "PassengerId"


@pytest.mark.parametrize("column", ["Age", "Fare", "Embarked", "PassengerId", "Sex"])
def test_missing_column(tmp_path, column):
    rows = kaggle_rows()
    j = rows[0].index(column)
    path = write_csv(tmp_path / "cut.csv", [r[:j] + r[j + 1 :] for r in rows])
    with pytest.raises(wb.DataError, match=f"missing column '{column}'") as e:
        wb.load_titanic(path)
    assert e.value.column == column


def test_ragged_row(tmp_path):
    rows = kaggle_rows()
    rows[25] = rows[25][:-2]
    with pytest.raises(wb.DataError, match=r"row 25 \(line 26\) has 10 fields, the header has 12"):
        wb.load_titanic(write_csv(tmp_path / "ragged.csv", rows))


def test_duplicated_header(tmp_path):
    rows = kaggle_rows()
    rows[0][rows[0].index("Cabin")] = "Age"
    with pytest.raises(wb.DataError, match="names column 'Age' twice"):
        wb.load_titanic(write_csv(tmp_path / "dup.csv", rows))


@pytest.mark.parametrize(
    ("content", "words"),
    [
        (b"", "the file is empty"),
        (b"\r\n \r\n", "the file is empty"),
        (TRAIN_CSV.read_bytes().split(b"\r\n")[0] + b"\r\n", "header but no passenger rows"),
        (b"PassengerId,Age\r\n1,2\r\n", "missing column 'Pclass'"),
        (b"PassengerId\x81,Age\r\n", "line 1 is neither UTF-8 nor Windows-1252 text (byte 0x81"),
        (TRAIN_CSV.read_bytes().replace(b",22,", b",2\x002,", 1), r"row 1 (line 2) has '2\x002'"),
    ],
)
def test_unreadable_files(tmp_path, content, words):
    path = tmp_path / "x.csv"
    path.write_bytes(content)
    with pytest.raises(wb.DataError) as e:
        wb.load_titanic(path)
    assert words in str(e.value)


def test_missing_path_and_folder(tmp_path):
    with pytest.raises(wb.DataError, match="no such file"):
        wb.load_titanic(tmp_path / "nope.csv")
    with pytest.raises(wb.DataError, match="is a folder"):
        wb.load_titanic(tmp_path)


def test_loading_writes_nothing(tmp_path):
    path = with_value(tmp_path, "Age", 3, "??")
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(wb.DataError):
        wb.load_titanic(path)
    assert sorted(p.name for p in tmp_path.iterdir()) == before


# A field is a valid value, a plausible mistake, or junk; headers sometimes lose
# or repeat a column. Whatever comes out, the loader and both table policies must
# either work or raise DataError: never a KeyError, a pandas error, a NaN table.
VALID = ["1", "0", "2", "3", "22", "7.25", "male", "female", "S", "C", "Q", ""]
JUNK = ["x", "-1", "1.5", "nan", "inf", "1e999", "=1+1", '"', "a,b", " ", "\x00", "é", "0x1", "1_0"]
field = st.one_of(st.sampled_from(VALID + JUNK), st.text(max_size=4))
HEADER = kaggle_rows()[0]


@st.composite
def malformed_csv(draw) -> bytes:
    header = list(draw(st.permutations(HEADER)))
    if draw(st.booleans()):
        del header[draw(st.integers(0, len(header) - 1))]
    if draw(st.booleans()):
        header.append(draw(st.sampled_from([*HEADER, "", "Extra"])))
    n = draw(st.integers(0, 6))
    widths = [len(header) + draw(st.sampled_from([0, 0, 0, -1, 1])) for _ in range(n)]
    rows = [[draw(field) for _ in range(width)] for width in widths]
    buf = io.StringIO()
    csv.writer(buf, lineterminator=draw(st.sampled_from(["\n", "\r\n"]))).writerows([header, *rows])
    data = buf.getvalue().encode("utf-8")
    if draw(st.booleans()):
        cut = draw(st.integers(0, len(data)))
        data = data[:cut] + draw(st.binary(max_size=3)) + data[cut:]
    return data


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=malformed_csv())
def test_random_malformed_csv_loads_or_raises_data_error(tmp_path, data):
    path = tmp_path / "random.csv"
    path.write_bytes(data)
    try:
        raw = wb.load_titanic(path)
    except wb.DataError as e:
        assert str(path) in str(e)
        return
    for policy in (wb.lesson_table, wb.prediction_table):
        try:
            table = policy(raw)
        except wb.DataError:
            continue
        assert np.isfinite(table[list(wb.FEATURES)].to_numpy()).all()
