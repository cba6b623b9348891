"""Any table's workbook, recomputed by the spreadsheet engines, on small tables made to break it.

Each table is a CSV of 30 rows (60 for the widest) made to hit one kind of trouble, built as a
user builds it (``build_table``):

* every feature count from 1 to 12, and 25: ``mmult``'s parameter blocks stand side by side,
  and with fewer than 10 features its losses and example once covered its parameter cells
  (``#VALUE!``);
* text levels a spreadsheet's ``=`` takes for one (``a``/``A``, Greek sigma and final sigma,
  ``TRUE``/``true``), in a feature and in the target;
* dates and booleans as a CSV holds them (text), with blanks filled;
* text a spreadsheet could read as a formula or number (leading ``=``, ``+``, ``-``, ``@``,
  quotes, commas, braces), a level longer than Excel's 255-character text constant, characters beyond
  Unicode's first plane;
* a DataFrame's booleans (with gaps), dates, categories and strings (``frame``);
* whole numbers as categories (negative, beyond 2**53, two that differ in the 17th digit, with
  blanks), a 0/1 target coded 2/5.

LibreOffice (one start for every book), Gnumeric and ``formulas`` recompute each book from its
formulas alone: every formula cell must equal the value Python stored beside it, none may be an
error; and each table must hit its case (its features counted, its levels counted with pandas).
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import unicodedata
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import openpyxl
import pandas as pd
import pytest
from cells import differences, formulas_values, read_values
from openpyxl.utils.cell import get_column_letter, range_boundaries
from openpyxl.worksheet.formula import ArrayFormula

from workbench.build import build_table
from workbench.sheets.books.tabular import write_tabular_book
from workbench.sheets.engines.recalc import recalculate_all
from workbench.tabular import MAX_FEATURES, prepare, read_table
from workbench.tabular.fit import fit_prepared
from workbench.titanic.submission import Params

ROWS = 30
SIGMA, FINAL_SIGMA = "\N{GREEK SMALL LETTER SIGMA}", "\N{GREEK SMALL LETTER FINAL SIGMA}"
LONG = "long level " + "x" * 290  # beyond Excel's 255-character text constant


def _pick(rng, levels, n=ROWS):
    """``levels`` in a random order, each at least twice (so none is a lone level)."""
    out = [levels[i % len(levels)] for i in range(n)]
    rng.shuffle(out)
    return out


def _numbers(rng, n=ROWS):
    return [f"{v:.4f}" for v in rng.normal(size=n)]


def tables() -> dict[str, tuple[list[str], list[list[str]], str, dict]]:
    """name -> (header, rows, target, build options)."""
    rng = np.random.default_rng(25)
    out = {}
    for p in [*range(1, 13), 25]:  # p features: p - 1 numeric columns and Ones
        n = max(ROWS, 2 * p + 10)
        columns = [[str(i) for i in range(n)]] + [_numbers(rng, n) for _ in range(p)]
        header = ["id", *(f"x{j}" for j in range(1, p)), "y"]  # id: left out, an identifier
        out[f"features_{p}"] = (header, [list(r) for r in zip(*columns, strict=True)], "y", {})
    case = _pick(rng, ["a", "A", "b", "B", "ab"])
    out["case_levels"] = (
        ["c", "x", "y"],
        list(zip(case, _numbers(rng), _numbers(rng), strict=True)),
        "y",
        {},
    )
    out["case_target"] = (
        ["x", "t"],
        list(zip(_numbers(rng), _pick(rng, ["Yes", "yes"]), strict=True)),
        "t",
        {},
    )
    greek = _pick(rng, [SIGMA, FINAL_SIGMA, "\N{GREEK CAPITAL LETTER SIGMA}", "ß", "ss", "SS"])
    sigma = _pick(rng, [FINAL_SIGMA, SIGMA])
    out["greek"] = (["g", "x", "s"], list(zip(greek, _numbers(rng), sigma, strict=True)), "s", {})
    bools = _pick(rng, ["TRUE", "true", "True", "FALSE", "false"])
    gaps = _pick(rng, ["True", "False", "", "True"])
    target = _pick(rng, ["TRUE", "true"])
    out["booleans"] = (
        ["b", "b2", "x", "t"],
        list(zip(bools, gaps, _numbers(rng), target, strict=True)),
        "t",
        {"missing": "fill"},
    )
    dates = _pick(rng, ["2020-01-01", "2020-01-02", "1/2/2020", "12:30", "2020-01-01T00:00"])
    when = _pick(rng, ["2020-01-01", "2021-06-30"])
    out["dates"] = (["d", "x", "when"], list(zip(dates, _numbers(rng), when, strict=True)), "when", {})
    special = _pick(rng, ["=1+1", "+x", "-y", "@z", '"q"', "'a", "a,b", "=A1", LONG, "😀", "1", "1.0"])
    target = _pick(rng, ["=A1", "-A1"])
    out["special"] = (
        ["s", "x", "t"],
        list(zip(special, _numbers(rng), target, strict=True)),
        "t",
        {"category": ["s"]},
    )
    braces = _pick(rng, ["{x}", "a}", "{col}", "b"])  # a template's own placeholders' marks
    target = _pick(rng, ["{a}", "b}"])
    out["braces"] = (["s", "x", "t"], list(zip(braces, _numbers(rng), target, strict=True)), "t", {})
    # Control characters, as free text in real files has them (ASCII's SUB, a line break within a
    # quoted field): XML cannot hold most in a formula, and reading it turns \r into \n.
    control = _pick(rng, ["a\x1ab", "a\r\nb", "a\nb", "a\rb", "a\tb", "ab", "\x1b[0m", "a\x1a"])
    out["control"] = (
        ["c\x1bd", "x", "y"],
        list(zip(control, _numbers(rng), _numbers(rng), strict=True)),
        "y",
        {},
    )
    accents = _pick(rng, ["é", "e\u0301", "É", "e"])  # é twice: composed, and e + a combining accent
    out["accents"] = (["a", "x", "y"], list(zip(accents, _numbers(rng), _numbers(rng), strict=True)), "y", {})
    # The last two differ in the 17th digit, beyond what a cell keeps: one level.
    whole = _pick(rng, ["-1", "0", "3", "", "1234567890123456789", "1234567890123456512"])
    coded = _pick(rng, ["2", "5"])
    out["whole"] = (
        ["w", "x", "t"],
        list(zip(whole, _numbers(rng), coded, strict=True)),
        "t",
        {"missing": "fill"},
    )
    return out


#: The books: one per table, and one of a DataFrame's own types.
NAMES = [*tables(), "frame"]


def write_csv(path: Path, header: list[str], rows) -> Path:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(header)
        writer.writerows(rows)
    return path


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hostile")
    results = {}
    for name, (header, rows, target, options) in tables().items():
        path = write_csv(folder / f"{name}.csv", header, rows)
        results[name] = build_table(path, target, folder / "books", **options)
    prep = prepare(frame(), "y", missing="fill")
    path = write_tabular_book(folder / "books" / "frame.xlsx", prep, fit_prepared(prep, seed=0))
    results["frame"] = SimpleNamespace(path=path, prepared=prep)
    return results


def frame() -> pd.DataFrame:
    """A DataFrame's own types: booleans (one with gaps), dates (left out), categories whose
    levels differ in case, a nullable string column."""
    rng = np.random.default_rng(5)
    flags = [None if i % 6 == 0 else bool(i % 4) for i in range(ROWS)]
    return pd.DataFrame(
        {
            "b": rng.random(ROWS) < 0.4,
            "b_gaps": pd.array(flags, dtype="boolean"),
            "when": pd.date_range("2020-01-01", periods=ROWS, freq="D"),
            "kind": pd.Categorical(_pick(rng, ["a", "A", "b"])),
            "word": pd.array(_pick(rng, ["Yes", "yes", "YES"]), dtype="string"),
            "x": rng.normal(size=ROWS),
            "y": rng.random(ROWS) < 0.5,
        }
    )


def assert_recomputed(result, computed, engine: str) -> None:
    # A prediction near 0 is a sum of terms the size of the target: it carries their rounding.
    floor = 1e-12 * max(1.0, float(np.abs(result.prepared.y).max()))
    count, wrong = differences(result.path, computed, engine, floor)
    where = f"{engine}, {result.path.name}: {len(wrong)} of {count} formula cells differ: "
    assert not wrong, where + "; ".join(wrong[:5])
    assert count > 14 * ROWS + 100  # linear 2 a row, nnet and mmult 6 each; descent's 100 steps


@pytest.fixture(scope="module")
def libreoffice(built, tmp_path_factory):
    outs = recalculate_all([r.path for r in built.values()], tmp_path_factory.mktemp("lo"))
    return dict(zip(built, outs, strict=True))


@pytest.mark.slow
@pytest.mark.libreoffice
@pytest.mark.parametrize("name", NAMES)
def test_libreoffice_recomputes_every_formula_cell(built, libreoffice, name):
    assert_recomputed(built[name], read_values(libreoffice[name]), "LibreOffice")


@pytest.mark.slow
@pytest.mark.parametrize("name", NAMES)
def test_gnumeric_recomputes_every_formula_cell(built, name, tmp_path):
    if shutil.which("ssconvert") is None:
        if os.environ.get("WORKBENCH_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("ssconvert is not installed, and CI requires every spreadsheet engine")
        pytest.skip("Gnumeric's ssconvert is not installed")
    out = tmp_path / built[name].path.name
    done = subprocess.run(
        ["ssconvert", "--recalc", str(built[name].path), str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0 and out.is_file(), done.stderr
    assert_recomputed(built[name], read_values(out), "Gnumeric")


@pytest.mark.slow
@pytest.mark.parametrize("name", ["features_5", "greek", "control"])  # a Python interpreter: slow
def test_the_formulas_package_recomputes_every_formula_cell(built, name):
    pytest.importorskip("formulas")
    assert_recomputed(built[name], formulas_values(built[name].path), "formulas")


def _as_a_cell_keeps_it(v: str) -> str:
    """Unicode's NFC, a line break as one line feed, no other control character but tab."""
    v = re.sub(r"\r\n?", "\n", v)
    return unicodedata.normalize("NFC", "".join(c for c in v if c in "\t\n" or ord(c) >= 32))


