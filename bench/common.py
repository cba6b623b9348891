"""What every benchmark script shares: the machine's description, tables, timers, synthetic data.

The scripts print Markdown tables (``bench/RESULTS.md`` collects them) and are run
from the repository root, e.g. ``.venv/bin/python bench/workbook_scale.py``.
Nothing here is timed by the test suite.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import platform
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager, suppress
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parent.parent


def machine() -> dict[str, str]:
    """CPU model, cores, RAM, Python, torch, XlsxWriter and LibreOffice versions, date."""
    cpu = platform.processor() or "?"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
        ram_kb = next(
            int(line.split()[1])
            for line in Path("/proc/meminfo").read_text().splitlines()
            if line.startswith("MemTotal")
        )
        ram = f"{ram_kb / 1024**2:.0f} GB"
    except (OSError, StopIteration):
        ram = "?"
    import torch
    import xlsxwriter

    from workbench.sheets.engines.recalc import find_soffice

    soffice = find_soffice()
    lo = "not installed"
    if soffice:
        done = subprocess.run([soffice, "--version"], capture_output=True, text=True, timeout=120)
        lo = done.stdout.strip().split("\n")[0] or "?"
    return {
        "CPU": cpu,
        "cores": str(os.cpu_count()),
        "RAM": ram,
        "OS": f"{platform.system()} {platform.release()}",
        "Python": platform.python_version(),
        "torch": torch.__version__,
        "XlsxWriter": xlsxwriter.__version__,
        "LibreOffice": lo,
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"),
    }


def table(rows: Sequence[dict[str, Any]], *, title: str | None = None) -> str:
    """``rows`` as a Markdown table (columns in the first row's order); numbers as given."""
    if not rows:
        return ""
    heads = list(rows[0])
    cells = [[_cell(row.get(h, "")) for h in heads] for row in rows]
    widths = [max(len(h), *(len(r[j]) for r in cells)) for j, h in enumerate(heads)]
    right = [all(_is_number(row.get(h)) for row in rows) for h in heads]

    def line(values: Sequence[str]) -> str:
        padded = (v.rjust(w) if r else v.ljust(w) for v, w, r in zip(values, widths, right, strict=True))
        return "| " + " | ".join(padded) + " |"

    rule = (
        "|"
        + "|".join(
            ("-" * (w + 1) + ":") if r else ("-" * (w + 2)) for w, r in zip(widths, right, strict=True)
        )
        + "|"
    )
    out = [line(heads), rule, *(line(r) for r in cells)]
    if title:
        out = [f"### {title}", "", *out]
    return "\n".join(out) + "\n"


def _is_number(v: object) -> bool:
    return isinstance(v, (int, float, np.integer, np.floating)) and not isinstance(v, bool)


def _cell(v: object) -> str:
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15 and not isinstance(v, bool):
        return f"{v:,.0f}" if abs(v) >= 1e4 else f"{v:g}"
    if isinstance(v, (int, np.integer)) and not isinstance(v, bool):
        return f"{v:,}"
    return str(v)


def show(text: str) -> None:
    """Print a table (or any line) at once, so a long run shows its progress."""
    print(text, flush=True)


@contextmanager
def timer() -> Iterator[list[float]]:
    """``with timer() as t: ...`` then ``t[0]`` is the wall time in seconds."""
    out: list[float] = []
    start = time.perf_counter()
    try:
        yield out
    finally:
        out.append(time.perf_counter() - start)


def _status_kb(pid: int | str, field: str) -> int | None:
    """A ``kB`` field (``VmHWM``, ``VmRSS``) of ``/proc/PID/status``; None once the process is gone."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1])
    except (OSError, ValueError):
        return None
    return None


def peak_rss_mb() -> float:
    """This process's peak resident memory so far, in MB: Linux's ``VmHWM``.

    Not ``getrusage``'s ``ru_maxrss``: Linux carries that over from the parent process
    across fork and exec, so a fresh child started by a big parent reports the parent's peak.
    """
    return (_status_kb("self", "VmHWM") or 0) / 1024


def _tree(pid: int) -> list[int]:
    """``pid`` and every process below it, now."""
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        out.append(p)
        for task in Path(f"/proc/{p}/task").glob("*"):
            with suppress(OSError):  # the process ended meanwhile
                todo.extend(int(c) for c in (task / "children").read_text().split())
    return out


def _cpu_s(pid: int) -> float | None:
    """User + system seconds of a running process so far (``/proc/PID/stat``), None once gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def run_measured(
    args: Sequence[str], *, env: dict[str, str] | None = None, cwd: Path = ROOT
) -> dict[str, float]:
    """Run a command, sampling its process tree every 20 ms; its wall and CPU seconds and memory.

    ``cpu_s``: user + system time of the command and every process it waited for (its
    workers); ``main_cpu_s``: the command's own (at the last sample). ``main_mb``: the
    command's own peak (``VmHWM``). ``total_mb``: the largest sum of resident memory over
    the whole tree at one sample. ``sum_of_peaks_mb``: every process's own peak, added (an
    upper bound, as if all peaked at once).
    """
    start = time.perf_counter()
    process = subprocess.Popen(args, env={**os.environ, **(env or {})}, cwd=cwd, stdout=subprocess.DEVNULL)
    peaks: dict[int, int] = {}
    total, own = 0, 0.0
    while True:
        pid, status, usage = os.wait4(process.pid, os.WNOHANG)
        if pid:
            break
        own = _cpu_s(process.pid) or own
        now = 0
        for p in _tree(process.pid):
            rss, hwm = _status_kb(p, "VmRSS"), _status_kb(p, "VmHWM")
            now += rss or 0
            peaks[p] = max(peaks.get(p, 0), hwm or 0)
        total = max(total, now)
        time.sleep(0.02)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} exited with {process.returncode}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "main_cpu_s": own,
        "main_mb": peaks.get(process.pid, 0) / 1024,
        "total_mb": total / 1024,
        "sum_of_peaks_mb": sum(peaks.values()) / 1024,
    }


