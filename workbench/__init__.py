"""workbench: fast.ai's Titanic spreadsheet lesson as software.

Load Kaggle's Titanic CSV, build the lesson's features, fit its three models in
torch, and write Excel workbooks whose live formulas recompute the same numbers::

    import workbench as wb
    table = wb.lesson_table()              # 712 rows, the lesson's columns
    fit = wb.fit("linear", table, method="lstsq")
    wb.mse("linear", fit.params, table)    # 0.1442...

Names are imported on first use, so ``import workbench`` stays fast (torch loads
only when a model is used).
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

# public name -> module that defines it
_EXPORTS = {
    "WorkbenchError": "errors",
    "DataError": "errors",
    "WorkbookError": "errors",
    "DivergenceError": "errors",
    "load_titanic": "titanic",
    "TRAIN_CSV": "titanic",
    "TEST_CSV": "titanic",
    "lesson_table": "features",
    "prediction_table": "features",
    "FillValues": "features",
    "FEATURES": "features",
    "DERIVED": "features",
    "MODELS": "models",
    "param_shape": "models",
    "predict": "models",
    "mse": "models",
    "accuracy": "models",
    "uniform_start": "models",
    "fit": "train",
    "Fit": "train",
    "compare": "train",
    "start_params": "train",
    "recalculate": "recalc",
    "write_titanic_book": "titanic_book",
    "Fitted": "titanic_book",
    "read_params": "read_book",
    "DATASETS": "regression",
    "Dataset": "regression",
    "load_dataset": "regression",
    "read_dataset": "regression",
    "fit_dataset": "regression",
    "sgd": "regression",
    "write_descent_sheet": "descent",
    "add_titanic_descent_sheet": "descent",
    "write_regression_book": "regression_book",
    "write_regression_outputs": "regression_book",
    "build_all": "build",
    "BuildResult": "build",
    "check_workbook": "check",
    "kaggle_submission": "submission",
    "write_submission": "submission",
    "write_params": "submission",
    "load_params": "submission",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module 'workbench' has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(list(globals()) + __all__)


if TYPE_CHECKING:
    from .build import BuildResult, build_all
    from .check import check_workbook
    from .descent import add_titanic_descent_sheet, write_descent_sheet
    from .errors import DataError, DivergenceError, WorkbenchError, WorkbookError
    from .features import DERIVED, FEATURES, FillValues, lesson_table, prediction_table
    from .models import MODELS, accuracy, mse, param_shape, predict, uniform_start
    from .read_book import read_params
    from .recalc import recalculate
    from .regression import DATASETS, Dataset, fit_dataset, load_dataset, read_dataset, sgd
    from .regression_book import write_regression_book, write_regression_outputs
    from .submission import kaggle_submission, load_params, write_params, write_submission
    from .titanic import TEST_CSV, TRAIN_CSV, load_titanic
    from .titanic_book import Fitted, write_titanic_book
    from .train import Fit, compare, fit, start_params
