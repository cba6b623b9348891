"""CSV files in: the prologue every CSV reader shares (:func:`read_csv`), and numbers as a CSV writes them.

:func:`read_csv` opens the file with :func:`~workbench.files.open_regular` (a regular file of at most
:data:`MAX_CSV_BYTES`), estimates the memory its rows will take from a count of its lines and
separators and refuses it above the budget before any row is kept, tells its text encoding on the way
(UTF-8, or Excel's Windows-1252 or UTF-16), finds its separator from its first lines (commas, or the
semicolons, tabs, bars or spaces some programs and locales write), and returns the header and the rows
with their line numbers. :func:`to_float` and :func:`to_whole` read a field as a
plain number, as a spreadsheet would.
"""

from __future__ import annotations

import codecs
import csv
import io
import itertools
import math
import re
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import NamedTuple

from .errors import DataError, WorkbenchError
from .files import open_regular
from .limits import check_memory

#: The largest CSV file read.
MAX_CSV_BYTES = 1 * 2**30

#: The memory reading a CSV takes, as read_table holds it at its peak, with room to spare
#: (tests/test_hostile_inputs.py measures it): per row (its list, its line number, a
#: column's scratch lists while it is typed), per field (a pointer in the row, a str object,
#: a float or pointer in its column) and per byte of the file (the text of the fields).
MEMORY_PER_ROW = 250
MEMORY_PER_FIELD = 90
MEMORY_PER_BYTE = 2


def read_memory(rows: int, fields: int, size: int) -> int:
    """The memory :func:`read_csv` and a reader typing its columns take for a file of ``size`` bytes."""
    return rows * MEMORY_PER_ROW + fields * MEMORY_PER_FIELD + size * MEMORY_PER_BYTE


def _count(raw: io.BufferedReader, separator: str, text: _Text | None = None) -> tuple[int, int, int]:
    """At most how many rows and fields the file holds, and its size, read in chunks (no more memory);
    ``text`` sees every chunk on the way (:class:`_Text`).

    A line break or separator inside quotes is counted too, so both are upper bounds.
    """
    rows = fields = size = 0
    newlines = returns = 0
    mark = separator.encode()
    while chunk := raw.read(2**20):
        if text is not None:
            text.see(chunk, size, max(newlines, returns))
        size += len(chunk)
        newlines += chunk.count(b"\n")
        returns += chunk.count(b"\r")
        fields += chunk.count(mark)
    if text is not None:
        text.see(b"", size, max(newlines, returns), final=True)
    rows = max(newlines, returns) + 1  # "\r\n", "\n" or an old Mac's "\r" ends a line
    return rows, fields + rows, size


#: A file that starts with a byte order mark is in the encoding it names: Excel's "CSV UTF-8"
#: starts with UTF-8's, its "Unicode Text" (fields separated by tabs) with UTF-16's.
MARKS = ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"), (codecs.BOM_UTF16_BE, "utf-16"))
#: Files that are not text at all, by their first bytes, and what they are.
NOT_TEXT = (
    (b"PK\x03\x04", "an Excel workbook (.xlsx) or another zip file"),
    (b"\xd0\xcf\x11\xe0", "an Excel 97-2003 workbook (.xls)"),
)
#: The bytes that are no character in Windows-1252.
_UNDEFINED_1252 = re.compile(rb"[\x81\x8d\x8f\x90\x9d]")
_NAMES = {"utf-8-sig": "UTF-8", "utf-16": "UTF-16", "cp1252": "Windows-1252"}


