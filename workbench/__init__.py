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
    "load_titanic": "titanic.data",
    "TRAIN_CSV": "titanic.data",
    "TEST_CSV": "titanic.data",
    "lesson_table": "titanic.features",
    "prediction_table": "titanic.features",
    "FillValues": "titanic.features",
    "FEATURES": "titanic.features",
    "DERIVED": "titanic.features",
    "MODELS": "titanic.models",
    "param_shape": "titanic.models",
    "predict": "titanic.models",
    "mse": "titanic.models",
    "accuracy": "titanic.models",
    "uniform_start": "titanic.models",
    "fit": "titanic.train",
    "Fit": "titanic.train",
    "compare": "titanic.compare",
    "start_params": "titanic.train",
    "more_units": "titanic.compare",
    "validation_split": "titanic.split",
    "recalculate": "sheets.engines.recalc",
    "write_titanic_book": "sheets.books.titanic",
    "Fitted": "sheets.books.titanic",
    "read_params": "sheets.read.read_book",
    "DATASETS": "regression",
    "Dataset": "regression",
    "load_dataset": "regression",
    "read_dataset": "regression",
    "fit_dataset": "regression",
    "sgd": "regression",
    "write_descent_sheet": "sheets.write.descent",
    "add_titanic_descent_sheet": "sheets.books.titanic",
    "write_regression_book": "sheets.books.regression",
    "write_regression_outputs": "lesson_files",
    "build_all": "build",
    "BuildResult": "build",
    "build_table": "build",
    "TableBuildResult": "build",
    "fit_prepared": "tabular.fit",
    "write_tabular_book": "sheets.books.tabular",
    "check_workbook": "sheets.read.check",
    "write_clean": "sheets.books.clean",
    "grade_workbook": "sheets.read.grade",
    "kaggle_submission": "titanic.submission",
    "write_submission": "titanic.submission",
    "write_params": "titanic.submission",
    "load_params": "sheets.read.read_book",
    "Params": "titanic.submission",
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
    from .build import BuildResult, TableBuildResult, build_all, build_table
    from .errors import DataError, DivergenceError, WorkbenchError, WorkbookError
    from .lesson_files import write_regression_outputs
    from .regression import DATASETS, Dataset, fit_dataset, load_dataset, read_dataset, sgd
    from .sheets.books.clean import write_clean
    from .sheets.books.regression import write_regression_book
    from .sheets.books.tabular import write_tabular_book
    from .sheets.books.titanic import Fitted, add_titanic_descent_sheet, write_titanic_book
    from .sheets.engines.recalc import recalculate
    from .sheets.read.check import check_workbook
    from .sheets.read.grade import grade_workbook
    from .sheets.read.read_book import load_params, read_params
    from .sheets.write.descent import write_descent_sheet
    from .tabular.fit import fit_prepared
    from .titanic.compare import compare, more_units
    from .titanic.data import TEST_CSV, TRAIN_CSV, load_titanic
    from .titanic.features import DERIVED, FEATURES, FillValues, lesson_table, prediction_table
    from .titanic.models import MODELS, accuracy, mse, param_shape, predict, uniform_start
    from .titanic.split import validation_split
    from .titanic.submission import Params, kaggle_submission, write_params, write_submission
    from .titanic.train import Fit, fit, start_params
