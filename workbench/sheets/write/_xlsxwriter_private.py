"""Every use of XlsxWriter's private methods, in one place (pyproject pins ``xlsxwriter<3.4``).

Two things XlsxWriter's public API cannot do:

* **Hidden defined names** (:class:`Workbook`): Excel keeps its Solver model in hidden names,
  sorted as Excel sorts them; XlsxWriter writes the flag only for its own names. Overrides
  ``Workbook._prepare_defined_names``.
* **Speed** (:class:`Worksheet`): a workbook written faster, to the same bytes (measured in
  bench/RESULTS.md, item 3). Overrides ``Worksheet._write_formula``, ``_write_cell`` and
  ``_write_single_row``, calls ``_check_dimensions`` and ``_escape_data`` (a column's formula
  template is escaped once, :meth:`Worksheet.formula_column`), and reads the module's
  ``re_dynamic_function``, ``CellNumberTuple`` and ``CellFormulaTuple``.

``tests/sheets/test_xlsx.py`` checks that every name used here still exists with the signature this
module was written against (a new XlsxWriter that moves them fails that test, not a user's
build) and that both paths write the same bytes as stock XlsxWriter.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import xlsxwriter
import xlsxwriter.worksheet
from xlsxwriter.utility import xl_rowcol_to_cell_fast

#: XlsxWriter's private names this module relies on, with the parameters (or fields) it uses.
PRIVATE_API: dict[str, tuple[str, ...]] = {
    "worksheet.Worksheet._write_formula": ("self", "row", "col", "formula", "cell_format", "value"),
    "worksheet.Worksheet._write_cell": ("self", "row", "col", "cell"),
    "worksheet.Worksheet._write_single_row": ("self", "current_row_num"),
    "worksheet.Worksheet._check_dimensions": ("self", "row", "col", "ignore_row", "ignore_col"),
    "worksheet.Worksheet._escape_data": ("self", "data"),
    "workbook.Workbook._prepare_defined_names": ("self",),
    "worksheet.re_dynamic_function": (),
    "worksheet.CellNumberTuple": ("number", "format"),  # a namedtuple's fields
    "worksheet.CellFormulaTuple": ("formula", "format", "value"),
}


# XlsxWriter's pattern of the dynamic-array functions (FILTER, SORT, XLOOKUP, ...) whose
# names it prefixes with _xlfn.; None if a future version drops it (then nothing is skipped).
_DYNAMIC = getattr(xlsxwriter.worksheet, "re_dynamic_function", None)
_Number = xlsxwriter.worksheet.CellNumberTuple
_Formula = xlsxwriter.worksheet.CellFormulaTuple


#: A formula cell whose formula is escaped for XML already (:meth:`Worksheet.formula_column`).
#: Named as XlsxWriter's own, whose code tells cells apart by class name (a chart's cached values
#: read a "Formula" cell's value); only :meth:`Worksheet._write_cell` reads its formula.
_Escaped = type("Formula", (_Formula,), {"__slots__": ()})


class Worksheet(xlsxwriter.worksheet.Worksheet):
    """XlsxWriter's worksheet, minus per-cell work that cannot change workbench's cells.

    Writing a formula, XlsxWriter searches it for a dynamic-array function, then runs
    about 30 regular-expression substitutions that prefix such functions (``FILTER``,
    ``XLOOKUP``, ...) with ``_xlfn.``: most of what a formula cell cost (bench/README.md,
    item 3). The substitutions look for exactly
    the names of the searched pattern, ``re_dynamic_function`` (plus its
    ``\\SINGLE\\(`` typo, which matches ``INGLE(`` after any character), so when that
    one search finds nothing and future functions are off, none of them can change
    the formula: it is stored as XlsxWriter would store it, without its ``=``. Then,
    writing the sheet's XML, a number or a plain formula cell that has a format is
    written by one f-string holding the very text of XlsxWriter's general cell writer.
    With ``constant_memory``, each finished row goes to the temporary file in one write.

    Everything else (array formulas, a dynamic-array function, future functions,
    strings, cells without a format, formulas whose value is not a plain number)
    takes XlsxWriter's own code. tests/sheets/test_xlsx.py checks both paths store the same
    formulas and write the same bytes as stock XlsxWriter.
    """

    def plain_formula(self, formula: object) -> bool:
        """Whether XlsxWriter's substitutions leave ``formula`` alone (it is then stored as written).

        The answer is the same for every formula that differs from ``formula`` only where a digit
        stands for a digit (a row template and each of its rows): the test reads names, brackets
        and the first and last characters, and a digit in a digit's place moves no word boundary
        (``re_dynamic_function`` names no digit)."""
        return not (
            _DYNAMIC is None
            or self.use_future_functions
            or not isinstance(formula, str)
            or formula[:1] != "="
            or formula[-1:] == "}"
            or "INGLE(" in formula
            or _DYNAMIC.search(formula)
        )

    def write_plain_formula(self, row: int, col: int, formula: str, cell_format, value) -> int:  # type: ignore[no-untyped-def]
        """``write_formula`` of a formula :meth:`plain_formula` passed, without testing it again.
        XlsxWriter's own steps for a formula that its substitutions leave alone."""
        return self._store(row, col, _Formula(formula[1:], cell_format, value))

    def formula_column(self, template: str, mark: str) -> Callable[..., int]:
        """``write(row, col, number, cell_format, value)``: :meth:`write_plain_formula` of ``template``
        with the text ``number`` in place of ``mark``, for a column whose rows share the template and
        which :meth:`plain_formula` passed (the answer is the same for each row). The formula is
        escaped for XML once for the column, not once per cell as the file is written: the same
        bytes, since an escape (``&amp;``, ``&lt;``, ``&gt;``) holds no digit to replace."""
        plain, escaped = template[1:], self._escape_data(template[1:])

        def write(row: int, col: int, number: str, cell_format, value) -> int:  # type: ignore[no-untyped-def]
            if cell_format is not None and value.__class__ in (float, int):  # _write_cell's fast case
                return self._store(row, col, _Escaped(escaped.replace(mark, number), cell_format, value))
            return self._store(row, col, _Formula(plain.replace(mark, number), cell_format, value))

        return write

    def _store(self, row: int, col: int, cell) -> int:  # type: ignore[no-untyped-def]
        """XlsxWriter's own steps to keep a cell: its bounds checked, and with ``constant_memory``
        the row before it written out."""
        if self._check_dimensions(row, col):
            return -1
        if self.constant_memory and row > self.previous_row:
            self._write_single_row(row)
        self.table[row][col] = cell
        return 0

    def _write_formula(self, row, col, formula, cell_format=None, value=0):  # type: ignore[no-untyped-def]
        if not self.plain_formula(formula):
            return super()._write_formula(row, col, formula, cell_format, value)
        return self.write_plain_formula(row, col, formula, cell_format, value)

    def _write_cell(self, row, col, cell):  # type: ignore[no-untyped-def]
        kind = cell.__class__
        if kind is _Number and cell.format is not None:
            ref, xf = xl_rowcol_to_cell_fast(row, col), cell.format._get_xf_index()
            self.fh.write(f'<c r="{ref}" s="{xf}"><v>{cell.number:.16G}</v></c>')
        elif kind is _Escaped:  # formula_column made sure of the format and value
            ref, xf = xl_rowcol_to_cell_fast(row, col), cell.format._get_xf_index()
            self.fh.write(f'<c r="{ref}" s="{xf}"><f>{cell.formula}</f><v>{cell.value}</v></c>')
        elif kind is _Formula and cell.format is not None and cell.value.__class__ in (float, int):
            ref, xf = xl_rowcol_to_cell_fast(row, col), cell.format._get_xf_index()
            formula = self._escape_data(cell.formula)
            self.fh.write(f'<c r="{ref}" s="{xf}"><f>{formula}</f><v>{cell.value}</v></c>')
        else:
            super()._write_cell(row, col, cell)

    def _write_single_row(self, current_row_num=0):  # type: ignore[no-untyped-def]
        # constant_memory: XlsxWriter writes a finished row cell by cell to a read-write
        # text file, where every write() costs about a microsecond; one write per row.
        fh, self.fh = self.fh, io.StringIO()
        try:
            super()._write_single_row(current_row_num)
            fh.write(self.fh.getvalue())
        finally:
            self.fh = fh


class Workbook(xlsxwriter.Workbook):
    """XlsxWriter's workbook whose sheets are workbench's faster :class:`Worksheet`, and
    whose defined names listed in ``hidden_names`` are hidden."""

    worksheet_class: type = Worksheet
    hidden_names: frozenset[str] = frozenset()

    def add_worksheet(self, name: str | None = None, worksheet_class: type | None = None) -> Worksheet:
        return super().add_worksheet(name, worksheet_class or self.worksheet_class)

    def _prepare_defined_names(self) -> None:
        # XlsxWriter keeps [name, sheet index, formula, hidden] per define_name() and
        # writes hidden="1" for a true flag, which only its own _FilterDatabase sets.
        # XlsxWriter sorts by name and then by the formula, keeping the order of definition for
        # equal formulas (a Solver constant on every sheet); Excel sorts those by sheet name.
        for defined in self.defined_names:
            if defined[0] in self.hidden_names:
                defined[3] = True
        sheets = [ws.name.lower() for ws in self.worksheets()]
        self.defined_names.sort(key=lambda defined: sheets[defined[1]] if defined[1] >= 0 else "")
        super()._prepare_defined_names()
