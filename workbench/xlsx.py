"""How every workbench workbook is opened and saved: safely, whole, and reproducibly.

:func:`new_workbook` yields an XlsxWriter workbook that

* never turns text into a formula, a number or a link: a passenger named
  ``=HYPERLINK(...)`` stays text (formulas are written only by ``write_formula``
  and ``write_array_formula``);
* carries fixed document dates, so the same inputs give byte-identical files;
* is written to a temporary file and moved into place only when complete.

XlsxWriter is used for writing because it can store each formula's computed value
beside the formula (openpyxl cannot); openpyxl is used for reading workbooks back.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import os
from collections.abc import Iterator
from pathlib import Path

import xlsxwriter
from xlsxwriter.exceptions import XlsxWriterException

from .atomic import atomic_path
from .errors import WorkbenchError

#: Excel's sheet size limits; beyond them a file would be corrupt, so we refuse.
MAX_ROWS = 1_048_576
MAX_COLS = 16_384

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
) -> Iterator[xlsxwriter.Workbook]:
    """Open an XlsxWriter workbook that lands at ``path`` only if the block succeeds.

    ``constant_memory=True`` streams rows to disk (bounded memory for huge sheets;
    rows must then be written in order).
    """
    with atomic_path(path) as tmp:
        book = xlsxwriter.Workbook(
            str(tmp),
            {
                "strings_to_formulas": False,
                "strings_to_numbers": False,
                "strings_to_urls": False,
                "constant_memory": constant_memory,
                "tmpdir": str(Path(tmp).parent),
            },
        )
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
        except BaseException:
            with contextlib.suppress(Exception):
                book.close()
            raise
        try:
            book.close()
        except (XlsxWriterException, OSError) as e:
            raise WorkbenchError(f"cannot write workbook {path}: {e}") from e
