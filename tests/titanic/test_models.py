"""The lesson's three models, checked against numpy written out by hand."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from workbench.titanic.features import FEATURES
from workbench.titanic.models import (
    as_params,
    forward,
    inputs,
    jacobian,
    one_thread,
    param_shape,
    targets,
    uniform_start,
)

RNG = np.random.default_rng(20220315)


def numpy_predict(model, params, x):
    """The lesson's formulas in plain numpy: SUMPRODUCT, two ReLUs added, MMULT then a row sum."""
    params = np.asarray(params, dtype="float64")
    if model == "linear":
        return x @ params
    if model == "nnet":
        return np.maximum(x @ params[0], 0) + np.maximum(x @ params[1], 0)
    return np.maximum(x @ params, 0).sum(axis=1)


@pytest.fixture(scope="module")
def xy(table):
    return table[list(FEATURES)].to_numpy(dtype="float64"), table["Survived"].to_numpy(dtype="float64")


def random_params(model, scale=1.0):
    return RNG.uniform(-scale, scale, param_shape(model))


def test_param_shapes():
    assert param_shape("linear") == (10,)
    assert param_shape("nnet") == (2, 10)
    assert param_shape("mmult") == (10, 2)
    with pytest.raises(wb.WorkbenchError, match="unknown model 'mlp'; choose one of linear, nnet, mmult"):
        param_shape("mlp")


@pytest.mark.parametrize("model", ["linear", "nnet", "mmult"])
@pytest.mark.parametrize("sigmoid", [False, True])
def test_predict_and_mse_match_numpy(table, xy, model, sigmoid):
    x, y = xy
    params = random_params(model)
    expected = numpy_predict(model, params, x)
    if sigmoid:
        expected = 1 / (1 + np.exp(-expected))
    got = wb.predict(model, params, table, sigmoid=sigmoid)
    assert got.dtype == np.float64 and got.shape == (712,)
    np.testing.assert_allclose(got, expected, rtol=1e-13, atol=1e-15)
    assert wb.mse(model, params, table, sigmoid=sigmoid) == pytest.approx(np.mean((expected - y) ** 2), 1e-13)
    assert wb.accuracy(model, params, table, sigmoid=sigmoid) == np.mean((expected > 0.5) == (y == 1))


def test_linear_at_zero_predicts_zero_so_the_loss_is_the_survival_rate(table, xy):
    # y is 0 or 1, so mean((0 - y)^2) = mean(y). Kaggle's train.csv has 290 survivors among
    # the 714 passengers with an age; the 2 without a port of embarkation both survived.
    assert wb.mse("linear", np.zeros(10), table) == pytest.approx(288 / 712, abs=1e-15)
    assert wb.accuracy("linear", np.zeros(10), table) == pytest.approx(424 / 712, abs=1e-15)


def test_nnet_and_mmult_give_identical_predictions(table):
    for _ in range(20):
        w = random_params("nnet")
        nnet = wb.predict("nnet", w, table)
        assert np.array_equal(nnet, wb.predict("mmult", w.T, table))  # exact, not close
        assert np.array_equal(wb.predict("nnet", w, table, sigmoid=True),
                              wb.predict("mmult", w.T, table, sigmoid=True))  # fmt: skip
        assert wb.mse("nnet", w, table) == wb.mse("mmult", w.T, table)


def test_nnet_and_mmult_give_identical_batched_forward_and_gradients(table):
    x = inputs(table)
    w = torch.from_numpy(RNG.uniform(-0.5, 0.5, (7, 2, 10)))
    wt = w.transpose(-1, -2).contiguous()
    assert torch.equal(forward("nnet", w, x), forward("mmult", wt, x))
    grads = []
    for model, p in (("nnet", w), ("mmult", wt)):
        p = p.clone().requires_grad_(True)
        ((forward(model, p, x) - targets(table)) ** 2).mean(-1).sum().backward()
        grads.append(p.grad)
    assert torch.equal(grads[0], grads[1].transpose(-1, -2))


@pytest.mark.parametrize("model", ["linear", "nnet", "mmult"])
def test_batched_forward_equals_one_at_a_time(table, model):
    x = inputs(table)
    batch = torch.from_numpy(RNG.uniform(-0.5, 0.5, (5, *param_shape(model))))
    out = forward(model, batch, x)
    assert out.shape == (5, 712)
    for k in range(5):
        torch.testing.assert_close(out[k], forward(model, batch[k], x), rtol=0, atol=1e-15)


@pytest.mark.parametrize("model", ["linear", "nnet", "mmult"])
@pytest.mark.parametrize("sigmoid", [False, True])
def test_autograd_gradient_matches_central_differences(table, model, sigmoid):
    x, y = inputs(table), targets(table)

    def loss(p):
        return ((forward(model, p, x, sigmoid=sigmoid) - y) ** 2).mean()

    params = torch.from_numpy(random_params(model)).requires_grad_(True)
    loss(params).backward()
    h = 1e-6
    numeric = np.zeros(param_shape(model))
    with torch.no_grad():
        for i in np.ndindex(*numeric.shape):
            up, down = params.detach().clone(), params.detach().clone()
            up[i] += h
            down[i] -= h
            numeric[i] = (loss(up).item() - loss(down).item()) / (2 * h)
    # A ReLU's kink inside [p - h, p + h] for some row would spoil the difference; with
    # random parameters no row sits that close to zero (checked, so the test cannot pass
    # by luck of tolerance).
    if model != "linear":
        pre = x.numpy() @ (params.detach().numpy().T if model == "nnet" else params.detach().numpy())
        assert np.abs(pre).min() > 1e-5 * np.abs(x.numpy()).sum(1).max()
    np.testing.assert_allclose(params.grad.numpy(), numeric, rtol=1e-6, atol=1e-9)
    assert np.abs(numeric).max() > 1e-3  # a real slope, not zero against zero


