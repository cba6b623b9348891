"""fit_prepared: the workbook's fits of a prepared table, on its train rows only; the pandas lines."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.special import expit  # the sigmoid, without overflow

import workbench as wb
from workbench.tabular import prepare, read_table
from workbench.tabular.fit import fit_prepared

palmerpenguins = pytest.importorskip("palmerpenguins")
PENGUINS_CSV = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


@pytest.fixture(scope="module")
def penguins():
    return prepare(read_table(PENGUINS_CSV), "sex")


def test_linear_is_the_least_squares_optimum_of_the_train_rows(penguins):
    valid = np.zeros(len(penguins.table), dtype=bool)
    valid[::4] = True
    fits = fit_prepared(penguins, valid=valid)
    x, y = penguins.X[~valid], penguins.y[~valid]
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    assert np.allclose(fits["linear"].params, w, rtol=1e-9, atol=1e-12)
    assert fits["linear"].train_loss == pytest.approx(np.mean((x @ w - y) ** 2), rel=1e-12)


def test_the_valid_rows_never_reach_a_fit(penguins):
    valid = np.zeros(len(penguins.table), dtype=bool)
    valid[1::5] = True
    flipped = pd.DataFrame(penguins.table, copy=True)
    flipped.loc[valid, "sex"] = 1 - flipped.loc[valid, "sex"]
    other = type(penguins)(**{**vars(penguins), "table": flipped})
    a, b = fit_prepared(penguins, valid=valid), fit_prepared(other, valid=valid)
    for sheet in a:
        assert np.array_equal(a[sheet].params, b[sheet].params), sheet


def test_each_fit_is_seeded_and_goes_downhill_from_its_start(penguins):
    one, two = fit_prepared(penguins, seed=3), fit_prepared(penguins, seed=3)
    train = ~wb.titanic.split.valid_mask(len(penguins.table))
    x, y = penguins.X[train], penguins.y[train]
    for sheet in ("nnet", "sigmoid"):
        assert np.array_equal(one[sheet].params, two[sheet].params)
        start = one[sheet].start
        if sheet == "nnet":
            begin = np.mean((np.maximum(x @ start.T, 0).sum(1) - y) ** 2)
            end = np.mean((np.maximum(x @ one[sheet].params.T, 0).sum(1) - y) ** 2)
        else:
            begin = np.mean((expit(x @ start) - y) ** 2)
            end = np.mean((expit(x @ one[sheet].params) - y) ** 2)
        assert end < begin and end == pytest.approx(one[sheet].train_loss, rel=1e-9)
    assert one["nnet"].train_loss < one["linear"].train_loss  # the net, fitted, beats the plane here


def test_a_numeric_target_has_no_sigmoid_fit():
    prep = prepare(read_table(PENGUINS_CSV), "body_mass_g")
    assert set(fit_prepared(prep)) == {"linear", "nnet"}


@pytest.mark.parametrize(
    "recipe", [("auto", "sex", "drop"), ("auto", "body_mass_g", "fill"), ("lesson", "Survived", "drop")]
)
def test_every_pandas_line_computes_its_column(recipe):
    kind, target, missing = recipe
    path = wb.TRAIN_CSV if kind == "lesson" else PENGUINS_CSV
    prep = prepare(read_table(path), target, recipe=kind, missing=missing)
    for record in (prep.target, *prep.features):
        train = np.ones(len(prep.raw), bool) if prep.valid is None else ~prep.valid
        got = eval(record.pandas, {"df": prep.raw, "np": np, "train": train})
        want = prep.table[record.name].to_numpy()
        assert np.allclose(np.broadcast_to(got, want.shape), want, rtol=1e-15, atol=0), record.pandas


def test_a_near_tie_gets_no_weights_of_1e17():
    rng = np.random.default_rng(6)
    frame = pd.DataFrame({"a": rng.normal(size=120), "b": rng.normal(size=120)})
    frame["c"] = frame.a - frame.b + 1e-13 * rng.normal(size=120)  # independent only by rounding noise
    frame["y"] = frame.a + rng.normal(0, 0.1, 120)
    prep = prepare(frame, "y")
    fit = fit_prepared(prep, seed=0)["linear"]
    assert np.abs(fit.params).max() < 1e3
    # the floor, computed here with numpy's own cutoff on the train rows
    x, y = prep.X[~prep.valid], prep.y[~prep.valid]
    w = np.linalg.lstsq(x, y, rcond=None)[0]
    assert fit.train_loss == pytest.approx(np.mean((x @ w - y) ** 2), rel=1e-9)
