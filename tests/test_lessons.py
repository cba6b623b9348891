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
