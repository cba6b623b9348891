"""Hostile and damaged workbooks: read_params, check_workbook and `workbench check` only ever
raise WorkbookError naming the file (exit 2), and parameters are only the finite numbers in
the named cells."""

from __future__ import annotations

import os
import re
import zipfile
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from small_book import write_small_book

import workbench as wb
from workbench.cli import main
from workbench.errors import WorkbookError
from workbench.sheets.read import xlsx_reader


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return write_small_book(tmp_path_factory.mktemp("book") / "titanic.xlsx", rows=30)


def parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as z:
        return {name: z.read(name) for name in z.namelist()}


def rezip(out: Path, contents: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> Path:
    with zipfile.ZipFile(out, "w", compression) as z:
        for name, data in contents.items():
            z.writestr(name, data)
    return out


def sheet_part(contents: dict[str, bytes], sheet: str) -> str:
    """The part holding `sheet`, read from workbook.xml and its relationships with plain regexes."""
    workbook = contents["xl/workbook.xml"].decode()
    rid = re.search(rf'<sheet name="{sheet}" sheetId="\d+" r:id="(rId\d+)"', workbook).group(1)
    rels = contents["xl/_rels/workbook.xml.rels"].decode()
    return "xl/" + re.search(rf'Id="{rid}"[^>]*Target="([^"]+)"|Target="([^"]+)"[^>]*Id="{rid}"', rels).group(
        1
    )


def adj(contents: dict[str, bytes], sheet: str) -> re.Match:
    """nnet's solver_adj name in workbook.xml: groups (before text, text)."""
    xml = contents["xl/workbook.xml"].decode()
    return re.search(rf'(<definedName name="solver_adj"[^>]*>)({sheet}![^<]+)<', xml)


def param_cell(contents: dict[str, bytes], sheet: str) -> str:
    return adj(contents, sheet).group(2).split("!")[1].split(":")[0].replace("$", "")


def with_value(book, tmp_path, raw: str, cell_type: str = "n") -> Path:
    """The workbook with the first nnet parameter cell holding `raw` as its <v>."""
    contents = parts(book.path)
    part, ref = sheet_part(contents, "nnet"), param_cell(contents, "nnet")
    xml = contents[part].decode()
    new, n = re.subn(
        rf'<c r="{ref}"[^>]*?(/>|>.*?</c>)', f'<c r="{ref}" t="{cell_type}"><v>{raw}</v></c>', xml
    )
    assert n == 1
    contents[part] = new.encode()
    return rezip(tmp_path / "bad.xlsx", contents)


def refused(path: Path, match: str) -> None:
    with pytest.raises(WorkbookError, match=match) as info:
        wb.read_params(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


@pytest.mark.parametrize(
    ("raw", "kind", "match"),
    [
        ("NaN", "n", r"nnet!\w+\d+ holds 'NaN'; expected a finite number"),
        ("inf", "n", "holds 'inf'; expected a finite number"),
        ("1e999", "n", "holds '1e999'; expected a finite number"),
        ("abc", "n", "holds 'abc'"),
        ("9" * 400, "n", "expected a finite number"),
        ("99999", "s", "refers to shared string '99999'"),
        ("x", "str", "holds 'x'; expected a number"),
        ("1", "b", "holds True; expected a number"),
    ],
)
def test_a_bad_parameter_cell_is_named(book, tmp_path, raw, kind, match):
    refused(with_value(book, tmp_path, raw, kind), match)


def test_the_untouched_small_book_reads_back(book):
    params = wb.read_params(book.path)
    np.testing.assert_array_equal(params["nnet"], book.params["nnet"])


def edit_workbook_xml(book, tmp_path, old: str, new: str) -> Path:
    contents = parts(book.path)
    xml = contents["xl/workbook.xml"].decode()
    assert old in xml
    contents["xl/workbook.xml"] = xml.replace(old, new, 1).encode()
    return rezip(tmp_path / "names.xlsx", contents)


def with_adj(book, tmp_path, sheet: str, text: str, name: str = "solver_adj") -> Path:
    contents = parts(book.path)
    xml = contents["xl/workbook.xml"].decode()
    xml, n = re.subn(rf'(<definedName name="{name}"[^>]*>){sheet}![^<]+<', rf"\g<1>{text}<", xml)
    assert n == 1
    contents["xl/workbook.xml"] = xml.encode()
    return rezip(tmp_path / "names.xlsx", contents)


def test_solver_names_past_the_sheet_or_deleted_are_errors(book, tmp_path):
    # The parameter block (2 x 10 cells) far below the sheet's last row: its cells are all empty.
    refused(
        with_adj(book, tmp_path, "nnet", "nnet!$G$900000:$P$900001"), r"parameter cell nnet!G900000 is empty"
    )
    refused(with_adj(book, tmp_path, "nnet", "nnet!#REF!"), r"'nnet!#REF!'.*Excel writes #REF!")
    refused(with_adj(book, tmp_path, "nnet", "#REF!"), r"'#REF!'.*Excel writes #REF!")
    refused(with_adj(book, tmp_path, "nnet", "linear!$G$7:$P$8"), "should be cells on the sheet 'nnet'")
    with pytest.raises(WorkbookError, match="Solver objective '#REF!'"):
        wb.check_workbook(with_adj(book, tmp_path, "nnet", "#REF!", name="solver_opt"))


def test_damaged_xml_entities_and_zip_data_are_errors(book, tmp_path):
    contents = parts(book.path)
    part = sheet_part(contents, "nnet")
    truncated = dict(contents, **{part: contents[part][: len(contents[part]) // 2]})
    with pytest.raises(WorkbookError, match=f"the part {part} is not well-formed XML"):
        wb.check_workbook(rezip(tmp_path / "t.xlsx", truncated))
    truncated = dict(contents, **{part: contents[part][:300]})
    refused(rezip(tmp_path / "t.xlsx", truncated), f"the part {part} is not well-formed XML")
    bomb = (
        b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;">]>'
        + contents[part].split(b"?>", 1)[1]
    )
    refused(rezip(tmp_path / "e.xlsx", dict(contents, **{part: bomb})), "DOCTYPE")
    unknown = contents[part].replace(b'encoding="UTF-8"', b'encoding="U0TF-8"', 1)
    assert unknown != contents[part]
    refused(rezip(tmp_path / "u.xlsx", dict(contents, **{part: unknown})), "unknown encoding: U0TF-8")
    # flip bytes inside the stored part's data: a bad CRC; and inside deflate data: damaged stream
    stored = rezip(tmp_path / "crc.xlsx", contents, zipfile.ZIP_STORED)
    data = bytearray(stored.read_bytes())
    with zipfile.ZipFile(stored) as z:
        info = z.getinfo(part)
    at = data.find(b"<sheetData", info.header_offset) + 200
    data[at] ^= 0x01
    stored.write_bytes(bytes(data))
    refused(stored, "cannot be unpacked|not well-formed")
    deflated = rezip(tmp_path / "z.xlsx", contents)
    data = bytearray(deflated.read_bytes())
    with zipfile.ZipFile(deflated) as z:
        info = z.getinfo(part)
    start = info.header_offset + 30 + len(info.filename) + len(info.extra)
    for k in range(start + 10, start + 40):
        data[k] ^= 0xFF
    deflated.write_bytes(bytes(data))
    refused(deflated, "cannot be unpacked|not well-formed")


def test_a_zip_bomb_is_refused_while_inflating(book, tmp_path, monkeypatch):
    monkeypatch.setattr(xlsx_reader, "MAX_STRINGS_BYTES", 2**20)
    contents = parts(book.path)
    strings = contents["xl/sharedStrings.xml"]
    # 4 MiB of padding inside the XML inflates past the (lowered) limit; its header declares it honestly
    padded = strings.replace(b"</sst>", b"<!--" + b"x" * 4 * 2**20 + b"--></sst>")
    bomb = rezip(tmp_path / "bomb.xlsx", dict(contents, **{"xl/sharedStrings.xml": padded}))
    assert bomb.stat().st_size < 200_000
    refused(bomb, "sharedStrings.xml declares 4,")
    # A header that lies about the size: caught while inflating, whatever it says.
    data = bytearray(bomb.read_bytes())
    with zipfile.ZipFile(bomb) as z:
        info = z.getinfo("xl/sharedStrings.xml")
    small = (1000).to_bytes(4, "little")
    data[info.header_offset + 22 : info.header_offset + 26] = small
    patched = 0
    for k in [m.start() for m in re.finditer(rb"PK\x01\x02", bytes(data))]:
        name_len = int.from_bytes(data[k + 28 : k + 30], "little")
        if data[k + 46 : k + 46 + name_len] == b"xl/sharedStrings.xml":
            data[k + 24 : k + 28] = small
            patched += 1
    assert patched == 1
    bomb.write_bytes(bytes(data))
    refused(bomb, "sharedStrings.xml (inflates to more than|cannot be unpacked)")


def test_special_files_and_folders_are_refused_without_blocking(tmp_path, capsys):
    fifo = tmp_path / "fifo.xlsx"
    os.mkfifo(fifo)
    refused(fifo, "is not a regular file")
    refused(tmp_path, "is a folder")
    assert main(["check", str(fifo)]) == 2
    assert "fifo.xlsx: is not a regular file" in capsys.readouterr().err


def test_check_exits_2_on_a_damaged_workbook(book, tmp_path, capsys):
    path = with_value(book, tmp_path, "NaN")
    assert main(["check", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("workbench: error: ") and str(path) in err and err.count("\n") == 1
    assert main(["predict", "--params", str(path), "--model", "nnet", "--out", str(tmp_path / "s.csv")]) == 2
    assert not (tmp_path / "s.csv").exists()


# --- a property test: random damage to the XML only ever gives WorkbookError or finite params ----

MUTATIONS = st.sampled_from(["value", "name", "attribute", "truncate", "byte", "stored"])


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(kind=MUTATIONS, where=st.integers(0, 10**9), text=st.text(max_size=12), check=st.booleans())
def test_mutated_workbooks_only_raise_workbook_errors(book, tmp_path, kind, where, text, check):
    contents = parts(book.path)
    xml_parts = sorted(p for p in contents if p.endswith(".xml") and ("sheet" in p or "workbook" in p))
    part = xml_parts[where % len(xml_parts)]
    xml = contents[part].decode()
    escaped = text.replace("&", "&amp;").replace("<", "&lt;").replace('"', "&quot;")
    if kind == "value":
        spots = [m.span(1) for m in re.finditer(r"<v>([^<]*)</v>", xml)] or [(0, 0)]
    elif kind == "name":
        spots = [m.span(1) for m in re.finditer(r"<definedName[^>]*>([^<]*)<", xml)] or [(0, 0)]
    elif kind == "attribute":
        spots = [m.span(1) for m in re.finditer(r'="([^"]*)"', xml)] or [(0, 0)]
    else:
        spots = [(where % max(len(xml), 1),) * 2]
    a, b = spots[where % len(spots)]
    if kind == "truncate":
        mutated = xml[:a]
    elif kind == "byte":
        mutated = xml[:a] + text + xml[a:]
    else:
        mutated = xml[:a] + escaped + xml[b:]
    contents[part] = mutated.encode("utf-8", "surrogatepass") if kind != "stored" else contents[part]
    path = rezip(
        tmp_path / "m.xlsx", contents, zipfile.ZIP_STORED if kind == "stored" else zipfile.ZIP_DEFLATED
    )
    try:
        if check:
            result = wb.check_workbook(path)
            assert all(np.isfinite(s.loss) or np.isnan(s.loss) for s in result.sheets)
        else:
            params = wb.read_params(path)
            assert all(np.isfinite(p).all() for p in params.values())
    except WorkbookError as e:
        assert str(path) in str(e)


@pytest.mark.parametrize("chunk", [97, 4096])
def test_rows_split_across_inflated_chunks_read_whole(book, monkeypatch, chunk):
    """A chunk of inflated XML may end inside a row, even inside a cell: every cell still reads."""
    whole = {s: list(xlsx_reader.Book(book.path).rows(s)) for s in ("linear", "nnet")}
    monkeypatch.setattr(xlsx_reader, "CHUNK", chunk)
    with xlsx_reader.Book(book.path) as small_chunks:
        assert {s: list(small_chunks.rows(s)) for s in whole} == whole
    assert wb.check_workbook(book.path).ok
    np.testing.assert_array_equal(wb.read_params(book.path)["nnet"], book.params["nnet"])


def test_a_block_reads_the_header_and_the_rows_below_until_a_gap_or_an_empty_cell(tmp_path):
    import xlsxwriter

    path = tmp_path / "block.xlsx"
    with xlsxwriter.Workbook(path) as book:
        sheet = book.add_worksheet("s")
        sheet.write_row(0, 0, ["Total loss:", 0.5])
        sheet.write_row(2, 0, ["y", "x", "Set", "x"])  # a repeated name: its first column counts
        for r, row in enumerate([[1, 2, "train", 9], [0, 3, "valid", 9], [1, None, "train", 9]], start=3):
            sheet.write_row(r, 0, row)
        sheet.write_row(6, 1, [4, "train"])  # y empty: the block ends above
        sheet.write_row(8, 0, [1, 5, "train"])  # after a gap: not read
    with xlsx_reader.Book(path) as read:
        block = read.block("s", ["y", "x", "Set"], lambda row: row.get(1) == "y", until="y")
        with pytest.raises(WorkbookError, match=r"sheet 's' has no column 'z' in its header row"):
            read.block("s", ["z"], lambda row: row.get(1) == "y", until="z")
        nothing = read.block("s", ["y"], lambda row: row.get(1) == "no such header", until="y")
    assert (block.header, block.where) == (3, {"y": 1, "x": 2, "Set": 3})
    assert block.above == {(1, 1): "Total loss:", (1, 2): 0.5}
    assert block.columns == {"y": [1.0, 0.0, 1.0], "x": [2.0, 3.0, None], "Set": ["train", "valid", "train"]}
    assert nothing is None