def test_each_table_hits_its_case(tmp_path):
    """The feature counts are the ones named, and each category has a dummy per level a cell tells
    apart (counted here from the CSV with pandas: text as a cell keeps it, numbers to 16 digits)."""
    for name, (header, rows, target, options) in tables().items():
        path = write_csv(tmp_path / f"{name}.csv", header, rows)
        prep = prepare(read_table(path), target, **options)
        if name.startswith("features_"):
            assert len(prep.features) == int(name.split("_")[1]), name
            continue
        frame = pd.read_csv(path, dtype=str, keep_default_na=False).map(_as_a_cell_keeps_it)
        frame.columns = [_as_a_cell_keeps_it(c) for c in frame.columns]
        levels = frame[target].nunique()
        assert prep.target.kind == ("binary" if levels == 2 else "numeric"), name
        for column in frame.columns:
            text = frame[column]
            if pd.to_numeric(text[text != ""], errors="coerce").notna().all():  # a column of numbers
                text = text.map(lambda v: v and f"{float(v):.16g}")
            dummies = [f for f in prep.features if f.source == column and f.kind == "dummy"]
            if column != target and dummies:
                assert len(dummies) == text[text != ""].nunique() - 1, (name, column)
    control = prepare(read_table(tmp_path / "control.csv"), "y").features  # its header's ESC dropped too
    assert len([f for f in control if f.source == "cd" and f.kind == "dummy"]) == 4  # "a\x1ab" is "ab"
    case = prepare(read_table(tmp_path / "case_levels.csv"), "y").features
    assert {"a", "A", "b", "B", "ab"} == ({f.level for f in case} | {f.baseline for f in case}) - {None}


