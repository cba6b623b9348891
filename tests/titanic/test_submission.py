"""Kaggle submissions and parameter files: every test passenger, 0/1, the model's own predictions.

Expected predictions are computed here with plain numpy on the prediction table's inputs,
and the passenger ids are read from test.csv with the csv module, never with the code
under test.
"""

from __future__ import annotations

import csv
import json
from types import SimpleNamespace

import numpy as np
import pytest
from small_book import INPUTS, write_small_book

from workbench.errors import WorkbenchError, WorkbookError
from workbench.sheets.read.read_book import load_params
from workbench.titanic.data import TEST_CSV
from workbench.titanic.features import prediction_table
from workbench.titanic.submission import Params, kaggle_submission, write_params, write_submission


def kaggle_test_ids() -> list[int]:
    with open(TEST_CSV, newline="", encoding="utf-8-sig") as f:
        return [int(row["PassengerId"]) for row in csv.DictReader(f)]


@pytest.fixture(scope="module")
def linear_params(table) -> np.ndarray:
    x, y = table[INPUTS].to_numpy(dtype=float), table["Survived"].to_numpy(dtype=float)
    return np.linalg.lstsq(x, y, rcond=None)[0]


@pytest.fixture(scope="module")
def kaggle_inputs() -> np.ndarray:
    return prediction_table(TEST_CSV)[INPUTS].to_numpy(dtype=float)


def nnet_params() -> np.ndarray:
    return np.random.default_rng(5).uniform(-0.5, 0.5, size=(2, 10))


def test_a_submission_has_every_test_passenger_in_order_with_0_or_1(linear_params, kaggle_inputs):
    frame = kaggle_submission("linear", linear_params)
    assert list(frame.columns) == ["PassengerId", "Survived"]
    assert frame["PassengerId"].tolist() == kaggle_test_ids()
    assert len(frame) == 418
    assert set(frame["Survived"].unique()) == {0, 1}
    assert frame["Survived"].dtype == np.int64
    np.testing.assert_array_equal(frame["Survived"], (kaggle_inputs @ linear_params > 0.5).astype(int))


def test_nnet_mmult_and_sigmoid_submissions_are_their_models_predictions(linear_params, kaggle_inputs):
    w = nnet_params()
    relu_sum = np.maximum(kaggle_inputs @ w[0], 0) + np.maximum(kaggle_inputs @ w[1], 0)
    want = (relu_sum > 0.5).astype(int)
    np.testing.assert_array_equal(kaggle_submission("nnet", w)["Survived"], want)
    np.testing.assert_array_equal(kaggle_submission("mmult", w.T)["Survived"], want)
    squashed = 1 / (1 + np.exp(-(kaggle_inputs @ linear_params)))
    got = kaggle_submission("linear", linear_params, sigmoid=True)["Survived"]
    np.testing.assert_array_equal(got, (squashed > 0.5).astype(int))


def test_write_submission_writes_kaggles_format(tmp_path, linear_params):
    frame = kaggle_submission("linear", linear_params)
    path = write_submission(tmp_path / "submission.csv", frame)
    text = path.read_bytes().decode("ascii")
    lines = text.split("\n")
    assert lines[0] == "PassengerId,Survived"
    assert lines[-1] == "" and len(lines) == 420  # header, 418 rows, final newline
    assert "\r" not in text
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert [int(r["PassengerId"]) for r in rows] == kaggle_test_ids()
    assert [int(r["Survived"]) for r in rows] == frame["Survived"].tolist()


def test_write_submission_refuses_a_folder_or_a_path_under_a_file(tmp_path, linear_params):
    frame = kaggle_submission("linear", linear_params)
    (tmp_path / "plain").write_text("x")
    with pytest.raises(WorkbenchError, match="is a file, not a folder"):
        write_submission(tmp_path / "plain" / "submission.csv", frame)
    with pytest.raises(WorkbenchError, match="it is a folder"):
        write_submission(tmp_path, frame)


def test_a_failed_write_leaves_the_old_submission(tmp_path, linear_params):
    path = tmp_path / "submission.csv"
    path.write_text("old")
    bad = kaggle_submission("linear", linear_params).assign(Survived="not a number")
    with pytest.raises(ValueError):
        write_submission(path, bad)
    assert path.read_text() == "old"
    assert list(tmp_path.iterdir()) == [path]


