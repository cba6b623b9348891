"""The net's exact minima (workbench.titanic.patterns) and the default search that uses them.

Checked independently of the code under test: the pattern's quadratic program against
scipy's SLSQP solver, local optimality by probing the loss in random directions (numpy),
and every loss recomputed from the parameters with numpy.
"""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize
from small_book import INPUTS

import workbench as wb
from workbench.titanic import patterns

#: The lowest loss the previous searches knew: 16,384 random starts, gd, Gauss-Newton, L-BFGS.
BEST_BEFORE = 0.1289333490


@pytest.fixture(scope="module")
def data(table):
    return table[INPUTS].to_numpy(dtype=float), table["Survived"].to_numpy(dtype=float)


@pytest.fixture(scope="module")
def near_minimum(table):
    """A net from gd and Gauss-Newton steps: close to a minimum, not on it."""
    return wb.fit("nnet", table, method="gd", epochs=20, starts=16, gauss_newton=5, polish=0, seed=3).params


def mse(w: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    return float(np.mean((np.maximum(x @ w[0], 0) + np.maximum(x @ w[1], 0) - y) ** 2))


def test_the_patterns_quadratic_program_agrees_with_scipys_solver(data, near_minimum):
    x, y = data
    on = patterns.active(near_minimum, x)
    w, bound, multipliers = patterns.pattern_minimum(on, near_minimum, x, y)
    sign = np.where(on, 1.0, -1.0)
    keep = np.zeros((2 * len(x), 20))  # sign * x_i . w_k >= 0: the pattern is kept
    keep[: len(x), :10], keep[len(x) :, 10:] = sign[0][:, None] * x, sign[1][:, None] * x
    jac = np.concatenate([on[0][:, None] * x, on[1][:, None] * x], 1)
    done = scipy.optimize.minimize(
        lambda v: np.mean((jac @ v - y) ** 2),
        near_minimum.ravel(),
        jac=lambda v: 2 * jac.T @ (jac @ v - y) / len(y),
        constraints=[{"type": "ineq", "fun": lambda v: keep @ v, "jac": lambda v: keep}],
        method="SLSQP",
        options={"ftol": 1e-15, "maxiter": 1000},
    )
    assert done.success
    assert mse(w, x, y) == pytest.approx(done.fun, abs=1e-12)
    assert mse(w, x, y) <= done.fun + 1e-15 and mse(w, x, y) < mse(near_minimum, x, y)
    assert (keep @ w.ravel() >= -1e-12).all()  # the pattern is kept
    assert len(bound) == len(multipliers) and (multipliers >= -patterns.CROSS).all()


def test_the_exact_minimum_is_a_minimum_in_every_direction(data, near_minimum):
    x, y = data
    w = patterns.exact_minimum(near_minimum, x, y)
    at = mse(w, x, y)
    assert at == pytest.approx(patterns.loss(w, x, y), abs=1e-15) and at < mse(near_minimum, x, y)
    rng = np.random.default_rng(0)
    for _ in range(300):
        d = rng.normal(size=w.shape)
        d /= np.linalg.norm(d)
        for t in (1e-7, 1e-5, 1e-3):
            assert mse(w + t * d, x, y) >= at - 1e-15


def test_a_push_moves_one_unit_along_one_row_just_across_its_kink(data, near_minimum):
    x, _ = data
    pushed = patterns.pushed_across(near_minimum, x, near=5, by=1e-3)
    assert pushed.shape == (10, 2, 10)
    margins = near_minimum @ x.T
    for j, v in enumerate(pushed):
        k, other = divmod(j, 5)[0], 1 - divmod(j, 5)[0]
        np.testing.assert_array_equal(v[other], near_minimum[other])
        step = v[k] - near_minimum[k]
        i = np.argsort(np.abs(margins[k]), kind="stable")[j % 5]
        np.testing.assert_allclose(step, (step @ x[i]) / (x[i] @ x[i]) * x[i], atol=1e-15)
        assert x[i] @ v[k] == pytest.approx(-1e-3 if margins[k, i] > 0 else 1e-3, abs=1e-12)


@pytest.mark.slow
def test_the_default_net_fit_finds_a_lower_minimum_than_any_search_before(table, data):
    x, y = data
    fitted = wb.fit("nnet", table, seed=0)
    assert fitted.method == "search" and fitted.starts == 256
    assert fitted.loss == pytest.approx(mse(fitted.params, x, y), abs=1e-15)
    assert fitted.loss < BEST_BEFORE - 1e-6
    assert fitted.history[-1] == fitted.loss and len(fitted.curve()) == 1 + fitted.gauss_newton + 1
    mmult = wb.fit("mmult", table, seed=0)
    np.testing.assert_array_equal(mmult.params, fitted.params.T)


def test_search_refuses_what_it_cannot_solve(table):
    with pytest.raises(wb.WorkbenchError, match="method 'search' finds the exact minima of a sum of ReLUs"):
        wb.fit("linear", table, method="search")
    with pytest.raises(wb.WorkbenchError, match="with sigmoid with method"):
        wb.fit("nnet", table, method="search", sigmoid=True)
    with pytest.raises(wb.WorkbenchError, match="method 'search' has no lr"):
        wb.fit("nnet", table, lr=0.1)
    assert wb.fit("nnet", table, sigmoid=True, epochs=2, starts=2, gauss_newton=0, polish=0).method == "gd"


@pytest.mark.slow
def test_every_seed_reaches_the_same_lowest_minimum(table):
    """Ten seeds, ten sets of 256 random starts: one minimum, to the last digits."""
    losses = [wb.fit("nnet", table, seed=seed).loss for seed in range(10)]
    assert max(losses) - min(losses) < 1e-12, losses
    assert max(losses) < BEST_BEFORE - 1e-6


@pytest.mark.slow
def test_the_train_rows_too_reach_one_minimum_from_every_seed(table):
    """The workbook fits the net on the validation split's 570 train rows: a harder landscape
    (hops over the 48 rows nearest each kink stopped in four different minima over ten seeds)."""
    train, _ = wb.validation_split(table)
    losses = [wb.fit("nnet", train, seed=seed).loss for seed in range(6)]
    assert max(losses) - min(losses) < 1e-12, losses
