"""The build's second process (the small regressions' files, written while the Titanic fits run):
its files in order, its failure as one clear line, and nothing left running when the build fails."""

from __future__ import annotations

import pytest

import workbench.build as build
from workbench.errors import WorkbenchError


def test_the_second_process_hands_back_its_files_in_order(tmp_path, monkeypatch):
    script = "import json, sys; print('noise'); print(json.dumps([sys.argv[1] + '/b', sys.argv[1] + '/a']))"
    monkeypatch.setattr(build, "_REGRESSIONS", script)
    assert build._Regressions(tmp_path, None).files() == [tmp_path / "b", tmp_path / "a"]


def test_a_failing_second_process_is_one_clear_error(tmp_path, monkeypatch):
    script = "from workbench.errors import WorkbenchError; raise WorkbenchError('relu.xlsx: disk full')"
    monkeypatch.setattr(build, "_REGRESSIONS", script)
    with pytest.raises(
        WorkbenchError, match=r"regressions' books and pictures failed: .*relu\.xlsx: disk full$"
    ):
        build._Regressions(tmp_path, None).files()


def test_a_failed_build_ends_its_second_process(tmp_path, monkeypatch):
    monkeypatch.setattr(build, "_REGRESSIONS", "import time; time.sleep(60)")
    started = []

    class Watched(build._Regressions):
        def __init__(self, *args):
            super().__init__(*args)
            started.append(self.process)

    def fail(*_a, **_k):
        raise WorkbenchError("the Titanic part failed")

    monkeypatch.setattr(build, "_Regressions", Watched)
    monkeypatch.setattr(build, "spare_core", lambda: True)
    monkeypatch.setattr(build, "_titanic", fail)
    with pytest.raises(WorkbenchError, match="the Titanic part failed"):
        build.build_all(out=tmp_path / "books")
    (process,) = started
    assert process.returncode is not None  # killed and waited for, not left sleeping


def test_without_a_spare_core_the_build_writes_the_regressions_itself(tmp_path, monkeypatch):
    def second(*_a):
        raise AssertionError("started a second process on a busy machine")

    seen = []

    class Titanic(Exception):
        """Raised by the Titanic part once it has seen what it was given."""

    def titanic(*args):
        seen.append(args[5])
        raise Titanic

    monkeypatch.setattr(build, "spare_core", lambda: False)
    monkeypatch.setattr(build, "_Regressions", second)
    monkeypatch.setattr(build, "_titanic", titanic)
    with pytest.raises(Titanic):
        build.build_all(out=tmp_path / "books")
    assert seen == [None]  # no second process: _titanic writes them in this one


def test_a_spare_core_needs_two_cores_and_a_load_below_one_short_of_them(monkeypatch):
    monkeypatch.setattr(build.os, "sched_getaffinity", lambda _pid: {0, 1})
    for load, spare in ((0.5, True), (1.0, True), (1.3, False)):
        monkeypatch.setattr(build.os, "getloadavg", lambda load=load: (load, 0.0, 0.0))
        assert build.spare_core() is spare
    monkeypatch.setattr(build.os, "sched_getaffinity", lambda _pid: {0})
    monkeypatch.setattr(build.os, "getloadavg", lambda: (0.0, 0.0, 0.0))
    assert build.spare_core() is False
