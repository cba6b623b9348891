"""bench/: every script still runs (its ``--quick`` mode, so none rots unseen) and reads only
workbench's public names."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import openpyxl
import pytest
from small_book import write_small_book

from workbench.errors import WorkbenchError
from workbench.sheets.books.titanic import Fitted, add_model_sheet
from workbench.sheets.write.xlsx import new_workbook

BENCH = Path(__file__).resolve().parent.parent / "bench"


def private_uses(source: str) -> list[str]:
    """Every ``_name`` of workbench that ``source`` imports or reads as an attribute."""
    tree = ast.parse(source)
    bound, found = set(), []
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.module or "").split(".")[0] == "workbench":
            for alias in node.names:
                bound.add(alias.asname or alias.name)
                if alias.name.startswith("_"):
                    found.append(f"from {node.module} import {alias.name}")
        elif isinstance(node, ast.Import):
            bound |= {a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("workbench")}
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") and not node.attr.startswith("__"):
            base = node.value
            while isinstance(base, ast.Attribute):
                base = base.value
            if isinstance(base, ast.Name) and base.id in bound:
                found.append(f"{ast.unparse(node)}")
    return found


def test_the_private_name_check_finds_both_kinds():
    source = "from workbench.sheets import recalc\nfrom workbench.x import _y, z\nrecalc._PROFILE\nz.w._v\n"
    assert private_uses(source) == ["from workbench.x import _y", "recalc._PROFILE", "z.w._v"]
    assert private_uses("import os\nos._exit\n") == []


def test_bench_reads_only_public_names_of_workbench():
    used = {p.name: private_uses(p.read_text()) for p in sorted(BENCH.glob("*.py"))}
    assert {name: found for name, found in used.items() if found} == {}


def test_a_model_sheet_written_alone_is_the_books_own(tmp_path):
    book = write_small_book(tmp_path / "titanic.xlsx", rows=40)
    fits = {sheet: Fitted(book.params[sheet]) for sheet in ("linear", "nnet", "sigmoid")}
    for sheet in ("nnet", "mmult"):
        alone = tmp_path / f"{sheet}.xlsx"
        with new_workbook(alone, title=sheet) as out:
            add_model_sheet(out, sheet, book.table, fits)
        whole, single = (openpyxl.load_workbook(p)[sheet] for p in (book.path, alone))
        cells = [
            [(c.value.text if hasattr(c.value, "text") else c.value) for c in row]
            for row in whole.iter_rows()
        ]
        assert cells == [
            [(c.value.text if hasattr(c.value, "text") else c.value) for c in row]
            for row in single.iter_rows()
        ]
    with (
        new_workbook(tmp_path / "bad.xlsx", title="bad") as out,
        pytest.raises(WorkbenchError, match="no model sheet is called 'tree'"),
    ):
        add_model_sheet(out, "tree", book.table, fits)


@pytest.mark.slow
@pytest.mark.libreoffice
def test_every_bench_script_runs_in_its_quick_mode():
    sys.path.insert(0, str(BENCH))
    try:
        from run_all import SCRIPTS
    finally:
        sys.path.remove(str(BENCH))
    done = subprocess.run(
        [sys.executable, str(BENCH / "run_all.py"), "--quick"],
        cwd=BENCH.parent,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    sections = done.stdout.split("\n## ")[1:]
    assert [s.splitlines()[0] for s in sections] == [heading for heading, _, _ in SCRIPTS]
    for section, (_, script, _) in zip(sections, SCRIPTS, strict=True):
        assert f"`bench/{script} --quick`: " in section
        assert "\n|" in section, f"{script} printed no table"
