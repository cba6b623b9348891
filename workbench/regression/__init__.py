"""The lessons' small regressions: seeded datasets, CSVs of numbers, their fits and mini-batch SGD.

``models`` (the three models as design matrices) <- ``datasets`` (the points, made or
read) <- ``fits`` (full-batch descent, every step kept; mini-batch SGD).
"""

from .datasets import (
    DATASETS,
    Dataset,
    held_out,
    line,
    load_dataset,
    quadratic,
    read_dataset,
    relu,
    scale_of,
    scaled,
    speed,
    unscaled_params,
)
from .fits import (
    UNITS,
    Fit,
    HeldOut,
    Trajectory,
    batches,
    descend,
    fit_dataset,
    held_out_scores,
    lr_sweep,
    more_units,
    sgd,
    sgd_steps,
)
from .models import MODELS, bend_ratio, design, kind, max_stable_lr, param_names, param_shape, relu_start

__all__ = [
    "DATASETS",
    "MODELS",
    "UNITS",
    "Dataset",
    "Fit",
    "HeldOut",
    "Trajectory",
    "batches",
    "bend_ratio",
    "descend",
    "design",
    "fit_dataset",
    "held_out",
    "held_out_scores",
    "kind",
    "line",
    "load_dataset",
    "lr_sweep",
    "max_stable_lr",
    "more_units",
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
    "unscaled_params",
]
