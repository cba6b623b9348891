"""The one exception family of the package.

Every problem a learner can fix (a bad CSV, a workbook that is not ours, a learning
rate that diverges) is raised as a :class:`WorkbenchError` whose message says what
was found, where, and what was expected. The command line prints that message as
one line and exits non-zero.
"""

from __future__ import annotations


class WorkbenchError(Exception):
    """Base class of every error workbench raises on purpose."""


class DataError(WorkbenchError, ValueError):
    """A CSV file that cannot be read as Titanic or regression data.

    ``path``, ``column`` and ``row`` say where the first problem is (any may be
    ``None``). ``row`` counts data rows from 1, the header not included, so row 1
    is line 2 of the file.
    """

    def __init__(
        self,
        message: str,
        *,
        path: object = None,
        column: str | None = None,
        row: int | None = None,
    ) -> None:
        super().__init__(message)
        self.path = None if path is None else str(path)
        self.column = column
        self.row = row


class WorkbookError(WorkbenchError):
    """A workbook that workbench did not write, or cannot read back."""


class DivergenceError(WorkbenchError, ArithmeticError):
    """Gradient descent blew up: the loss became NaN/inf or kept growing."""