class _Text:
    """Which text encoding an unmarked file is in, told while :func:`_count` reads it: UTF-8 where
    every byte is; else Windows-1252, what Excel's plain "CSV" is on most Windows machines in the
    Americas and Western Europe, unless the file has a byte that is no character there, or had
    UTF-8's own characters before its first byte that is not UTF-8 (then it is UTF-8 gone wrong)."""

    def __init__(self) -> None:
        self.utf8 = codecs.getincrementaldecoder("utf-8")()
        self.not_utf8: tuple[int, int, int] | None = None  # offset, byte and line of the first
        self.wide_before = False  # UTF-8's characters of more than one byte before it
        self.not_1252: tuple[int, int, int] | None = None

    def see(self, chunk: bytes, at: int, lines: int, *, final: bool = False) -> None:
        """``chunk``, which starts at offset ``at`` of the file, after ``lines`` line breaks;
        ``final``: the file ends after it (a character cut short there is no UTF-8)."""
        if chunk.isascii() and not self.utf8.getstate()[0]:  # no character cut short before it
            return
        if self.not_utf8 is None:
            try:
                decoded = self.utf8.decode(chunk, final=final)
                self.wide_before |= not decoded.isascii()
            except UnicodeDecodeError as e:
                start = e.start - (len(e.object) - len(chunk))  # the decoder held a few bytes back
                self.wide_before |= not e.object[: e.start].isascii()
                self.not_utf8 = (at + start, e.object[e.start], lines + _lines(chunk[: max(0, start)]))
        if self.not_1252 is None and (bad := _UNDEFINED_1252.search(chunk)):
            self.not_1252 = (at + bad.start(), chunk[bad.start()], lines + _lines(chunk[: bad.start()]))

    def encoding(self, path: Path) -> str:
        """The file's encoding, or a DataError naming the first byte that rules each out."""
        if self.not_utf8 is None:
            return "utf-8-sig"
        if self.wide_before:
            (offset, byte, line), how = self.not_utf8, "not UTF-8 text"
        elif self.not_1252 is None:
            return "cp1252"
        else:
            (offset, byte, line), how = self.not_1252, "neither UTF-8 nor Windows-1252 text"
        raise DataError(
            f"{path}: line {line + 1} is {how} (byte 0x{byte:02x} at offset {offset});"
            " save the file as 'CSV UTF-8'",
            path=path,
        )


def _lines(data: bytes) -> int:
    return max(data.count(b"\n"), data.count(b"\r"))


#: The separators a file's lines may use, in the order they are tried: spreadsheets save "CSV" with
#: commas, or with semicolons where the comma is the decimal mark, and "text" with tabs; older data
#: files and R's write.table align their columns with spaces.
SEPARATORS = (",", ";", "\t", "|", " ")
#: How much of the file's start :func:`_separator` reads, and at most how many lines of it.
SNIFF_BYTES, SNIFF_LINES = 2**16, 20

#: Excel's first line naming the separator, ``sep=;``.
_NAMED = re.compile(r"\ufeff?sep=([,;\t| ])\r?\n")
_SPOKEN = {",": "commas", ";": "semicolons", "\t": "tabs", "|": "bars", " ": "spaces"}


class CsvRows(NamedTuple):
    """What :func:`read_csv` read: the header, the data rows (fields stripped), each row's line
    number in the file, the separator (one of :data:`SEPARATORS`), the text's encoding (the codec
    ``utf-8-sig``, ``utf-16`` or ``cp1252``), whether a first line named the separator, and the
    names given to columns the header left unnamed (``Unnamed: 0``, as pandas names them) or named
    again (``x.1``, with ``rename``)."""

    header: list[str]
    rows: list[list[str]]
    lines: list[int]
    separator: str
    encoding: str = "utf-8-sig"
    named: bool = False
    unnamed: tuple[str, ...] = ()
    repeated: tuple[str, ...] = ()

    @property
    def decimal_comma(self) -> bool:
        """Whether numbers may have a decimal comma: where the comma is the decimal mark,
        spreadsheets separate the fields of a CSV by semicolons."""
        return self.separator == ";"

    @property
    def read_as(self) -> str:
        """How the text was read and its fields told apart, in words: empty for UTF-8 and commas."""
        said = [] if self.encoding == "utf-8-sig" else [f"text in {_NAMES[self.encoding]}"]
        if self.separator != "," or self.named:
            how = ", as its first line says" if self.named else ""
            said.append(f"fields separated by {_SPOKEN[self.separator]}{how}")
        if self.unnamed:
            names = ", ".join(f"{self.header.index(n) + 1} as {n!r}" for n in self.unnamed)
            said.append(f"columns with no name in the header named as pandas names them: {names}")
        if self.repeated:
            names = ", ".join(f"{self.header.index(n) + 1} as {n!r}" for n in self.repeated)
            said.append(f"names the header gives again made unique as pandas makes them: {names}")
        return "; ".join(said)


