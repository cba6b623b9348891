"""The spreadsheet layer: write workbooks with live formulas, read them back, recalculate them.

Writers: ``xlsx`` (XlsxWriter with fixed dates, atomic saves), ``style``, ``solver_names``,
``titanic_book``, ``descent`` (gradient descent done by formulas), ``regression_book``.
Readers: ``xlsx_reader`` (trusts nothing in the file), ``read_book`` (``read_params``),
``check``. Engines: ``recalc`` (LibreOffice headless), ``solve`` and ``uno_solver``
(Solver's step in LibreOffice). Nothing here is imported until used.
"""
