"""The small regressions' books and pictures: written by :func:`write_regression_outputs`, in
this process or, while the Titanic fits run, in a second one (:func:`start`).

They need nothing of the Titanic fits, so on two cores or more :func:`workbench.build.build_all`
has a second process write them meanwhile, by the same code, to the same bytes; a build that fails
ends it. On Linux that process is a fork of the build, which has imported torch and matplotlib
already (:func:`can_fork`), and the build, done with the Titanic's files, writes the lessons the
fork has not started yet; elsewhere a new Python writes them all, only when a core is free
(:func:`spare_core`).
"""

from __future__ import annotations

import json
import multiprocessing
import os
import subprocess
import sys
import threading
import warnings
from collections.abc import Iterable, Iterator
from multiprocessing.connection import Connection
from multiprocessing.sharedctypes import Synchronized
from pathlib import Path
from typing import NoReturn

from . import pictures
from .errors import WorkbenchError
from .lessons import LESSONS, LONGEST_FIRST, write_lesson
from .numerics import one_thread


def _outputs() -> tuple[str, ...]:
    """Every registered lesson's files, in the registry's order (a recipe may register more later)."""
    return tuple(name for lesson in LESSONS.values() for name in lesson.files)


#: The files :func:`write_regression_outputs` writes, in order.
REGRESSION_OUTPUTS: tuple[str, ...] = _outputs()

#: The second process's whole peak memory when it is a new Python (Python, torch and matplotlib,
#: then its fits and pictures: measured 446 MB); a fork shares what the build had loaded, and less.
REGRESSIONS_BYTES = 480 * 2**20


def write_regression_outputs(
    out_dir: str | os.PathLike[str], *, seed: int | None = None, lessons: Iterable[str] | None = None
) -> list[Path]:
    """Write every lesson dataset's workbook and pictures into ``out_dir``; return the paths.

    ``seed=None`` uses each recipe's own seed (the quadratic's is the course
    notebook's 42); an integer reseeds every dataset and the mini-batch shuffles.
    ``lessons``: only these (names of :data:`~workbench.lessons.LESSONS`), in this order.
    """
    out = Path(out_dir)
    files = []
    for name in LESSONS if lessons is None else lessons:
        if name not in LESSONS:
            raise WorkbenchError(f"no lesson is called {name!r}; choose among {', '.join(LESSONS)}")
        files += write_lesson(LESSONS[name], out, seed)
    return files


def cores() -> int:
    """The cores this process may run on."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def spare_core() -> bool:
    """Whether a second process would find a core of its own: two or more cores for this process,
    and the last minute's load average leaves one free."""
    n = cores()
    return n >= 2 and hasattr(os, "getloadavg") and os.getloadavg()[0] <= n - 1


def can_fork() -> bool:
    """Whether the second process may be a fork of this one, which has imported everything already
    (a new Python spends more than a second importing torch again): on Linux, with no other Python
    thread that could hold a lock the fork would copy locked. (A notebook's kernel runs threads: it
    starts a new Python.) The threads of OpenBLAS, which numpy and scipy start, stop for a fork."""
    return sys.platform == "linux" and threading.active_count() == 1


def start(out: Path, seed: int | None) -> _Fork | _NewPython | None:
    """:func:`write_regression_outputs` into ``out``, run by a second process from now on where that
    is quicker; ``None`` where the build had better write them itself.

    With two cores or more, a fork (:func:`can_fork`) costs next to nothing, so it is quicker even
    when another program keeps a core busy. A new Python imports torch again first, more than a
    second of CPU, which pays only when a core is free (:func:`spare_core`); beside other work it
    made the build slower than writing everything in one process.
    """
    if cores() < 2:
        return None
    if can_fork():
        return _Fork(out, seed)
    return _NewPython(out, seed) if spare_core() else None


