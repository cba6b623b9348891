"""Time LibreOffice's full recalculation of workbooks, inside LibreOffice (run by bench/recalc_cost.py).

Runs under the system Python that has LibreOffice's ``uno`` module (Debian:
``python3-uno``), not the project's venv::

    /usr/bin/python3 bench/lo_calc.py PROFILE_DIR --repeat 3 a.xlsx b.xlsx

Starts one headless LibreOffice with the user profile PROFILE_DIR, then for each
workbook: load it (hidden), time ``calculateAll()`` (every formula cell recomputed,
as after a change that touches them all) ``--repeat`` times, close it. Prints one
JSON line: ``{path: {"load": seconds, "calc": [seconds, ...]}}``.
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
    parser.add_argument("paths", nargs="+")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
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
        hidden = (PropertyValue(Name="Hidden", Value=True),)
        for path in args.paths:
            start = time.perf_counter()
            doc = desktop.loadComponentFromURL(Path(path).resolve().as_uri(), "_blank", 0, hidden)
            load = time.perf_counter() - start
            calc = []
            for _ in range(args.repeat):
                start = time.perf_counter()
                doc.calculateAll()
                calc.append(time.perf_counter() - start)
            doc.close(True)
            results[path] = {"load": load, "calc": calc}
        with contextlib.suppress(Exception):  # the bridge drops as LibreOffice exits
            desktop.terminate()
    finally:
        try:
            soffice.wait(timeout=30)
        except subprocess.TimeoutExpired:
            soffice.kill()
    print(json.dumps(results))


if __name__ == "__main__":
    main()
