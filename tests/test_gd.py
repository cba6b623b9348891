"""The lesson's gradient-descent loop, checked against plain numpy with the analytic gradient."""

from __future__ import annotations

import numpy as np
import pytest
import torch

import workbench as wb
from workbench.errors import WorkbenchError
from workbench.gd import CHECK_EVERY, PATIENCE, gradient_descent
from workbench.titanic.models import forward, inputs, targets


def numpy_descent(x, y, w, lr, epochs, zero_grad=True):
    """Linear least squares by hand: grad of mean((Xw - y)^2) is 2/n X^T (Xw - y)."""
    losses, acc = [], np.zeros_like(w)
    for _ in range(epochs):
        r = x @ w - y
        losses.append(np.mean(r**2))
        g = 2 / len(y) * x.T @ r
        acc = g if zero_grad else acc + g
        w = w - lr * acc
    losses.append(np.mean((x @ w - y) ** 2))
    return w, np.array(losses)


@pytest.fixture(scope="module")
def xy(table):
    return inputs(table), targets(table)


def mse_of(x, y):
    return lambda w: ((forward("linear", w, x) - y) ** 2).mean(-1)


@pytest.mark.parametrize("zero_grad", [True, False])
def test_matches_numpy_analytic_gradient(xy, zero_grad):
    x, y = xy
    start = torch.linspace(-0.5, 0.5, 10, dtype=torch.float64)
    out_params, out_history = gradient_descent(mse_of(x, y), start, lr=0.05, epochs=60, zero_grad=zero_grad)
    w, losses = numpy_descent(x.numpy(), y.numpy(), start.numpy(), 0.05, 60, zero_grad)
    np.testing.assert_allclose(out_params.numpy(), w, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out_history.numpy(), losses, rtol=0, atol=1e-12)
    assert out_history.shape == (61,)
    assert torch.equal(start, torch.linspace(-0.5, 0.5, 10, dtype=torch.float64))  # start untouched


def test_piling_up_gradients_changes_the_path(xy):
    x, y = xy
    start = torch.zeros(10, dtype=torch.float64)
    right, _ = gradient_descent(mse_of(x, y), start, lr=0.05, epochs=30)
    piled, _ = gradient_descent(mse_of(x, y), start, lr=0.05, epochs=30, zero_grad=False)
    assert not torch.allclose(right, piled)


def test_batched_starts_equal_separate_runs(xy):
    x, y = xy
    starts = torch.rand(5, 10, dtype=torch.float64, generator=torch.Generator().manual_seed(3)) - 0.5
    batched_params, batched_history = gradient_descent(mse_of(x, y), starts, lr=0.1, epochs=40)
    assert batched_history.shape == (41, 5)
    for k in range(5):
        alone_params, alone_history = gradient_descent(mse_of(x, y), starts[k], lr=0.1, epochs=40)
        torch.testing.assert_close(batched_params[k], alone_params, rtol=0, atol=1e-13)
        torch.testing.assert_close(batched_history[:, k], alone_history, rtol=0, atol=1e-13)


def test_too_large_learning_rate_raises_with_advice(xy):
    x, y = xy
    with pytest.raises(
        wb.DivergenceError, match=r"learning rate 5 is too large; try a smaller one, e\.g\. 0\.5"
    ):
        gradient_descent(mse_of(x, y), torch.zeros(10, dtype=torch.float64), lr=5.0, epochs=1000)


def test_nan_loss_raises():
    with pytest.raises(wb.DivergenceError, match="not finite"):
        gradient_descent(lambda w: (w / 0).sum(), torch.zeros(2, dtype=torch.float64), lr=0.1, epochs=3)


def test_steady_growth_is_divergence_even_if_finite():
    # On w^2 a step multiplies w by (1 - 2 lr) = -1.1: the loss grows 1.21x per epoch
    # and is still finite (1.21^20 = 45) when the check must stop it.
    square = lambda w: (w**2).sum()
    with pytest.raises(
        wb.DivergenceError, match=f"grew for {PATIENCE} epochs in a row up to epoch {PATIENCE}"
    ):
        gradient_descent(square, torch.ones(1, dtype=torch.float64), lr=1.05, epochs=1000)
    # Just inside the limit the same loop converges.
    _, history = gradient_descent(square, torch.ones(1, dtype=torch.float64), lr=0.95, epochs=200)
    assert history[-1] < 1e-15


def first_divergence(losses):
    """The epoch and kind of the first divergence, epoch by epoch, as a learner would check it."""
    run = 0
    for epoch, loss in enumerate(losses):
        if not np.isfinite(loss).all():
            return epoch, "not finite"
        run = 0 if epoch == 0 else np.where(loss > losses[epoch - 1], run + 1, 0)
        if np.any(run >= PATIENCE):
            return epoch, "grew"
    return None


@pytest.mark.parametrize("end", [PATIENCE + 3, CHECK_EVERY - 1, CHECK_EVERY + 5, 2 * CHECK_EVERY + 7])
@pytest.mark.parametrize("kind", ["grew", "not finite", "grew in one start of three"])
def test_divergence_is_found_at_its_epoch_across_the_blocks_checked(kind, end):
    # A loss that falls, then blows up from epoch ``end - PATIENCE`` on, as a crafted loss_fn sees it
    # whatever epochs the checks fall on; every start but one falls throughout.
    starts = 3 if "three" in kind else 1
    falling = 10.0 * 0.9 ** np.arange(200.0)
    script = np.stack([falling] * starts, axis=1)
    if kind == "not finite":
        script[end:, 0] = np.nan
    else:
        script[end - PATIENCE :, -1] = falling[end - PATIENCE] * 1.1 ** np.arange(200 - end + PATIENCE)
    losses = iter(torch.from_numpy(script if starts > 1 else script[:, 0]))
    expected = first_divergence(script)
    assert expected == (end, "not finite" if kind == "not finite" else "grew")
    pattern = (
        "not finite" if kind == "not finite" else f"grew for {PATIENCE} epochs in a row up to epoch {end}"
    )
    with pytest.raises(wb.DivergenceError, match=pattern) as error:
        gradient_descent(
            lambda w: next(losses) + 0 * w.sum(), torch.zeros(2, dtype=torch.float64), lr=0.1, epochs=150
        )
    assert kind != "not finite" or f"at epoch {end} " in str(error.value)


@pytest.mark.parametrize(("lr", "epochs"), [(0.0, 1), (-1.0, 1), (0.1, -1)])
def test_bad_arguments(lr, epochs):
    with pytest.raises(WorkbenchError, match="must be"):
        gradient_descent(lambda w: (w**2).sum(), torch.zeros(1, dtype=torch.float64), lr=lr, epochs=epochs)