def _separator(head: bytes, encoding: str) -> tuple[str, bool]:
    """The separator a first line ``sep=X`` names (Excel's way of saying it; that line is no row),
    or the first of :data:`SEPARATORS` that splits each of the file's first rows (up to
    :data:`SNIFF_LINES` of ``head``, its first :data:`SNIFF_BYTES`) into the same number of fields,
    more than one; a comma when none does (a one-column file, or rows of uneven width, which the
    reader then reports). And whether a first line named it."""
    text = head.decode(encoding, errors="replace")
    if named := _NAMED.match(text):
        return named[1], True
    for separator in SEPARATORS:
        reader = _reader(io.StringIO(text, newline=""), separator)
        try:
            rows = list(itertools.islice((r for r in reader if any(map(_field, r))), SNIFF_LINES + 1))
        except csv.Error:
            continue
        if 1 < len(rows) <= SNIFF_LINES and len(head) == SNIFF_BYTES:
            rows = rows[:-1]  # the last row read may be cut short (unless it is the header alone)
        widths = {len(r) for r in rows[:SNIFF_LINES]}
        if len(widths) == 1 and widths.pop() > 1:
            return separator, False
    return ",", False


def _reader(lines: Iterable[str], separator: str) -> Iterator[list[str]]:
    """:func:`csv.reader` of ``lines`` (its ``line_num`` counts the lines read); where spaces
    separate the fields, a run of them is one separator (columns aligned with spaces) and those at
    either end of a line are none."""
    if separator != " ":
        return csv.reader(lines, delimiter=separator)
    return csv.reader(map(_trim, lines), delimiter=" ", skipinitialspace=True)


def _trim(line: str) -> str:
    body = line.rstrip("\r\n")
    return body.strip(" ") + line[len(body) :]


def read_csv(path: Path, *, rows_are: str, rename: bool = False) -> CsvRows:
    """Read a CSV file's header and rows.

    The text is UTF-8, or UTF-16 or Windows-1252 (:data:`MARKS`, :class:`_Text`); the separator is
    found from the first lines (:func:`_separator`): commas, or the semicolons, tabs, bars or spaces
    some programs and locales write. ``rows_are`` names what the rows hold (e.g. ``"passenger
    rows"``) in the messages about an empty file or a file with a header only. The memory the rows
    will take is estimated from a first pass that counts lines and separators, and refused above
    the budget (:func:`~workbench.limits.check_memory`) before any row is kept. A name the header
    gives twice is refused, or with ``rename`` made unique as pandas does (``x``, ``x.1``).
    """
    try:
        raw = open_regular(path, what="a CSV file", max_bytes=MAX_CSV_BYTES)
    except DataError:
        raise
    except WorkbenchError as e:
        raise DataError(str(e), path=path) from None
    with raw:
        try:
            head = raw.read(SNIFF_BYTES)
            raw.seek(0)
            marked = _marked_encoding(path, head)
            separator, named = _separator(head, marked or "utf-8")
            text = None if marked else _Text()
            rows, fields, size = _count(raw, separator, text)
            raw.seek(0)
        except OSError as e:
            raise DataError(f"{path}: cannot be read ({e.strerror or e})", path=path) from None
        what = f"reading {path} ({size:,} bytes: at most {rows:,} rows, {fields:,} fields)"
        try:
            check_memory(read_memory(rows, fields, size), what, "the size of the file")
        except WorkbenchError as e:
            raise DataError(str(e), path=path) from None
        encoding = marked or text.encoding(path)
        header, rows_read, lines = _parse(path, raw, separator, encoding, named, rename)
    if header is None:
        raise DataError(f"{path}: the file is empty; expected a header and {rows_are}", path=path)
    header, unnamed, repeated = _named(header)
    return CsvRows(header, rows_read, lines, separator, encoding, named, unnamed, repeated)


def _marked_encoding(path: Path, head: bytes) -> str | None:
    """The encoding the file's byte order mark names (:data:`MARKS`), if any; a DataError for a
    file that is no text at all (:data:`NOT_TEXT`)."""
    for start, what in NOT_TEXT:
        if head.startswith(start):
            raise DataError(f"{path}: is {what}, not a CSV file; save its sheet as 'CSV UTF-8'", path=path)
    return next((encoding for mark, encoding in MARKS if head.startswith(mark)), None)


