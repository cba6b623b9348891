"""The model sheets of ``titanic.xlsx`` and the model each holds.

One small table the writer (:mod:`workbench.sheets.books.titanic`), the reader
(:mod:`workbench.sheets.read.read_book`) and :mod:`workbench.sheets.read.check` share, taken
from the model registry: a sheet per model, and ``sigmoid``, the ``linear`` model
squashed into 0..1.
"""

from __future__ import annotations

from ..titanic.models import MODELS

#: sheet -> the model whose parameters it holds, in the workbook's order.
MODEL_SHEETS: dict[str, str] = {**{m.sheet: m.name for m in MODELS.values()}, "sigmoid": "linear"}

#: The results beside each model sheet's parameters: label, then its value in the cell to the
#: right; losses on the left, accuracies on the right. Train and valid are the rows of the
#: sheet's ``Set`` column; Total loss and Accuracy use every row, as the lesson's sheet does.
RESULTS: tuple[tuple[str, str], ...] = (
    ("Train loss:", "Train accuracy:"),
    ("Valid loss:", "Valid accuracy:"),
    ("Total loss:", "Accuracy:"),
)

#: The same for a numeric target (any table's workbook): RMSE, in the target's units, for accuracy.
RMSE_RESULTS: tuple[tuple[str, str], ...] = (
    ("Train loss:", "Train RMSE:"),
    ("Valid loss:", "Valid RMSE:"),
    ("Total loss:", "RMSE:"),
)
