"""The build's second process (the small regressions' files, written while the Titanic fits run):
its files in order, its failure as one clear line, and nothing left running when the build fails;
whether it is a fork of the build (Linux, no other thread) or a new Python."""

from __future__ import annotations

import gc
import os
import sys
import threading
import time

import pytest

import workbench.build as build
import workbench.lesson_files as lesson_files
from workbench.errors import WorkbenchError
from workbench.lessons import LESSONS, LONGEST_FIRST

# The same behaviour either way: a fork runs this process's (patched) functions, a new Python a script.
FORKED = pytest.mark.parametrize("forked", [True, False], ids=["fork", "new python"])
needs_fork = pytest.mark.skipif(sys.platform != "linux", reason="the build forks on Linux only")


def second_process(monkeypatch, forked: bool, work, script: str) -> None:
    """Make the second process run ``work`` (a fork) or ``script`` (a new Python)."""
    if forked and sys.platform != "linux":
        pytest.skip("the build forks on Linux only")
    monkeypatch.setattr(lesson_files, "can_fork", lambda: forked)
    monkeypatch.setattr(lesson_files, "cores", lambda: 2)
    monkeypatch.setattr(lesson_files, "spare_core", lambda: True)  # whatever the machine's load
    monkeypatch.setattr(lesson_files, "write_regression_outputs", work)
    monkeypatch.setattr(lesson_files, "_REGRESSIONS", script)


PYTEST = os.getpid()


def in_the_fork(work):
    """``work`` where it runs in the fork (or a new Python); nothing in the build's own process."""
    return lambda out, seed, lessons=None: work(out, seed) if os.getpid() != PYTEST else []


@FORKED
def test_the_second_process_hands_back_its_files_in_order(tmp_path, monkeypatch, forked):
    names = list(lesson_files.REGRESSION_OUTPUTS[:3])

    def work(out, seed):
        print("noise")
        return [out / names[2], out / names[0], out / names[1]]

    script = (
        "import json, sys; print('noise');"
        f" print(json.dumps([sys.argv[1] + '/' + n for n in {[names[2], names[0], names[1]]!r}]))"
    )
    second_process(monkeypatch, forked, in_the_fork(work), script)
    second = lesson_files.start(tmp_path, None)
    assert isinstance(second, lesson_files._Fork if forked else lesson_files._NewPython)
    expected = (
        [tmp_path / n for n in names] if forked else [tmp_path / n for n in (names[2], names[0], names[1])]
    )
    assert second.files() == expected


@needs_fork
def test_the_build_writes_the_lessons_the_fork_has_not_started(tmp_path, monkeypatch):
    """The fork takes the lessons one at a time; the build, done with the Titanic's files, takes the
    rest: each lesson is written once, by one process, and the files come back in order."""
    log = tmp_path / "log"
    log.mkdir()

    def write_lesson(lesson, out, seed):
        if os.getpid() != PYTEST:
            time.sleep(1.0)  # a slow first lesson: the build's process takes the others meanwhile
        (log / lesson.name).write_text("fork" if os.getpid() != PYTEST else "build")
        return [out / name for name in lesson.files]

    second_process(monkeypatch, True, lesson_files.write_regression_outputs, "")
    monkeypatch.setattr(lesson_files, "write_lesson", write_lesson)
    second = lesson_files.start(tmp_path, None)
    waited = time.monotonic()
    while second.taken.value < 1 and time.monotonic() - waited < 60:  # the fork takes its first
        time.sleep(0.01)
    assert second.files() == [tmp_path / name for name in lesson_files.REGRESSION_OUTPUTS]
    writers = {p.name: p.read_text() for p in log.iterdir()}
    assert writers == {LONGEST_FIRST[0]: "fork", **{n: "build" for n in LONGEST_FIRST[1:]}}


def test_the_queue_holds_every_lesson_once():
    assert sorted(LONGEST_FIRST) == sorted(LESSONS)
    with pytest.raises(WorkbenchError, match="no lesson is called 'lines'; choose among line, "):
        lesson_files.write_regression_outputs("out", lessons=["lines"])


@FORKED
def test_a_failing_second_process_is_one_clear_error(tmp_path, monkeypatch, forked):
    def work(out, seed):
        raise WorkbenchError("relu.xlsx: disk full")

    script = "from workbench.errors import WorkbenchError; raise WorkbenchError('relu.xlsx: disk full')"
    second_process(monkeypatch, forked, in_the_fork(work), script)
    with pytest.raises(
        WorkbenchError, match=r"regressions' books and pictures failed: (.*: )?relu\.xlsx: disk full$"
    ):
        lesson_files.start(tmp_path, None).files()


@needs_fork
def test_a_fork_that_dies_without_a_word_is_an_error_not_a_hang(tmp_path, monkeypatch):
    second_process(monkeypatch, True, in_the_fork(lambda out, seed: os._exit(3)), "")
    with pytest.raises(WorkbenchError, match=r"regressions' books and pictures failed: exit status 3$"):
        lesson_files.start(tmp_path, None).files()


