"""``workbench solve``: the lesson's Solver step, done by LibreOffice on the sheet's own formulas.

Every model sheet of a workbook written by ``workbench build`` carries Excel's Solver
model as hidden names: ``solver_opt``, the cell to minimise (the train loss), and
``solver_adj``, the yellow parameter cells. :func:`solve_workbook` hands that model
to LibreOffice, headless: BFGS steps on finite differences minimise from the cells'
values, as Excel's GRG Nonlinear would; on request (``seconds`` > 0) LibreOffice's nonlinear
solver (``SwarmSolver``, differential evolution) then searches the box ``[-bound, bound]``
for ``seconds`` and, if it lands lower, its answer is polished too. Every loss on the way
is LibreOffice recalculating the sheet. The workbook is saved by
LibreOffice (as a user saving from LibreOffice would), in place and atomically, so
``workbench check`` reads the result back.

Before LibreOffice starts, it refuses a workbook the user cannot write, one LibreOffice has
open, and one another ``solve`` holds (an ``flock`` on the file); the driver refuses a sheet
whose objective is an error, naming the cell the error comes from. LibreOffice's profile is a
:func:`~workbench.sheets.engines.recalc.private_profile`: removed on every exit Python sees (SIGTERM
is turned into one), and reclaimed by the next run after a SIGKILL.

LibreOffice's ``uno`` module is rarely importable from a virtual environment, so the
work happens in :mod:`workbench.sheets.engines.uno_solver`, run by a Python that has it (the
system's ``python3`` with ``python3-uno`` on Debian and Ubuntu; set
``WORKBENCH_UNO_PYTHON`` to choose another).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from ...errors import WorkbenchError, WorkbookError
from ...files import check_target, write_bytes
from ..read.xlsx_reader import Book
from .recalc import find_soffice, private_profile

#: Default half-width of the box the swarm searches: every fitted parameter of the lesson lies inside.
BOUND = 5.0
#: Default seconds of LibreOffice's swarm search after the polish: none, as it never landed lower
#: than the polish on the lesson's sheets (bench/solve_phases.py); ``--seconds`` turns it on.
SECONDS = 0.0
#: Default minutes of polishing at most: the lesson's nnet sheet settles in about 2-3 (more on a
#: busy machine); a table of thousands of rows and dozens of parameters may take hours, so it
#: stops, saves the best point so far, and a second solve goes on from there.
MINUTES = 10.0

Progress = Callable[[dict], None]


@dataclass(frozen=True)
class SolveResult:
    """What :func:`solve_workbook` did to one sheet."""

    path: Path
    sheet: str
    start_loss: float
    loss: float
    params: tuple[float, ...]
    seconds: float
    #: the polish's limit in minutes, when it stopped there before the loss settled
    out_of_time: float | None = None

    def report(self) -> str:
        said = (
            f"{self.path}: sheet {self.sheet!r}: train loss {self.start_loss:.10f} -> {self.loss:.10f}"
            f" in {self.seconds:.1f} s ({len(self.params)} parameters); saved by LibreOffice"
        )
        if self.out_of_time is None:
            return said
        return (
            f"{said}\nthe polish stopped at its limit of {self.out_of_time:g} minutes before the loss"
            f" settled; to go on from here: workbench solve {self.path} --sheet {self.sheet}"
        )


@dataclass(frozen=True)
class SolverModel:
    """A sheet's Solver model in 0-based (row, col) cells: objective, changing block, random start block."""

    objective: tuple[int, int]
    changing: tuple[tuple[int, int], tuple[int, int]]
    start: tuple[tuple[int, int], tuple[int, int]] | None


def solver_model(path: str | os.PathLike[str], sheet: str) -> SolverModel:
    """Read ``sheet``'s Solver model (its hidden names) and where its grey random start lies (the
    name ``Start``, when it is a block of the changing cells' shape on the sheet).

    Raises:
        WorkbookError: the file is not an xlsx workbook, has no sheet ``sheet``, or the
            sheet has no Solver model (``solver_opt`` and ``solver_adj``) on its own cells.
    """
    path = Path(path)
    with Book(path) as book:
        if sheet not in book.sheetnames:
            raise WorkbookError(f"{path}: has no sheet {sheet!r} (its sheets: {', '.join(book.sheetnames)})")
        r, c, _, _ = book.range(sheet, "solver_opt", "Solver objective")
        r0, c0, r1, c1 = book.range(sheet, "solver_adj", "Solver parameter range")
        start = book.range(sheet, "Start", "random start") if book.name(sheet, "Start") else None
    changing = ((r0 - 1, c0 - 1), (r1 - 1, c1 - 1))
    if start is None or (start[2] - start[0], start[3] - start[1]) != (r1 - r0, c1 - c0):
        return SolverModel((r - 1, c - 1), changing, None)
    return SolverModel((r - 1, c - 1), changing, ((start[0] - 1, start[1] - 1), (start[2] - 1, start[3] - 1)))


