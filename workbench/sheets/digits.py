"""How many significant digits a workbook stores of each number it computed.

numpy, torch and OpenBLAS pick their kernels by CPU (AVX2, AVX-512 or a baseline), and the
kernels add in different orders: the same build on another CPU computes the same numbers to
11-16 significant digits (measured on every committed workbook, baseline kernels against AVX2),
not to the last bit. Stored to :data:`DIGITS` digits, they are the same bytes on both. Excel
shows 15 digits; the engines recompute the sheets to within 1e-9 of what is stored.
"""

from __future__ import annotations

import math

#: Significant digits stored of every number that is not a whole number.
DIGITS = 11


def stored(x: object) -> object:
    """``x`` rounded to :data:`DIGITS` significant digits if it is a fractional float; else ``x``.

    Whole numbers (counts, ids, years) are exact on every CPU and stay exact to the last digit.
    """
    if isinstance(x, float) and math.isfinite(x) and not x.is_integer():
        return float(f"{x:.{DIGITS - 1}e}")
    return x