@pytest.mark.parametrize("model", ["linear", "nnet", "mmult"])
@pytest.mark.parametrize("sigmoid", [False, True])
def test_jacobian_matches_autograd_row_by_row(table, model, sigmoid):
    x = inputs(table)
    batch = torch.from_numpy(RNG.uniform(-0.5, 0.5, (3, *param_shape(model))))
    jac = jacobian(model, batch, x, sigmoid=sigmoid)
    assert jac.shape == (3, 712, batch[0].numel())
    for k in range(3):
        full = torch.autograd.functional.jacobian(
            lambda p: forward(model, p, x, sigmoid=sigmoid), batch[k], vectorize=True
        )
        torch.testing.assert_close(jac[k], full.reshape(712, -1), rtol=0, atol=1e-15)
    if model != "linear" and not sigmoid:
        # Piecewise linear: on its active rows the net is exactly jac @ params.
        flat = batch.reshape(3, -1, 1)
        torch.testing.assert_close((jac @ flat)[..., 0], forward(model, batch, x), rtol=0, atol=1e-14)


def test_nnet_gradient_matches_the_analytic_formula(table, xy):
    x, y = xy
    w = random_params("nnet")
    params = torch.from_numpy(w).requires_grad_(True)
    ((forward("nnet", params, inputs(table)) - targets(table)) ** 2).mean().backward()
    z = x @ w.T  # (712, 2)
    r = np.maximum(z, 0).sum(1) - y
    analytic = 2 / len(y) * ((z > 0) * r[:, None]).T @ x
    np.testing.assert_allclose(params.grad.numpy(), analytic, rtol=1e-12, atol=1e-15)


@pytest.mark.parametrize(
    ("model", "params", "match"),
    [
        ("linear", np.zeros(9), r"linear needs parameters of shape \(10,\); got \(9,\)"),
        ("nnet", np.zeros((10, 2)), r"nnet needs parameters of shape \(2, 10\); got \(10, 2\)"),
        ("mmult", np.zeros((2, 10)), r"mmult needs parameters of shape \(10, 2\); got \(2, 10\)"),
        ("linear", [0.0] * 9 + [np.nan], "must be finite"),
        ("nnet", np.zeros(20), r"got \(20,\)"),
    ],
)
def test_bad_params_raise(table, model, params, match):
    with pytest.raises(wb.WorkbenchError, match=match):
        wb.predict(model, params, table)
    with pytest.raises(wb.WorkbenchError, match=match):
        as_params(model, params)


def test_tables_without_the_columns_raise(table):
    with pytest.raises(wb.WorkbenchError, match="no column 'Age_N'"):
        wb.predict("linear", np.zeros(10), table.drop(columns="Age_N"))
    with pytest.raises(wb.WorkbenchError, match="no 'Survived' column"):
        wb.mse("linear", np.zeros(10), table.drop(columns="Survived"))


def test_uniform_start_is_the_lessons_rand_minus_a_half():
    a = uniform_start((4000,), 7)
    assert a.dtype == np.float64 and a.min() >= -0.5 and a.max() < 0.5
    assert abs(a.mean()) < 0.02 and abs(a.std() - np.sqrt(1 / 12)) < 0.01  # uniform on a unit interval
    assert np.array_equal(a, uniform_start((4000,), 7))
    assert not np.array_equal(a, uniform_start((4000,), 8))
    # The same numbers torch.rand draws from a generator seeded with the seed, minus 0.5.
    drawn = torch.rand(4000, generator=torch.Generator().manual_seed(7), dtype=torch.float64)
    assert np.array_equal(a, drawn.numpy() - 0.5)


def test_one_thread_restores_the_thread_count():
    before = torch.get_num_threads()
    with one_thread():
        assert torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    with pytest.raises(RuntimeError), one_thread():
        raise RuntimeError
    assert torch.get_num_threads() == before


def test_the_command_lines_choices_are_the_registrys(capsys):
    """cli.py lists the models and methods literally (so --help imports no torch): they must agree."""
    import re

    from workbench.cli import main
    from workbench.sheets.model_sheets import MODEL_SHEETS
    from workbench.titanic.train import METHODS

    for argv, expected in (
        (["fit", "no-such-model"], wb.MODELS),
        (["fit", "linear", "--method", "x"], METHODS),
        (["predict", "--model", "x"], MODEL_SHEETS),  # a sheet's parameters: the models, and sigmoid
    ):
        with pytest.raises(SystemExit) as stop:
            main(argv)
        assert stop.value.code == 2
        listed = re.search(r"choose from (.*)\)", capsys.readouterr().err).group(1)
        assert re.findall(r"'(\w+)'", listed) == list(expected)
