"""Read the few things workbench needs from an .xlsx file, trusting nothing in it.

Reading a workbook back (:func:`~workbench.read_params`, ``workbench check``,
``workbench predict --params``) needs the defined names, the sheet names, the shared
strings and the cells of a sheet. This module reads exactly those, itself, rather than
through openpyxl, because every byte of the file may be hostile:

* the file must be a regular file of at most :data:`MAX_FILE_BYTES`, with at most
  :data:`MAX_ENTRIES` zip entries, each declaring no more than its part's limit;
* each part is inflated as a stream and refused as soon as it passes its limit
  (:data:`MAX_SHEET_BYTES`, :data:`MAX_STRINGS_BYTES`, :data:`MAX_SMALL_BYTES`), whatever
  its header declares, so a zip bomb costs at most that much work and no memory; a bad CRC
  or damaged deflate data is an error;
* XML is parsed by the standard library's expat, fed chunk by chunk, with any document
  type declaration refused, so no entity is ever defined, let alone expanded;
* a cell's number must be a plain finite decimal of at most 40 characters, a shared
  string's index must be in the table, a reference must lie within Excel's grid.

Every problem is a :class:`~workbench.errors.WorkbookError` naming the file, and the
part or cell.
"""

from __future__ import annotations

import posixpath
import re
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from ...errors import WorkbenchError, WorkbookError
from ...files import open_regular

MAX_FILE_BYTES = 256 * 2**20
MAX_ENTRIES = 10_000
#: Inflated size limits per part: a sheet, the shared strings, anything else we read.
MAX_SHEET_BYTES = 256 * 2**20
MAX_STRINGS_BYTES = 64 * 2**20
MAX_SMALL_BYTES = 16 * 2**20
#: Excel's grid, and the longest formula it takes.
MAX_ROW, MAX_COL = 1_048_576, 16_384
MAX_FORMULA = 8_192
#: Array formulas a sheet's reading follows at most (each fills a block of cells).
MAX_ARRAYS = 1_000
_ARRAY = re.compile(r"\$?([A-Z]{1,3})\$?(\d{1,7}):\$?([A-Z]{1,3})\$?(\d{1,7})")

#: Bytes inflated and parsed at a time; rows are handed out between chunks.
CHUNK = 2**20
_NUMBER = re.compile(r"[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d{1,3})?")
_REF = re.compile(r"\$?([A-Z]{1,3})\$?(\d{1,7})")
_RANGE = re.compile(r"(?:'((?:[^']|'')+)'|([^'!:]+))!" + _REF.pattern + r"(?::" + _REF.pattern + r")?")

Value = float | str | bool | None


class _Stop(Exception):
    """Raised by a handler to end parsing early (the rows wanted are read)."""


@dataclass(frozen=True)
class Block:
    """A sheet's header row and the columns below it, as :meth:`Book.block` reads them.

    ``header`` is the header's row number; ``above`` every cell above it by (row, column);
    ``where`` each wanted name's column; ``columns`` each name's values, row ``header + 1`` first.
    """

    header: int
    above: dict[tuple[int, int], Value]
    where: dict[str, int]
    columns: dict[str, list[Value]]