def _hand_fits(prep, seed: int = 0) -> dict[str, Params]:
    """Parameters and starts drawn at random (every block written): where the cells go does not
    depend on their values."""
    rng, p = np.random.default_rng(seed), len(prep.features)
    shapes = {"linear": (p,), "nnet": (2, p), "sigmoid": (p,)}
    draw = lambda shape: rng.uniform(-0.5, 0.5, shape)
    return {
        s: Params(draw(shape), draw(shape), s, method="drawn", train_loss=0.0) for s, shape in shapes.items()
    }


def assert_formulas_read_the_yellow_cells(path: Path, p: int) -> None:
    """Every parameter a model formula reads is a yellow cell, Solver's (``solver_adj``), holding a
    number: a label or a loss written over one would make the formulas read text."""
    book = openpyxl.load_workbook(path, read_only=True)
    for sheet in ("linear", "nnet", "mmult", "sigmoid"):
        top, heads = {}, None  # the cells above the data, and the column headers
        for row in book[sheet].iter_rows():
            values = [c.value for c in row]
            if heads is not None:
                first = values
                break
            top |= {c.coordinate: c.value for c in row if c.value is not None}
            if {"Set", "Preds"} <= set(values):
                heads = values
        model = next(j for j, h in enumerate(heads) if h in ("Lin", "Lin1", "Preds"))  # the model's columns
        texts = [v.text if isinstance(v, ArrayFormula) else v for v in first[model:]]
        params = [ref for text in texts if isinstance(text, str) for ref in _absolute_ranges(text)]
        cells = [ref for r in params if "!" not in r for ref in _cells(r)]
        assert len(cells) == p * (2 if sheet in ("nnet", "mmult") else 1), sheet
        yellow = _cells(book[sheet].defined_names["solver_adj"].attr_text.split("!")[1])
        assert sorted(cells) == sorted(yellow), sheet
        for ref in cells:
            assert isinstance(top.get(ref), (int, float)), (sheet, ref, top.get(ref))


