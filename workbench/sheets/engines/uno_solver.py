"""Run LibreOffice's nonlinear solver on one sheet's Solver model, then polish (run by LibreOffice's Python).

:mod:`workbench.sheets.engines.solve` runs this file with a Python that has LibreOffice's ``uno``
module (on Debian and Ubuntu the system python3, with ``python3-uno``), because that
module is rarely importable from a virtual environment. It takes one JSON argument
(see :func:`main`) and prints one JSON object per line: ``progress`` while it works,
then ``done`` (or ``error``). It imports nothing but the standard library and ``uno``.

What it does, in a headless LibreOffice with a throw-away profile:

1. opens the workbook, recalculating every formula (the profile says so);
2. optionally pastes the random start over the parameters (``--from-start``);
3. minimises from the cells' values as Excel's GRG Nonlinear does: BFGS steps on
   central finite differences, every loss being LibreOffice's own recalculation of
   the objective cell, for at most ``minutes`` (then the best point so far is kept);
4. runs ``com.sun.star.comp.Calc.SwarmSolver`` (differential evolution) on the
   objective cell over the changing cells, each bounded to ``[-bound, bound]``, for
   ``seconds``: a global search, which needs a box to sample (unbounded it wanders
   off to 1e61) and cannot pin a minimum down to many digits; when it lands lower
   than step 3, its answer is polished the same way;
5. writes the best parameters into the cells and saves the workbook as ``.xlsx``.
"""

from __future__ import annotations

import contextlib
import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable

Vector = list[float]


def say(event: str, **fields: object) -> None:
    print(json.dumps({"event": event, **fields}), flush=True)


# --- BFGS on finite differences (pure Python: LibreOffice's Python may have no numpy) ----------------


def gradient(f: Callable[[Vector], float], x: Vector, fx: float) -> Vector:
    """Central differences, with steps scaled to each coordinate (exact for a quadratic up to rounding)."""
    g = []
    for i, xi in enumerate(x):
        h = 1e-5 * max(1.0, abs(xi))
        up, down = x.copy(), x.copy()
        up[i], down[i] = xi + h, xi - h
        g.append((f(up) - f(down)) / (2 * h))
    return g


def bfgs(
    f: Callable[[Vector], float],
    x: Vector,
    *,
    max_iter: int = 500,
    tol: float = 1e-13,
    report: Callable[[int, float], None] = lambda k, fx: None,
    stop: Callable[[], bool] = lambda: False,
) -> tuple[Vector, float]:
    """Minimise ``f`` from ``x`` by BFGS with an Armijo backtracking line search; returns (x, f(x)).

    Stops when ``max_iter`` steps are taken, when a step improves ``f`` by less than
    ``tol`` relative to it twice in a row, or when ``stop()`` says so after a step.
    """
    n = len(x)
    fx = f(x)
    g = gradient(f, x, fx)
    h = [[float(i == j) for j in range(n)] for i in range(n)]  # inverse Hessian estimate
    stalls = 0
    for k in range(1, max_iter + 1):
        d = [-sum(h[i][j] * g[j] for j in range(n)) for i in range(n)]
        slope = sum(gi * di for gi, di in zip(g, d, strict=True))
        if slope >= 0:  # not a descent direction: restart from steepest descent
            h = [[float(i == j) for j in range(n)] for i in range(n)]
            d, slope = [-gi for gi in g], -sum(gi * gi for gi in g)
        if slope == 0:
            break
        t = 1.0
        while True:
            x_new = [xi + t * di for xi, di in zip(x, d, strict=True)]
            f_new = f(x_new)
            if f_new <= fx + 1e-4 * t * slope or t < 1e-12:
                break
            t /= 2
        if not f_new < fx:
            break
        g_new = gradient(f, x_new, f_new)
        s = [a - b for a, b in zip(x_new, x, strict=True)]
        y = [a - b for a, b in zip(g_new, g, strict=True)]
        sy = sum(a * b for a, b in zip(s, y, strict=True))
        if sy > 1e-300:
            hy = [sum(h[i][j] * y[j] for j in range(n)) for i in range(n)]
            yhy = sum(a * b for a, b in zip(y, hy, strict=True))
            for i in range(n):
                for j in range(n):
                    h[i][j] += ((sy + yhy) * s[i] * s[j]) / sy**2 - (hy[i] * s[j] + s[i] * hy[j]) / sy
        stalls = stalls + 1 if fx - f_new <= tol * max(1.0, abs(fx)) else 0
        x, fx, g = x_new, f_new, g_new
        report(k, fx)
        if stalls >= 2 or stop():
            break
    return x, fx


