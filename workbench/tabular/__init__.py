"""Any tabular CSV as the lesson's kind of table: the recipe chosen by rules, and each choice explained.

Read a file with :func:`read_table`, then :func:`prepare` the rows, scikit-learn style (the
step that decides never reads files)::

    from workbench.tabular import prepare, read_table
    prep = prepare(read_table("penguins.csv"), target="sex")
    print(prep.explain())        # every choice with its reason
    prep.table                   # target, features..., Ones (float64)

The rules, in order (the thresholds are constants of :mod:`workbench.tabular.prepare` and
:mod:`workbench.tabular.columns`):

1. **Target.** Rows without a target value are dropped. Two values make a 0/1 target scored by
   accuracy (text in alphabetical order, numbers smaller first: the second is 1); more numbers
   make a numeric target scored by RMSE. A constant target, or text with more than two values,
   is an error.
2. **Left out**, each with its reason: ``drop=`` columns; empty and constant columns; columns
   missing on more than half the rows (``MAX_MISSING``); identifiers and free text: text with
   more than 10 levels, different on at least half its rows (``FREE_TEXT_SHARE``, like Name
   and Ticket), or whole numbers different on every row that number the rows (like
   PassengerId: most numbers from the least to the largest used, or rising row after row); a DataFrame's
   dates and times (a spreadsheet counts days from a start that differs between programs; a
   CSV's dates are text); and leaks: a column that alone explains at least 98% of the target
   on the train rows (``LEAK``: each level's mean, or the best rising or falling curve through
   a number), like logwage for wage, is left out with a warning (``keep_leak=`` keeps it).
3. **Missing values.** ``missing="drop"`` (the lesson's way) drops rows missing a value in a
   used column; ``missing="fill"`` fills numbers with the median of the rows and counts a
   missing category as its baseline (the most common level). Empty, NA, N/A, n/a, #N/A, NaN, nan and ?
   are missing, and ``na=`` adds more.
4. **Categories.** Text, and whole numbers with at most 10 different values (``MAX_LEVELS``,
   like Pclass), become n-1 dummy columns. The baseline, which gets no column, is the most
   common level (ties: the first in sorted order), so the intercept describes the largest
   group. (The lesson's own baselines follow no single rule: Pclass_3 is the most common
   class, Embark_Q the least common port.) Text with more levels that is not free text keeps
   its 9 most common levels and lumps the rest into one ``<column>_other`` dummy (as
   scikit-learn's one-hot encoder with ``max_categories``); ``category=`` keeps every level.
   A dummy of text tests its level with EXACT, case and all, as pandas' ``==`` does (a
   spreadsheet's ``=`` takes 'a' for 'A'). A DataFrame's booleans are the numbers 0 and 1.
5. **Numbers** are divided by their largest absolute value, so they lie in -1..1, as the
   lesson divides Age by MAX(Age). A non-negative column whose maximum is at least 10 times its
   median (``LONG_TAIL``) is long-tailed: LOG10(x+1) first, as the lesson does with Fare, then
   divided by the largest log. ``log=`` and ``numeric=`` force either; ``category=`` forces
   dummies.
6. **Ones**: a column of ones, whose parameter is the intercept.
7. **Size.** At most 200 features (``MAX_FEATURES``, dummies and Ones included; the lesson has
   10) and at least twice as many rows as features (and at least 10, ``MIN_ROWS``). Over that
   budget, the recipe itself shrinks the widest category one level at a time (whole numbers
   become one scaled number; text lumps one more level into ``other``) and says why; when every
   category is down to one column, it leaves out the columns that alone explain least of the
   target on the train rows, and says how much each explained. The columns given to ``category=``,
   ``log=`` or ``numeric=`` stay: only when they alone are too many does it refuse, naming every
   column to leave out.

``recipe="lesson"`` is the special case for Kaggle's Titanic ``train.csv``: exactly
:func:`workbench.lesson_table`, made by the Titanic code itself.
"""

from __future__ import annotations

from .columns import LONG_TAIL
from .prepare import FREE_TEXT_SHARE, LEAK, MAX_FEATURES, MAX_LEVELS, MAX_MISSING, MIN_ROWS, prepare
from .read import MISSING, read_table, sample_rows
from .recipe import KINDS, Feature, LeftOut, Prepared, Target

__all__ = [
    "FREE_TEXT_SHARE",
    "KINDS",
    "LEAK",
    "LONG_TAIL",
    "MAX_FEATURES",
    "MAX_LEVELS",
    "MAX_MISSING",
    "MIN_ROWS",
    "MISSING",
    "Feature",
    "LeftOut",
    "Prepared",
    "Target",
    "prepare",
    "read_table",
    "sample_rows",
]
