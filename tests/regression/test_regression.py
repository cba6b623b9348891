"""The lessons' small regressions: recipes, fits checked against plain numpy, SGD, user CSVs."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

import workbench as wb
from workbench import regression as r


def numpy_descent(phi, y, start, lr, epochs, *, relu=False):
    """Gradient descent on MSE by hand, with the analytic gradient.

    Linear: grad = 2/n phi^T (phi w - y). Sum of ReLUs, unit k with weights w_k:
    grad_k = 2/n sum_i r_i [z_ik > 0] phi_i, where r = sum_k relu(z_k) - y.
    Returns the parameters, losses and gradients before every step (epochs + 1 rows).
    """
    n = len(y)
    w = np.array(start, dtype="float64")
    params, losses, grads = [], [], []
    for _ in range(epochs + 1):
        if relu:
            z = phi @ w.T  # (n, K)
            res = np.maximum(z, 0).sum(1) - y
            g = 2 / n * ((res[:, None] * (z > 0)).T @ phi)
        else:
            res = phi @ w - y
            g = 2 / n * phi.T @ res
        params.append(w)
        losses.append(np.mean(res**2))
        grads.append(g)
        w = w - lr * g
    return np.array(params), np.array(losses), np.array(grads)


def hand_design(model, x):
    x = x[:, 0]
    cols = {"linear": [x], "relu": [x], "quadratic": [x**2, x]}[model]
    return np.column_stack([*cols, np.ones_like(x)])


# --- recipes ------------------------------------------------------------------


def test_line_recipe():
    d = r.line()
    x = d.x[:, 0]
    assert d.n == 100 and d.x.shape == (100, 1)
    assert np.all((x >= -1) & (x < 1))
    noise = d.y - (3 * x + 2)
    assert np.all((noise >= -1e-12) & (noise < 1 + 1e-12))
    # x first, then the noise, from one torch generator with the seed
    g = torch.Generator().manual_seed(0)
    assert np.array_equal(x, torch.empty(100, dtype=torch.float64).uniform_(-1, 1, generator=g).numpy())
    assert np.allclose(noise, torch.rand(100, generator=g, dtype=torch.float64).numpy(), atol=1e-14)
    assert (d.start.tolist(), d.lr, d.epochs) == ([-1.0, 1.0], 0.1, 100)
    assert np.array_equal(r.line().y, d.y) and not np.array_equal(r.line(seed=1).y, d.y)


@pytest.mark.filterwarnings("ignore:__array_wrap__:DeprecationWarning")  # numpy 2 on torch * ndarray
def test_quadratic_is_the_course_notebook_recipe():
    # The notebook's code, verbatim, on numpy's global legacy generator.
    from numpy.random import normal, seed

    state = np.random.get_state()
    try:
        seed(42)

        def f(x):
            return 3 * x**2 + 2 * x + 1

        def noise(x, scale):
            return normal(scale=scale, size=x.shape)

        def add_noise(x, mult, add):
            return x * (1 + noise(x, mult)) + noise(x, add)

        x = torch.linspace(-2, 2, steps=20)[:, None]
        y = add_noise(f(x), 0.15, 1.5)
    finally:
        np.random.set_state(state)
    d = r.quadratic()
    # x: the 20 evenly spaced points, each rounded to float32, as the notebook's tensor holds
    # them; torch's own float32 linspace is a few float32 steps off at some points, by CPU (6 at
    # +-0.105 on torch's baseline kernels, ATEN_CPU_CAPABILITY=default): far below the spacing.
    assert d.x[:, 0].tolist() == [float(np.float32(-2 + 4 * i / 19)) for i in range(20)]
    np.testing.assert_allclose(d.x, x.numpy(), rtol=0, atol=1e-6)
    # y: float32 in the notebook, so from those x a float32 step or two off too (at y up to 12: 1e-6)
    np.testing.assert_allclose(d.y, np.asarray(y, dtype="float64")[:, 0], rtol=1e-6, atol=2e-6)
    # The notebook prints mae = 2.4219 for a = b = c = 1.1.
    mae = np.mean(np.abs(1.1 * d.x[:, 0] ** 2 + 1.1 * d.x[:, 0] + 1.1 - d.y))
    assert round(mae, 4) == 2.4219
    assert (d.start.tolist(), d.lr) == ([1.5, 1.5, 1.5], 0.01)


def test_speed_recipe():
    d = r.speed()
    t = d.x[:, 0]
    assert t.tolist() == list(range(20)) and d.lr == 1e-5
    g = torch.Generator().manual_seed(0)
    noise = torch.randn(20, generator=g, dtype=torch.float64).numpy()
    np.testing.assert_allclose(d.y, noise * 3 + 0.75 * (t - 9.5) ** 2 + 1, rtol=0, atol=1e-12)
    assert np.array_equal(d.start, torch.randn(3, generator=g, dtype=torch.float64).numpy())


def test_relu_start_spreads_the_kinks_over_x():
    d = r.relu(units=4)
    m, b = d.start[:, 0], d.start[:, 1]
    assert m.tolist() == [-1, 1, -1, 1]
    np.testing.assert_allclose(-b / m, [-1.2, -0.4, 0.4, 1.2], atol=1e-12)
    assert np.array_equal(d.x, r.quadratic().x) and np.array_equal(d.y, r.quadratic().y)


# --- full-batch fits, pinned against numpy --------------------------------------


@pytest.mark.parametrize(
    ("name", "epochs"), [("line", 100), ("quadratic", 300), ("speed", 100), ("relu", 300)]
)
def test_fit_matches_numpy_every_step(name, epochs):
    d = r.load_dataset(name)
    fit = r.fit_dataset(d)
    assert fit.trajectory.epochs == epochs
    phi = hand_design(d.model, d.x)
    params, losses, grads = numpy_descent(phi, d.y, d.start, d.lr, epochs, relu=d.model == "relu")
    t = fit.trajectory
    np.testing.assert_allclose(t.losses, losses, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(t.params, params, rtol=1e-12, atol=1e-13)
    np.testing.assert_allclose(t.grads, grads, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(t.params[1:], t.params[:-1] - d.lr * t.grads[:-1], rtol=1e-13, atol=1e-15)
    assert np.array_equal(fit.params, t.params[-1])


def test_line_facts_the_lesson_states():
    d = r.line()
    phi = hand_design("linear", d.x)
    top = np.linalg.eigvalsh(2 / d.n * phi.T @ phi)[-1]
    assert 1.9 < top < 2.1  # "the largest eigenvalue of the MSE Hessian is about 2"
    assert r.max_stable_lr(phi) == pytest.approx(2 / top, rel=1e-12)
    fit = r.fit_dataset(d)
    assert fit.params[1] == pytest.approx(2.5, abs=0.05)  # intercept 2 + mean noise 1/2
    assert fit.losses[-1] == pytest.approx(1 / 12, abs=0.005)  # noise variance 1/12
    best = np.linalg.lstsq(phi, d.y, rcond=None)[0]
    assert fit.losses[-1] - np.mean((phi @ best - d.y) ** 2) < 1e-4
    # crawls at 0.01: after 100 steps still far from the floor
    assert r.fit_dataset(d, lr=0.01).losses[-1] > 1.0


def test_learning_rate_above_the_hessian_limit_raises_a_clear_error():
    d = r.line()
    limit = 2 / np.linalg.eigvalsh(2 / d.n * hand_design("linear", d.x).T @ hand_design("linear", d.x))[-1]
    assert r.fit_dataset(d, lr=0.98 * limit, epochs=300).losses[-1] < 0.1
    with pytest.raises(wb.DivergenceError, match=r"line: .*too large.*diverges above lr 0\.99"):
        r.fit_dataset(d, lr=1.02 * limit, epochs=1000)
    with pytest.raises(wb.DivergenceError, match=r"speed: .*diverges above lr 3\.5\de-05"):
        r.fit_dataset(r.speed(), lr=4e-5, epochs=1000)


def test_piled_up_gradients_never_settle():
    d = r.line()
    right, piled = r.fit_dataset(d), r.fit_dataset(d, zero_grad=False)
    assert right.losses[-1] < 0.09 < piled.losses[-1]
    assert np.any(np.diff(piled.losses) > 0)  # the loss rises again: it oscillates
    with pytest.raises(wb.DivergenceError, match="piled up"):
        r.fit_dataset(d, zero_grad=False, lr=0.01)


def test_more_relus_bend_closer_to_the_points():
    d = r.relu()
    losses = [r.fit_dataset(d, units=k, epochs=1000).losses[-1] for k in (1, 2, 8)]
    assert losses[0] > 20 > 3 > losses[1] > losses[2]


def test_predict_at_new_x():
    fit = r.fit_dataset(r.quadratic())
    a, b, c = fit.params
    np.testing.assert_allclose(fit.predict(x=[0.0, 1.0, -2.0]), [c, a + b + c, 4 * a - 2 * b + c], rtol=1e-14)
    np.testing.assert_allclose(fit.predict(), hand_design("quadratic", fit.data.x) @ fit.params, rtol=1e-14)


def test_unknown_names_are_clear():
    with pytest.raises(wb.WorkbenchError, match="unknown dataset 'circle'; choose one of line"):
        r.load_dataset("circle")
    with pytest.raises(wb.WorkbenchError, match="unknown model 'cubic'"):
        r.fit_dataset(r.line(), model="cubic")
    with pytest.raises(wb.WorkbenchError, match=r"needs a start of shape \(2,\)"):
        r.fit_dataset(r.line(), start=[1.0, 2.0, 3.0])


def test_lr_sweep_ends_where_numpy_descent_ends_and_diverges_above_two_over_lambda_max():
    d = r.line()
    phi = hand_design("linear", d.x)
    limit = 2 / np.linalg.eigvalsh(2 / d.n * phi.T @ phi)[-1]
    lrs = [0.001, 0.05, 0.5, 0.95 * limit, 1.05 * limit, 3.0]
    finals = r.lr_sweep(d, lrs, epochs=100)
    for lr, final in zip(lrs, finals, strict=True):
        w = d.start.copy()
        for _ in range(100):
            w = w - lr * 2 / d.n * phi.T @ (phi @ w - d.y)
        want = np.mean((phi @ w - d.y) ** 2)
        if lr < limit:
            assert final == pytest.approx(want, rel=1e-9)
        else:
            assert final == np.inf and want > 1e3  # numpy's descent blew up too
    assert finals[0] > 10 * finals[2]  # too low a rate is still far off after 100 steps


# --- mini-batch SGD -------------------------------------------------------------


def test_batches_visit_every_point_once_per_epoch():
    plan = r.batches(23, 5, 3, seed=7)
    assert [len(b) for b in plan] == [5, 5, 5, 5, 3] * 3
    for e in range(3):
        assert sorted(torch.cat(plan[5 * e : 5 * e + 5]).tolist()) == list(range(23))
    assert not torch.equal(torch.cat(plan[:5]), torch.cat(plan[5:10]))  # reshuffled each epoch
    with pytest.raises(wb.WorkbenchError, match="batch size"):
        r.batches(23, 0, 1, seed=0)


def test_sgd_matches_numpy_with_the_same_batches():
    d = r.line()
    run = r.sgd(d, batch_size=10, epochs=5, seed=3)
    g = torch.Generator().manual_seed(3)
    phi = hand_design("linear", d.x)
    w, at_epochs, at_updates = d.start.copy(), [d.start.copy()], [d.start.copy()]
    for _ in range(5):
        order = torch.randperm(100, generator=g).numpy()
        for i in range(0, 100, 10):
            rows = order[i : i + 10]
            w = w - d.lr * 2 / 10 * phi[rows].T @ (phi[rows] @ w - d.y[rows])
            at_updates.append(w)
        at_epochs.append(w)
    np.testing.assert_allclose(run.params[::10], at_epochs, rtol=1e-12, atol=1e-14)
    everything = [np.mean((phi @ p - d.y) ** 2) for p in at_updates]
    np.testing.assert_allclose(run.losses, everything, rtol=1e-12)  # 51: before each update, after the last
    assert run.steps_per_epoch == 10 and run.epochs == 5 and run.batch_losses.shape == (50,)


def test_sgd_steps_keeps_every_step_with_its_batch_and_both_gradients():
    d = r.line()
    run = r.sgd_steps(d, batch_size=10, epochs=2, seed=3)
    g = torch.Generator().manual_seed(3)
    phi = hand_design("linear", d.x)
    orders = [torch.randperm(100, generator=g).numpy() for _ in range(2)]
    rows = np.array([o[i : i + 10] for o in orders for i in range(0, 100, 10)])
    assert np.array_equal(run.rows, rows) and run.params.shape == (21, 2) and run.seed == 3
    w = d.start.copy()
    for t in range(20):
        np.testing.assert_allclose(run.params[t], w, rtol=1e-12, atol=1e-14)
        batch = rows[t]
        err = phi[batch] @ w - d.y[batch]
        np.testing.assert_allclose(run.batch_losses[t], np.mean(err**2), rtol=1e-12)
        np.testing.assert_allclose(run.batch_grads[t], 2 / 10 * phi[batch].T @ err, rtol=1e-12, atol=1e-14)
        full = phi @ w - d.y
        np.testing.assert_allclose(run.grads[t], 2 / 100 * phi.T @ full, rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(run.losses[t], np.mean(full**2), rtol=1e-12)
        w = w - d.lr * run.batch_grads[t]
    np.testing.assert_allclose(run.params[-1], w, rtol=1e-12, atol=1e-14)
    # the same run as sgd's, recorded per step instead of per epoch
    np.testing.assert_array_equal(r.sgd(d, batch_size=10, epochs=2, seed=3).params, run.params)
    with pytest.raises(wb.WorkbenchError, match="must divide the 100 points"):
        r.sgd_steps(d, batch_size=7)


def test_scaled_inputs_run_from_minus_one_to_one():
    d = r.speed()
    s = r.scaled(d)
    np.testing.assert_array_equal(s.x[:, 0], (np.arange(20) - 9.5) / 9.5)
    assert np.array_equal(s.y, d.y) and np.array_equal(s.start, d.start) and s.x_names == ("scaled time",)
    hessian = 2 / 20 * hand_design("quadratic", s.x).T @ hand_design("quadratic", s.x)
    assert s.lr == pytest.approx(1 / np.linalg.eigvalsh(hessian)[-1], rel=1e-12)  # half the stable limit
    with pytest.raises(wb.WorkbenchError, match="holds one value only"):
        r.scaled(dataclasses.replace(d, x=np.ones((20, 1))))


def test_scaled_speed_reaches_the_floor_where_the_raw_one_stalls():
    d = r.speed()
    phi = hand_design("quadratic", d.x)
    best = np.linalg.lstsq(phi, d.y, rcond=None)[0]
    floor = np.mean((phi @ best - d.y) ** 2)
    raw, scaled = r.fit_dataset(d), r.fit_dataset(r.scaled(d))
    assert raw.floor == pytest.approx(floor, rel=1e-9) and scaled.floor == pytest.approx(floor, rel=1e-9)
    assert scaled.trajectory.epochs == raw.trajectory.epochs == 100
    assert floor <= scaled.losses[-1] <= 1.01 * floor
    assert raw.losses[-1] > 50 * floor  # the lesson's lr stalls, and so does the largest stable one
    assert r.fit_dataset(d, lr=0.99 * r.max_stable_lr(phi)).losses[-1] > 50 * floor
    assert r.fit_dataset(r.relu()).floor is None


def test_loss_and_gradient_are_numpys():
    fit = r.fit_dataset(r.quadratic(), epochs=1)
    phi = hand_design("quadratic", fit.data.x)
    w = np.array([1.5, 1.5, 1.5])
    loss, grad = fit.loss_and_gradient(w)
    err = phi @ w - fit.data.y
    assert loss == pytest.approx(np.mean(err**2), rel=1e-13)
    np.testing.assert_allclose(grad, 2 / 20 * phi.T @ err, rtol=1e-12)


def test_sgd_gets_further_per_epoch_than_full_batch():
    d = r.line()
    full, mini = r.fit_dataset(d), r.sgd(d, batch_size=10)
    per_epoch = mini.losses[:: mini.steps_per_epoch]
    assert per_epoch[10] < 0.1 < full.losses[10]  # ten steps per epoch instead of one
    assert mini.losses[-1] == pytest.approx(1 / 12, abs=0.01)
    again = r.sgd(d, batch_size=10)
    assert np.array_equal(mini.losses, again.losses)  # seeded


# --- user CSVs ------------------------------------------------------------------


def test_csv_with_two_inputs_fits_toward_least_squares(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, size=(50, 2))
    y = 1.5 * x[:, 0] - 2 * x[:, 1] + 0.5 + rng.normal(0, 0.1, 50)
    lines = ["x1,y,x2"] + [f"{float(a)!r},{float(c)!r},{float(b)!r}" for (a, b), c in zip(x, y, strict=True)]
    path = tmp_path / "mine.csv"
    path.write_text("\n".join(lines) + "\n")
    d = r.read_dataset(path)
    assert d.name == "mine" and d.x_names == ("x1", "x2") and d.y_name == "y" and d.model == "linear"
    assert np.array_equal(d.x, x) and np.array_equal(d.y, y)
    phi = np.column_stack([x, np.ones(50)])
    assert d.lr == pytest.approx(1 / np.linalg.eigvalsh(2 / 50 * phi.T @ phi)[-1], rel=1e-12)
    fit = r.fit_dataset(d, epochs=2000)
    best = np.linalg.lstsq(phi, y, rcond=None)[0]
    np.testing.assert_allclose(fit.params, best, atol=1e-6)
    assert fit.param_names == ("a1", "a2", "a3")


@pytest.mark.parametrize("separator", ["\t", ";"])
def test_csv_of_points_separated_by_tabs_or_semicolons_with_decimal_commas(tmp_path, separator):
    comma = separator == ";"  # where the comma is the decimal mark, fields are separated by semicolons
    points = [(0.5, 1.25), (1.0, 2.5), (2.0, -3.0)]
    text = (
        "x"
        + separator
        + "y\n"
        + "".join(
            separator.join(str(v).replace(".", ",") if comma else str(v) for v in p) + "\n" for p in points
        )
    )
    path = tmp_path / "points.csv"
    path.write_text(text)
    d = r.read_dataset(path)
    assert np.array_equal(d.x[:, 0], [p[0] for p in points]) and np.array_equal(d.y, [p[1] for p in points])


def test_csv_target_defaults_to_last_column_and_can_be_named(tmp_path):
    path = tmp_path / "t.csv"
    path.write_text("time,speed\n0,1\n1,2\n2,5\n")
    d = r.read_dataset(path, model="quadratic")
    assert d.x_names == ("time",) and d.y_name == "speed" and d.start.shape == (3,)
    d = r.read_dataset(path, y="time")
    assert d.x_names == ("speed",) and d.y_name == "time"


@pytest.mark.parametrize(
    ("text", "message", "column", "row"),
    [
        ("", "the file is empty", None, None),
        ("x,y\n", "has a header but no rows", None, None),
        ("x\n1\n", "needs at least two columns", "x", None),
        ("x,x\n1,2\n", "names column 'x' twice", "x", None),
        ("x,\n1,2\n", r"row 1 \(line 2\) has '2' in column 2, which the header leaves unnamed", None, 1),
        ("x,,y\n1,2,3\n", "column 2 has no name in the header row", None, None),
        ("x,y\n1,2\n3\n", r"row 2 \(line 3\) has 1 fields, the header has 2", None, 2),
        ("x,y\n1,2\n3,abc\n", r"column 'y', row 2 \(line 3\) has 'abc'; expected a finite number", "y", 2),
        ("x,y\n1,2\n,4\n", r"column 'x', row 2 \(line 3\) is empty", "x", 2),
        ("x,y\n1,nan\n", r"column 'y', row 1 \(line 2\) has 'nan'", "y", 1),
        ("x,y\ninf,1\n", r"column 'x', row 1 \(line 2\) has 'inf'", "x", 1),
        ("a,b,y\n1,2,3\n", "quadratic model needs exactly one x column", None, None),
    ],
)
def test_csv_errors_say_where(tmp_path, text, message, column, row):
    path = tmp_path / "bad.csv"
    path.write_text(text)
    model = "quadratic" if "quadratic" in message else "linear"
    with pytest.raises(wb.DataError, match=message) as e:
        r.read_dataset(path, model=model)
    assert str(path) in str(e.value) and e.value.column == column and e.value.row == row


def test_csv_missing_file_and_target(tmp_path):
    with pytest.raises(wb.DataError, match="no such file"):
        r.read_dataset(tmp_path / "nope.csv")
    path = tmp_path / "ok.csv"
    path.write_text("x,y\n1,2\n")
    with pytest.raises(wb.DataError, match="no column 'z' to predict"):
        r.read_dataset(path, y="z")
    (tmp_path / "binary.csv").write_bytes(b"x,y\n1,\x8f2\n")
    with pytest.raises(wb.DataError, match="line 2 is neither UTF-8 nor Windows-1252 text"):
        r.read_dataset(tmp_path / "binary.csv")


# --- under- and over-fitting -----------------------------------------------------


def test_held_out_points_lie_between_the_points_fitted():
    """One new x in each gap between neighbouring x (so the bends between points are scored), y by
    the notebook's recipe with the next seed."""
    d = r.relu()
    x, y = r.held_out(d)
    xs = np.sort(d.x[:, 0])
    assert len(x) == len(xs) - 1 and np.all((x[:, 0] > xs[:-1]) & (x[:, 0] < xs[1:]))
    rng = np.random.RandomState(43)  # the notebook's recipe (seed 42) with the next seed
    np.testing.assert_allclose(x[:, 0], xs[:-1] + rng.uniform(size=19) * np.diff(xs), rtol=1e-15)
    fx = 3 * x[:, 0] ** 2 + 2 * x[:, 0] + 1
    want = fx * (1 + rng.normal(scale=0.15, size=19)) + rng.normal(scale=1.5, size=19)
    np.testing.assert_allclose(y, want, rtol=1e-15)
    np.testing.assert_array_equal(r.held_out(d)[0], x)  # seeded: the same points every time
    with pytest.raises(wb.WorkbenchError, match="not for line"):
        r.held_out(r.line())


