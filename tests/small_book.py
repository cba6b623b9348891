"""A small Titanic workbook for the command-line tests, with parameters made by plain numpy.

The lesson's sheets for the first 80 passengers of the bundled train.csv: ``linear`` holds
the least-squares solution, ``nnet`` and ``sigmoid`` seeded uniform(-0.5, 0.5) numbers (the
lesson's RAND()-0.5). Written in a fraction of a second, with nothing fitted by workbench.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

import workbench as wb
from workbench.sheets.titanic_book import Fitted, write_titanic_book

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


@dataclass(frozen=True)
class SmallBook:
    path: Path
    table: pd.DataFrame
    params: dict[str, np.ndarray]  # per sheet, as the cells hold them (16 significant digits)

    def inputs(self) -> np.ndarray:
        return self.table[INPUTS].to_numpy(dtype=float)

    def survived(self) -> np.ndarray:
        return self.table["Survived"].to_numpy(dtype=float)


def rounded(a: np.ndarray) -> np.ndarray:
    """What an xlsx number cell keeps: 16 significant digits."""
    return np.vectorize(lambda v: float(f"{v:.16g}"))(a)


def write_small_book(path: Path, rows: int = 80) -> SmallBook:
    passengers = wb.load_titanic().head(rows)
    table = wb.lesson_table(passengers)
    x, y = table[INPUTS].to_numpy(dtype=float), table["Survived"].to_numpy(dtype=float)
    rng = np.random.default_rng(11)
    params = {
        "linear": np.linalg.lstsq(x, y, rcond=None)[0],
        "nnet": rng.uniform(-0.5, 0.5, size=(2, 10)),
        "sigmoid": rng.uniform(-0.5, 0.5, size=10),
    }
    write_titanic_book(path, passengers, table, {k: Fitted(v) for k, v in params.items()})
    held = {k: rounded(v) for k, v in params.items()}
    held["mmult"] = held["nnet"].T
    return SmallBook(Path(path), table, held)
