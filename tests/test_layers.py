"""The package's layers, as docs/ARCHITECTURE.md draws them: imports point one way only.

    base (errors, limits, files, numerics, gd)
      <- titanic, regression, tabular (the numerics of each part)
        <- sheets, pictures (workbooks and images of them)
          <- build, stamp, cli (orchestration)

Every import in every module, at the top or inside a function, is read with ``ast``.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import workbench

PACKAGE = Path(workbench.__file__).parent

#: The first part of a module's name inside workbench -> its layer.
LAYERS = {
    "errors": 0, "limits": 0, "files": 0, "csv_files": 0, "numerics": 0, "gd": 0,
    "titanic": 1, "regression": 1, "tabular": 1,
    "sheets": 2, "pictures": 2,
    "build": 3, "lessons": 3, "lesson_files": 3, "cli_text": 3, "stamp": 3, "cli": 3, "__main__": 3,
}  # fmt: skip
#: The parts of a layer that do not import each other (tabular builds on titanic's lesson recipe).
SIBLINGS_APART = {("titanic", "regression"), ("regression", "titanic"), ("titanic", "tabular")}


def part(module: str) -> str:
    """``workbench.sheets.read.read_book`` -> ``sheets``; ``workbench.gd`` -> ``gd``."""
    return module.split(".")[1]


def imports(path: Path) -> set[str]:
    """The workbench modules ``path`` imports, as absolute dotted names."""
    name = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("workbench.")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")[: len(package.split(".")) - node.level + 1]
                target = ".".join([*base, node.module] if node.module else base)
            else:
                target = node.module or ""
            for a in node.names:  # from . import models: the module; from .x import f: x
                sub = f"{target}.{a.name}"
                is_module = (PACKAGE.parent / sub.replace(".", "/")).with_suffix(".py").exists() or (
                    PACKAGE.parent / sub.replace(".", "/")
                ).is_dir()
                if is_module:
                    found.add(sub)
                elif target.startswith("workbench."):
                    found.add(target)
                elif target == "workbench":  # the package's own names: only its version
                    assert a.name == "__version__", f"{path} imports {a.name} from workbench"
    return found


MODULES = sorted(p for p in PACKAGE.rglob("*.py") if p.name != "__init__.py" or p.parent != PACKAGE)


def test_every_part_has_a_layer():
    assert {
        part("workbench." + ".".join(p.relative_to(PACKAGE).with_suffix("").parts)) for p in MODULES
    } <= set(LAYERS)


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_imports_point_down(path: Path):
    here = part("workbench." + ".".join(path.relative_to(PACKAGE).with_suffix("").parts))
    for target in imports(path):
        there = part(target)
        assert LAYERS[there] <= LAYERS[here], (
            f"{path.relative_to(PACKAGE)} ({here}) imports {target} ({there})"
        )
        assert (here, there) not in SIBLINGS_APART, f"{path.relative_to(PACKAGE)} imports {target}"


def test_the_check_sees_imports():
    """The reader resolves relative and lazy imports, so the test above can fail."""
    found = imports(PACKAGE / "sheets" / "read" / "read_book.py")
    assert {"workbench.titanic.models", "workbench.sheets.model_sheets", "workbench.errors"} <= found
    assert "workbench.sheets.read.read_book" in imports(PACKAGE / "cli.py")  # imported inside a function


def private_imports(path: Path) -> list[str]:
    """The private names (``_x``) ``path`` takes from another workbench module, by import or attribute."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    found = []
    modules = set()  # names bound to workbench modules: import workbench.x as m, from . import m
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and (node.level or (node.module or "").startswith("workbench")):
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"{node.module}.{a.name}")
                modules.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            modules |= {
                a.asname or a.name.split(".")[0] for a in node.names if a.name.startswith("workbench")
            }
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Attribute)
            and node.attr.startswith("_")
            and not node.attr.startswith("__")
            and isinstance(node.value, ast.Name)
            and node.value.id in modules
        ):
            found.append(f"{node.value.id}.{node.attr}")
    return found


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_takes_another_ones_private_names(path: Path):
    """Whatever a module shares is public: a private name is free to change inside its module."""
    assert private_imports(path) == []


def test_the_private_name_check_sees_them(tmp_path: Path):
    source = "from .titanic import _Layout, Grid\nfrom . import recalc\nrecalc._PROFILE\nx._y\n"
    (tmp_path / "m.py").write_text(source, encoding="utf-8")
    assert private_imports(tmp_path / "m.py") == ["titanic._Layout", "recalc._PROFILE"]


#: What fits, descends or computes a model's values: the sheet writers take its results instead.
COMPUTING = {
    "torch", "scipy", "workbench.gd", "workbench.titanic.train", "workbench.titanic.steps",
    "workbench.titanic.compare", "workbench.regression.fits",
    "workbench.tabular.fit",
}  # fmt: skip
COMPUTING_NAMES = {
    "descend", "fit", "fit_dataset", "least_squares", "least_squares_floor", "sheet_values",
    "more_units", "held_out_scores", "sgd", "sgd_steps", "gradient_descent", "fit_prepared",
    "fit_sheet_values", "titanic_descent",
}  # fmt: skip
WRITERS = sorted((PACKAGE / "sheets" / "write").glob("*.py"))


@pytest.mark.parametrize("path", WRITERS, ids=lambda p: p.name)
def test_the_sheet_writers_only_write(path: Path):
    """A sheet kind is given every number it caches; it fits nothing and imports nothing that does."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    taken = set(imports(path))
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            taken |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            taken |= {a.name for a in node.names}
    assert not taken & (COMPUTING | COMPUTING_NAMES), (
        f"{path.name} imports {sorted(taken & (COMPUTING | COMPUTING_NAMES))}"
    )
    called = {
        node.func.attr
        for node in ast.walk(tree)
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
    }
    assert not called & FITTING_METHODS, f"{path.name} calls {sorted(called & FITTING_METHODS)}"


#: Methods that fit or predict: a writer is given their results instead.
FITTING_METHODS = {"predict", "lstsq", "least_squares", "backward", "loss_and_gradient", "minimize"}


#: The longest a module may be ("about 600 lines"): read at once, or split by what its parts do.
LONGEST = 680


@pytest.mark.parametrize("path", MODULES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_no_module_is_longer_than_about_600_lines(path: Path):
    assert len(path.read_text(encoding="utf-8").splitlines()) <= LONGEST


def test_a_table_book_does_not_load_matplotlib(tmp_path: Path):
    """Only pictures need matplotlib (about 30 MB and half a second to import): a table's build,
    which draws none, runs without it."""
    import subprocess
    import sys

    csv = tmp_path / "t.csv"
    csv.write_text("a,b,y\n" + "".join(f"{i % 7},{i % 3},{i % 2}\n" for i in range(60)))
    script = (
        "import sys; from workbench.build import build_table; import workbench.cli;"
        f" build_table({str(csv)!r}, 'y', {str(tmp_path / 'out')!r});"
        " print('matplotlib' in sys.modules, 'workbench.pictures' in sys.modules)"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    assert done.stdout.split() == ["False", "True"]
