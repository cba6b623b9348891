"""The Titanic workbooks the tests write, with parameters made independently of workbench's training.

* ``write_small_book``: the lesson's sheets for the first 80 passengers, ``linear`` holding the
  least-squares solution, ``nnet`` and ``sigmoid`` seeded uniform(-0.5, 0.5) numbers (the
  lesson's RAND()-0.5). Written in a fraction of a second; for the command-line tests.
* ``write_book``: any passengers, with parameters from ``book_inputs``: linear the
  least-squares solution (numpy.linalg.lstsq, the lesson's Solver optimum); nnet seeded
  uniform(-0.5, 0.5) starts then a few steps of gradient descent, so some ReLUs are off on
  some rows (checked by the tests) and the parameters are not trivial; sigmoid the same for
  the linear model squashed by 1/(1+exp(-z)). Read back with openpyxl as a ``Book``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import torch

import workbench as wb
from workbench.gd import gradient_descent
from workbench.sheets.books.titanic import Fitted, write_titanic_book
from workbench.titanic.models import forward, inputs, targets
from workbench.titanic.split import valid_below_train

INPUTS = [
    "SibSp",
    "Parch",
    "Age_N",
    "log_Fare",
    "Pclass_1",
    "Pclass_2",
    "Embark_S",
    "Embark_C",
    "Male",
    "Ones",
]


def rounded(a) -> np.ndarray:
    """What an xlsx number cell keeps: 16 significant digits."""
    return np.array([float(f"{v:.16g}") for v in np.ravel(a)]).reshape(np.shape(a))


def least_squares(table: pd.DataFrame) -> np.ndarray:
    """The linear model's exact minimum, the lesson's Solver optimum."""
    x, y = table[INPUTS].to_numpy(dtype=float), table["Survived"].to_numpy(dtype=float)
    return np.linalg.lstsq(x, y, rcond=None)[0]


# --- the small book: 80 passengers, nothing fitted


@dataclass(frozen=True)
class SmallBook:
    path: Path
    table: pd.DataFrame
    params: dict[str, np.ndarray]  # per sheet, as the cells hold them (16 significant digits)

    def inputs(self) -> np.ndarray:
        return self.table[INPUTS].to_numpy(dtype=float)

    def survived(self) -> np.ndarray:
        return self.table["Survived"].to_numpy(dtype=float)


def write_small_book(path: Path, rows: int = 80) -> SmallBook:
    passengers = wb.load_titanic().head(rows)
    table = wb.lesson_table(passengers)
    rng = np.random.default_rng(11)
    params = {
        "linear": least_squares(table),
        "nnet": rng.uniform(-0.5, 0.5, size=(2, 10)),
        "sigmoid": rng.uniform(-0.5, 0.5, size=10),
    }
    write_titanic_book(path, passengers, table, {k: Fitted(v) for k, v in params.items()})
    held = {k: rounded(v) for k, v in params.items()}
    held["mmult"] = held["nnet"].T
    return SmallBook(Path(path), table, held)


# --- a book of any passengers, with a few steps of descent and loss histories


def uniform_start(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """The lesson's RAND()-0.5, seeded."""
    return np.random.default_rng(seed).uniform(-0.5, 0.5, size=shape)


def descend(model: str, start: np.ndarray, table: pd.DataFrame, *, sigmoid: bool, lr: float, epochs: int):
    x, y = inputs(table), targets(table)
    loss = lambda w: ((forward(model, w, x, sigmoid=sigmoid) - y) ** 2).mean(-1)
    params, history = gradient_descent(loss, torch.tensor(start), lr=lr, epochs=epochs)
    return params.numpy(), history.numpy()


def book_inputs(table: pd.DataFrame) -> tuple[dict[str, Fitted], dict[str, np.ndarray]]:
    """Fits per sheet and loss histories, for write_titanic_book."""
    nnet_start = uniform_start((2, 10), seed=1)
    nnet, nnet_history = descend("nnet", nnet_start, table, sigmoid=False, lr=0.05, epochs=30)
    sig_start = uniform_start((10,), seed=2)
    sig, sig_history = descend("linear", sig_start, table, sigmoid=True, lr=0.5, epochs=40)
    lin_start = uniform_start((10,), seed=3)
    _, lin_history = descend("linear", lin_start, table, sigmoid=False, lr=0.05, epochs=50)
    fits = {
        "linear": Fitted(least_squares(table), lin_start),
        "nnet": Fitted(nnet, nnet_start),
        "sigmoid": Fitted(sig, sig_start),
    }
    histories = {"linear (GD)": lin_history, "nnet (GD)": nnet_history, "sigmoid (GD)": sig_history}
    return fits, histories


class Book:
    """One written workbook with its inputs, read back with openpyxl."""

    def __init__(self, path, passengers, table, fits, histories):
        self.path, self.passengers, self.table, self.fits, self.histories = (
            path, passengers, table, fits, histories,
        )  # fmt: skip
        self.formulas = openpyxl.load_workbook(path)
        self.values = openpyxl.load_workbook(path, data_only=True)

    def layout(self, sheet: str) -> dict[str, int]:
        """1-based rows: header (the row whose column A says Survived) and the data rows."""
        ws = self.formulas[sheet]
        header = next(r for r in range(1, 40) if ws.cell(r, 1).value == "Survived")
        return {"header": header, "first": header + 1, "last": header + len(self.table)}

    def column(self, sheet: str, name: str) -> str:
        ws, header = self.formulas[sheet], self.layout(sheet)["header"]
        for cell in ws[header]:
            if cell.value == name:
                return cell.column_letter
        raise AssertionError(f"{sheet} has no column {name}")

    def cached(self, sheet: str, name: str) -> np.ndarray:
        col, rows = self.column(sheet, name), self.layout(sheet)
        ws = self.values[sheet]
        return np.array([ws[f"{col}{r}"].value for r in range(rows["first"], rows["last"] + 1)], dtype=float)

    def labelled(self, sheet: str, label: str) -> tuple[int, int]:
        """(row, column) of the cell holding ``label`` above the data."""
        ws = self.formulas[sheet]
        for row in ws.iter_rows(max_row=self.layout(sheet)["header"] - 1):
            for cell in row:
                if cell.value == label:
                    return cell.row, cell.column
        raise AssertionError(f"{sheet} has no label {label!r}")


def write_book(path, passengers, **kw) -> Book:
    table = wb.lesson_table(passengers)
    fits, histories = book_inputs(table)
    kw.setdefault("luck", valid_below_train(table))  # as the build says it
    write_titanic_book(path, passengers, table, fits, histories=histories, **kw)
    return Book(path, passengers, table, fits, histories)
