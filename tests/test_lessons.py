"""The small regression lessons' registry: the build writes every lesson, with no branch per name."""

from __future__ import annotations

import ast
from pathlib import Path

import workbench
from workbench.build import OUTPUTS, REGRESSION_OUTPUTS
from workbench.lessons import LESSONS
from workbench.regression import DATASETS


def test_every_dataset_is_a_lesson_in_the_datasets_order():
    assert list(LESSONS) == list(DATASETS) == ["line", "quadratic", "speed", "relu"]


def test_the_build_writes_each_lessons_files_after_titanics():
    expected = [f for name in DATASETS for f in (f"{name}.xlsx", f"{name}_fit.png", f"{name}_loss.png")]
    assert [f for f in REGRESSION_OUTPUTS if f.endswith(("xlsx", "_fit.png", "_loss.png"))] == expected
    assert {"line_descent.gif", "line_lr_sweep.png", "relu_units.png", "relu_overfitting.png"} <= set(
        REGRESSION_OUTPUTS
    )
    assert OUTPUTS[-len(REGRESSION_OUTPUTS) :] == REGRESSION_OUTPUTS


def test_the_build_names_no_lesson():
    """What differs between lessons lives in their records: build.py holds no dataset's name."""
    source = Path(workbench.__file__).with_name("build.py").read_text(encoding="utf-8")
    strings = {
        node.value
        for node in ast.walk(ast.parse(source))
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    }
    assert not strings & set(DATASETS)


def test_the_parabola_shows_steps_bouncing_and_creeping_as_its_titles_say(tmp_path, monkeypatch):
    """Along one parameter the distance to the bottom is multiplied by 1 - lr * curvature at every
    step: the titles must say what that factor does (bounce out past -1, creep near 1)."""
    import numpy as np

    from workbench import lessons, pictures, regression

    drawn = {}

    def capture(curve, runs, path, **kw):
        drawn.update(curve=curve, runs=runs, path=path, **kw)
        return path

    monkeypatch.setattr(pictures, "parabola_png", capture)
    d = regression.line()
    run = lessons.Run(d, regression.fit_dataset(d), None, tmp_path)
    assert lessons._line_parabola(run) == tmp_path / "line_parabola.png"
    phi = np.column_stack([d.x[:, 0], np.ones(d.n)])
    best = np.linalg.lstsq(phi, d.y, rcond=None)[0]
    bend = 2 / d.n * phi[:, 0] @ phi[:, 0]
    (high, at_high, _), (low, at_low, loss_low) = drawn["runs"]
    for (times, steps), at in zip(lessons.PARABOLA_RATES, (at_high, at_low), strict=True):
        lr = float(f"{times / bend:.2g}")
        factor = 1 - lr * bend
        np.testing.assert_allclose(at - best[0], (d.start[0] - best[0]) * factor ** np.arange(steps + 1))
    assert factor > 0 and "creeps" in low and f"{1 - factor**10:.0%} of the way" in low
    assert 1 - float(f"{2.1 / bend:.2g}") * bend < -1 and "bounces across the bottom, further out" in high
    w = np.c_[at_low, np.full(len(at_low), best[1])]
    np.testing.assert_allclose(loss_low, np.mean((w @ phi.T - d.y) ** 2, axis=1))
    _, curve = drawn["curve"]
    assert np.argmin(curve) in (99, 100, 101)  # the parabola's bottom at the best slope, mid-picture


def test_the_speed_valleys_title_is_its_bend_measured_independently():
    """The picture's title says how much more sharply the loss bends one way: the condition number."""
    import numpy as np

    import workbench.regression as r

    for data, say in ((r.speed(), "{:,.0f}"), (r.scaled(r.speed()), "{:,.1f}")):
        phi, _ = r.design(data.model, data.x, data.x_names)
        assert say.format(r.bend_ratio(phi)) == say.format(float(np.linalg.cond(phi.T @ phi)))
    assert 100_000 < r.bend_ratio(r.design("quadratic", r.speed().x, ("t",))[0]) < 1_000_000
