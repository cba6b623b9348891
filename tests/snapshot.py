"""Compare two builds of the outputs as a reader sees them, not byte for byte.

Byte-identical output of an ill-conditioned fit across CPUs is a promise no numeric
library makes: numpy, torch and the BLAS under them round the last bits differently
on different CPUs (AVX-512 or not, ARM), and those bits can even change which of the
net's random starts wins. So a workbook is compared part by part:

* every part of the zip but the sheets, the charts and the shared strings: exactly
  (workbook.xml with its sheet and defined names, styles, drawings, properties);
* every sheet's layout (its XML with the cells' stored values taken out): exactly,
  so formulas, styles, widths, merged cells and charts' anchors are the same;
* every cell: its type, formula and text exactly; its number within a tolerance
  that a policy gives per cell (:class:`Policy`), or its value anything (:data:`ANY`);
* every chart: exactly, but for the cached copies of the numbers it plots
  (``<c:numCache>``), which are the cells' numbers again.

Pictures are compared by size and by the share of pixels that differ; a CSV row by row.
Every difference is reported as ``sheet!cell: committed -> fresh``.
"""

from __future__ import annotations

import csv
import io
import math
import re
import zipfile
from collections.abc import Callable
from dataclasses import dataclass, field
from xml.etree import ElementTree

import numpy as np
from openpyxl.utils.cell import column_index_from_string, get_column_letter
from PIL import Image, ImageSequence

MAIN = "{http://schemas.openxmlformats.org/spreadsheetml/2006/main}"
RELS = "{http://schemas.openxmlformats.org/officeDocument/2006/relationships}"

#: Numbers computed the same way up to rounding agree to this relative difference.
REL = 1e-9
#: ... or this absolute one, for numbers near zero (a gap of 1e-15, say).
ABS = 1e-12

#: Pictures: share of pixels that may differ by more than PIXEL_LEVELS (of 255) in a channel.
PIXEL_SHARE = 0.005
PIXEL_LEVELS = 8
#: ... in the over-fitting picture, whose numbers may differ freely (see :func:`titanic_policy`):
#: its curves move with them. Its title, the conclusion drawn from them, is the summary's heading
#: too, a string, and strings are compared exactly.
FREE_PIXEL_SHARE = 0.03


@dataclass(frozen=True)
class Cell:
    kind: str  # the cell's t attribute: n (number), s (shared string), str, b, e, inlineStr
    formula: str | None
    value: str | float | None


@dataclass
class Book:
    parts: dict[str, bytes]  # every other part, as stored
    layouts: dict[str, str]  # sheet name -> its XML without the cells' values
    cells: dict[str, dict[str, Cell]]  # sheet name -> coordinate -> cell
    charts: dict[str, str]  # part name -> XML without the number caches


def read_book(data: bytes) -> Book:
    """The parts of an xlsx file (one of ours: trusted, so plain parsing is fine)."""
    z = zipfile.ZipFile(io.BytesIO(data))
    strings = _shared_strings(z)
    workbook = ElementTree.fromstring(z.read("xl/workbook.xml"))
    rels = ElementTree.fromstring(z.read("xl/_rels/workbook.xml.rels"))
    targets = {r.get("Id"): "xl/" + r.get("Target", "") for r in rels}
    sheets = {s.get("name"): targets[s.get(f"{RELS}id")] for s in workbook.iter(f"{MAIN}sheet")}
    book = Book({}, {}, {}, {})
    for name, part in sheets.items():
        xml = z.read(part).decode()
        book.layouts[name] = re.sub(r"<v>[^<]*</v>", "", xml)
        book.cells[name] = _cells(xml, strings)
    for part in z.namelist():
        if part.startswith("xl/charts/"):
            book.charts[part] = re.sub(r"<c:numCache>.*?</c:numCache>", "", z.read(part).decode())
        elif part not in sheets.values() and part != "xl/sharedStrings.xml":
            book.parts[part] = z.read(part)
    return book


def _shared_strings(z: zipfile.ZipFile) -> list[str]:
    if "xl/sharedStrings.xml" not in z.namelist():
        return []
    root = ElementTree.fromstring(z.read("xl/sharedStrings.xml"))
    return ["".join(t.text or "" for t in si.iter(f"{MAIN}t")) for si in root.iter(f"{MAIN}si")]


def _cells(xml: str, strings: list[str]) -> dict[str, Cell]:
    cells = {}
    for c in ElementTree.fromstring(xml).iter(f"{MAIN}c"):
        kind = c.get("t", "n")
        f, v = c.find(f"{MAIN}f"), c.find(f"{MAIN}v")
        value: str | float | None = None if v is None else v.text
        if kind == "s" and value is not None:
            value = strings[int(value)]
        elif kind == "n" and value is not None:
            value = float(value)
        formula = None if f is None else (f.text or "") + repr(sorted(f.attrib.items()))
        cells[c.get("r")] = Cell(kind, formula, value)
    return cells