def _parse(
    path: Path, raw: io.BufferedReader, separator: str, encoding: str, named: bool, rename: bool = False
) -> tuple[list[str] | None, list[list[str]], list[int]]:
    """The header, the rows and their line numbers; blank lines skipped, row widths checked;
    ``named``: the first line names the separator (``sep=;``), and is skipped too."""
    header: list[str] | None = None
    rows: list[list[str]] = []
    lines: list[int] = []
    width = 0  # the header line's fields, with the unnamed ones after the last name
    try:
        f = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = _reader(f, separator)
        for values in reader:
            if named:  # read as a row, so that the reader counts its line
                named = False
                continue
            if not any(map(_field, values)):
                continue
            if header is None:
                header, width = _header(path, values, rename), len(values)
            elif len(values) != len(header) and not len(header) < len(values) <= width:
                title = len(header) == 1 and not rows  # a report's title above its table, say
                raise DataError(
                    f"{path}: row {len(rows) + 1} (line {reader.line_num}) has {len(values)} fields,"
                    f" the header has {len(header)}"
                    + (
                        f"; if {header[0][:40]!r} is a title above the header, delete its line"
                        if title
                        else ""
                    ),
                    path=path,
                    row=len(rows) + 1,
                )
            elif any(map(_field, values[len(header) :])):  # a value under no name
                k = len(header) + next(i for i, v in enumerate(values[len(header) :]) if _field(v))
                raise DataError(
                    f"{path}: row {len(rows) + 1} (line {reader.line_num}) has {_field(values[k])[:40]!r}"
                    f" in column {k + 1}, which the header leaves unnamed: name it in the header",
                    path=path,
                    row=len(rows) + 1,
                )
            else:  # (without the empty fields of columns the header leaves unnamed, after its last name)
                rows.append([_field(v) for v in values[: len(header)]])
                lines.append(reader.line_num)
        f.detach()  # the caller closes the file
    except UnicodeDecodeError:  # UTF-16 with a character cut in half (UTF-8 is checked before)
        raise DataError(
            f"{path}: is not {_NAMES[encoding]} text throughout; save the file as 'CSV UTF-8'", path=path
        ) from None
    except csv.Error as e:
        raise DataError(f"{path}: not a readable CSV file ({e})", path=path) from None
    except OSError as e:
        raise DataError(f"{path}: cannot be read ({e.strerror or e})", path=path) from None
    return header, rows, lines


def _field(v: str) -> str:
    """A field without the spaces around it, nor the end-of-file mark (Ctrl-Z) DOS put at the end of
    a text file (Ecdat's Mofa: ``6.2\x1a``)."""
    return v.strip().strip("\x1a").strip()


#: The control characters a cell's text does not keep in every engine: all but tab and line feed.
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f]")


def cell_text(v: str) -> str:
    """A text as every spreadsheet engine reads it back from a cell. A line break: a cell keeps a
    line feed, and LibreOffice reads a carriage return before one as nothing, so \r\n and \r are
    \n. Other control characters (ASCII's SUB, which old files and broken encodings leave in text)
    are dropped: an .xlsx cell holds them escaped (_x001A_), which Gnumeric reads as 7 letters."""
    return CONTROL.sub("", v.replace("\r\n", "\n").replace("\r", "\n"))


def _header(path: Path, values: list[str], rename: bool = False) -> list[str]:
    """The columns' names, as cells keep them (:func:`cell_text`); without the unnamed columns
    after the last name, which a spreadsheet saves where cells of the sheet right of the table were
    once formatted (their fields must be empty)."""
    header = [cell_text(h).strip() for h in values]
    while header and not header[-1]:
        header.pop()
    if all(len(h) > 1 and h[0] == h[-1] == "'" for h in header):  # 'name' quoted the other way
        header = [h[1:-1].strip() for h in header]
    for i, name in enumerate(header):
        if name and name in header[:i] and not rename:
            raise DataError(f"{path}: the header names column {name!r} twice", path=path, column=name)
    return header


def _named(header: list[str]) -> tuple[list[str], tuple[str, ...], tuple[str, ...]]:
    """The header with a name for each column it leaves unnamed before its last name, ``Unnamed: i``
    (``i`` from 0) as pandas gives it (its ``to_csv`` writes the row index so), and each name given
    again made unique as pandas makes it (``x.1``); and those new names, of each kind."""
    taken, unnamed, repeated, seen = set(header), [], [], set()
    for i, name in enumerate(header):
        if name and name not in seen:
            seen.add(name)
            continue
        new, k = (f"Unnamed: {i}", 0) if not name else (f"{name}.1", 1)
        while new in taken:
            k += 1
            new = f"Unnamed: {i}.{k}" if not name else f"{name}.{k}"
        header[i] = new
        taken.add(new)
        (repeated if name else unnamed).append(new)
    return header, tuple(unnamed), tuple(repeated)


