"""Run one of LibreOffice's own Solver engines on a sheet, as a learner's Tools > Solver does.

Run by a Python that has LibreOffice's ``uno`` module (see ``workbench.sheets.engines.solve.uno_python``),
from ``test_solve.py``. Argument: JSON with soffice, profile, pipe, src, sheet, objective [row, col],
changing [[row, col], [row, col]], start (the same: pasted before each run), runs: a list of
{engine (a service name), bound (the limiting conditions: every changing cell >= -bound and
<= bound; null: none), options (the engine's options, as its Options dialog lists them)}.
Prints one JSON line per run: the start loss, whether the engine succeeded, its status text,
and the loss at its solution.
"""

from __future__ import annotations

import contextlib
import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2] / "workbench" / "sheets" / "engines"))

import uno
import uno_solver as u
from com.sun.star.sheet import SolverConstraint
from com.sun.star.sheet.SolverConstraintOperator import GREATER_EQUAL, LESS_EQUAL
from com.sun.star.table import CellAddress


def run(ctx, spec: dict, run: dict) -> dict:
    desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    url = uno.systemPathToFileUrl(spec["src"])
    doc = desktop.loadComponentFromURL(url, "_blank", 0, (u.prop("Hidden", True),))
    try:
        index = list(doc.Sheets.ElementNames).index(spec["sheet"])
        sheet = doc.Sheets.getByIndex(index)
        (r0, c0), (r1, c1) = spec["changing"]
        (s0, t0), (s1, t1) = spec["start"]
        block = sheet.getCellRangeByPosition(c0, r0, c1, r1)
        block.setDataArray(sheet.getCellRangeByPosition(t0, s0, t1, s1).getDataArray())
        target = sheet.getCellByPosition(spec["objective"][1], spec["objective"][0])
        start = target.getValue()
        cells = [CellAddress(index, c, r) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
        limits = []
        for cell in cells if run["bound"] is not None else ():
            for op, value in ((GREATER_EQUAL, -run["bound"]), (LESS_EQUAL, run["bound"])):
                limit = SolverConstraint()
                limit.Left, limit.Operator, limit.Right = cell, op, value
                limits.append(limit)
        solver = ctx.ServiceManager.createInstanceWithContext(run["engine"], ctx)
        solver.Document, solver.Objective, solver.Maximize = doc, target.CellAddress, False
        solver.Variables, solver.Constraints = tuple(cells), tuple(limits)
        for name, value in run["options"].items():
            solver.setPropertyValue(name, value)
        solver.solve()
        loss = None
        if solver.Success:  # as the dialog's "Keep result": the solution into the cells
            x = list(solver.Solution)
            width = c1 - c0 + 1
            block.setDataArray(tuple(tuple(x[i : i + width]) for i in range(0, len(x), width)))
            loss = target.getValue()
        return {
            "start": start,
            "success": bool(solver.Success),
            "status": solver.StatusDescription,
            "loss": loss,
        }
    finally:
        doc.close(True)


@contextlib.contextmanager
def office_desktop(spec: dict):
    """LibreOffice started on ``spec``'s private profile and pipe: its context and desktop, and
    LibreOffice stopped on leaving (for this driver and lo_paste.py)."""
    office = u.start_office(spec["soffice"], spec["profile"], spec["pipe"])
    desktop = None
    try:
        ctx = u.connect(spec["pipe"], office)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        yield ctx, desktop
    finally:
        u.stop_office(office, desktop)


def main(argv: list[str]) -> int:
    spec = json.loads(argv[0])
    with office_desktop(spec) as (ctx, _):
        for each in spec["runs"]:
            print(json.dumps(run(ctx, spec, each)), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
