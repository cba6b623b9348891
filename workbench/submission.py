"""Kaggle submissions, and the parameter files they are made from.

A fitted model predicts ``Survived`` for every passenger of Kaggle's ``test.csv``
(gaps filled from the training data: :func:`~workbench.features.prediction_table`),
and a prediction above 0.5 counts as survived::

    fit = wb.fit("nnet")
    frame = wb.kaggle_submission("nnet", fit.params)          # 418 rows: PassengerId, Survived
    wb.write_submission("submission.csv", frame)

Parameters travel between commands as a JSON file (:func:`write_params`, what
``workbench fit --json`` writes) or inside a workbook, for example after Solver ran
in Excel (:func:`~workbench.read_book.read_params`); :func:`load_params` reads both.
"""

from __future__ import annotations

import json
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from .atomic import write_text
from .errors import WorkbenchError
from .features import FEATURES, FillValues, prediction_table
from .models import MODELS, as_params, predict

if TYPE_CHECKING:
    from .train import Fit

#: What a parameter file or workbook can hold: the three models, and ``sigmoid``
#: (the ``linear`` model squashed into 0..1, the workbook's ``sigmoid`` sheet).
KINDS: tuple[str, ...] = (*MODELS, "sigmoid")


@dataclass(frozen=True)
class Params:
    """Parameters of one model, as read by :func:`load_params`.

    ``model`` is ``linear``, ``nnet`` or ``mmult``; ``sigmoid`` says whether the
    predictions are squashed into 0..1; ``source`` says where they came from.
    """

    model: str
    params: np.ndarray
    sigmoid: bool = False
    source: str = ""

    @property
    def kind(self) -> str:
        """``sigmoid`` for a squashed linear model, else the model's name."""
        return "sigmoid" if self.sigmoid else self.model


def kaggle_submission(
    model: str,
    params: ArrayLike,
    test: pd.DataFrame | str | os.PathLike[str] | None = None,
    *,
    fill: FillValues | None = None,
    sigmoid: bool = False,
) -> pd.DataFrame:
    """A Kaggle submission: ``PassengerId`` and ``Survived`` (0 or 1) for every test passenger.

    Args:
        model, params: a fitted model (``linear``, ``nnet`` or ``mmult``) and its parameters.
        test: passengers (:func:`~workbench.load_titanic`) or a CSV path; Kaggle's
            bundled ``test.csv`` by default.
        fill: how gaps are filled and Age scaled; by default from the bundled training data.
        sigmoid: squash the predictions into 0..1 (the ``sigmoid`` sheet's model).

    Returns:
        One row per passenger, in file order; ``Survived`` is 1 where the prediction is
        above 0.5.
    """
    table = prediction_table(test, fill=fill)
    survived = predict(model, params, table, sigmoid=sigmoid) > 0.5
    return pd.DataFrame({"PassengerId": table.index.to_numpy(), "Survived": survived.astype("int64")})


def write_submission(path: str | os.PathLike[str], frame: pd.DataFrame) -> Path:
    """Write a submission as Kaggle wants it (``PassengerId,Survived``), whole or not at all."""
    _check_target(path)
    lines = ["PassengerId,Survived", *(f"{int(i)},{int(s)}" for i, s in frame.itertuples(index=False))]
    return write_text(path, "\n".join(lines) + "\n")


def write_params(path: str | os.PathLike[str], fit: Fit) -> Path:
    """Save a :class:`~workbench.train.Fit` as JSON, whole or not at all; return the path.

    The file holds ``model``, ``sigmoid``, ``method``, ``features`` (the inputs, in
    order), ``params`` (nested lists in the model's shape), ``start``, ``loss``,
    ``accuracy`` and the training settings. :func:`load_params` reads it back exactly.
    """
    _check_target(path)
    record = {
        "model": fit.model,
        "sigmoid": bool(fit.sigmoid),
        "method": fit.method,
        "features": list(FEATURES),
        "params": np.asarray(fit.params, dtype="float64").tolist(),
        "start": np.asarray(fit.start, dtype="float64").tolist(),
        "loss": float(fit.loss),
        "accuracy": float(fit.accuracy),
        "seed": int(fit.seed),
        "lr": fit.lr,
        "epochs": int(fit.epochs),
        "starts": int(fit.starts),
        "gauss_newton": int(getattr(fit, "gauss_newton", 0)),
        "polish": int(fit.polish),
    }
    return write_text(path, json.dumps(record, indent=2) + "\n")


def _check_target(path: str | os.PathLike[str]) -> None:
    """A clear error for an output path that can never be a file."""
    path = Path(path)
    if path.is_dir():
        raise WorkbenchError(f"cannot write {path}: it is a folder; give a file name")
    if path.parent.exists() and not path.parent.is_dir():
        raise WorkbenchError(f"cannot write {path}: {path.parent} is a file, not a folder")


def load_params(path: str | os.PathLike[str], kind: str | None = None) -> Params:
    """Read parameters from a JSON file (:func:`write_params`) or a workbench workbook.

    Args:
        path: a ``.json`` written by ``workbench fit --json``, or an ``.xlsx`` written by
            ``workbench build`` (perhaps changed in Excel since).
        kind: which model: ``linear``, ``nnet``, ``mmult`` or ``sigmoid``. A workbook
            holds all four (default ``nnet``); a JSON file holds one, and ``kind`` must
            match it when given.

    Raises:
        WorkbenchError: a missing file, a file that is neither, an unknown or mismatched
            ``kind``, parameters of the wrong shape or fitted on other features.
    """
    if kind is not None and kind not in KINDS:
        raise WorkbenchError(f"unknown model {kind!r}; choose one of {', '.join(KINDS)}")
    path = Path(path)
    if not path.is_file():
        raise WorkbenchError(f"{path}: no such parameter file or workbook")
    if zipfile.is_zipfile(path):
        from .read_book import read_params

        sheet = kind or "nnet"
        model = "linear" if sheet == "sigmoid" else sheet
        return Params(model, read_params(path)[sheet], sheet == "sigmoid", f"{path}, sheet {sheet}")
    return _json_params(path, kind)


def _json_params(path: Path, kind: str | None) -> Params:
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise WorkbenchError(
            f"{path}: is neither a JSON parameter file (as `workbench fit --json` writes) nor an"
            f" .xlsx workbook ({e})"
        ) from None
    if not isinstance(record, dict) or "model" not in record or "params" not in record:
        raise WorkbenchError(f"{path}: a parameter file needs the keys 'model' and 'params'")
    model, sigmoid = record["model"], bool(record.get("sigmoid", False))
    if model not in MODELS:
        raise WorkbenchError(f"{path}: unknown model {model!r}; expected one of {', '.join(MODELS)}")
    features = record.get("features", list(FEATURES))
    if features != list(FEATURES):
        raise WorkbenchError(
            f"{path}: the parameters were fitted on the inputs {features}; workbench's are {list(FEATURES)}"
        )
    found = Params(model, np.empty(0), sigmoid, str(path))
    if kind is not None and kind != found.kind:
        raise WorkbenchError(f"{path}: holds {found.kind} parameters, not {kind}")
    try:
        params = as_params(model, record["params"]).numpy()
    except (TypeError, ValueError) as e:
        raise WorkbenchError(f"{path}: 'params' must be numbers in {model}'s shape ({e})") from None
    except WorkbenchError as e:
        raise WorkbenchError(f"{path}: {e}") from None
    return Params(model, params, sigmoid, str(path))
