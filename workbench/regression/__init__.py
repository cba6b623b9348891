"""The lessons' small regressions: seeded datasets, CSVs of numbers, their fits and mini-batch SGD.

``models`` (the three models as design matrices) <- ``datasets`` (the points, made or
read) <- ``fits`` (full-batch descent, every step kept; mini-batch SGD).
"""

from .datasets import (
    DATASETS,
    Dataset,
    line,
    load_dataset,
    quadratic,
    read_dataset,
    relu,
    scale_of,
    scaled,
    speed,
)
from .fits import Fit, SGDEpochs, SGDSteps, Trajectory, batches, descend, fit_dataset, sgd, sgd_steps
from .models import MODELS, design, kind, max_stable_lr, param_names, param_shape, relu_start

__all__ = [
    "DATASETS",
    "MODELS",
    "Dataset",
    "Fit",
    "SGDEpochs",
    "SGDSteps",
    "Trajectory",
    "batches",
    "descend",
    "design",
    "fit_dataset",
    "kind",
    "line",
    "load_dataset",
    "max_stable_lr",
    "param_names",
    "param_shape",
    "quadratic",
    "read_dataset",
    "relu",
    "relu_start",
    "scale_of",
    "scaled",
    "sgd",
    "sgd_steps",
    "speed",
]
