"""Kaggle submissions, and the parameter files they are made from.

A fitted model predicts ``Survived`` for every passenger of Kaggle's ``test.csv``
(gaps filled from the training data: :func:`~workbench.titanic.features.prediction_table`),
and a prediction above 0.5 counts as survived::

    fit = wb.fit("nnet")
    frame = wb.kaggle_submission("nnet", fit.params)          # 418 rows: PassengerId, Survived
    wb.write_submission("submission.csv", frame)

Parameters travel between commands as a JSON file (:func:`write_params`, what
``workbench fit --json`` writes) or inside a workbook, for example after Solver ran
in Excel (:func:`~workbench.sheets.read.read_book.read_params`); :func:`~workbench.load_params` reads both.
"""

from __future__ import annotations

import json
import math
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd
from numpy.typing import ArrayLike

from ..errors import WorkbenchError
from ..files import check_target, write_text
from .features import FEATURES, FillValues, prediction_table
from .models import MODELS, as_params, predict

if TYPE_CHECKING:
    from .train import Fit

#: The largest JSON parameter file read (a real one is about 1 KB), and its deepest nesting.
MAX_JSON_BYTES = 2**20
MAX_JSON_DEPTH = 8

#: What a parameter file or workbook can hold: the three models, and ``sigmoid``
#: (the ``linear`` model squashed into 0..1, the workbook's ``sigmoid`` sheet).
KINDS: tuple[str, ...] = (*MODELS, "sigmoid")


@dataclass(frozen=True)
class Params:
    """A model's parameters without the training run that found them.

    What :func:`~workbench.load_params` reads back from a JSON file or a workbook, and
    what a sheet of :func:`~workbench.write_titanic_book` can be given instead of a
    :class:`~workbench.titanic.train.Fit` (the attributes they share have the same names).

    Attributes:
        params: the parameters, in the model's shape.
        start: the random start they came from, if any (a sheet shows it in grey).
        model: ``linear``, ``nnet`` or ``mmult`` (None where the sheet says it).
        sigmoid: whether the predictions are squashed into 0..1.
        source: where they came from, for messages.
        method: how they were fitted, if known (any table's fits say).
        train_loss: the train rows' loss (MSE) they reached, if known.
    """

    params: ArrayLike
    start: ArrayLike | None = None
    model: str | None = None
    sigmoid: bool = False
    source: str = ""
    method: str = ""
    train_loss: float = float("nan")

    @property
    def kind(self) -> str | None:
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
    check_target(path)
    lines = ["PassengerId,Survived", *(f"{int(i)},{int(s)}" for i, s in frame.itertuples(index=False))]
    return write_text(path, "\n".join(lines) + "\n")


def write_params(path: str | os.PathLike[str], fit: Fit) -> Path:
    """Save a :class:`~workbench.titanic.train.Fit` as JSON, whole or not at all; return the path.

    The file holds ``model``, ``sigmoid``, ``method``, ``features`` (the inputs, in
    order), ``params`` (nested lists in the model's shape), ``start``, ``loss``,
    ``accuracy`` and the training settings. :func:`~workbench.load_params` reads it back exactly.
    """
    check_target(path)
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
        "iterations": int(getattr(fit, "iterations", 0)),
        "starts": int(fit.starts),
        "gauss_newton": int(getattr(fit, "gauss_newton", 0)),
        "polish": int(fit.polish),
    }
    return write_text(path, json.dumps(record, indent=2) + "\n")


def params_from_json(path: str | os.PathLike[str], data: bytes, kind: str | None = None) -> Params:
    """Parameters from the bytes of a JSON parameter file (:func:`write_params`).

    ``path`` names the file in errors; :func:`~workbench.load_params` opens it.
    """

    def whole(text: str) -> int:
        if len(text.lstrip("-")) > 18:
            raise ValueError(f"the number {text[:20]}... is too long")
        return int(text)

    def constant(text: str) -> float:
        raise ValueError(f"{text} is not a finite number")

    try:
        record = json.loads(data.decode("utf-8"), parse_int=whole, parse_constant=constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as e:
        reason = "nested too deeply" if isinstance(e, RecursionError) else e
        raise WorkbenchError(
            f"{path}: is neither a JSON parameter file (as `workbench fit --json` writes) nor an"
            f" .xlsx workbook ({reason})"
        ) from None
    if _depth(record) > MAX_JSON_DEPTH:
        raise WorkbenchError(
            f"{path}: is nested more than {MAX_JSON_DEPTH} levels deep; not a parameter file"
        )
    if not isinstance(record, dict) or "model" not in record or "params" not in record:
        raise WorkbenchError(f"{path}: a parameter file needs the keys 'model' and 'params'")
    model, sigmoid = record["model"], record.get("sigmoid", False)
    if not isinstance(model, str) or model not in MODELS:
        raise WorkbenchError(f"{path}: unknown model {model!r:.40}; expected one of {', '.join(MODELS)}")
    if not isinstance(sigmoid, bool):
        raise WorkbenchError(f"{path}: 'sigmoid' must be true or false; got {sigmoid!r:.40}")
    features = record.get("features", list(FEATURES))
    if features != list(FEATURES):
        raise WorkbenchError(
            f"{path}: the parameters were fitted on the inputs {str(features)[:200]};"
            f" workbench's are {list(FEATURES)}"
        )
    found = Params(np.empty(0), model=model, sigmoid=sigmoid, source=str(path))
    if kind is not None and kind != found.kind:
        raise WorkbenchError(f"{path}: holds {found.kind} parameters, not {kind}")
    numbers = record["params"]
    if not _all_numbers(numbers):
        raise WorkbenchError(
            f"{path}: 'params' must be numbers in {model}'s shape, all finite (not true/false, text or null)"
        )
    try:
        params = as_params(model, numbers).numpy()
    except (TypeError, ValueError, OverflowError) as e:
        raise WorkbenchError(f"{path}: 'params' must be numbers in {model}'s shape ({e})") from None
    except WorkbenchError as e:
        raise WorkbenchError(f"{path}: {e}") from None
    return Params(params, model=model, sigmoid=sigmoid, source=str(path))


def _depth(value: object) -> int:
    if isinstance(value, dict):
        return 1 + max(map(_depth, value.values()), default=0)
    if isinstance(value, list):
        return 1 + max(map(_depth, value), default=0)
    return 0


def _all_numbers(value: object) -> bool:
    """Nested lists of finite ints and floats, booleans excluded (JSON's true is not 1.0)."""
    if isinstance(value, list):
        return all(_all_numbers(v) for v in value)
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
