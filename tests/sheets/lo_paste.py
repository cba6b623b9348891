"""Paste blocks of a sheet onto others as values only, in LibreOffice, as a learner's Paste Special
> Values does; then recalculate and save the workbook (as xlsx) elsewhere.

Run by a Python that has LibreOffice's ``uno`` module (see ``workbench.sheets.engines.solve.uno_python``),
from ``test_solve.py``. Argument: JSON with soffice, profile, pipe, src, out, and pastes: a list of
{sheet, copy [[row, col], [row, col]], onto [[row, col], [row, col]]}, 0-based cells.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "workbench" / "sheets" / "engines"))

import uno
import uno_solver as u
from lo_engines import office_desktop  # this folder: a script's own folder is on sys.path


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    with office_desktop(spec) as (_, desktop):
        url = uno.systemPathToFileUrl(spec["src"])
        doc = desktop.loadComponentFromURL(url, "_blank", 0, (u.prop("Hidden", True),))
        try:
            for paste in spec["pastes"]:
                sheet = doc.Sheets.getByName(paste["sheet"])
                (r0, c0), (r1, c1) = paste["copy"]
                (s0, t0), (s1, t1) = paste["onto"]
                values = sheet.getCellRangeByPosition(c0, r0, c1, r1).getDataArray()
                sheet.getCellRangeByPosition(t0, s0, t1, s1).setDataArray(values)
            doc.calculateAll()
            out = uno.systemPathToFileUrl(spec["out"])
            filters = (u.prop("FilterName", "Calc MS Excel 2007 XML"), u.prop("Overwrite", True))
            doc.storeToURL(out, filters)
        finally:
            doc.close(True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