@FORKED
def test_a_failed_build_ends_its_second_process(tmp_path, monkeypatch, forked):
    second_process(
        monkeypatch,
        forked,
        in_the_fork(lambda out, seed: threading.Event().wait(60)),
        "import time; time.sleep(60)",
    )
    started, regressions = [], lesson_files.start

    def watched(*args):
        started.append(regressions(*args))
        return started[-1]

    def fail(*_a, **_k):
        raise WorkbenchError("the Titanic part failed")

    monkeypatch.setattr(lesson_files, "start", watched)
    monkeypatch.setattr(build, "_titanic", fail)
    with pytest.raises(WorkbenchError, match="the Titanic part failed"):
        build.build_all(out=tmp_path / "books")
    (second,) = started
    ended = second.process.exitcode if forked else second.process.returncode
    assert ended is not None  # killed and waited for, not left sleeping


def test_a_fork_only_where_no_other_thread_could_hold_a_lock(monkeypatch):
    monkeypatch.setattr(lesson_files.sys, "platform", "linux")
    assert lesson_files.can_fork() is (threading.active_count() == 1)
    waiting = threading.Event()
    other = threading.Thread(target=waiting.wait)
    other.start()
    try:
        assert lesson_files.can_fork() is False  # a notebook's kernel, say: a new Python instead
    finally:
        waiting.set()
        other.join()
    monkeypatch.setattr(lesson_files.sys, "platform", "darwin")
    assert lesson_files.can_fork() is False


def test_one_core_or_a_busy_machine_without_a_fork_the_build_writes_the_regressions_itself(
    tmp_path, monkeypatch
):
    def started(*_a):
        raise AssertionError("started a second process where it slows the build")

    seen = []

    class Titanic(Exception):
        """Raised by the Titanic part once it has seen what it was given."""

    def titanic(*args):
        seen.append(args[5])
        raise Titanic

    monkeypatch.setattr(lesson_files, "_Fork", started)
    monkeypatch.setattr(lesson_files, "_NewPython", started)
    monkeypatch.setattr(build, "_titanic", titanic)
    monkeypatch.setattr(lesson_files.os, "getloadavg", lambda: (0.0, 0.0, 0.0), raising=False)
    monkeypatch.setattr(lesson_files, "can_fork", lambda: True)
    monkeypatch.setattr(lesson_files, "cores", lambda: 1)  # one core: neither
    with pytest.raises(Titanic):
        build.build_all(out=tmp_path / "books")
    monkeypatch.setattr(lesson_files, "cores", lambda: 2)
    monkeypatch.setattr(lesson_files, "can_fork", lambda: False)
    monkeypatch.setattr(lesson_files.os, "getloadavg", lambda: (1.5, 0.0, 0.0), raising=False)
    with pytest.raises(Titanic):  # no fork, and no core free for a new Python's imports
        build.build_all(out=tmp_path / "books")
    assert seen == [None, None]  # no second process: _titanic writes them in this one


def test_two_cores_fork_even_beside_other_work(monkeypatch):
    made = []
    monkeypatch.setattr(lesson_files, "_Fork", lambda *a: made.append("fork") or "fork")
    monkeypatch.setattr(lesson_files, "_NewPython", lambda *a: made.append("python") or "python")
    monkeypatch.setattr(lesson_files, "cores", lambda: 2)
    monkeypatch.setattr(lesson_files.os, "getloadavg", lambda: (1.5, 0.0, 0.0), raising=False)
    monkeypatch.setattr(lesson_files, "can_fork", lambda: True)
    assert lesson_files.start("out", None) == "fork"  # a fork costs next to nothing
    monkeypatch.setattr(lesson_files.os, "getloadavg", lambda: (0.5, 0.0, 0.0), raising=False)
    monkeypatch.setattr(lesson_files, "can_fork", lambda: False)
    assert lesson_files.start("out", None) == "python"  # a core is free for its imports
    assert made == ["fork", "python"]


def test_a_spare_core_needs_two_cores_and_a_load_below_one_short_of_them(monkeypatch):
    monkeypatch.setattr(lesson_files.os, "sched_getaffinity", lambda _pid: {0, 1})
    for load, spare in ((0.5, True), (1.0, True), (1.3, False)):
        monkeypatch.setattr(lesson_files.os, "getloadavg", lambda load=load: (load, 0.0, 0.0))
        assert lesson_files.spare_core() is spare
    monkeypatch.setattr(lesson_files.os, "sched_getaffinity", lambda _pid: {0})
    monkeypatch.setattr(lesson_files.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert lesson_files.cores() == 1
    assert lesson_files.spare_core() is False


class Stop(Exception):
    """Raised by a patched step once it has seen what it wanted."""


def test_a_build_leaves_the_objects_it_found_out_of_garbage_collection_until_it_ends(tmp_path, monkeypatch):
    """Collections walking torch's objects cost the build time, and a fork its pages (gc.freeze)."""
    frozen = []

    def seen(*_a, **_k):
        frozen.append(gc.get_freeze_count())
        raise Stop

    monkeypatch.setattr(build, "_titanic", seen)
    monkeypatch.setattr(build, "read_table", seen)
    with pytest.raises(Stop):
        build.build_all(out=tmp_path / "books")
    with pytest.raises(Stop):
        build.build_table(tmp_path / "any.csv", "y", out=tmp_path / "books")
    assert len(frozen) == 2 and min(frozen) > 10_000  # the imported modules' objects, at least
    assert gc.get_freeze_count() == 0  # and the collector's again once the build ends
