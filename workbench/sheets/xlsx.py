"""How every workbench workbook is opened and saved: safely, whole, and reproducibly.

:func:`new_workbook` yields an XlsxWriter workbook that

* never turns text into a formula, a number or a link: a passenger named
  ``=HYPERLINK(...)`` stays text (formulas are written only by ``write_formula``
  and ``write_array_formula``);
* carries fixed document dates, so the same inputs give byte-identical files;
* is written to a temporary file and moved into place only when complete;
* can mark defined names hidden (Excel keeps its Solver model in hidden names;
  XlsxWriter can write the flag but only sets it on its own names);
* writes formula cells about seven times faster than stock XlsxWriter (see
  :class:`Worksheet`), to the same bytes.

XlsxWriter is used for writing because it can store each formula's computed value
beside the formula (openpyxl cannot); openpyxl is used for reading workbooks back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
import os
import re
from collections.abc import Collection, Iterator

import xlsxwriter
import xlsxwriter.worksheet
from xlsxwriter.exceptions import XlsxWriterException
from xlsxwriter.utility import xl_rowcol_to_cell_fast

from ..errors import WorkbenchError
from ..files import atomic_path, scratch_folder

#: Excel's sheet size limits; beyond them a file would be corrupt, so we refuse.
MAX_ROWS = 1_048_576
MAX_COLS = 16_384

#: Fixed creation date (the lesson's year) so rebuilt workbooks are byte-identical.
CREATED = dt.datetime(2022, 1, 1)

#: Written into every workbook's properties, so a reader can tell our files apart.
COMPANY = "workbench"


# XlsxWriter's pattern of the dynamic-array functions (FILTER, SORT, XLOOKUP, ...) whose
# names it prefixes with _xlfn.; None if a future version drops it (then nothing is skipped).
_DYNAMIC = getattr(xlsxwriter.worksheet, "re_dynamic_function", None)
_Number = xlsxwriter.worksheet.CellNumberTuple
_Formula = xlsxwriter.worksheet.CellFormulaTuple


class Worksheet(xlsxwriter.worksheet.Worksheet):
    """XlsxWriter's worksheet, minus per-cell work that cannot change workbench's cells.

    Writing a formula, XlsxWriter searches it for a dynamic-array function, then runs
    about 30 regular-expression substitutions that prefix such functions (``FILTER``,
    ``XLOOKUP``, ...) with ``_xlfn.``: most of the ~60 us a formula cell cost, which
    made a million-row workbook take over an hour. The substitutions look for exactly
    the names of the searched pattern, ``re_dynamic_function`` (plus its
    ``\\SINGLE\\(`` typo, which matches ``INGLE(`` after any character), so when that
    one search finds nothing and future functions are off, none of them can change
    the formula: it is stored as XlsxWriter would store it, without its ``=``. Then,
    writing the sheet's XML, a number or a plain formula cell that has a format is
    written by one f-string holding the very text of XlsxWriter's general cell writer.
    With ``constant_memory``, each finished row goes to the temporary file in one write.
    A formula cell costs ~8 us instead of ~60, a number cell ~5 us instead of ~6.

    Everything else (array formulas, a dynamic-array function, future functions,
    strings, cells without a format, formulas whose value is not a plain number)
    takes XlsxWriter's own code. tests/test_xlsx.py checks both paths store the same
    formulas and write the same bytes as stock XlsxWriter.
    """

    def _write_formula(self, row, col, formula, cell_format=None, value=0):  # type: ignore[no-untyped-def]
        if (
            _DYNAMIC is None
            or self.use_future_functions
            or not isinstance(formula, str)
            or formula[:1] != "="
            or formula[-1:] == "}"
            or "INGLE(" in formula
            or _DYNAMIC.search(formula)
        ):
            return super()._write_formula(row, col, formula, cell_format, value)
        # XlsxWriter's own steps for a formula that its substitutions leave alone.
        if self._check_dimensions(row, col):
            return -1
        if self.constant_memory and row > self.previous_row:
            self._write_single_row(row)
        self.table[row][col] = _Formula(formula[1:], cell_format, value)
        return 0

    def _write_cell(self, row, col, cell):  # type: ignore[no-untyped-def]
        kind = cell.__class__
        if kind is _Number and cell.format is not None:
            ref, xf = xl_rowcol_to_cell_fast(row, col), cell.format._get_xf_index()
            self.fh.write(f'<c r="{ref}" s="{xf}"><v>{cell.number:.16G}</v></c>')
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


@contextlib.contextmanager
def new_workbook(
    path: str | os.PathLike[str],
    *,
    title: str,
    constant_memory: bool = False,
    hidden_names: Collection[str] = (),
) -> Iterator[Workbook]:
    """Open an XlsxWriter workbook that lands at ``path`` only if the block succeeds.

    ``constant_memory=True`` streams rows to disk (bounded memory for huge sheets;
    rows must then be written in order). Defined names listed in ``hidden_names``
    (the name without its sheet, e.g. ``"solver_opt"``) are hidden from Excel's
    Name Manager, on every sheet that defines them.
    """
    with atomic_path(path) as tmp, scratch_folder() as scratch:
        book = Workbook(
            str(tmp),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "constant_memory": constant_memory,
                # XlsxWriter's per-part scratch files: never in the output folder, always removed.
                "tmpdir": str(scratch),
            },
        )
        book.hidden_names = frozenset(hidden_names)
        book.set_properties(
            {
                "title": title,
                "author": "workbench",
                "company": COMPANY,
                "comments": "Written by workbench: every number is a live formula with its"
                " computed value stored beside it.",
                "created": CREATED,
            }
        )
        try:
            yield book
            book.close()
        except (XlsxWriterException, OSError) as e:
            cause = e.args[0] if e.args and isinstance(e.args[0], OSError) else e  # FileCreateError(OSError)
            reason = getattr(cause, "strerror", None) or cause
            raise WorkbenchError(f"cannot write workbook {path}: {reason}") from e
        finally:
            book.fileclosed = True  # closed or abandoned: never retried when the object is collected


# XlsxWriter reads a chart title, axis or series name that looks like ``Sheet!A1`` as a
# reference to that cell (xlsxwriter.chart.Chart._process_names), and offers no escape.
_LOOKS_LIKE_REF = re.compile(r"^=?[^!]+!\$?[A-Z]+\$?\d+")
WORD_JOINER = "\u2060"


def chart_text(text: str) -> str:
    """``text`` for a chart's title, axis or series name, shown as written, never a reference.

    Text from the user (a CSV header ``data!B2``, a file ``q!A1.csv``) that XlsxWriter would
    read as a cell reference gets an invisible WORD JOINER (U+2060) after each ``!``: the
    chart shows the same characters, stored as text. Other text is returned unchanged.
    """
    return text.replace("!", "!" + WORD_JOINER) if _LOOKS_LIKE_REF.match(text) else text


def check_rows(n_rows: int, first_row: int, *, sheet: str) -> None:
    """Refuse a sheet whose rows ``first_row .. first_row + n_rows - 1`` (0-based) overflow Excel.

    Raises:
        WorkbenchError: the last row would lie beyond :data:`MAX_ROWS`.
    """
    if first_row + n_rows > MAX_ROWS:
        raise WorkbenchError(
            f"sheet {sheet!r} needs {first_row + n_rows:,} rows ({n_rows:,} data rows below"
            f" {first_row} rows of headings), but an Excel sheet holds at most {MAX_ROWS:,} rows;"
            f" write at most {MAX_ROWS - first_row:,} data rows"
        )
