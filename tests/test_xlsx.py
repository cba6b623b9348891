"""new_workbook: text stays text, files land whole, bytes repeat, chosen names are hidden."""

from __future__ import annotations

import re
import zipfile

import openpyxl
import pytest

from workbench.errors import WorkbenchError
from workbench.xlsx import MAX_ROWS, check_rows, new_workbook


def write(path, *, hidden=(), constant_memory=False):
    with new_workbook(path, title="t", hidden_names=hidden, constant_memory=constant_memory) as book:
        ws = book.add_worksheet("data")
        ws.write(0, 0, '=HYPERLINK("http://x","y")')  # generic write(): must stay text
        ws.write(1, 0, "+1")
        ws.write_formula(2, 0, "=2*3", None, 6)
        book.define_name("data!secret", "=data!$A$3")
        book.define_name("data!shown", "=data!$A$1")
        book.define_name("glob", "=data!$A$2")
    return path


def names(path) -> dict[str, str]:
    with zipfile.ZipFile(path) as z:
        xml = z.read("xl/workbook.xml").decode()
    return dict(re.findall(r'<definedName name="([^"]+)"([^>]*)>', xml))


def test_text_that_looks_like_a_formula_stays_text(tmp_path):
    ws = openpyxl.load_workbook(write(tmp_path / "t.xlsx"))["data"]
    assert (ws["A1"].value, ws["A1"].data_type) == ('=HYPERLINK("http://x","y")', "s")
    assert (ws["A2"].value, ws["A2"].data_type) == ("+1", "s")
    assert ws["A3"].value == "=2*3"


@pytest.mark.parametrize("constant_memory", [False, True])
def test_hidden_names_are_hidden_and_the_rest_untouched(tmp_path, constant_memory):
    path = write(tmp_path / "t.xlsx", hidden={"secret", "glob"}, constant_memory=constant_memory)
    found = names(path)
    assert found == {
        "secret": ' localSheetId="0" hidden="1"',
        "shown": ' localSheetId="0"',
        "glob": ' hidden="1"',
    }
    book = openpyxl.load_workbook(path)  # still a valid workbook
    assert book["data"].defined_names["secret"].hidden
    # the rewrite keeps every entry's name, fixed date and compression
    plain = write(tmp_path / "plain.xlsx", constant_memory=constant_memory)
    entries = lambda p: [(i.filename, i.date_time, i.compress_type) for i in zipfile.ZipFile(p).infolist()]
    assert entries(path) == entries(plain)
    assert zipfile.ZipFile(path).testzip() is None


def test_the_same_workbook_gives_the_same_bytes(tmp_path):
    a = write(tmp_path / "a.xlsx", hidden={"secret"})
    b = write(tmp_path / "b.xlsx", hidden={"secret"})
    assert a.read_bytes() == b.read_bytes()


def test_a_failure_leaves_the_old_file_and_no_temporary_files(tmp_path):
    path = tmp_path / "t.xlsx"
    path.write_bytes(b"old")
    with pytest.raises(KeyError), new_workbook(path, title="t", hidden_names={"x"}) as book:
        book.add_worksheet("data").write(0, 0, 1)
        raise KeyError("boom")
    assert path.read_bytes() == b"old"
    assert list(tmp_path.iterdir()) == [path]


def test_check_rows_allows_exactly_excels_limit():
    check_rows(MAX_ROWS - 5, 5, sheet="linear")  # rows 5 .. 1,048,575 (0-based): the last row of a sheet
    with pytest.raises(WorkbenchError, match=r"'linear' needs 1,048,577 rows .* write at most 1,048,571"):
        check_rows(MAX_ROWS - 4, 5, sheet="linear")
