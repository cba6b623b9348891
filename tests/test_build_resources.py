"""What the build and the fits cost in memory: under 500 MB, and flat in the number of steps."""

from __future__ import annotations

import contextlib
import json
import subprocess
import sys
import time
from pathlib import Path

import pytest

from workbench.build import OUTPUTS
from workbench.lesson_files import REGRESSIONS_BYTES
from workbench.stamp import STAMP

MB = 1024 * 1024


def _kb(pid: int, field: str) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def _children(pid: int) -> list[int]:
    found = []
    for task in Path(f"/proc/{pid}/task").glob("*"):
        with contextlib.suppress(OSError):  # the process ended meanwhile
            found += [int(c) for c in (task / "children").read_text().split()]
    return found


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
def test_the_build_peaks_under_560_mb(tmp_path):
    """``workbench build`` in a fresh process: its peak (VmHWM, never ``ru_maxrss``, which
    Linux carries over from the parent) stays under 560 MB, and its process tree's resident
    memory added up, sampled every 20 ms, under 560 MB plus the second process that writes the
    small regressions' files meanwhile (:data:`~workbench.lesson_files.REGRESSIONS_BYTES`). (The peak is
    the net's 256-start search, run twice: on the 570 train rows for the sheets, on all 712 for
    the submission.)"""
    build = subprocess.Popen(
        [sys.executable, "-m", "workbench", "build", "--out", str(tmp_path)], stdout=subprocess.DEVNULL
    )
    main_peak = total_peak = 0
    while build.poll() is None:
        main_peak = max(main_peak, _kb(build.pid, "VmHWM"))
        total_peak = max(total_peak, sum(_kb(p, "VmRSS") for p in [build.pid, *_children(build.pid)]))
        time.sleep(0.02)
    assert build.returncode == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*OUTPUTS, STAMP])
    assert 100 * 1024 < main_peak < 560 * 1024, main_peak  # kB: torch alone takes ~190 MB
    assert total_peak < 560 * 1024 + REGRESSIONS_BYTES // 1024, total_peak


_FIT_PEAK = """
import json, sys
from pathlib import Path
import workbench as wb
from workbench.numerics import one_thread

def peak():
    status = Path("/proc/self/status").read_text().splitlines()
    return next(int(line.split()[1]) for line in status if line.startswith("VmHWM:")) * 1024

table = wb.lesson_table()
wb.fit("linear", table, method="lstsq")  # torch's own start-up memory, before the baseline
options = json.loads(sys.argv[1])
with one_thread():
    before = peak()
    fitted = wb.fit("nnet", table, **options)
print(json.dumps({"added": peak() - before, "history": len(fitted.history)}))
"""


def _fit_peak(**options) -> dict[str, int]:
    done = subprocess.run(
        [sys.executable, "-c", _FIT_PEAK, json.dumps(options)], capture_output=True, text=True, check=True
    )
    return json.loads(done.stdout)


@pytest.mark.slow
@pytest.mark.skipif(not Path("/proc/self/status").exists(), reason="reads Linux's /proc")
@pytest.mark.parametrize(
    ("options", "steps", "per_step"),
    [
        # 256 starts' Jacobians: 256 x 712 rows x 20 parameters x 8 bytes = 29 MB a step
        ({"method": "gd", "starts": 256, "epochs": 0, "polish": 0}, "gauss_newton", 256 * 712 * 20 * 8),
        # L-BFGS keeps one float per iteration; one loss's autograd graph holds 712 x 20 products
        ({"method": "lbfgs", "starts": 16}, "iterations", 712 * 20 * 8),
    ],
)
def test_memory_of_a_fit_is_flat_in_its_steps(options, steps, per_step):
    few = _fit_peak(**options, **{steps: 20})
    # The lower of two runs: a copy kept per step shows in every run; the allocator's wander
    # (below) does not: in two CI runs of the whole suite one run's peak rose 300 MB, which no
    # run of this test alone repeated.
    many = min((_fit_peak(**options, **{steps: 400}) for _ in range(2)), key=lambda r: r["added"])
    assert many["history"] > few["history"] + 100  # the longer run did take more steps
    grown = many["added"] - few["added"]
    # A copy per step would add 380 steps' worth (11 GB of Jacobians). What remains is the
    # allocator's: glibc keeps freed Jacobian-sized blocks on its heap once its mmap threshold has
    # moved up, so the peak wanders from run to run (measured 41-197 MB over 20 -> 400 steps, and
    # no more over 1,000 steps than over 400): a bound of a few steps' worth, not of every step's.
    assert grown < max(30 * MB, 8 * per_step), grown
    assert grown < (many["history"] - few["history"]) * per_step