# --- LibreOffice ------------------------------------------------------------------------------------


def start_office(soffice: str, profile: str, pipe: str, held: tuple[int, ...] = ()) -> subprocess.Popen:
    """A headless LibreOffice in its own process group, listening on ``pipe``; it inherits the
    descriptors ``held`` (the lock marking its profile in use)."""
    return subprocess.Popen(
        [
            soffice,
            f"-env:UserInstallation=file://{profile}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"--accept=pipe,name={pipe};urp;StarOffice.ComponentContext",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # Ctrl-C reaches this script, which then shuts the office down
        pass_fds=held,
    )


def connect(pipe: str, office: subprocess.Popen, timeout: float = 60):
    import uno

    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    waited = time.monotonic() + timeout
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except Exception:
            if office.poll() is not None:
                raise RuntimeError(
                    f"LibreOffice exited (status {office.returncode}) before it answered"
                ) from None
            if time.monotonic() > waited:
                raise RuntimeError(f"LibreOffice did not answer within {timeout:g} s") from None
            time.sleep(0.1)


def stop_office(office: subprocess.Popen, desktop) -> None:
    if desktop is not None:
        with contextlib.suppress(Exception):  # the bridge closes as it quits
            desktop.terminate()
    try:
        office.wait(timeout=20)
    except subprocess.TimeoutExpired:
        os.killpg(office.pid, signal.SIGKILL)
        office.wait()


def prop(name: str, value: object):
    from com.sun.star.beans import PropertyValue

    p = PropertyValue()
    p.Name, p.Value = name, value
    return p


def run_swarm(ctx, doc, sheet_index: int, objective, cells, spec: dict) -> Vector:
    """LibreOffice's SwarmSolver within the box; returns its solution (not yet in the cells). ``ctx``:
    the UNO component context (its service manager makes the solver)."""
    from com.sun.star.sheet import SolverConstraint
    from com.sun.star.sheet.SolverConstraintOperator import GREATER_EQUAL, LESS_EQUAL
    from com.sun.star.table import CellAddress

    addresses = [CellAddress(sheet_index, c, r) for r, c in cells]
    bounds = []
    for address in addresses:
        for op, value in ((GREATER_EQUAL, -spec["bound"]), (LESS_EQUAL, spec["bound"])):
            bound = SolverConstraint()
            bound.Left, bound.Operator, bound.Right = address, op, value
            bounds.append(bound)
    solver = ctx.ServiceManager.createInstanceWithContext("com.sun.star.comp.Calc.SwarmSolver", ctx)
    if solver is None:
        raise RuntimeError("this LibreOffice has no SwarmSolver (com.sun.star.comp.Calc.SwarmSolver)")
    solver.Document, solver.Objective = doc, objective
    solver.Variables, solver.Constraints, solver.Maximize = tuple(addresses), tuple(bounds), False
    solver.setPropertyValue("Timeout", int(spec["seconds"] * 1000))  # milliseconds, despite its description
    solver.setPropertyValue("Algorithm", 0)  # differential evolution (1: particle swarm)
    failed: list[BaseException] = []

    def solve() -> None:
        try:
            solver.solve()
        except BaseException as e:
            failed.append(e)

    worker = threading.Thread(target=solve, daemon=True)
    began = time.monotonic()
    worker.start()
    while worker.is_alive():
        worker.join(1.0)
        say("progress", phase="swarm", seconds=time.monotonic() - began, limit=spec["seconds"])
    if failed:
        raise RuntimeError(f"LibreOffice's SwarmSolver failed: {failed[0]}")
    return list(solver.Solution)


#: LibreOffice's numbered errors a sheet can show, in words (its help's "Error Codes in Calc").
ERR_WORDS = {
    "Err:502": " (an invalid argument)",
    "Err:504": " (a wrong list of arguments)",
    "Err:522": " (a circular reference: the formula reads its own result)",
    "Err:523": " (a calculation that does not converge)",
}


class WrongSheet(Exception):
    """The objective cannot be minimised as the sheet stands (it is an error): the learner's to fix."""


def a1(sheet_name: str, row: int, col: int) -> str:
    letters = ""
    col += 1
    while col:
        col, rest = divmod(col - 1, 26)
        letters = chr(65 + rest) + letters
    return f"{sheet_name}!{letters}{row + 1}"


def first_of(ranges, besides: tuple[int, int, int] | None = None) -> tuple[int, int, int] | None:
    """The first cell (sheet, row, col) of ``ranges`` (XSheetCellRanges) other than ``besides``, or None."""
    found = []
    for r in ranges.getRangeAddresses() if ranges is not None and ranges.Count else ():
        first = (r.Sheet, r.StartRow, r.StartColumn)
        first = _second(r) if first == besides else first
        if first is not None:
            found.append(first)
    return min(found) if found else None


def _second(r) -> tuple[int, int, int] | None:
    """The cell after a range's top-left one (its top-left may be the asking cell itself)."""
    if r.EndColumn > r.StartColumn:
        return (r.Sheet, r.StartRow, r.StartColumn + 1)
    if r.EndRow > r.StartRow:
        return (r.Sheet, r.StartRow + 1, r.StartColumn)
    return None


def root_error(doc, cell) -> str:
    """Where an error cell's error comes from, in words: follows the first error cell among each
    cell's direct inputs down to one whose inputs hold no error, and names a text cell it reads."""
    from com.sun.star.sheet.CellFlags import STRING
    from com.sun.star.sheet.FormulaResult import ERROR

    names = list(doc.Sheets.ElementNames)
    here = cell.CellAddress
    where = (here.Sheet, here.Row, here.Column)
    seen = {where}
    while True:  # LibreOffice lists a cell among its own precedents: skip it, and never loop
        inputs = cell.queryPrecedents(False)
        nxt = first_of(inputs.queryFormulaCells(ERROR), where) if inputs.Count else None
        if nxt is None or nxt in seen:
            break
        where = nxt
        seen.add(where)
        cell = doc.Sheets.getByIndex(where[0]).getCellByPosition(where[2], where[1])
    shown = cell.getString() or "an error"
    said = f"{a1(names[where[0]], where[1], where[2])} is {shown}{ERR_WORDS.get(shown, '')}"
    inputs = cell.queryPrecedents(False)
    text = first_of(inputs.queryContentCells(STRING), where) if inputs.Count else None
    if text is not None:
        words = doc.Sheets.getByIndex(text[0]).getCellByPosition(text[2], text[1]).getString()
        said += f": it reads {a1(names[text[0]], text[1], text[2])}, which holds the text {words[:40]!r}"
    return said


def check_objective(doc, sheet_name: str, target, switch_words: str) -> None:
    """Refuse an objective that is an error or not a finite number, naming the cell to fix."""
    if target.getError() == 0 and math.isfinite(target.getValue()):
        return
    here = target.CellAddress
    objective = a1(sheet_name, here.Row, here.Column)
    shown = target.getString() or "not a number"
    if target.getError() == 0:
        raise WrongSheet(f"{objective}, the Train loss Solver minimises{switch_words}, is {shown}")
    because = root_error(doc, target)
    raise WrongSheet(
        f"{objective}, the Train loss Solver minimises{switch_words}, is {shown}, because {because}"
    )


def solve_sheet(ctx, spec: dict) -> dict:
    import uno

    smgr = ctx.ServiceManager
    desktop = smgr.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
    url = uno.systemPathToFileUrl(spec["src"])
    doc = desktop.loadComponentFromURL(url, "_blank", 0, (prop("Hidden", True),))
    if doc is None:
        raise RuntimeError(f"LibreOffice cannot open {spec['src']}")
    try:
        names = list(doc.Sheets.ElementNames)
        sheet = doc.Sheets.getByName(spec["sheet"])
        (r0, c0), (r1, c1) = spec["changing"]
        block = sheet.getCellRangeByPosition(c0, r0, c1, r1)
        cells = [(r, c) for r in range(r0, r1 + 1) for c in range(c0, c1 + 1)]
        target = sheet.getCellByPosition(spec["objective"][1], spec["objective"][0])
        width = c1 - c0 + 1

        def put(x: Vector) -> None:
            block.setDataArray(tuple(tuple(x[i : i + width]) for i in range(0, len(x), width)))

        def loss(x: Vector) -> float:
            put(x)
            value = target.getValue()
            return value if target.getError() == 0 and math.isfinite(value) else math.inf

        if spec["start"] is not None:
            (s0, t0), (s1, t1) = spec["start"]
            start = sheet.getCellRangeByPosition(t0, s0, t1, s1).getDataArray()
            put([float(v) for row in start for v in row])
        x0 = [float(v) for row in block.getDataArray() for v in row]
        check_objective(doc, spec["sheet"], target, " from the grey start" if spec["start"] else "")
        f0 = loss(x0)
        say("progress", phase="start", loss=f0)
        began, out_of_time = time.monotonic(), []
        report = lambda k, fx: say(
            "progress", phase="polish", step=k, loss=fx, seconds=time.monotonic() - began
        )

        def stop() -> bool:  # spec["minutes"] after the first polish began (a swarm between counts)
            if time.monotonic() - began >= 60 * spec["minutes"]:
                out_of_time.append(True)
            return bool(out_of_time)

        polish = lambda x: bfgs(loss, x, report=report, stop=stop)
        best, f_best = polish(x0) if spec["polish"] else (x0, f0)
        if spec["seconds"] > 0:  # a global search may find a better valley than the local polish
            swarm = run_swarm(ctx, doc, names.index(spec["sheet"]), target.CellAddress, cells, spec)
            f_swarm = loss(swarm)
            say("progress", phase="swarm done", loss=f_swarm)
            if f_swarm < f_best:
                best, f_best = polish(swarm) if spec["polish"] else (swarm, f_swarm)
        put(best)
        check_objective(doc, spec["sheet"], target, " at the best parameters found")
        final = target.getValue()
        doc.storeToURL(
            uno.systemPathToFileUrl(spec["out"]),
            (prop("FilterName", "Calc MS Excel 2007 XML"), prop("Overwrite", True)),
        )
        return {"start_loss": f0, "loss": final, "params": best, "out_of_time": bool(out_of_time)}
    finally:
        doc.close(True)


def interrupted(signum, frame) -> None:
    """Ctrl-C or SIGTERM: stop once, and let the shutdown of LibreOffice run undisturbed."""
    for each in (signal.SIGINT, signal.SIGTERM):
        signal.signal(each, signal.SIG_IGN)
    raise KeyboardInterrupt


def main(argv: list[str]) -> int:
    """``argv[0]``: JSON with soffice, profile, held (a descriptor to pass on), pipe, src, out,
    sheet, objective [row, col], changing [[row, col], [row, col]], start (the same, or null),
    bound, seconds, polish, minutes (of polishing, at most)."""
    spec = json.loads(argv[0])
    for signum in (signal.SIGINT, signal.SIGTERM):
        signal.signal(signum, interrupted)
    # LibreOffice locks an open file with .~lock.NAME# beside it; a Ctrl-C can leave it behind.
    folder, name = os.path.split(spec["src"])
    lock = os.path.join(folder, f".~lock.{name}#")
    locked_before = os.path.exists(lock)
    office = start_office(spec["soffice"], spec["profile"], spec["pipe"], (spec["held"],))
    desktop = None
    try:
        say("started", office=office.pid)
        ctx = connect(spec["pipe"], office)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        say("done", **solve_sheet(ctx, spec))
        return 0
    except KeyboardInterrupt:
        return 130
    except WrongSheet as e:
        say("wrong", message=" ".join(str(e).split()))
        return 1
    except Exception as e:
        say("error", message=" ".join(str(e).split()) or type(e).__name__)
        return 1
    finally:
        stop_office(office, desktop)
        if not locked_before:
            with contextlib.suppress(OSError):
                os.remove(lock)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
