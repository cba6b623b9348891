"""workbench.tabular: read_table, prepare's rules and overrides, its errors, and recipe='lesson'.

Expected numbers are counted here from the CSV with pandas' own reader, not taken from prepare.
"""

from __future__ import annotations

import math
import os

import numpy as np
import pandas as pd
import pytest

import workbench as wb
from workbench.tabular import MAX_LEVELS, prepare, read_table
from workbench.titanic import TRAIN_CSV
from workbench.titanic.split import valid_mask


@pytest.fixture(scope="module")
def titanic():
    return read_table(TRAIN_CSV)


def write(tmp_path, text: str, name: str = "t.csv"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


# read_table


def test_read_table_types_and_missing_markers(tmp_path):
    path = write(tmp_path, "a,b,c\n1,x,NA\n2.5,?,N/A\n,y,nan\n-1,z,unknown\n")
    t = read_table(path, na=["unknown"])
    assert list(t.index) == [1, 2, 3, 4] and t.attrs["source"] == str(path)
    assert t["a"].dtype == np.float64 and t["a"].isna().tolist() == [False, False, True, False]
    assert t["b"].tolist()[:1] == ["x"] and pd.isna(t["b"].iloc[1])
    assert t["c"].isna().all()
    # Excel's #N/A (a lookup that found nothing) and n/a are missing too, as pandas reads them
    excel = read_table(write(tmp_path, "a,b\n1,#N/A\n2,3\n#N/A,n/a\n", "excel.csv"))
    assert excel["a"].isna().tolist() == [False, False, True] and excel["b"].isna().tolist() == [
        True,
        False,
        True,
    ]
    assert excel["b"].dtype == np.float64
    theirs = pd.read_csv(tmp_path / "excel.csv")
    assert theirs.isna().equals(excel.reset_index(drop=True).isna())


def test_infinities_among_numbers_are_missing_and_said(tmp_path):
    """No spreadsheet cell holds inf (R and pandas write it for a time never reached): missing."""
    rows = "".join(f"{k},{k % 3}\n" for k in range(30))
    t = read_table(write(tmp_path, "end,y\n" + rows + "inf,1\n-Infinity,0\n", "inf.csv"))
    assert t["end"].dtype == np.float64 and t["end"].isna().tolist() == [False] * 30 + [True, True]
    assert (
        "'-Infinity', 'inf' as missing in end (no spreadsheet cell holds an infinite number)"
        in (t.attrs["read_as"])
    )
    prep = prepare(t, "y")
    assert "; 2 rows missing a value dropped, as the lesson does (end 2); 30 rows kept" in prep.rows_note
    # A word that is no number stays what it was: a level among few numbers, here
    words = read_table(write(tmp_path, "a,y\n1,0\n2,1\ninfantry,0\n", "w.csv"))
    assert words["a"].dtype == object


def test_read_table_matches_pandas_on_titanic(titanic):
    theirs = pd.read_csv(TRAIN_CSV)
    assert list(titanic.columns) == list(theirs.columns)
    for name in ("Age", "Fare", "Pclass"):
        np.testing.assert_array_equal(titanic[name].to_numpy(), theirs[name].to_numpy(dtype="float64"))
    assert titanic["Ticket"].dtype == object  # 74% numbers but hundreds of words: text


def test_read_table_names_a_stray_word(tmp_path):
    rows = "".join(f"{i},{i * 2}\n" for i in range(30))
    path = write(tmp_path, "a,b\n" + rows + "31,unknown\n")
    with pytest.raises(
        wb.DataError, match=r"t.csv: column 'b', row 31 \(line 32\) has 'unknown'.*na=\['unknown'\]"
    ):
        read_table(path)
    assert read_table(path, na="unknown")["b"].isna().sum() == 1


# The same table as a spreadsheet saves it in other locales and formats: the comma's version is
# what pandas reads with its defaults.
_TABLE = [["name", "x", "y"], ["Ann, the first", "1.5", "A"], ["Bob", "-2", "B"], ["Cy", "", "A"]]


@pytest.mark.parametrize(
    ("separator", "said"),
    [
        (";", "fields separated by semicolons"),
        ("\t", "fields separated by tabs"),
        ("|", "fields separated by bars"),
        (" ", "fields separated by spaces"),
    ],
)
def test_read_table_finds_the_separator_of_the_first_lines(tmp_path, separator, said):
    def text(sep: str) -> str:
        quoted = [[f'"{v}"' if "," in v or not v else v for v in row] for row in _TABLE]
        return "".join(sep.join(row) + "\n" for row in quoted)

    ours = read_table(write(tmp_path, text(separator), "other.csv"))
    theirs = pd.read_csv(write(tmp_path, text(","), "commas.csv"))
    assert list(ours.columns) == list(theirs.columns)
    assert ours["name"].tolist() == theirs["name"].tolist()  # the quoted comma stays in its field
    np.testing.assert_array_equal(ours["x"].to_numpy(), theirs["x"].to_numpy(dtype="float64"))
    assert ours.attrs["read_as"] == said
    assert read_table(write(tmp_path, text(","), "commas.csv")).attrs["read_as"] == ""


def test_read_table_reads_decimal_commas_only_where_semicolons_separate(tmp_path):
    semis = read_table(write(tmp_path, "a;b;c;d\n1,5;2;x,y;1.5\n-0,25;3;z;2,5\n", "semis.csv"))
    np.testing.assert_array_equal(semis["a"].to_numpy(), [1.5, -0.25])
    assert semis["b"].dtype == np.float64
    assert semis["c"].tolist() == ["x,y", "z"]  # not numbers with a comma: text
    np.testing.assert_array_equal(semis["d"].to_numpy(), [1.5, 2.5])  # a point is a decimal mark too
    assert semis.attrs["read_as"] == "fields separated by semicolons; decimal commas in a, d"
    commas = read_table(write(tmp_path, 'a,b\n"1,5",2\n"2,5",3\n', "commas.csv"))
    assert commas["a"].tolist() == ["1,5", "2,5"]  # in a comma-separated file "1,5" is not a number


def test_read_table_keeps_commas_when_another_separator_splits_only_the_header(tmp_path):
    """A comma file whose header has a semicolon inside quotes: the semicolon splits the header
    alone, the comma every line alike."""
    path = write(tmp_path, 'id,"a;b"\n1,2\n3,4\n')
    t = read_table(path)
    assert list(t.columns) == ["id", "a;b"] and t.attrs["read_as"] == ""


def test_read_table_finds_the_separator_of_a_header_longer_than_what_it_looks_at(tmp_path):
    from workbench.csv_files import SNIFF_BYTES

    names = [f"column_{i}" for i in range(SNIFF_BYTES // 8)]
    path = write(tmp_path, ";".join(names) + "\n" + ";".join("1" for _ in names) + "\n")
    assert len(";".join(names)) > SNIFF_BYTES
    t = read_table(path)
    assert list(t.columns) == names and t.attrs["read_as"] == "fields separated by semicolons"


def test_read_table_takes_a_run_of_spaces_as_one_separator(tmp_path):
    """Columns aligned with spaces, as older data files and R's write.table write them (statsmodels'
    spector.csv: names in apostrophes)."""
    text = "'OBS'  'GPA' 'GRADE'\n  1   2.66     0\n 10   3.1      1  \n"
    t = read_table(write(tmp_path, text))
    assert list(t.columns) == ["OBS", "GPA", "GRADE"] and t.attrs["read_as"] == "fields separated by spaces"
    np.testing.assert_array_equal(t.to_numpy(), [[1, 2.66, 0], [10, 3.1, 1]])


@pytest.mark.parametrize("end", ["6.2\x1a\n", "6.2\n\x1a", "6.2\r\n\x1a\r\n"])
@pytest.mark.parametrize("separator", [",", ";"])
def test_read_table_ignores_the_dos_end_of_file_mark(tmp_path, end, separator):
    text = f"country,netinc\nChile,1.5\nBahamas,{end}".replace(",", separator)
    t = read_table(write(tmp_path, text))
    np.testing.assert_array_equal(t["netinc"].to_numpy(), [1.5, 6.2])


def test_different_whole_numbers_are_an_identifier_only_when_they_number_the_rows():
    """PassengerId-like numberings (1 to n shuffled; a sorted subset of 1 to 3n, as R's row names of
    a subset) are left out; counts in whole units, each different but spread wide and going up and
    down (prison counts over 48 quarters), are numbers."""
    rng = np.random.default_rng(7)
    n = 48
    frame = pd.DataFrame({
        "shuffled": rng.permutation(n) + 1,
        "subset": np.sort(rng.choice(3 * n, n, replace=False)) + 1,
        "counts": rng.choice(np.arange(2000, 4000), n, replace=False),
    })  # fmt: skip
    frame["y"] = frame.counts / 1000 + rng.normal(size=n)
    prep = prepare(frame, "y")
    assert {x.column: x.why for x in prep.left_out} == {"shuffled": "identifier", "subset": "identifier"}
    assert "counts_N" in prep.feature_names


def test_read_table_unquotes_a_header_quoted_with_apostrophes(tmp_path):
    t = read_table(write(tmp_path, "'age'\t'vote'\n36\t1\n20\t0\n"))
    assert list(t.columns) == ["age", "vote"]
    one = read_table(write(tmp_path, "'age',vote\n36,1\n", "one.csv"))
    assert list(one.columns) == ["'age'", "vote"]  # not every name quoted: the names as written


def test_the_memory_estimate_counts_the_files_own_separator(tmp_path):
    """The first pass bounds the fields by counting separators: semicolons in a semicolon file."""
    from workbench.csv_files import _count, read_csv

    path = write(tmp_path, "a;b;c\n" + "1;2;3\n" * 1000)
    with open(path, "rb") as raw:
        rows, fields, _ = _count(raw, ";")
    assert rows >= 1001 and fields >= 3 * 1001
    assert read_csv(path, rows_are="rows").separator == ";"


def test_a_few_words_among_a_categorys_numbers_are_levels_of_it(tmp_path):
    """Cylinders 3 to 8 and 'rotary' (MASS's Cars93): at most MAX_LEVELS values, so a category."""
    cylinders = ["4", "6", "4", "8", "rotary"] + ["4", "6"] * 20
    path = write(tmp_path, "Cylinders,y\n" + "".join(f"{c},{i}\n" for i, c in enumerate(cylinders)))
    t = read_table(path)
    assert t["Cylinders"].tolist() == cylinders  # as written: text levels
    assert "Cylinders as categories, 'rotary' a level among its numbers" in t.attrs["read_as"]
    assert "na=['rotary']" in t.attrs["read_as"]
    assert t["y"].dtype == np.float64


def test_a_few_words_among_many_numbers_are_refused_naming_every_way_out(tmp_path):
    """Galton's family numbers, 1 to 205, with '136A' here and there: an identifier. Each way out the
    message names works."""
    families = [str(i) for i in range(1, 60)] * 2 + ["136A"]
    path = write(tmp_path, "family,y\n" + "".join(f"{f},{i % 7}\n" for i, f in enumerate(families)))
    with pytest.raises(wb.DataError) as e:
        read_table(path)
    said = str(e.value)
    assert "column 'family', row 119 (line 120) has '136A' where 118 of its 119 values are numbers" in said
    assert "na=['136A']" in said and "drop=['family']" in said and "category=['family']" in said
    assert read_table(path, na=["136A"])["family"].isna().sum() == 1
    assert read_table(path, text=["family"])["family"].tolist() == families
    as_levels = read_table(path, category=["family", "y"])
    assert as_levels["family"].tolist() == families
    assert as_levels["y"].dtype == np.float64  # numbers alone stay numbers
    frame = pd.DataFrame(
        {"family": families, "x": range(len(families)), "y": [i % 7 for i in range(len(families))]}
    )
    assert "family" not in prepare(frame, "y", drop=["family"]).table  # from a DataFrame too
    with pytest.raises(wb.DataError, match="'136A'"):
        prepare(frame, "y")


@pytest.mark.parametrize("bad", ["folder", "fifo", "empty", "header"])
def test_read_table_refuses_what_is_not_a_table(tmp_path, bad):
    path = tmp_path / "x.csv"
    if bad == "folder":
        path.mkdir()
    elif bad == "fifo":
        os.mkfifo(path)
    else:
        path.write_text("" if bad == "empty" else "a,b\n")
    with pytest.raises(wb.DataError, match=r"x.csv: "):
        read_table(path)


# recipe="lesson"


def test_lesson_recipe_is_the_lesson_table(titanic):
    prep = prepare(titanic, "Survived", recipe="lesson")
    expected = wb.lesson_table()
    pd.testing.assert_frame_equal(prep.table, expected, check_exact=True)
    assert prep.feature_names == wb.FEATURES and len(prep.table) == 712
    for name in wb.FEATURES:
        assert math.isclose(prep.table[name].sum(), math.fsum(expected[name]), rel_tol=0, abs_tol=1e-12)
    assert {f.name: f.baseline for f in prep.features if f.kind == "dummy"} == {
        "Pclass_1": 3, "Pclass_2": 3, "Embark_S": "Q", "Embark_C": "Q", "Male": "female",
    }  # fmt: skip
    age = next(f for f in prep.features if f.name == "Age_N")
    assert age.excel == "={col}/{max_col}" and age.scale == 80.0
    for f in prep.features:  # the records' pandas computations give the table
        np.testing.assert_array_equal(np.broadcast_to(f.python(prep.raw), (712,)), prep.table[f.name])
    assert prepare(wb.load_titanic(), "Survived", recipe="lesson").table.equals(expected)


def test_lesson_recipe_refuses_other_choices(titanic):
    with pytest.raises(wb.WorkbenchError, match="recipe='lesson' is fixed"):
        prepare(titanic, "Survived", recipe="lesson", missing="fill")
    with pytest.raises(wb.WorkbenchError, match="whose target is 'Survived'"):
        prepare(titanic, "Fare", recipe="lesson")
    with pytest.raises(wb.DataError, match=r"column 'Sex', row 2 has 'MALE'"):
        prepare(
            titanic.assign(Sex=titanic["Sex"].where(titanic.index != 2, "MALE")), "Survived", recipe="lesson"
        )


# recipe="auto" on Titanic


def test_auto_titanic_leaves_out_ids_free_text_and_cabin(titanic):
    prep = prepare(titanic, "Survived")
    why = {c.column: c.why for c in prep.left_out}
    assert why == {
        "PassengerId": "identifier",
        "Name": "free text",
        "Ticket": "free text",
        "Cabin": "mostly missing",
    }
    theirs = pd.read_csv(TRAIN_CSV)
    assert len(prep.table) == len(theirs.dropna(subset=["Age", "Embarked"])) == 712
    fare = next(f for f in prep.features if f.source == "Fare")
    assert fare.kind == "log_scaled" and "long-tailed (max 512.3 is 32.7x its median 15.65" in fare.reason
    np.testing.assert_allclose(
        prep.table[fare.name],
        np.log10(prep.raw["Fare"] + 1) / np.log10(prep.raw["Fare"].max() + 1),
        rtol=1e-15,
    )
    embarked = [f for f in prep.features if f.source == "Embarked"]
    assert [f.name for f in embarked] == ["Embarked_C", "Embarked_Q"] and embarked[0].baseline == "S"
    assert prep.feature_names[-1] == "Ones" and (prep.table["Ones"] == 1).all()
    text = prep.explain()
    assert "left out 'Cabin': missing on 687 of 891 rows (77%" in text


def test_overrides_numeric_log_category_drop(titanic):
    prep = prepare(
        titanic, "Survived", numeric=["SibSp", "Parch"], log="Age", category=["Pclass"], drop="Sex"
    )
    kind = {f.name: f.kind for f in prep.features}
    assert kind["SibSp_N"] == kind["Parch_N"] == "scaled" and kind["log_Age_N"] == "log_scaled"
    assert not any(f.source == "Sex" for f in prep.features)
    assert ("Sex", "drop") in [(c.column, c.why) for c in prep.left_out]
    np.testing.assert_allclose(prep.table["SibSp_N"], prep.raw["SibSp"] / prep.raw["SibSp"].max(), rtol=1e-15)


def test_fill_titanic_uses_medians_of_the_train_rows(titanic):
    prep = prepare(titanic, "Survived", missing="fill")
    assert len(prep.table) == 891 and not prep.table.isna().any().any()
    age = next(f for f in prep.features if f.source == "Age")
    train = pd.read_csv(TRAIN_CSV)["Age"][~valid_mask(891)]  # the valid rows are never looked at
    assert age.fill == train.median() and age.scale == train.max()
    assert age.scale == 74 < pd.read_csv(TRAIN_CSV)["Age"].max()  # the oldest passenger (80) is a valid row
    assert age.excel == '=IF({col}="",{fill_col},{col})/{max_col}' and age.fill_excel == "=MEDIAN({range})"
    assert prep.table[age.name].iloc[5] == train.median() / train.max()  # row 6, Mr Moran, has no age


# errors


def test_target_errors(titanic):
    with pytest.raises(wb.DataError, match=r"train.csv: no column 'survived' to predict \(target=\)"):
        prepare(titanic, "survived")
    with pytest.raises(wb.DataError, match=r"target column 'Embarked' is text with 3 values \('S' \(644\)"):
        prepare(titanic, "Embarked")
    with pytest.raises(wb.DataError, match="target column 'Pclass' holds 3 on every row"):
        prepare(titanic[titanic["Pclass"] == 3], "Pclass")


def test_too_few_rows_suggests_fill(titanic):
    i = np.arange(40)  # each column misses fewer than half its values, together 36 of 40
    few = titanic.iloc[:40].assign(
        Age=np.where(i < 18, np.nan, i), Fare=np.where((i >= 18) & (i < 36), np.nan, i)
    )
    with pytest.raises(
        wb.DataError,
        match=r"too few rows: .*\(Age 18, Fare 18\); 4 rows kept.* missing='fill' .* drop=\['Age', 'Fare'\]",
    ):
        prepare(few, "Survived")
    assert len(prepare(few, "Survived", missing="fill").table) == 40


def test_too_many_levels_and_features(titanic):
    # Name, forced to a category, makes a dummy per passenger: more than a fit of 712 rows takes
    with pytest.raises(wb.DataError, match=r"for 712 rows; .* leave out 1 column, e.g. drop=\['Name'\]"):
        prepare(titanic, "Survived", category=["Name"])
    deck = titanic.assign(Deck=titanic["Ticket"].str[:2])
    kept = deck.dropna(subset=["Age", "Embarked"])["Deck"]
    train = kept[~valid_mask(len(kept))]
    assert train.nunique() > MAX_LEVELS
    prep = prepare(deck, "Survived")
    made = [f for f in prep.features if f.source == "Deck"]
    top = train.value_counts().sort_index().sort_values(ascending=False, kind="stable").index[:9]
    assert [f.level for f in made[:-1]] == sorted(top[1:])
    assert made[-1].name == "Deck_other" and made[-1].kept == tuple(top)
    assert prep.table["Deck_other"].sum() == (~kept.isin(top)).sum()


def test_the_budget_shrinks_the_widest_categories_evenly():
    rng = np.random.default_rng(3)
    # 60 rows take 30 features: 4 categories of 10 levels (9 dummies each) must shrink
    frame = pd.DataFrame({f"c{j}": rng.choice(list("abcdefghij"), 60) for j in range(4)})
    frame["n"] = rng.integers(0, 8, 60)  # whole numbers with 8 levels: 7 dummies, or one number
    frame["y"] = rng.normal(size=60)
    prep = prepare(frame, "y")
    assert len(prep.features) == 30
    per = pd.Series([f.source for f in prep.features if f.source]).value_counts()
    n = next(f for f in prep.features if f.source == "n")
    assert per["n"] == 1 and "taken as a number, not 7 dummies" in n.reason
    assert sorted(per.drop("n")) == [7, 7, 7, 7]  # 29 - 1 shared out: no category cut to the bone
    assert all("a fit of 60 rows takes at most 30 features" in f.reason for f in prep.features[:-1])


def test_a_table_too_wide_for_its_rows_leaves_out_the_columns_that_explain_least():
    """20 numbers and Ones are 21 features; 30 rows take 15: the six columns whose best rising or
    falling curve (isotonic regression, scikit-learn's) explains least of y on the train rows go."""
    isotonic = pytest.importorskip("sklearn.isotonic")
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.normal(size=(30, 20)), columns=[f"x{j}" for j in range(20)])
    frame["y"] = frame.x3 + rng.normal(size=30)
    prep = prepare(frame, "y")
    train = frame[~valid_mask(30)]

    def share(x):
        fits = [isotonic.IsotonicRegression(increasing=up).fit(x, train.y).predict(x) for up in (True, False)]
        return max(1 - np.sum((train.y - f) ** 2) / np.sum((train.y - train.y.mean()) ** 2) for f in fits)

    shares = {c: share(train[c]) for c in frame.columns[:20]}
    least = sorted(shares, key=shares.get)[:6]
    assert [x.column for x in prep.left_out if x.why == "budget"] == sorted(least, key=frame.columns.get_loc)
    assert len(prep.features) == 15 and "x3_N" in prep.feature_names
    said = next(x.reason for x in prep.left_out if x.column == least[0])
    assert said.startswith(f"alone it explains {shares[least[0]]:.1%} of 'y' on the train rows")
    assert "a fit of 30 rows takes at most 15 features" in said and "numeric=['" in said


def test_a_table_too_wide_for_its_rows_by_the_users_own_choices_names_every_column_to_leave_out():
    rng = np.random.default_rng(4)
    frame = pd.DataFrame(rng.normal(size=(30, 20)), columns=[f"x{j}" for j in range(20)])
    frame["y"] = rng.normal(size=30)
    with pytest.raises(wb.DataError, match=r"21 features .* for 30 rows; .* leave out 6 columns, e.g. drop="):
        prepare(frame, "y", numeric=list(frame.columns[:20]))


def test_bad_options(titanic):
    with pytest.raises(wb.WorkbenchError, match="'Age' is in both log= and numeric="):
        prepare(titanic, "Survived", log=["Age"], numeric=["Age"])
    with pytest.raises(wb.WorkbenchError, match="drop= names 'Nope'"):
        prepare(titanic, "Survived", drop=["Nope"])
    with pytest.raises(wb.WorkbenchError, match="drop= names the target"):
        prepare(titanic, "Survived", drop=["Survived"])
    with pytest.raises(wb.WorkbenchError, match="read_table"):
        prepare(str(TRAIN_CSV), "Survived")
    with pytest.raises(wb.WorkbenchError, match="missing must be"):
        prepare(titanic, "Survived", missing="zero")
    with pytest.raises(wb.DataError, match="log= names 'x', which has negative values"):
        prepare(pd.DataFrame({"x": np.arange(-5.0, 15), "y": np.arange(20.0)}), "y", log="x")


# leaks: a column that alone predicts the target


def _weather(n: int = 300, seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    precip = np.where(rng.random(n) < 0.6, 0.0, rng.exponential(5, n).round(1) + 0.1)
    frame = pd.DataFrame({"temp": rng.normal(15, 5, n).round(1), "precip": precip})
    frame["rain"] = np.where(precip > 0, "Yes", "No")  # rain is a function of precip: a leak
    return frame


def test_a_column_computed_from_the_target_is_left_out_with_a_warning():
    frame = _weather()
    prep = prepare(frame, "rain")
    leak = {c.column: c for c in prep.left_out}["precip"]
    assert leak.why == "leak" and leak.reason.startswith("warning: alone it explains 100.0% of 'rain'")
    assert "keep_leak=['precip']" in leak.reason and "precip" not in prep.raw
    assert "left out 'precip': warning:" in prep.explain()
    kept = prepare(frame, "rain", keep_leak=["precip"])
    assert "precip" in kept.raw and not any(c.why == "leak" for c in kept.left_out)


def test_a_monotone_function_of_a_numeric_target_is_a_leak_and_a_noisy_predictor_is_not():
    rng = np.random.default_rng(1)
    wage = np.exp(rng.normal(4.5, 0.4, 200))
    frame = pd.DataFrame({"wage": wage, "logwage": np.log(wage), "age": rng.integers(18, 65, 200)})
    frame["hours"] = wage / 20 + rng.normal(0, 2, 200)  # strongly related, but not a function of wage
    prep = prepare(frame, "wage")
    assert [c.column for c in prep.left_out if c.why == "leak"] == ["logwage"]
    # the share is computed here by hand: a monotone curve through logwage is wage itself
    train = ~valid_mask(200)
    x, y = frame["hours"].to_numpy()[train], wage[train]
    line = np.polyval(np.polyfit(x, y, 1), x)
    assert 1 - np.sum((y - line) ** 2) / np.sum((y - y.mean()) ** 2) < 0.98  # hours is no leak


def test_a_category_whose_levels_give_the_target_is_a_leak_and_small_tables_are_not_judged():
    rng = np.random.default_rng(2)
    survived = rng.integers(0, 2, 100)
    boat = np.where(survived == 1, rng.choice(["7", "13", "C"], 100), None)  # a lifeboat: only survivors
    frame = pd.DataFrame({"age": rng.uniform(1, 80, 100), "boat": boat, "survived": survived})
    prep = prepare(frame, "survived", category=["boat"], missing="fill")
    assert {c.column: c.why for c in prep.left_out}["boat"] == "leak"
    few = prepare(frame.iloc[:20], "survived", category=["boat"], missing="fill")  # 16 train rows
    assert not any(c.why == "leak" for c in few.left_out)


def test_what_the_train_rows_cannot_tell_apart_is_left_out():
    rng = np.random.default_rng(5)
    n = 200
    garage = rng.choice(["attached", "detached", "none"], n, p=[0.6, 0.3, 0.1])
    frame = pd.DataFrame(
        {
            "garage_type": garage,
            # "No_Garage" in a second column on exactly the same rows: its dummy duplicates the first's
            "garage_finish": np.where(garage == "none", "none", rng.choice(["fin", "unf"], n)),
            "a": rng.uniform(1, 2, n),
            "b": rng.uniform(1, 2, n),
        }
    )
    frame["total"] = frame.a + frame.b  # scaled by one maximum each: still a sum of the other two
    frame["price"] = 3 * frame.a - frame.b + (garage == "none") + rng.normal(0, 0.1, n)
    prep = prepare(frame, "price")
    out = {c.column: c.reason for c in prep.left_out if c.why == "duplicate"}
    assert out["garage_finish_none"].startswith("it equals garage_type_none on every train row")
    assert len(out) == 2 and next(k for k in out if k != "garage_finish_none") in ("total_N", "b_N", "a_N")
    x = prep.X[~prep.valid]
    assert np.linalg.matrix_rank(x) == x.shape[1]  # what is left has full rank on the train rows


# what a spreadsheet cannot tell apart, or tells apart differently


def test_text_levels_are_compared_exactly(tmp_path):
    """'a' and 'A' are two levels, as pandas' == says; the formulas compare with EXACT, not = (which
    ignores case in every spreadsheet), and the tests' evaluator agrees with pandas on every row."""
    from tabular_excel import evaluate

    rows = ["a", "A", "b", "a", "A", "a", "b", "A", "a", "b", "A", "a"]
    path = write(tmp_path, "c,t\n" + "".join(f"{c},{t}\n" for c, t in zip(rows, "YyYyyYYyyYyY", strict=True)))
    prep = prepare(read_table(path), "t")
    assert prep.target.mapping == (("Y", 0), ("y", 1)) and prep.target.excel == '=IF(EXACT({col},"y"),1,0)'
    dummies = {f.level: f for f in prep.features if f.kind == "dummy"}
    train = [c for c, valid in zip(rows, prep.valid, strict=True) if not valid]
    baseline = max(sorted(set(train)), key=train.count)  # the train rows' most common (ties: first)
    assert set(dummies) == {"a", "A", "b"} - {baseline}
    f = next(iter(dummies.values()))
    assert f.excel == f'=IF(EXACT({{col}},"{f.level}"),1,0)'
    for level, f in dummies.items():
        assert [evaluate(f.excel, col=c) for c in rows] == [int(c == level) for c in rows]
    assert evaluate(f.excel) == 0  # a blank cell is no level


def test_long_text_levels_are_joined_from_short_constants():
    """Excel refuses a text constant over 255 characters: a longer level is joined from pieces."""
    import re

    from workbench.tabular.columns import excel_literal

    level = 'say "hi" ' * 40 + "\N{GRINNING FACE}" * 30
    literal = excel_literal(level)
    pieces = re.findall(r'"((?:[^"]|"")*)"', literal)
    assert "&".join(f'"{p}"' for p in pieces) == literal
    assert "".join(p.replace('""', '"') for p in pieces) == level
    assert max(len(p.replace('""', '"').encode("utf-16-le")) // 2 for p in pieces) <= 255
    assert excel_literal("") == '""' and excel_literal(3.0) == "3" and excel_literal(-0.5) == "-0.5"
    assert excel_literal("a\tb\n") == '"a"&CHAR(9)&"b"&CHAR(10)'  # XML keeps no control character as is


def test_accents_typed_two_ways_are_one_level(tmp_path):
    """é as one character and as e plus a combining accent: Gnumeric's EXACT takes them for one
    text, so the reader does too (Unicode NFC)."""
    composed, combined = "\N{LATIN SMALL LETTER E WITH ACUTE}", "e\N{COMBINING ACUTE ACCENT}"
    path = write(
        tmp_path, "a,y\n" + "".join(f"{v},{i}\n" for i, v in enumerate([composed, combined, "e"] * 4))
    )
    column = read_table(path)["a"]
    assert column.tolist() == [composed, composed, "e"] * 4
    prep = prepare(read_table(path), "y")
    assert [f.level for f in prep.features if f.kind == "dummy"] == ["e"]  # é (8 rows) is the baseline


def test_numbers_a_formula_compares_are_read_as_a_cell_keeps_them():
    """An .xlsx cell keeps 16 significant digits: two whole numbers differing in the 17th are one
    level, and the formula's literal is written as the cell is."""
    big, bigger = 1234567890123456768.0, 1234567890123456512.0
    assert big != bigger and f"{big:.16g}" == f"{bigger:.16g}"
    frame = pd.DataFrame({"w": [big, bigger, 3.0, 3.0, 3.0] + [0.0] * 5, "y": np.arange(10.0)})
    prep = prepare(frame, "y")
    dummies = [f for f in prep.features if f.kind == "dummy"]
    assert len(dummies) == 2 and prep.raw["w"].nunique() == 3
    one = next(f for f in dummies if f.level > 10)
    assert one.level == float(f"{big:.16g}") and one.excel == "=IF({col}=1.234567890123457E+18,1,0)"
    assert prep.table[one.name].tolist() == [1.0, 1.0] + [0.0] * 8


def test_booleans_are_numbers_and_dates_are_left_out():
    """A DataFrame's booleans are 0 and 1 (a dummy); its dates and times are left out with the reason,
    and named as the target or in an option they are an error."""
    n = 20
    frame = pd.DataFrame(
        {
            "b": np.arange(n) % 3 == 0,
            "when": pd.date_range("2020-01-01", periods=n, freq="D"),
            "took": pd.to_timedelta(np.arange(n) % 4, "h"),
            "x": np.linspace(-1, 2, n),
            "y": np.arange(n) % 2 == 0,
        }
    )
    prep = prepare(frame, "y")
    b = next(f for f in prep.features if f.source == "b")
    assert (b.kind, b.level, b.baseline) == ("dummy", 1.0, 0.0)
    assert prep.table["b_1"].tolist() == (np.arange(n) % 3 == 0).astype(float).tolist()
    assert prep.y.tolist() == (np.arange(n) % 2 == 0).astype(float).tolist()
    assert [(c.column, c.why) for c in prep.left_out] == [("when", "dates"), ("took", "dates")]
    assert "differs between programs" in prep.left_out[0].reason
    assert [c.column for c in prepare(frame, "y", drop=["when"]).left_out] == ["when", "took"]
    assert prepare(frame, "y", drop=["when"]).left_out[0].why == "drop"
    for options, what in (({"category": ["when"]}, "category="), ({}, "target=")):
        with pytest.raises(wb.WorkbenchError, match=rf"{what} names 'when', which holds datetime64"):
            prepare(frame, "when" if what == "target=" else "y", **options)


def test_braces_in_text_are_text_not_placeholders(tmp_path):
    """A level or a target value with { or } (a template's own marks) is written into the formula as it is."""
    rows = "".join(
        f"{s},{t},{i}\n"
        for i, (s, t) in enumerate(zip(["{x}", "a}", "{col}", "b"] * 4, ["{a}", "b}"] * 8, strict=True))
    )
    prep = prepare(read_table(write(tmp_path, "s,t,x\n" + rows)), "t")
    assert prep.target.excel.format(col="B8") == '=IF(EXACT(B8,"{a}"),1,0)'
    formulas = {f.level: f.formula({"col": "C8"}) for f in prep.features if f.kind == "dummy"}
    # 'a}', first in order of four levels as common, is the baseline
    assert formulas == {level: f'=IF(EXACT(C8,"{level}"),1,0)' for level in ("b", "{col}", "{x}")}


@pytest.mark.parametrize(
    "texts",
    [
        ["1.5", "-2", "3e2", ".5", "+4", "NA", ""],  # numbers and missing markers: a number column
        ["1.5", "1_000", "3"],  # float() reads 1_000; a CSV number is plainer: text
        ["1", "inf", "2"],  # inf among numbers: missing (no spreadsheet cell holds it)
        ["1", "nan", "2"],
        ["1", "1e400", "2"],  # too big for a float
        ["1", "0x10", "2"],
        ["7", "seven", "8", "9", "10", "11", "12", "13", "14", "15"],
    ],
)
def test_a_column_is_numbers_exactly_when_each_value_reads_as_a_plain_finite_number(texts):
    """The whole column read at once (numpy) types it as reading value by value (to_float) would."""
    from workbench.csv_files import to_float
    from workbench.errors import DataError
    from workbench.tabular.read import MISSING, typed_column

    infinite = [t for t in texts if t.lower() in ("inf", "-inf", "infinity")]
    present = [t for t in texts if t not in MISSING and t not in infinite]
    each = [to_float(t) for t in present]
    index = pd.RangeIndex(1, len(texts) + 1)
    try:
        got = typed_column(texts, "c", frozenset(MISSING), source=None, index=index)
    except DataError:  # a word among numbers: refused, and then not every value was a number
        assert None in each
        return
    if None in each:
        assert got.dtype == object
    else:
        assert got.dtype == "float64"
        assert got.dropna().tolist() == each
        assert got.isna().sum() == len(texts) - len(present)


@pytest.mark.parametrize(
    "day",
    [
        lambda d: d.isoformat(),  # 2021-01-01
        lambda d: f"{d.isoformat()} 13:05:00",
        lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",  # 01.01.2021
        lambda d: f"{d.month}/{d.day}/{d.year % 100:02d}",  # 1/1/21
    ],
)
def test_dates_are_left_out_as_dates_not_free_text(day):
    import datetime

    first = datetime.date(2021, 1, 1)
    n = 60
    rng = np.random.default_rng(0)
    frame = pd.DataFrame(
        {
            "when": [day(first + datetime.timedelta(days=k // 3)) for k in range(n)],  # 20 days, 3 rows each
            "temp": rng.normal(10, 5, n),
        }
    )
    frame["sales"] = 3 * frame.temp + rng.normal(0, 10, n)  # no leak: temp explains some of it
    prep = prepare(frame, "sales")
    gone = {c.column: c for c in prep.left_out}
    # 20 levels on 60 rows: no free text by the share of different values, but dates all the same
    assert gone["when"].why == "dates" and "20 different, such as" in gone["when"].reason
    assert f"{day(first)!r}" in gone["when"].reason and "--category" not in gone["when"].reason
    assert [f.source for f in prep.features] == ["temp", None]  # scaled temp, then Ones
    # A column of codes that merely look a little like dates is still what it was.
    codes = frame.assign(when=[f"A-{k % 20:02d}" for k in range(n)])
    assert "when" not in {c.column for c in prepare(codes, "sales").left_out}  # a category