class Book:
    """An .xlsx file opened for reading: ``sheetnames``, :meth:`name`, :meth:`rows`."""

    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)
        file = open_regular(
            self.path,
            what="an .xlsx workbook",
            max_bytes=MAX_FILE_BYTES,
            missing="no such workbook",
            error=WorkbookError,
        )
        try:
            self.zip = zipfile.ZipFile(file)
        except (zipfile.BadZipFile, zlib.error, EOFError, ValueError, OSError):
            file.close()
            raise WorkbookError(
                f"{self.path}: is not an .xlsx workbook (an xlsx file is a zip archive; this is not)"
            ) from None
        try:
            self._open()
        except BaseException:
            self.close()
            raise

    def _open(self) -> None:
        entries = self.zip.infolist()
        if len(entries) > MAX_ENTRIES:
            raise WorkbookError(f"{self.path}: has {len(entries)} zip entries; a workbook has far fewer")
        self.parts = {e.filename: e for e in entries}
        if "xl/workbook.xml" not in self.parts:
            raise WorkbookError(
                f"{self.path}: is a zip archive but not an .xlsx workbook (no xl/workbook.xml)"
            )
        self.sheets: dict[str, str] = {}  # sheet name -> part
        self.names: dict[tuple[str | None, str], str] = {}  # (sheet or None, name) -> formula text
        targets = self._relationships("xl/_rels/workbook.xml.rels")
        order: list[str] = []
        ids: list[str | None] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "sheet":
                rid = next((v for k, v in attrs.items() if k == "id" or k.endswith(":id")), None)
                order.append(attrs.get("name", ""))
                ids.append(rid)
            elif tag == "definedName":
                state["name"], state["local"], state["text"] = (
                    attrs.get("name", ""),
                    attrs.get("localSheetId"),
                    [],
                )

        state: dict[str, object] = {}

        def end(tag: str) -> None:
            if tag == "definedName":
                local = state["local"]
                sheet = None
                if local is not None:
                    index = int(local) if str(local).isdigit() else -1
                    sheet = order[index] if 0 <= index < len(order) else None
                    if sheet is None:
                        state.clear()
                        return
                self.names[(sheet, str(state["name"]))] = "".join(state["text"])  # type: ignore[arg-type]
                state.clear()

        def text(data: str) -> None:
            if "text" in state:
                state["text"].append(data)  # type: ignore[union-attr]

        self._parse("xl/workbook.xml", MAX_SMALL_BYTES, start, end, text)
        for name, rid in zip(order, ids, strict=True):
            if rid in targets:
                self.sheets[name] = targets[rid]
        self.sheetnames = list(self.sheets)
        self._strings: list[str] | None = None

    def close(self) -> None:
        self.zip.close()
        self.zip.fp and self.zip.fp.close()

    def __enter__(self) -> Book:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # --- what callers ask ------------------------------------------------------------------

    def name(self, sheet: str, name: str) -> str | None:
        """The formula text of a defined name scoped to ``sheet`` (e.g. ``nnet!$B$2:$K$3``)."""
        return self.names.get((sheet, name))

    def range(self, sheet: str, name: str, what: str) -> tuple[int, int, int, int]:
        """A sheet-scoped name's block on ``sheet`` as 1-based (min_row, min_col, max_row, max_col)."""
        text = self.name(sheet, name)
        if text is None:
            raise WorkbookError(f"{self.path}: sheet {sheet!r} has no {what} (the defined name {name})")
        found = _RANGE.fullmatch(text.strip().lstrip("="))
        on = None if found is None else (found.group(1) or "").replace("''", "'") or found.group(2)
        if found is None or on != sheet:
            raise WorkbookError(
                f"{self.path}: sheet {sheet!r}: {what} {text!r} (the name {name}) should be cells on the"
                f" sheet {sheet!r}; Excel writes #REF! when those cells were deleted"
            )
        col1, row1 = _column(found.group(3)), int(found.group(4))
        col2, row2 = (_column(found.group(5)), int(found.group(6))) if found.group(5) else (col1, row1)
        if not (1 <= row1 <= row2 <= MAX_ROW and 1 <= col1 <= col2 <= MAX_COL):
            raise WorkbookError(f"{self.path}: sheet {sheet!r}: {what} {text!r} is not a block of cells")
        return row1, col1, row2, col2

    def block(
        self, sheet: str, names: Sequence[str], is_header: Callable[[dict[int, Value]], bool], until: str
    ) -> Block | None:
        """Stream ``sheet`` once for its first row that ``is_header`` and the ``names`` columns below
        it, down the rows that follow without a gap and whose ``until`` column is not empty.

        ``None`` when no row is a header. Raises WorkbookError: the header lacks one of ``names``.
        """
        above: dict[tuple[int, int], Value] = {}
        found: Block | None = None
        for r, cells in self.rows(sheet):
            if found is None:
                if not is_header(cells):
                    above.update({(r, c): v for c, v in cells.items()})
                    continue
                where = {v: c for c, v in sorted(cells.items(), reverse=True) if isinstance(v, str)}
                absent = [name for name in names if name not in where]
                if absent:
                    raise WorkbookError(
                        f"{self.path}: sheet {sheet!r} has no column {absent[0]!r} in its header row"
                    )
                found = Block(r, above, {n: where[n] for n in names}, {n: [] for n in names})
            elif r != found.header + 1 + len(found.columns[until]) or cells.get(found.where[until]) is None:
                break
            else:
                for name, col in found.where.items():
                    found.columns[name].append(cells.get(col))
        return found

    def rows(
        self, sheet: str, *, last: int = MAX_ROW, formulas: bool = False
    ) -> Iterator[tuple[int, dict[int, Value]]]:
        """``(row, {column: value})`` for each row of ``sheet`` up to row ``last`` (1-based); with
        ``formulas``, ``(row, {column: formula})`` for the cells holding one instead (the text
        after ``=``; empty for a cell sharing another's formula, whose text the file leaves out)."""
        if sheet not in self.sheets:
            raise WorkbookError(f"{self.path}: has no sheet {sheet!r}")
        part = self.sheets[sheet]
        done: list[tuple[int, dict[int, Value]]] = []
        arrays: list[list] = []  # [r1, c1, r2, c2, the formula] of each array formula
        at = {"row": 0, "col": 0}
        cell: dict[str, object] = {}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "row":
                row = _number_attr(attrs.get("r"), at["row"] + 1)
                if not at["row"] < row <= MAX_ROW:
                    raise self._error(part, f"row number {attrs.get('r')!r} is out of order or range")
                if row > last:
                    raise _Stop
                at["row"], at["col"] = row, 0
                done.append((row, {}))
            elif tag == "c" and done:
                ref = attrs.get("r")
                col = at["col"] + 1
                if ref is not None:
                    found = _REF.fullmatch(ref)
                    if found is None or int(found.group(2)) != at["row"]:
                        raise self._error(part, f"cell reference {ref!r} in row {at['row']} is not valid")
                    col = _column(found.group(1))
                if not at["col"] < col <= MAX_COL:
                    raise self._error(part, f"cell reference {ref!r} is out of order or range")
                at["col"] = col
                cell.clear()
                cell.update(type=attrs.get("t", "n"), text=[], keep=False)
            elif tag == "f" and cell:
                cell.update(formula=[], keep_formula=True)
                spans = _ARRAY.fullmatch(attrs.get("ref", "")) if attrs.get("t") == "array" else None
                if spans and len(arrays) < MAX_ARRAYS:  # every cell the array fills holds its formula
                    r1, r2 = int(spans.group(2)), int(spans.group(4))
                    cell["array"] = len(arrays)
                    arrays.append([r1, _column(spans.group(1)), r2, _column(spans.group(3)), ""])
            elif tag in ("v", "t") and cell:
                cell["keep"] = True

        def end(tag: str) -> None:
            if tag in ("v", "t") and cell:
                cell["keep"] = False
            elif tag == "f" and cell:
                cell["keep_formula"] = False
            elif tag == "c" and cell and done:
                where = f"{sheet}!{_letters(at['col'])}{at['row']}"
                if formulas:
                    r, c = at["row"], at["col"]
                    if "formula" in cell:
                        done[-1][1][c] = "".join(cell["formula"])[:MAX_FORMULA]  # type: ignore[arg-type]
                        if "array" in cell:
                            arrays[cell["array"]][4] = done[-1][1][c]  # type: ignore[index]
                    else:
                        inside = [a for a in arrays if a[0] <= r <= a[2] and a[1] <= c <= a[3]]
                        if inside:
                            done[-1][1][c] = inside[0][4]
                else:
                    done[-1][1][at["col"]] = self._value(str(cell["type"]), "".join(cell["text"]), where)  # type: ignore[arg-type]
                cell.clear()

        def text(data: str) -> None:
            if cell.get("keep"):
                cell["text"].append(data)  # type: ignore[union-attr]
            elif cell.get("keep_formula"):
                cell["formula"].append(data)  # type: ignore[union-attr]

        for _ in self._feed(part, MAX_SHEET_BYTES, start, end, text):
            # A chunk may end inside a row: hand out the rows before it, keep the open one.
            yield from done[:-1]
            del done[:-1]
        yield from done

    # --- parts ------------------------------------------------------------------------------

    def _value(self, kind: str, text: str, where: str) -> Value:
        if kind == "s":
            strings = self._shared_strings()
            if not text.strip().isdigit() or int(text) >= len(strings):
                raise WorkbookError(
                    f"{self.path}: cell {where} refers to shared string {text[:20]!r};"
                    f" the file has {len(strings)}"
                )
            return strings[int(text)]
        if kind in ("str", "inlineStr", "e"):
            return text
        if kind == "b":
            if text not in ("0", "1"):
                raise WorkbookError(
                    f"{self.path}: cell {where} holds {text[:20]!r}; expected a boolean 0 or 1"
                )
            return text == "1"
        if kind != "n":
            raise WorkbookError(f"{self.path}: cell {where} has an unknown type {kind[:20]!r}")
        if not text:
            return None
        value = float(text) if len(text) <= 40 and _NUMBER.fullmatch(text) else None
        if value is None or value in (float("inf"), float("-inf")):
            raise WorkbookError(f"{self.path}: cell {where} holds {text[:40]!r}; expected a finite number")
        return value

    def _shared_strings(self) -> list[str]:
        if self._strings is not None:
            return self._strings
        strings: list[str] = []
        state = {"depth": 0, "keep": False, "skip": 0}
        pieces: list[str] = []

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "si":
                pieces.clear()
            elif tag == "rPh":  # phonetic hints are not part of the text
                state["skip"] += 1
            elif tag == "t" and not state["skip"]:
                state["keep"] = True

        def end(tag: str) -> None:
            if tag == "si":
                strings.append("".join(pieces))
            elif tag == "rPh":
                state["skip"] -= 1
            elif tag == "t":
                state["keep"] = False

        def text(data: str) -> None:
            if state["keep"]:
                pieces.append(data)

        if "xl/sharedStrings.xml" in self.parts:
            self._parse("xl/sharedStrings.xml", MAX_STRINGS_BYTES, start, end, text)
        self._strings = strings
        return strings

    def _relationships(self, part: str) -> dict[str, str]:
        targets: dict[str, str] = {}

        def start(tag: str, attrs: dict[str, str]) -> None:
            if tag == "Relationship" and "Id" in attrs and "Target" in attrs:
                target = attrs["Target"]
                where = target.lstrip("/") if target.startswith("/") else f"xl/{target}"
                targets[attrs["Id"]] = posixpath.normpath(where)

        if part in self.parts:
            self._parse(part, MAX_SMALL_BYTES, start, lambda tag: None, lambda data: None)
        return targets

    def _parse(self, part: str, limit: int, start: Callable, end: Callable, text: Callable) -> None:
        for _ in self._feed(part, limit, start, end, text):
            pass

    def _feed(self, part: str, limit: int, start: Callable, end: Callable, text: Callable) -> Iterator[None]:
        """Parse ``part`` chunk by chunk, yielding after each chunk; handlers see local names."""
        info = self.parts.get(part)
        if info is None:
            raise self._error(part, "is missing")
        if info.file_size > limit:
            raise self._error(part, f"declares {info.file_size:,} bytes; workbench reads at most {limit:,}")
        parser = expat.ParserCreate()
        parser.SetParamEntityParsing(expat.XML_PARAM_ENTITY_PARSING_NEVER)

        def refuse(*_: object) -> None:
            raise self._error(part, "has a document type declaration (DOCTYPE); an xlsx part never has one")

        parser.StartDoctypeDeclHandler = refuse
        parser.EntityDeclHandler = refuse
        parser.StartElementHandler = lambda tag, attrs: start(tag.rpartition(":")[2], attrs)
        parser.EndElementHandler = lambda tag: end(tag.rpartition(":")[2])
        parser.CharacterDataHandler = text
        parser.buffer_text = True
        read, stopped = 0, False
        try:
            with self.zip.open(info) as stream:
                while chunk := stream.read(CHUNK):
                    read += len(chunk)
                    if read > limit:
                        raise self._error(
                            part, f"inflates to more than {limit:,} bytes; workbench reads at most that"
                        )
                    try:
                        stopped or parser.Parse(chunk, False)
                    except _Stop:  # the rest is still inflated (not parsed), so a bad CRC is caught
                        stopped = True
                    yield
            stopped or parser.Parse(b"", True)
        except WorkbenchError:
            raise
        except expat.ExpatError as e:
            raise self._error(
                part, f"is not well-formed XML ({expat.ErrorString(e.code)}, line {e.lineno})"
            ) from None
        except LookupError as e:  # expat asks Python for the codec the XML declaration names
            raise self._error(part, f"declares an XML encoding Python cannot read ({e})") from None
        except (zipfile.BadZipFile, zlib.error, EOFError, OSError, ValueError, NotImplementedError) as e:
            raise self._error(part, f"cannot be unpacked ({type(e).__name__}: {e})") from None

    def _error(self, part: str, problem: str) -> WorkbookError:
        return WorkbookError(f"{self.path}: the part {part} {problem}")


def cell_name(row: int, col: int) -> str:
    """A1-style name of the 1-based (row, col)."""
    return f"{_letters(col)}{row}"


def _number_attr(text: str | None, default: int) -> int:
    if text is None:
        return default
    return int(text) if text.isdigit() and len(text) <= 7 else -1


def _column(letters: str) -> int:
    n = 0
    for ch in letters:
        n = n * 26 + ord(ch) - 64
    return n


def _letters(col: int) -> str:
    out = ""
    while col:
        col, rest = divmod(col - 1, 26)
        out = chr(65 + rest) + out
    return out
