"""The spreadsheet layer, by job. Nothing here is imported until used.

* ``write``: sheet kinds and what they share: ``xlsx`` (XlsxWriter with fixed dates, atomic
  saves), ``style``, ``grid`` (references, row templates, rows in order), ``model_sheet`` (the
  lesson's linear/nnet/mmult/sigmoid sheets), ``summary`` (and ``notes``), ``all_rows``,
  ``features_sheet``, ``descent`` and ``minibatch`` (gradient descent done by formulas),
  ``held_out_sheet``, ``trend`` (conclusions in words from the numbers), ``solver_names``.
* ``books``: whole workbooks composed of those sheets: ``titanic``, ``regression``, ``tabular``.
* ``read``: ``xlsx_reader`` (trusts nothing in the file), ``read_book`` (``read_params``),
  ``check``, ``table_reader`` and ``table_check`` (any table's book).
* ``engines``: ``recalc`` (LibreOffice headless), ``solve`` and ``uno_solver`` (Solver's step).

``model_sheets`` is the contract the writers, readers and checks share: which model sheets a
book has, and the results each shows.
"""