# --- parameter files --------------------------------------------------------------------------------


def fake_fit(model: str, params: np.ndarray, *, sigmoid: bool = False) -> SimpleNamespace:
    return SimpleNamespace(
        model=model, params=params, start=np.zeros_like(params), sigmoid=sigmoid, method="gd", loss=0.25,
        accuracy=0.75, seed=3, lr=0.1, epochs=7, starts=2, polish=1,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("model", "params", "sigmoid", "kind"),
    [
        ("linear", np.linspace(-1, 1, 10) / 3, False, "linear"),
        ("nnet", nnet_params(), False, "nnet"),
        ("mmult", nnet_params().T, False, "mmult"),
        ("linear", np.linspace(-1, 1, 10) / 7, True, "sigmoid"),
    ],
)
def test_params_json_round_trips_exactly(tmp_path, model, params, sigmoid, kind):
    path = write_params(tmp_path / "fit.json", fake_fit(model, params, sigmoid=sigmoid))
    record = json.loads(path.read_text())
    assert record["model"] == model and record["sigmoid"] is sigmoid
    assert record["features"] == INPUTS
    assert np.shape(record["params"]) == params.shape
    assert (record["loss"], record["accuracy"], record["seed"]) == (0.25, 0.75, 3)
    found = load_params(path)
    assert (found.model, found.sigmoid, found.kind) == (model, sigmoid, kind)
    np.testing.assert_array_equal(found.params, params)  # bit for bit
    assert load_params(path, kind).kind == kind


def test_a_json_file_holding_another_model_is_refused(tmp_path):
    path = write_params(tmp_path / "fit.json", fake_fit("nnet", nnet_params()))
    with pytest.raises(WorkbenchError, match="holds nnet parameters, not linear"):
        load_params(path, "linear")
    with pytest.raises(WorkbenchError, match="unknown model 'relu'"):
        load_params(path, "relu")


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("model: nnet", "neither a JSON parameter file"),
        ("[1, 2]", "needs the keys 'model' and 'params'"),
        ('{"model": "tree", "params": [1]}', "unknown model 'tree'"),
        ('{"model": "linear", "params": [1, 2]}', r"shape \(10,\)"),
        ('{"model": "linear", "params": "abc"}', "'params' must be numbers"),
        ('{"model": "linear", "params": [1,2,3,4,5,6,7,8,9,NaN]}', "finite"),
        (
            '{"model": "linear", "params": [1,2,3,4,5,6,7,8,9,10], "features": ["Age"]}',
            "fitted on the inputs",
        ),
    ],
)
def test_a_bad_parameter_file_says_what_is_wrong(tmp_path, text, problem):
    path = tmp_path / "fit.json"
    path.write_text(text)
    with pytest.raises(WorkbenchError, match=problem) as err:
        load_params(path)
    assert str(path) in str(err.value)


def test_a_missing_parameter_file(tmp_path):
    with pytest.raises(WorkbenchError, match="no such parameter file"):
        load_params(tmp_path / "nope.json")


def test_parameters_are_read_from_any_sheet_of_a_workbook(tmp_path):
    book = write_small_book(tmp_path / "titanic.xlsx")
    assert load_params(book.path).kind == "nnet"  # the default sheet
    for kind in ("linear", "nnet", "mmult", "sigmoid"):
        found = load_params(book.path, kind)
        assert isinstance(found, Params)
        model = "linear" if kind == "sigmoid" else kind
        assert (found.model, found.kind, found.sigmoid) == (model, kind, kind == "sigmoid")
        np.testing.assert_array_equal(found.params, book.params[kind])
        assert f"sheet {kind}" in found.source


def test_a_zip_that_is_not_our_workbook_is_refused(tmp_path):
    import zipfile

    with zipfile.ZipFile(tmp_path / "other.xlsx", "w") as z:
        z.writestr("hello.txt", "hi")
    with pytest.raises(WorkbookError):
        load_params(tmp_path / "other.xlsx")
