"""Three spreadsheet engines recompute every formula cell of every workbook the build writes.

Each workbook stores, beside every formula, the value Python computed. Here LibreOffice
(forced full recalculation), Gnumeric (``ssconvert --recalc``) and the Python package
``formulas`` each recompute every formula cell from the formulas alone, and each cell
must equal its stored value within ``rel=1e-9`` (with an absolute floor of 1e-12, for
values near zero such as a ReLU's tiny leftovers). A formula form one engine gets
wrong (``formulas`` 1.3.4 evaluates ``SUMPRODUCT(--(...))`` to 0) fails here, so the
workbooks only use forms every engine evaluates. (pycel is not one of the engines: it
has no MMULT, TRANSPOSE, ROWS or SUMXMY2.)

A ``=RAND()-0.5`` cell (titanic.xlsx's ``New start`` rows) draws anew in every engine, so it
is checked to lie in [-0.5, 0.5) instead; every other cell still equals its stored value,
which also shows that no other cell reads a RAND() cell.
"""

from __future__ import annotations

import subprocess

import pytest
from cells import ABS, RANDOM, REL, assert_same, formula_cells, formulas_values, need, read_values  # noqa: F401

import workbench as wb
from workbench.sheets.engines.recalc import recalculate_all

pytestmark = pytest.mark.slow

BOOKS = ("titanic", "line", "quadratic", "speed", "relu")


@pytest.fixture(scope="module")
def books(tmp_path_factory) -> dict[str, object]:
    out = tmp_path_factory.mktemp("books")
    wb.build_all(out=out)
    return {name: out / f"{name}.xlsx" for name in BOOKS}


def test_every_sheet_of_the_regression_books_is_checked(books):
    """The engines' tests read every sheet: the by_hand, minibatch, descent_scaled and held_out sheets too."""
    want = {
        "line": {"by_hand", "model", "descent", "minibatch"},
        "quadratic": {"data", "by_hand", "model", "descent", "pile_up"},
        "speed": {"data", "by_hand", "model", "descent", "descent_scaled"},
        "relu": {"by_hand", "model", "descent", "held_out"},
    }
    for name, sheets in want.items():
        assert {sheet for sheet, _ in formula_cells(books[name])} == sheets


@pytest.mark.libreoffice
def test_libreoffice_recomputes_every_formula_cell(books, tmp_path):
    outs = recalculate_all(list(books.values()), tmp_path)
    counts = {
        path.stem: assert_same(path, read_values(out), "LibreOffice")
        for path, out in zip(books.values(), outs, strict=True)
    }
    assert counts["titanic"] > 30_000 and min(counts.values()) > 500


def test_gnumeric_recomputes_every_formula_cell(books, tmp_path):
    need("ssconvert")
    counts = {}
    for name, path in books.items():
        out = tmp_path / f"{name}.xlsx"
        done = subprocess.run(["ssconvert", "--recalc", str(path), str(out)], capture_output=True, text=True)
        assert done.returncode == 0 and out.is_file(), done.stderr
        counts[name] = assert_same(path, read_values(out), "Gnumeric")
    assert counts["titanic"] > 30_000 and min(counts.values()) > 500


@pytest.fixture(scope="module")
def short_titanic(tmp_path_factory) -> object:
    """titanic.xlsx built from the first 300 passengers: every sheet and formula of the full one.

    ``formulas`` is a Python interpreter of formulas: on the full workbook (34,000 formula
    cells, the descent sheet's 100 steps over 712 rows each) it takes 2 to 4 minutes and
    2 GB. The row formulas are the same on every row, so fewer rows test the same forms;
    LibreOffice and Gnumeric recompute the full workbook above.
    """
    out = tmp_path_factory.mktemp("short")
    lines = wb.TRAIN_CSV.read_bytes().splitlines(keepends=True)
    (out / "train.csv").write_bytes(b"".join(lines[:301]))
    wb.build_all(out / "train.csv", out=out / "books")
    return out / "books" / "titanic.xlsx"


@pytest.mark.parametrize("name", BOOKS)
def test_the_formulas_package_recomputes_every_formula_cell(books, short_titanic, name):
    pytest.importorskip("formulas")
    path = short_titanic if name == "titanic" else books[name]
    count = assert_same(path, formulas_values(path), "formulas")
    assert count > (5_000 if name == "titanic" else 500)
