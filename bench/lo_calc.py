"""Time LibreOffice's recalculation of workbooks, inside LibreOffice (run by bench/recalc_cost.py).

Runs under the system Python that has LibreOffice's ``uno`` module (Debian:
``python3-uno``), not the project's venv::

    /usr/bin/python3 bench/lo_calc.py PROFILE_DIR JOBS.json --repeat 3

JOBS.json lists workbooks, each with cells to type into:
``[{"path": "a.xlsx", "typed": [{"label": "lr", "sheet": "descent", "cell": "B6",
"values": [0.05, 0.1], "watch": "L110"}]}]``. Starts one headless LibreOffice with the
user profile PROFILE_DIR, then for each workbook: load it (hidden), time
``calculateAll()`` (every formula cell recomputed) ``--repeat`` times, then for each
typed cell, with automatic calculation off, ``--repeat`` times: set the cell to the
next of ``values`` and time ``calculate()`` (only the formulas that depend on it: what
LibreOffice does after a user types a number), reading the ``watch`` cell after each
to show that it did recompute. Then it closes the workbook. ``peak MB`` is
LibreOffice's peak resident memory while the workbook was open (Linux's VmHWM, reset
before loading). Prints one JSON line: ``{path: {"load": s, "calc": [s, ...],
"typed": {label: {"calc": [s, ...], "watch": [value, ...]}}, "peak MB": mb}}``.
"""

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import uno
from com.sun.star.beans import PropertyValue
from com.sun.star.connection import NoConnectException


def connect(pipe, soffice, deadline=120):
    local = uno.getComponentContext()
    resolver = local.ServiceManager.createInstanceWithContext("com.sun.star.bridge.UnoUrlResolver", local)
    start = time.monotonic()
    while True:
        try:
            return resolver.resolve(f"uno:pipe,name={pipe};urp;StarOffice.ComponentContext")
        except NoConnectException:
            if soffice.poll() is not None or time.monotonic() - start > deadline:
                raise RuntimeError(f"LibreOffice did not start (exit {soffice.poll()})") from None
            time.sleep(0.2)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("profile")
    parser.add_argument("jobs")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    jobs = json.loads(Path(args.jobs).read_text())
    pipe = f"workbench_bench_{os.getpid()}"
    soffice = subprocess.Popen(
        [
            shutil.which("soffice") or "soffice",
            f"-env:UserInstallation={Path(args.profile).resolve().as_uri()}",
            "--headless",
            "--invisible",
            "--norestore",
            "--nologo",
            f"--accept=pipe,name={pipe};urp;",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    results = {}
    try:
        ctx = connect(pipe, soffice)
        desktop = ctx.ServiceManager.createInstanceWithContext("com.sun.star.frame.Desktop", ctx)
        office = office_pid(soffice.pid)
        for job in jobs:
            results[job["path"]] = time_workbook(desktop, office, job, args.repeat)
        with contextlib.suppress(Exception):  # the bridge drops as LibreOffice exits
            desktop.terminate()
    finally:
        try:
            soffice.wait(timeout=30)
        except subprocess.TimeoutExpired:
            soffice.kill()
    print(json.dumps(results))


def time_workbook(desktop, office, job, repeat):
    reset_peak(office)
    start = time.perf_counter()
    hidden = (PropertyValue(Name="Hidden", Value=True),)
    doc = desktop.loadComponentFromURL(Path(job["path"]).resolve().as_uri(), "_blank", 0, hidden)
    out = {"load": time.perf_counter() - start, "calc": [], "typed": {}}
    for _ in range(repeat):
        start = time.perf_counter()
        doc.calculateAll()
        out["calc"].append(time.perf_counter() - start)
    doc.enableAutomaticCalculation(False)  # else setValue itself may recompute, untimed
    for edit in job.get("typed", []):
        sheet = doc.Sheets.getByName(edit["sheet"])
        cell, watch = sheet.getCellRangeByName(edit["cell"]), sheet.getCellRangeByName(edit["watch"])
        seconds, watched = [], []
        for i in range(repeat):
            cell.setValue(edit["values"][i % len(edit["values"])])
            start = time.perf_counter()
            doc.calculate()
            seconds.append(time.perf_counter() - start)
            watched.append(watch.getValue())
        out["typed"][edit["label"]] = {"calc": seconds, "watch": watched}
    doc.close(True)
    out["peak MB"] = peak_mb(office)
    return out


def office_pid(launcher):
    """soffice is a script that starts soffice.bin: the process doing the work (or the launcher)."""
    children = {launcher}
    for _ in range(50):
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                pid = int(stat.parent.name)
                if int(fields[1]) in children and pid not in children:
                    children.add(pid)
                    if "soffice.bin" in stat.read_text():
                        return pid
        time.sleep(0.1)
    return launcher


def reset_peak(pid):
    with contextlib.suppress(OSError):  # Linux: "5" resets the process's peak resident memory
        Path(f"/proc/{pid}/clear_refs").write_text("5")


def peak_mb(pid):
    with contextlib.suppress(OSError, StopIteration):
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("VmHWM"))
        return int(line.split()[1]) / 1024
    return None


if __name__ == "__main__":
    main()