#: A policy says how far one number may move: ``tolerance(sheet, cell)`` is None for the
#: default (:data:`REL` / :data:`ABS`), ``math.inf`` for any finite number, or an absolute bound.
#: A policy's answer for a cell that may change to anything, text as well as numbers: a heading
#: that says what freely moving numbers show.
ANY = "any"

Policy = Callable[[str, str], float | str | None]


def default_policy(sheet: str, cell: str) -> float | None:
    return None


def titanic_policy(book: Book) -> Policy:
    """How far titanic.xlsx's numbers may move on another CPU.

    The net is fitted from 256 random starts, and its minima lie close together (MSE
    0.1289321, 0.1289333 and 0.1289416 are three of them): rounding that differs in
    the last bit on another CPU can make another start win, with other parameters. So
    every number computed from the net's parameters, on its sheets and in the net's
    many-start training runs, may differ, but its losses (train, valid, all rows) only by
    1e-6, its accuracies freely; the file's own values must still agree with its own
    parameters (`check`, tested below). L-BFGS's iteration counts may differ too: it stops
    when the loss stops changing at rounding level. The over-fitting table (nets of up to 32
    ReLUs, 200 L-BFGS iterations each, not yet at a minimum) may differ freely, and so may its
    heading, which says what those numbers show (which sizes' valid loss lies within its margin of
    the lowest): on torch's and OpenBLAS's baseline kernels the 8- and 16-ReLU nets end elsewhere
    even from the same start, and a size near the edge of its margin could tip. ``test_build``
    holds every fresh build's heading to its own table instead; the picture is still compared.
    Everything else is rounding apart: the default.
    """
    losses = ("Train loss:", "Valid loss:", "Total loss:")
    free, near = set(), set()
    for sheet in ("nnet", "mmult"):
        free |= {(sheet, ref) for ref in book.cells[sheet]}
        near |= {(sheet, _right_of(ref)) for ref, c in book.cells[sheet].items() if c.value in losses}
    rows: dict[int, dict[str, tuple[str, Cell]]] = {}
    for ref, cell in book.cells["summary"].items():
        letters, digits = re.match(r"([A-Z]+)(\d+)", ref).groups()
        rows.setdefault(int(digits), {})[letters] = (ref, cell)
    columns: dict[str, str] = {}  # the current table's header -> column letter
    heading = None
    for r in sorted(rows):
        row = {col: cell.value for col, (_, cell) in rows[r].items()}
        if row.get("A") in ("model", "step", "Sheet", "units"):
            columns = {str(v): col for col, v in row.items()}
            continue
        at = {name: rows[r][col][0] for name, col in columns.items() if col in rows[r]}
        if row.get("A") in ("nnet", "mmult") and "Train loss" in columns:  # the live table
            near |= {("summary", ref) for name, ref in at.items() if "loss" in name}
            free |= {("summary", ref) for name, ref in at.items() if "ccuracy" in name}
        if row.get("A") == "nnet" and "train_loss" in at and row.get("C", 1) > 1:  # many-start runs
            near |= {("summary", at[name]) for name in ("train_loss", "valid_loss", "vs_linear_floor")}
            free |= {("summary", at["train_accuracy"]), ("summary", at["valid_accuracy"])}
        if "iterations" in at:  # L-BFGS's: it stops when the loss stops changing at rounding level
            free.add(("summary", at["iterations"]))
        if "parameters" in columns and isinstance(row.get("A"), (int, float)):  # the over-fitting table
            free |= {("summary", ref) for ref in at.values()}
        if str(row.get("A", "")).startswith("More ReLUs"):  # its heading, said from its numbers
            heading = ("summary", rows[r]["A"][0])
        free |= {("summary", ref) for name, ref in at.items() if name.startswith("nnet: best")}

    def tolerance(sheet: str, ref: str) -> float | str | None:
        if (sheet, ref) == heading:
            return ANY
        return 1e-6 if (sheet, ref) in near else math.inf if (sheet, ref) in free else None

    return tolerance


def _right_of(ref: str) -> str:
    letters, digits = re.match(r"([A-Z]+)(\d+)", ref).groups()
    return f"{get_column_letter(column_index_from_string(letters) + 1)}{digits}"


@dataclass
class Report:
    differences: list[str] = field(default_factory=list)
    numbers: int = 0  # numbers compared within a tolerance

    def add(self, line: str) -> None:
        self.differences.append(line)