class _Fork:
    """:func:`write_regression_outputs` run by a fork of this process, a lesson at a time from
    :data:`~workbench.lessons.LONGEST_FIRST`: once the Titanic's files are written, :meth:`files`
    takes the lessons the fork has not started, and the two finish together."""

    def __init__(self, out: Path, seed: int | None) -> None:
        pictures.load()  # needed here too, later: then the fork needs no import of its own
        context = multiprocessing.get_context("fork")
        self.out, self.seed = out, seed
        self.taken = context.Value("i", 0)  # how many lessons of the queue either process took
        self.answer, sent = context.Pipe(duplex=False)
        self.process = context.Process(target=self._work, args=(out, seed, self.taken, sent), daemon=True)
        with warnings.catch_warnings():  # Python 3.12+ counts OpenBLAS's threads; see can_fork
            warnings.filterwarnings("ignore", "This process .* is multi-threaded", DeprecationWarning)
            self.process.start()
        sent.close()  # the fork's end: closed here, so a fork that dies is an EOF, not a hang

    @staticmethod
    def _work(out: Path, seed: int | None, taken: Synchronized, answer: Connection) -> None:
        """In the fork: the files written, or the error in one line, sent back through ``answer``."""
        try:
            with one_thread():
                files = write_regression_outputs(out, seed=seed, lessons=_take(taken))
                answer.send((True, [str(f) for f in files]))
        except BaseException as e:  # whatever it is, the build's one clear error
            answer.send((False, str(e) if isinstance(e, WorkbenchError) else f"{type(e).__name__}: {e}"))

    def files(self) -> list[Path]:
        """The lessons the fork has not started, written here; then, once the fork has ended, every
        lesson's files in order (the fork's error if it failed)."""
        mine = write_regression_outputs(self.out, seed=self.seed, lessons=_take(self.taken))
        try:
            ok, answer = self.answer.recv()
        except EOFError:  # it died before answering
            ok, answer = False, ""
        self.process.join()
        if not ok:
            _failed(answer or f"exit status {self.process.exitcode}")
        order = {name: k for k, name in enumerate(_outputs())}  # lessons registered since import too
        return sorted([*map(Path, answer), *mine], key=lambda f: order[f.name])

    def stop(self) -> None:
        """End the process if it still runs (the Titanic part failed)."""
        if self.process.exitcode is None:
            self.process.kill()
            self.process.join()
        self.answer.close()


def _take(taken: Synchronized) -> Iterator[str]:
    """The lessons neither process has taken, one at a time: those of
    :data:`~workbench.lessons.LONGEST_FIRST` first, then any lesson a recipe added to the registry."""
    queue = [n for n in LONGEST_FIRST if n in LESSONS] + [n for n in LESSONS if n not in LONGEST_FIRST]
    while True:
        with taken.get_lock():
            k = taken.value
            taken.value = k + 1
        if k >= len(queue):
            return
        yield queue[k]


_REGRESSIONS = """
import json, sys
from workbench.lesson_files import write_regression_outputs
from workbench.numerics import one_thread
with one_thread():
    files = write_regression_outputs(sys.argv[1], seed=json.loads(sys.argv[2]))
print(json.dumps([str(f) for f in files]))
"""


class _NewPython:
    """:func:`write_regression_outputs` run by a new Python process."""

    def __init__(self, out: Path, seed: int | None) -> None:
        here = str(Path(__file__).resolve().parent.parent)  # this workbench, whatever the child's path
        paths = os.pathsep.join(p for p in (here, os.environ.get("PYTHONPATH")) if p)
        self.process = subprocess.Popen(
            [sys.executable, "-c", _REGRESSIONS, str(out), json.dumps(seed)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": paths},
        )

    def files(self) -> list[Path]:
        """The files written, in order, once the process has ended (its last error line if it failed)."""
        stdout, stderr = self.process.communicate()
        if self.process.returncode != 0:
            _failed((stderr.strip().splitlines() or [f"exit status {self.process.returncode}"])[-1])
        return [Path(p) for p in json.loads(stdout.strip().splitlines()[-1])]

    def stop(self) -> None:
        """End the process if it still runs (the Titanic part failed)."""
        if self.process.returncode is None:  # files() was not reached
            self.process.kill()
            self.process.communicate()


def _failed(why: str) -> NoReturn:
    raise WorkbenchError(f"writing the small regressions' books and pictures failed: {why}")


#: The second process, whichever it is: ``files()`` once the build's own work is done, ``stop()``.
Second = _Fork | _NewPython
