"""How every workbench workbook is opened and saved: safely, whole, and reproducibly.

:func:`new_workbook` yields an XlsxWriter workbook that

* never turns text into a formula, a number or a link: a passenger named
  ``=HYPERLINK(...)`` stays text (formulas are written only by ``write_formula``
  and ``write_array_formula``);
* carries fixed document dates, so the same inputs give byte-identical files;
* is written to a temporary file and moved into place only when complete;
* can mark defined names hidden (Excel keeps its Solver model in hidden names;
  XlsxWriter can write the flag but only sets it on its own names);
* writes a workbook faster than stock XlsxWriter, to the same bytes
  (see :mod:`workbench.sheets.write._xlsxwriter_private`; bench/RESULTS.md, item 3, times it).

XlsxWriter is used for writing because it can store each formula's computed value
beside the formula (openpyxl cannot); openpyxl is used for reading workbooks back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
import re
from collections.abc import Collection, Iterator

from xlsxwriter.exceptions import XlsxWriterException

from ...errors import WorkbenchError
from ...files import atomic_file, scratch_folder
from ._xlsxwriter_private import Workbook, Worksheet

__all__ = ["CREATED", "MAX_ROWS", "Workbook", "Worksheet", "chart_text", "check_rows", "new_workbook"]

#: Excel's sheet size limit; beyond it a file would be corrupt, so we refuse.
MAX_ROWS = 1_048_576

#: Fixed creation date (the lesson's year) so rebuilt workbooks are byte-identical.
CREATED = dt.datetime(2022, 1, 1)

#: Written into every workbook's properties, so a reader can tell our files apart.
COMPANY = "workbench"


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
    with atomic_file(path) as f, scratch_folder() as scratch:
        book = Workbook(
            f,  # a file, not a name: once a write fails it drops the rest (see files.atomic_file)
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