def uno_python() -> str | None:
    """A Python that can ``import uno``: $WORKBENCH_UNO_PYTHON, this one, the system's or LibreOffice's."""
    soffice = find_soffice()
    candidates = [
        os.environ.get("WORKBENCH_UNO_PYTHON"),
        sys.executable,
        "/usr/bin/python3",
        shutil.which("python3"),
        str(Path(os.path.realpath(soffice)).parent / "python") if soffice else None,
    ]
    for python in dict.fromkeys(filter(None, candidates)):
        try:
            done = subprocess.run([python, "-c", "import uno"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if done.returncode == 0:
            return python
    return None


def solve_workbook(
    path: str | os.PathLike[str],
    sheet: str = "linear",
    *,
    from_start: bool = False,
    seconds: float = SECONDS,
    bound: float = BOUND,
    polish: bool = True,
    minutes: float = MINUTES,
    progress: Progress | None = None,
) -> SolveResult:
    """Minimise ``sheet``'s Solver objective in LibreOffice and save the workbook in place.

    Args:
        path: a workbook written by ``workbench build`` (or any xlsx whose sheet has
            Excel's Solver names ``solver_opt`` and ``solver_adj``).
        sheet: the sheet whose model to solve.
        from_start: first paste the grey random start over the yellow parameters.
        seconds: how long LibreOffice's swarm searches (0: the polish alone).
        bound: the swarm searches every parameter in ``[-bound, bound]``; the polish is unbounded.
        polish: BFGS steps on finite differences from the cells' values (and from the swarm's answer).
        minutes: the polish stops this long after it began and keeps the best point so far
            (:attr:`SolveResult.out_of_time` says so); solving again goes on from there.
        progress: called with each progress event (a dict with ``phase``, ``seconds``, ``loss``...).

    Raises:
        WorkbenchError: LibreOffice or its Python bridge is missing, the file or sheet
            is not a workbench workbook's, or LibreOffice fails. The file is then unchanged.
    """
    path = Path(path)
    if not seconds >= 0 or not bound > 0 or not 0 < minutes < float("inf"):
        raise WorkbenchError(
            "solve needs seconds >= 0, bound > 0 and a finite minutes > 0;"
            f" got seconds {seconds}, bound {bound}, minutes {minutes}"
        )
    model = solver_model(path, sheet)
    if from_start and model.start is None:
        raise WorkbookError(
            f"{path}: sheet {sheet!r} has no grey random start to begin from (its parameters were"
            " fitted in closed form); solve it without --from-start, from the parameters it holds"
        )
    target = check_target(path)  # a folder, FIFO or device at the path is refused before LibreOffice starts
    _check_writable(path, target)
    soffice, python = _libreoffice()
    began = time.perf_counter()
    # LibreOffice is another process: it saves into a private folder, and the bytes are then
    # moved into place atomically (atomic_path's path is valid in this process only).
    with _locked(path, target), _terminated_as_interrupt(), private_profile("solve") as (scratch, held):
        _check_not_open(path, target)
        out = scratch / path.name
        spec = {
            "soffice": soffice,
            "profile": str(scratch / "profile"),
            "held": held,
            "pipe": f"workbench-solve-{os.getpid()}-{time.monotonic_ns()}",
            "src": str(target.resolve()),
            "out": str(out),
            "sheet": sheet,
            "objective": model.objective,
            "changing": model.changing,
            "start": model.start if from_start else None,
            "bound": bound,
            "seconds": seconds,
            "polish": polish,
            "minutes": minutes,
        }
        done = _run_driver(python, spec, progress, path)
        if not out.is_file() or out.stat().st_size == 0:
            raise WorkbenchError(f"LibreOffice did not save {path}; the file is unchanged")
        write_bytes(path, out.read_bytes())
    return SolveResult(
        path, sheet, done["start_loss"], done["loss"], tuple(done["params"]), time.perf_counter() - began,
        minutes if done["out_of_time"] else None,
    )  # fmt: skip


def _check_writable(path: Path, target: Path) -> None:
    """Refuse a file the user cannot write: root may write anything, so the mode bits count too."""
    mode = target.stat().st_mode
    if not os.access(target, os.W_OK) or not mode & (stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH):
        raise WorkbenchError(
            f"cannot write {path}: it is read-only ({stat.filemode(mode)}); solve saves into the workbook,"
            " so make it writable (chmod u+w) or solve a copy"
        )
    if not os.access(target.parent, os.W_OK | os.X_OK):
        raise WorkbenchError(f"cannot write {path}: its folder {target.parent} is not writable")


def _check_not_open(path: Path, target: Path) -> None:
    """Refuse a workbook LibreOffice has open (its ``.~lock.NAME#`` beside it): saving over it
    would lose the open copy's edits, or be lost when it is saved."""
    lock = target.with_name(f".~lock.{target.name}#")
    if lock.exists():
        raise WorkbenchError(
            f"{path}: LibreOffice has it open ({lock.name} is beside it); close it there first"
            " (or, if LibreOffice is not running, delete that file)"
        )


@contextlib.contextmanager
def _locked(path: Path, target: Path) -> Iterator[None]:
    """Hold an exclusive lock on the workbook while solving it: a second solve of it is refused.

    The lock is on the file itself (no lock file is left behind); the solved bytes replace
    it under a new inode, which a later solve locks in turn.
    """
    fd = os.open(target, os.O_RDONLY | os.O_NONBLOCK)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise WorkbenchError(
                f"{path}: another workbench solve is working on this workbook; wait for it to finish"
            ) from None
        yield
    finally:
        os.close(fd)


class Terminated(KeyboardInterrupt):
    """SIGTERM, turned into an interruption so every ``finally`` (LibreOffice, its profile) runs."""


@contextlib.contextmanager
def _terminated_as_interrupt() -> Iterator[None]:
    if threading.current_thread() is not threading.main_thread():
        yield  # only the main thread may set signal handlers
        return

    def stop(signum, frame) -> None:
        raise Terminated(f"stopped by signal {signum}")

    before = signal.signal(signal.SIGTERM, stop)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def _libreoffice() -> tuple[str, str]:
    """LibreOffice's ``soffice`` and a Python that imports its ``uno`` bridge, or a WorkbenchError."""
    soffice, python = find_soffice(), uno_python()
    if soffice is None:
        raise WorkbenchError(
            "LibreOffice is not installed (no 'soffice' on PATH); apt-get install -y libreoffice-calc"
        )
    if python is None:
        raise WorkbenchError(
            "no Python can import LibreOffice's uno module; apt-get install -y python3-uno"
            " (or set WORKBENCH_UNO_PYTHON to a Python that has it)"
        )
    return soffice, python


def _run_driver(python: str, spec: dict, progress: Progress | None, path: Path) -> dict:
    driver = Path(__file__).with_name("uno_solver.py")
    office = None
    with subprocess.Popen(
        [python, str(driver), json.dumps(spec)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        pass_fds=(spec["held"],),  # the profile stays marked in use while the driver lives
    ) as proc:
        try:
            done, failure, wrong = None, None, None
            for line in proc.stdout:
                event = json.loads(line)
                if event["event"] == "progress" and progress is not None:
                    progress(event)
                elif event["event"] == "started":
                    office = event["office"]
                elif event["event"] == "done":
                    done = event
                elif event["event"] == "error":
                    failure = event["message"]
                elif event["event"] == "wrong":
                    wrong = event["message"]
            proc.wait()
        except BaseException:  # Ctrl-C or SIGTERM: let the driver shut LibreOffice down
            _stop(proc)
            raise
        finally:
            _kill_group(office)  # LibreOffice, should the driver have died without stopping it
        if wrong is not None:
            raise WorkbookError(f"{path}: {wrong}; the file is unchanged")
        if done is None:
            detail = failure or (proc.stderr.read().strip().splitlines() or ["no output"])[-1]
            raise WorkbenchError(f"LibreOffice could not solve sheet {spec['sheet']!r}: {detail}")
    return done


def _stop(proc: subprocess.Popen) -> None:
    with contextlib.suppress(ProcessLookupError):
        proc.terminate()
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _kill_group(office: int | None) -> None:
    """SIGKILL LibreOffice's process group (its own session, started by the driver), if still there."""
    if office is not None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(office, signal.SIGKILL)
