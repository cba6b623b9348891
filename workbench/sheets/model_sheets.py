"""The model sheets of ``titanic.xlsx`` and the model each holds.

One small table the writer (:mod:`workbench.sheets.titanic_book`), the reader
(:mod:`workbench.sheets.read_book`) and :mod:`workbench.sheets.check` share, taken
from the model registry: a sheet per model, and ``sigmoid``, the ``linear`` model
squashed into 0..1.
"""

from __future__ import annotations

from ..titanic.models import MODELS

#: sheet -> the model whose parameters it holds, in the workbook's order.
MODEL_SHEETS: dict[str, str] = {**{m.sheet: m.name for m in MODELS.values()}, "sigmoid": "linear"}
