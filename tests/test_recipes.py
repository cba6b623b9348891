"""docs/ARCHITECTURE.md's recipes, applied exactly as written to a scratch copy of the package.

Every ```` ```diff ```` block names its file on its ``---`` line; lines starting with a space are
there already, ``-`` lines go, ``+`` lines come. A block applies only where its old lines stand
together exactly once, so a recipe that has drifted from the code fails here. The slow test then
builds with the added model and lesson, checks and recomputes the result in LibreOffice, and runs
the "Add a sheet" example.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from cells import assert_same, formula_cells, need, read_values

import workbench

DOC = Path(__file__).parents[1] / "docs" / "ARCHITECTURE.md"
PACKAGE = Path(workbench.__file__).parent


def blocks(kind: str) -> list[str]:
    return re.findall(rf"```{kind}\n(.*?)```", DOC.read_text(encoding="utf-8"), flags=re.S)


def apply(diff: str, root: Path) -> None:
    """Apply one recipe block to the files under ``root``."""
    head, *lines = diff.rstrip("\n").split("\n")
    assert head.startswith("--- "), f"a recipe block names its file on its first line: {head!r}"
    path = root / head[4:].strip()
    kinds = [(line[:1] or " ", line[1:]) for line in lines]  # an empty line is an empty context line
    assert all(k in " +-" for k, _ in kinds), f"{path.name}: a line of the recipe is not ' ', '+' or '-'"
    old = [text for k, text in kinds if k in " -"]
    new = [text for k, text in kinds if k in " +"]
    text = path.read_text(encoding="utf-8").split("\n")
    at = [i for i in range(len(text) - len(old) + 1) if text[i : i + len(old)] == old]
    assert len(at) == 1, (
        f"{path.name}: the recipe's lines {old[:3]} stand {len(at)} times in the file, not once"
    )
    path.write_text("\n".join(text[: at[0]] + new + text[at[0] + len(old) :]), encoding="utf-8")


@pytest.fixture
def scratch(tmp_path: Path) -> Path:
    """A copy of the package with every recipe of docs/ARCHITECTURE.md applied."""
    root = tmp_path / "scratch"
    shutil.copytree(PACKAGE, root / "workbench", ignore=shutil.ignore_patterns("__pycache__"))
    if not (root / "workbench" / "data").exists():  # a checkout keeps the bundled files in data/
        shutil.copytree(PACKAGE.parent / "data", root / "workbench" / "data")
    for diff in blocks("diff"):
        apply(diff, root)
    return root


def test_the_recipes_apply_and_the_result_imports(scratch: Path):
    assert len(blocks("diff")) >= 7 and len(blocks("python")) >= 1
    code = "\n".join(
        (
            "import workbench as wb",
            "from workbench.lessons import LESSONS",
            "from workbench.stamp import OUTPUTS",
            "from workbench.build import OUTPUTS as BUILT",
            "from workbench.sheets.model_sheets import MODEL_SHEETS",
            "assert 'nnet3' in wb.MODELS and 'nnet3' in MODEL_SHEETS and 'absolute' in LESSONS",
            "assert OUTPUTS == BUILT, (OUTPUTS, BUILT)",
        )
    )
    run(scratch, "-c", code)


def run(scratch: Path | None, *args: str, cwd: Path | None = None) -> str:
    """Run Python on ``args`` with the package of ``scratch`` (None: the package as it is)."""
    env = {**os.environ, "PYTHONPATH": str(scratch)} if scratch else dict(os.environ)
    done = subprocess.run(
        [sys.executable, *args], cwd=cwd or scratch, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.mark.slow
@pytest.mark.libreoffice
def test_the_recipes_build_check_and_recompute(scratch: Path, tmp_path: Path):
    need("soffice")
    out = tmp_path / "out"
    run(scratch, "-m", "workbench", "build", "--out", str(out))
    report = run(scratch, "-m", "workbench", "check", str(out / "titanic.xlsx"), "--recalc")
    assert "nnet3" in report
    assert {s for s, _ in formula_cells(out / "absolute.xlsx")} >= {"by_hand", "model", "descent"}
    (example,) = blocks("python")
    (tmp_path / "example.py").write_text(example, encoding="utf-8")
    run(None, str(tmp_path / "example.py"), cwd=tmp_path)  # a recipe of its own: on the package as it is
    from workbench.sheets.engines.recalc import recalculate_all

    books = [out / "absolute.xlsx", tmp_path / "with_errors.xlsx"]
    for book, recomputed in zip(books, recalculate_all(books, tmp_path / "lo"), strict=True):
        assert assert_same(book, read_values(recomputed), "LibreOffice") > 100
    assert any(sheet == "errors" for sheet, _ in formula_cells(tmp_path / "with_errors.xlsx"))
