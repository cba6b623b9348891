"""Gauss-Newton in chunks of starts (a big table's Jacobians, a few starts at a time) takes each
start's own steps: the same parameters and losses as all starts at once."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from workbench.numerics import DTYPE, one_thread, uniform_start
from workbench.titanic import steps, train
from workbench.titanic.models import inputs, targets


@pytest.mark.parametrize("model", ["nnet", "sigmoid"])
def test_chunks_of_starts_take_the_steps_of_all_starts_at_once(monkeypatch, model):
    table = wb.lesson_table()
    x, y = inputs(table), targets(table)
    shape = (2, 10) if model == "nnet" else (10,)
    begins = torch.from_numpy(uniform_start((7, *shape), 3)).to(DTYPE)
    sigmoid = model == "sigmoid"
    run = "nnet" if model == "nnet" else "linear"
    with one_thread():
        whole, whole_losses = steps.gauss_newton_steps(run, begins, x, y, sigmoid, 4)
        per_start = 8 * len(x) * begins[0].numel()
        assert steps.gn_chunk(len(x), begins[0].numel()) >= 7  # the lesson: every start at once
        monkeypatch.setattr(steps, "GN_CHUNK_BYTES", 3 * per_start)  # chunks of 3, 3 and 1 starts
        assert steps.gn_chunk(len(x), begins[0].numel()) == 3
        parts, part_losses = steps.gauss_newton_steps(run, begins, x, y, sigmoid, 4)
    np.testing.assert_allclose(parts.numpy(), whole.numpy(), rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(part_losses.numpy(), whole_losses.numpy(), rtol=1e-12)
    assert (part_losses[-1] < part_losses[0]).any()  # the steps moved


def test_the_estimate_counts_the_jacobians_of_one_chunk():
    rows, size = 100_000, 20
    one = train.fit_memory("nnet", rows, starts=1, gauss_newton=1)
    many = train.fit_memory("nnet", rows, starts=64, gauss_newton=1)
    chunk = steps.gn_chunk(rows, size)
    assert chunk < 64
    jacobians = chunk * rows * 8 * train.GN_COPIES * size  # not 64 starts' worth
    assert many - one < jacobians + 64 * rows * (train.GD_BYTES + 8 * train.GN_EXTRA)


@pytest.mark.parametrize("units", [1, 2, 3])
def test_the_sum_of_relus_step_solves_the_full_jacobians_normal_equations(units):
    """Built a block at a time from the rows where both units are active, the step solves the normal
    equations of the whole (rows, units x inputs) Jacobian J = [x on unit u's active rows, for each u].
    (The lesson's dummies make them nearly singular, so the steps themselves agree only to about 1e-4;
    the predictions they move to, and the equations' residuals, agree to rounding.)"""
    table = wb.lesson_table()
    x, y = inputs(table).numpy(), targets(table).numpy()
    w = uniform_start((5, units, x.shape[1]), 11)
    ridge = steps.GN_RIDGE * np.eye(units * x.shape[1])
    got = steps._relu_sum_step(*(torch.from_numpy(a) for a in (w, x, y, ridge))).numpy()
    for k in range(len(w)):
        z = w[k] @ x.T  # (units, rows)
        jac = np.concatenate([(z[u] > 0)[:, None] * x for u in range(units)], axis=1)
        a, b = jac.T @ jac + ridge, jac.T @ (y - np.maximum(z, 0).sum(0)) - ridge @ w[k].ravel()
        want = np.linalg.solve(a, b)
        step = got[k].ravel()
        np.testing.assert_allclose(jac @ step, jac @ want, rtol=0, atol=1e-9)
        assert np.linalg.norm(a @ step - b) < 1e-9 * np.linalg.norm(b)
        assert np.abs(step).max() > 0.01  # a real step


def test_the_gram_of_many_starts_at_once_is_each_starts_own(monkeypatch):
    """``x_S^T x_S`` for each start's active rows S: in one product for the lesson's few rows, one
    start at a time for a big table's; both as the products of S's rows alone."""
    x = inputs(wb.lesson_table()).numpy()
    rows = np.random.default_rng(5).random((6, 3, len(x))) < 0.4  # 6 starts, 3 sets of rows each
    expected = np.stack([[np.einsum("ni,nj->ij", x[s], x[s]) for s in sets] for sets in rows])
    assert len(x) * x.shape[1] ** 2 <= steps.GRAM_BATCH  # the lesson's table: one product
    np.testing.assert_allclose(steps._gram(x, rows), expected, rtol=1e-13, atol=1e-12)
    for k in range(len(rows)):  # each start's own, however many starts one product holds
        np.testing.assert_array_equal(steps._gram(x, rows[k : k + 1])[0], steps._gram(x, rows)[k])
    monkeypatch.setattr(steps, "GRAM_BATCH", 0)  # as for a table too big for one product
    np.testing.assert_allclose(steps._gram(x, rows), expected, rtol=1e-13, atol=1e-12)
