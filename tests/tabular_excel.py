"""A tiny evaluator for the simple Excel formulas of workbench.tabular's recipe records.

Written for the tests, independently of workbench: it knows IF, OR, EXACT, LOG10, MAX, MIN,
MEDIAN, =, +, -, / and Excel's blank cell (equal to "" and to 0; EXACT reads it as ""). Cells
are the placeholders
{col}, {max_col}, {fill_col} and {range} of workbench.tabular.recipe.
"""

from __future__ import annotations

import math
import re
import statistics


class _Blank:
    """An empty cell: equal to "" and to 0, as in Excel."""

    def __eq__(self, other: object) -> bool:
        return other == "" or other == 0

    __hash__ = None


BLANK = _Blank()


def _flat(args):
    for a in args:
        yield from (a if isinstance(a, list) else [a])


NAMES = {
    "_if": lambda cond, a, b: a if cond else b,
    "_or": lambda *a: any(a),
    "_exact": lambda a, b: ("" if a is BLANK else a) == b,  # text, case and all
    "_log10": math.log10,
    "_max": lambda *a: max(_flat(a)),
    "_min": lambda *a: min(_flat(a)),
    "_median": lambda *a: statistics.median(list(_flat(a))),
}


def evaluate(template: str, *, col=None, max_col=None, fill_col=None, cells=None) -> object:
    """The value of a template; ``cells`` is the {range}'s values (blanks left out, as Excel's MAX does)."""
    if not template.startswith("="):
        return float(template)
    expr = template[1:].format(col="_c", max_col="_m", fill_col="_f", range="_R")
    expr = re.sub(r"(?<![<>=])=(?!=)", "==", expr)
    for fn in ("IF", "OR", "EXACT", "LOG10", "MAX", "MIN", "MEDIAN"):
        expr = re.sub(rf"\b{fn}\(", f"_{fn.lower()}(", expr)
    assert re.fullmatch(r'[\w\s().,+\-*/=<>"]*', expr), expr
    env = dict(NAMES, _c=BLANK if col is None else col, _m=max_col, _f=fill_col, _R=cells)
    return eval(expr, {"__builtins__": {}}, env)