def run_child(
    args: Sequence[str], *, env: dict[str, str] | None = None, timeout: float = 7200
) -> dict[str, Any]:
    """Run ``python args...`` in a fresh process (its own peak memory) and parse its last line as JSON."""
    done = subprocess.run(
        [sys.executable, *args],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env={**os.environ, **(env or {})},
        timeout=timeout,
    )
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def synthetic_passengers(n: int, seed: int = 0) -> pd.DataFrame:
    """``n`` Titanic-like passengers: Kaggle's complete rows drawn with replacement, seeded.

    Every row has Age and Embarked, so the lesson table keeps all ``n``; PassengerId
    runs 1..n and names stay real names (the ``all_rows`` sheet writes them as text).
    """
    import workbench as wb

    raw = wb.load_titanic()
    pool = raw[raw["Age"].notna() & raw["Embarked"].notna()].reset_index(drop=True)
    rows = pool.iloc[np.random.default_rng(seed).integers(0, len(pool), n)].reset_index(drop=True)
    rows["PassengerId"] = np.arange(1, n + 1, dtype="int64")
    return rows


def book_fits(table: pd.DataFrame, seed: int = 0) -> dict[str, Any]:
    """Parameters for every model sheet: least squares for linear, seeded RAND()-0.5 for the rest.

    The writer fits nothing, so its speed does not depend on how good they are.
    """
    from workbench import FEATURES
    from workbench.sheets.books.titanic import Fitted

    rng = np.random.default_rng(seed)
    x = table[list(FEATURES)].to_numpy(dtype="float64")
    w = np.linalg.lstsq(x, table["Survived"].to_numpy(dtype="float64"), rcond=None)[0]
    start = lambda *shape: rng.uniform(-0.5, 0.5, shape)
    return {
        "linear": Fitted(w, start(10)),
        "nnet": Fitted(start(2, 10), start(2, 10)),
        "sigmoid": Fitted(start(10), start(10)),
    }


#: ``--quick``: every fit's effort cut to this (where its method takes the option), so each
#: script runs in seconds. The numbers then only show that the script still runs.
QUICK = {"starts": 4, "epochs": 10, "iterations": 20, "gauss_newton": 2, "polish": 1}


def quick_options(model: str, options: dict[str, Any]) -> dict[str, Any]:
    """``wb.fit(model, ..., **options)``'s options with the effort of :data:`QUICK`."""
    import workbench as wb
    from workbench.titanic.train import OPTIONS

    method = options.get("method") or wb.MODELS[model].recipe.method
    return {**options, **{k: v for k, v in QUICK.items() if k in OPTIONS[method]}}


# --- the floor: the same cells written by XlsxWriter alone -----------------------------------------