def _absolute_ranges(text: str) -> list[str]:
    return re.findall(r"(?:\w+!)?\$[A-Z]+\$\d+(?::\$[A-Z]+\$\d+)?", text)


def _cells(ref: str) -> list[str]:
    c1, r1, c2, r2 = range_boundaries(ref.replace("$", ""))
    return [f"{get_column_letter(c)}{r}" for r in range(r1, r2 + 1) for c in range(c1, c2 + 1)]


@pytest.mark.parametrize("p", range(1, 13))
def test_model_formulas_read_the_yellow_cells_for_few_features(tmp_path, p):
    rng, n = np.random.default_rng(p), max(12, 2 * p)  # the fewest rows prepare takes
    frame = pd.DataFrame({f"x{j}": rng.normal(size=n) for j in range(1, p)} | {"y": rng.random(n) < 0.5})
    prep = prepare(frame, "y")
    assert len(prep.features) == p
    assert_formulas_read_the_yellow_cells(write_tabular_book(tmp_path / "t.xlsx", prep, _hand_fits(prep)), p)


@pytest.mark.slow
def test_model_formulas_read_the_yellow_cells_for_the_most_features(tmp_path):
    rng, p = np.random.default_rng(0), MAX_FEATURES
    frame = pd.DataFrame(
        {f"x{j}": rng.normal(size=2 * p) for j in range(1, p)} | {"y": rng.random(2 * p) < 0.5}
    )
    prep = prepare(frame, "y")
    assert len(prep.features) == p
    assert_formulas_read_the_yellow_cells(write_tabular_book(tmp_path / "t.xlsx", prep, _hand_fits(prep)), p)


def test_a_heading_cell_written_twice_is_refused():
    """The writer's own guard: a cell of a model sheet's heading area is written once, a merged
    range counting as all its cells, so no feature count can hide a parameter under a label."""
    from workbench.sheets.write.grid import OneWriter

    cells = OneWriter()
    cells.put(3, 2, "merge_range", 3, 4, "Data", None)
    cells.put(3, 5, "write_string", "next to it", None)
    with pytest.raises(RuntimeError, match=r"layout: D4 written by merge_range, then write_number"):
        cells.put(3, 3, "write_number", 0.5, None)