_INTEGER = re.compile(r"[+-]?\d{1,30}")


def to_whole(v: str, limit: int = 2**53) -> int | None:
    """A whole number of magnitude at most ``limit``, kept exact, or None.

    Digits are read as an exact int (a float would round 9007199254740993); a decimal such
    as ``3.0`` is also whole.
    """
    if _INTEGER.fullmatch(v):
        x = int(v)
    else:
        f = to_float(v)
        if f is None or f != round(f) or abs(f) > limit:
            return None
        x = int(f)
    return x if abs(x) <= limit else None


def decimal_point(v: str) -> str:
    """``v`` with its decimal comma written as a point (``22,5`` -> ``22.5``); unchanged when it
    has a point already (``1.5``: the point is its decimal mark)."""
    return v if "." in v else v.replace(",", ".")


_GROUPED = re.compile(r"[+-]?\d{1,3}(?:,\d{3})+(?:\.\d+)?")
#: Where the comma is the decimal mark, groups of digits are set apart by points (German), spaces
#: or no-break spaces (French, Nordic): one of them throughout a number.
_GROUPED_COMMA = re.compile(r"[+-]?\d{1,3}([. \u00a0\u202f])\d{3}(?:\1\d{3})*(?:,\d+)?")


def grouped_float(v: str, *, decimal_comma: bool = False) -> float | None:
    """A number written with commas between its groups of three digits (``1,234,567.5``), as a
    spreadsheet saves a cell formatted so, or None. ``decimal_comma``: with points or spaces between
    the groups and a decimal comma (``1.234.567,5``, ``1 234 567,5``), as a spreadsheet saves it
    where the comma is the decimal mark."""
    if decimal_comma:
        m = _GROUPED_COMMA.fullmatch(v)
        return float(v.replace(m[1], "").replace(",", ".")) if m else None
    return float(v.replace(",", "")) if _GROUPED.fullmatch(v) else None


#: A number as a spreadsheet saves a cell formatted as money or a percent: a sign (or an accounting
#: format's parentheses), the symbol before or after, maybe a space between ($1,234.50, -$5,
#: ($5.00), 12,50 €, 12%).
_UNIT = re.compile(
    r"(?P<open>\()?(?P<sign>[-+]?)(?P<pre>[$€£¥])?[ \u00a0\u202f]?(?P<sign2>[-+]?)"
    r"(?P<body>\d(?:[\d.,]|[ \u00a0\u202f](?=\d))*)[ \u00a0\u202f]?(?P<post>[%€£¥$])?(?P<close>\))?"
)


def unit_of(v: str) -> tuple[str, str] | None:
    """``v``'s money or percent symbol and its number without it (signed), or None: ``'$1,234.50'``
    -> ``('$', '1,234.50')``, ``'($5.00)'`` -> ``('$', '-5.00')``, ``'12%'`` -> ``('%', '12')``."""
    m = _UNIT.fullmatch(v)
    if m is None or bool(m["pre"]) == bool(m["post"]) or bool(m["open"]) != bool(m["close"]):
        return None
    if (m["sign"] and m["sign2"]) or (m["open"] and (m["sign"] or m["sign2"] or m["post"] == "%")):
        return None
    negative = "-" in (m["sign"], m["sign2"]) or bool(m["open"])
    return m["pre"] or m["post"], ("-" if negative else "") + m["body"]


def to_float(v: str, *, decimal_comma: bool = False) -> float | None:
    """A plain finite decimal number, or None (also for an empty field). ``decimal_comma``: a
    comma may be the decimal mark too (``22,5``), as in a file separated by semicolons
    (:attr:`CsvRows.decimal_comma`)."""
    # float() also takes '1_000', 'nan' and 'infinity'; a CSV number is plainer.
    if not v or "_" in v:
        return None
    if decimal_comma:
        v = decimal_point(v)
    try:
        x = float(v)
    except ValueError:
        return None
    return x if math.isfinite(x) else None
