"""The Titanic lesson: Kaggle's passengers, the lesson's features, its models and their fits.

``data`` reads the CSV, ``features`` builds the lesson's table, ``models`` is the one
registry of the models (forward pass, Jacobian, Excel formulas, sheet, fit recipe),
``train`` fits them, ``submission`` writes Kaggle's file. Only ``data`` is imported
here, so ``workbench.titanic.TRAIN_CSV`` costs no torch import.
"""

from .data import TEST_CSV, TRAIN_CSV, load_titanic

__all__ = ["TEST_CSV", "TRAIN_CSV", "load_titanic"]