#: The floor's process: the imports of a build (torch, pandas, scipy), then XlsxWriter writes the
#: cells of :func:`dump_cells` with no logic: one plain format for every cell, rows in order,
#: streamed (``constant_memory``), through workbench's :class:`~workbench.sheets.write.xlsx.Workbook`,
#: whose sheets write XlsxWriter's very bytes without its per-formula substitutions (a floor
#: under stock XlsxWriter's is the one a faster writer could reach). Its own CPU seconds reading
#: the dump are printed, so that :func:`floor` leaves them out.
FLOOR = """
import marshal, sys, time
import pandas, scipy, scipy.linalg, scipy.optimize, torch
from workbench.sheets.write.xlsx import Workbook
read = 0.0
with open(sys.argv[1], "rb") as f:
    while True:
        t = time.process_time()
        try:
            item = marshal.load(f)
        except EOFError:
            break
        read += time.process_time() - t
        if isinstance(item, str):  # a new book
            book = Workbook(sys.argv[2] + "/" + item, {"constant_memory": True,
                "strings_to_formulas": False, "strings_to_numbers": False, "strings_to_urls": False})
            plain = book.add_format({"num_format": "General"})
            continue
        if item[0] == "close":
            book.close()
            continue
        sheet, rows = item
        ws = book.get_worksheet_by_name(sheet) or book.add_worksheet(sheet)
        for r, c, kind, a, b in rows:
            if kind == 0:
                ws.write_number(r, c, a, plain)
            elif kind == 1:
                ws.write_string(r, c, a, plain)
            else:
                ws.write_formula(r, c, a, plain, b)
print(read)
"""


def dump_cells(books: Sequence[Path], dump: Path, block: int = 20_000) -> int:
    """Every cell of ``books`` (numbers, text, formulas with their values) into ``dump`` for
    :data:`FLOOR`, a block of rows at a time; returns the number of formulas."""
    import marshal
    import re
    import zipfile
    from xml.etree.ElementTree import iterparse

    ns = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
    formulas = 0
    with dump.open("wb") as out:
        for path in books:
            marshal.dump(path.name, out)
            with zipfile.ZipFile(path) as z:
                strings = []
                if "xl/sharedStrings.xml" in z.namelist():
                    for _, el in iterparse(z.open("xl/sharedStrings.xml")):
                        if el.tag == ns + "si":
                            strings.append("".join(t.text or "" for t in el.iter(ns + "t")))
                            el.clear()
                book = z.read("xl/workbook.xml").decode()
                rels = z.read("xl/_rels/workbook.xml.rels").decode()
                targets = dict(re.findall(r'Id="(rId\d+)"[^>]*Target="([^"]+)"', rels))
                targets |= {k: v for v, k in re.findall(r'Target="([^"]+)"[^>]*Id="(rId\d+)"', rels)}
                for name, rid in re.findall(r'<sheet name="([^"]+)" sheetId="\d+"[^>]*r:id="(rId\d+)"', book):
                    rows: list[tuple] = []
                    for _, el in iterparse(z.open("xl/" + targets[rid].lstrip("/").removeprefix("xl/"))):
                        if el.tag != ns + "c":
                            if el.tag == ns + "row" and len(rows) >= block:
                                marshal.dump((name, rows), out)
                                rows = []
                            continue
                        r, c = _rowcol(el.get("r"))
                        kind, f, v = el.get("t"), el.find(ns + "f"), el.find(ns + "v")
                        value = None if v is None else v.text
                        if f is not None and f.text:
                            formulas += 1
                            number = float(value) if value and kind is None else (value or 0)
                            rows.append((r, c, 2, "=" + f.text, number))
                        elif kind == "s":
                            rows.append((r, c, 1, strings[int(value)], None))
                        elif kind == "inlineStr":
                            rows.append((r, c, 1, "".join(t.text or "" for t in el.iter(ns + "t")), None))
                        elif value is not None:
                            rows.append((r, c, 0, float(value), None))
                        el.clear()
                    marshal.dump((name, rows), out)
            marshal.dump(("close", None), out)
    return formulas


def _rowcol(ref: str) -> tuple[int, int]:
    letters = ref.rstrip("0123456789")
    col = 0
    for ch in letters:
        col = col * 26 + ord(ch) - 64
    return int(ref[len(letters) :]) - 1, col - 1


def floor(dump: Path, out: Path) -> dict[str, float]:
    """:data:`FLOOR` run on ``dump`` (books into the folder ``out``): wall and CPU seconds (less
    its reading of the dump) and its peak memory, as :func:`run_measured` gives them."""
    out.mkdir(parents=True, exist_ok=True)
    said = out / "read_cpu.txt"
    script = FLOOR.replace("print(read)", f"open({str(said)!r}, 'w').write(str(read))")
    got = run_measured([sys.executable, "-c", script, str(dump), str(out)])
    read = float(said.read_text())
    return got | {"cpu_s": got["cpu_s"] - read, "main_cpu_s": got["main_cpu_s"] - read}