def test_more_units_scores_each_sum_of_relus_on_both_sets():
    d = r.relu()
    x, y = r.held_out(d)
    more = r.held_out_scores(r.more_units(d, units=(1, 2, 8), epochs=300), x, y)
    assert more.units == (1, 2, 8)
    for i, (k, fit) in enumerate(zip(more.units, more.fits, strict=True)):
        w = fit.params.reshape(k, 2)
        relu_sum = lambda xs, w=w: np.maximum(np.outer(xs, w[:, 0]) + w[:, 1], 0).sum(1)
        np.testing.assert_allclose(more.train_pred[i], relu_sum(d.x[:, 0]), rtol=1e-12, atol=1e-14)
        np.testing.assert_allclose(more.valid_pred[i], relu_sum(x[:, 0]), rtol=1e-12, atol=1e-14)
        assert more.train_loss[i] == pytest.approx(np.mean((relu_sum(d.x[:, 0]) - d.y) ** 2), rel=1e-12)
        assert more.valid_loss[i] == pytest.approx(np.mean((relu_sum(x[:, 0]) - y) ** 2), rel=1e-12)
    assert more.train_loss[0] > 10 * more.train_loss[1] and more.valid_loss[0] > 5 * more.valid_loss[1]
    assert more.train_loss[2] < more.train_loss[1]  # more ReLUs: closer to the points fitted
    with pytest.raises(wb.WorkbenchError, match="one value per point"):
        r.held_out_scores(more.fits, x[:5], y)