def compare_books(committed: bytes, fresh: bytes, policy: Policy = default_policy) -> Report:
    """Every way ``fresh`` differs from ``committed``, one line each (none: the same workbook)."""
    old, new = read_book(committed), read_book(fresh)
    report = Report()
    if list(old.cells) != list(new.cells):
        report.add(f"sheets: {list(old.cells)} -> {list(new.cells)}")
        return report
    for part in sorted(set(old.parts) | set(new.parts)):
        if old.parts.get(part) != new.parts.get(part):
            report.add(f"{part}: differs (names, styles, drawings or properties)")
    for part in sorted(set(old.charts) | set(new.charts)):
        if old.charts.get(part) != new.charts.get(part):
            report.add(f"{part}: the chart differs (series, ranges, titles or styles)")
    for sheet in old.cells:
        _compare_sheet(sheet, old, new, policy, report)
    return report


def _compare_sheet(sheet: str, old: Book, new: Book, policy: Policy, report: Report) -> None:
    a, b = old.cells[sheet], new.cells[sheet]
    for ref in sorted(set(a) | set(b), key=_order):
        was, now = a.get(ref), b.get(ref)
        if was is None or now is None or (was.kind, was.formula) != (now.kind, now.formula):
            report.add(f"{sheet}!{ref}: {_show(was)} -> {_show(now)}")
        elif (tolerance := policy(sheet, ref)) == ANY:
            continue
        elif isinstance(was.value, float) and isinstance(now.value, float):
            report.numbers += 1
            if not _close(was.value, now.value, tolerance):
                report.add(f"{sheet}!{ref}: {was.value!r} -> {now.value!r}")
        elif was.value != now.value:
            report.add(f"{sheet}!{ref}: {was.value!r} -> {now.value!r}")
    if not report.differences and old.layouts[sheet] != new.layouts[sheet]:
        report.add(f"{sheet}: the layout differs (widths, styles, merged cells or print settings)")


def _close(was: float, now: float, tolerance: float | None) -> bool:
    if not (math.isfinite(was) and math.isfinite(now)):
        return False
    if tolerance is None:
        return math.isclose(was, now, rel_tol=REL, abs_tol=ABS)
    return abs(was - now) <= tolerance


def _order(ref: str) -> tuple[int, int, str]:
    letters, digits = re.match(r"([A-Z]+)(\d+)", ref).groups()
    return int(digits), len(letters), letters


def _show(cell: Cell | None) -> str:
    if cell is None:
        return "(no cell)"
    return f"{cell.formula.split('[')[0]}" if cell.formula else repr(cell.value)


def compare_pictures(committed: bytes, fresh: bytes, share: float = PIXEL_SHARE) -> list[str]:
    """How two PNG or GIF pictures differ beyond anti-aliasing noise, or beyond ``share`` of their
    pixels (none: the same picture)."""
    old, new = Image.open(io.BytesIO(committed)), Image.open(io.BytesIO(fresh))
    if (old.format, old.size) != (new.format, new.size):
        return [f"{old.format} {old.size} -> {new.format} {new.size}"]
    frames_old = [np.asarray(f.convert("RGB"), dtype=int) for f in ImageSequence.Iterator(old)]
    frames_new = [np.asarray(f.convert("RGB"), dtype=int) for f in ImageSequence.Iterator(new)]
    if len(frames_old) != len(frames_new):
        return [f"{len(frames_old)} frames -> {len(frames_new)} frames"]
    out = []
    for k, (a, b) in enumerate(zip(frames_old, frames_new, strict=True)):
        moved = float((np.abs(a - b).max(axis=2) > PIXEL_LEVELS).mean())
        if moved > share:
            out.append(f"frame {k}: {moved:.2%} of the pixels differ (at most {share:.1%} may)")
    return out


def compare_csv(committed: bytes, fresh: bytes, *, free_share: float = 0.0) -> list[str]:
    """Row by row; ``free_share`` of the rows may differ in their fields past the first."""
    old = list(csv.reader(io.StringIO(committed.decode())))
    new = list(csv.reader(io.StringIO(fresh.decode())))
    if len(old) != len(new) or old[:1] != new[:1] or [r[:1] for r in old] != [r[:1] for r in new]:
        return [f"{len(old)} rows, header {old[:1]} -> {len(new)} rows, header {new[:1]} (or other keys)"]
    changed = [i for i, (a, b) in enumerate(zip(old, new, strict=True)) if a != b]
    if len(changed) > free_share * (len(old) - 1):
        return [f"line {i + 1}: {old[i]} -> {new[i]}" for i in changed[:20]]
    return []
