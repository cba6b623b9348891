"""new_workbook: text stays text, files land whole, bytes repeat, chosen names are hidden;
its faster Worksheet stores and writes exactly what stock XlsxWriter does."""

from __future__ import annotations

import inspect
import re
import zipfile

import numpy as np
import openpyxl
import pytest
import xlsxwriter
import xlsxwriter.worksheet
from xlsxwriter.format import Format

from workbench.errors import WorkbenchError
from workbench.sheets.write.xlsx import CREATED, MAX_ROWS, Workbook, Worksheet, check_rows, new_workbook


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


# --- workbench's Worksheet: XlsxWriter's output, faster --------------------------------------------

DYNAMIC_NAMES = re.findall(r"\\b(\w+)\\\(", xlsxwriter.worksheet.re_dynamic_function.pattern)
FUTURE_NAMES = ["CONCAT", "IFS", "MAXIFS", "STDEV.S", "FORECAST.LINEAR", "NORM.DIST"]


def formula_cases() -> list[tuple[str, object]]:
    """Formulas and cached values that take every branch of both writers."""
    mine = [  # what workbench's writers write, by the million
        ("=SUMPRODUCT(G20:P20,$G$8:$P$8)", 0.4215092283624515),
        ("=IF(Q20<0,0,Q20)", 0.0),
        ("=Q20+R20", 1),
        ("=(S20-A20)^2", 0.0625),
        ("=1/(1+EXP(-Q20))", 0.731),
        ('=IF(B20="S",1,0)', 1.0),
        ("=LOG10(F20+1)", 1.5),
        ("=E20/$E$18", 0.275),
        ("=AVERAGE($T$20:$T$731)", 0.14422714930731),
        ("=SUMPRODUCT((($S$20:$S$731>0.5)=($A$20:$A$731=1))*1)/ROWS($A$20:$A$731)", 0.79),
        ("=MAX(E20:E731)", 80.0),
        ("=linear!$T$5", 0.1442),
    ]
    dynamic = [(f"={name}(A1:A3)", 1.0) for name in DYNAMIC_NAMES]
    tricky = [
        ("=ISINGLE(A1)", 1.0),  # XlsxWriter's \SINGLE\( typo matches INGLE( after any character
        ("=1+SINGLE(A1)", 1.0),
        ("=sort(A1:A3)", 1.0),  # the pattern is case-sensitive: lower case is left alone
        ("=MYSORT(A1)+SORT_(A2)+_SORT(A3)", 1.0),  # no word boundary before SORT, or no (
        ("=_xlfn.CONCAT(A1,A2)", "ab"),  # already prefixed
        ("=_xlfn._xlws.SORT(A1:A3)+FILTER(A1:A3,A1:A3>0)", 1.0),
        ("{=SUM(A1:A3*B1:B3)}", 14.0),  # array braces
        ("{=SUM(A1:A3*B1:B3)", 14.0),
        ("=SUM(A1:A3)}", 6.0),
        ("SUM(A1:A3)", 6.0),  # no leading =
        ('=A1&"<b>"&A2', "x<b>y"),  # characters XML must escape
        ('=IF(A1>0,"yes","no")', "yes"),
        ("=A1>0", True),
        ("=1/0", "#DIV/0!"),
        ("=A1", ""),
        ("=A1", None),
        ("=A1", np.float64(0.1)),
        ("=A1", 3),
        ("=" + "+".join(f"A{i}" for i in range(1, 400)), 399.0),
    ]
    future = [(f"={name}(A1:A3)", 1.0) for name in FUTURE_NAMES]
    return mine + dynamic + tricky + future


def write_cases(cls: type, path, *, constant_memory: bool, future: bool) -> dict:
    """Every formula case with a format, without one and in an array, through ``cls``."""
    book = cls(str(path), {"constant_memory": constant_memory, "use_future_functions": future})
    book.set_properties({"created": CREATED})
    ws = book.add_worksheet("s")
    fmt = book.add_format({"num_format": "0.000"})
    stored = {}
    for i, (formula, value) in enumerate(formula_cases()):
        ws.write_number(i, 0, (i + 0.5) / 3, fmt)
        ws.write_formula(i, 1, formula, fmt, value)
        ws.write_formula(i, 2, formula, None, value)
        ws.write_array_formula(i, 3, i, 3, formula, fmt, value if value is not None else 0)
        ws.write(i, 4, formula if formula.startswith("=") else "=" + formula, fmt)
        if not constant_memory:
            stored[i] = {c: _plain(ws.table[i][c]) for c in (1, 2, 3)}
    book.close()
    return stored


def _plain(cell: tuple) -> tuple:
    """A stored cell with its format as its properties (formats of two workbooks never compare equal)."""
    return (type(cell).__name__, *(str(v) if isinstance(v, Format) else v for v in cell))


@pytest.mark.parametrize("constant_memory", [False, True], ids=["in-memory", "streamed"])
@pytest.mark.parametrize("future", [False, True], ids=["plain", "future-functions"])
def test_worksheet_stores_and_writes_what_xlsxwriter_does(tmp_path, constant_memory, future):
    ours = write_cases(Workbook, tmp_path / "ours.xlsx", constant_memory=constant_memory, future=future)
    stock = write_cases(
        xlsxwriter.Workbook, tmp_path / "stock.xlsx", constant_memory=constant_memory, future=future
    )
    assert ours == stock
    assert (tmp_path / "ours.xlsx").read_bytes() == (tmp_path / "stock.xlsx").read_bytes()
    if not constant_memory:  # the cases do reach XlsxWriter's renaming: the test can fail
        prefixed = {cell[1] for row in stock.values() for cell in row.values() if "_xlfn." in cell[1]}
        assert "_xlfn._xlws.SORT(A1:A3)" in prefixed
        assert ("_xlfn.CONCAT(A1:A3)" in prefixed) == future


def test_plain_formulas_skip_xlsxwriters_substitutions(tmp_path, monkeypatch):
    calls = []
    stock = xlsxwriter.worksheet.Worksheet._prepare_formula
    monkeypatch.setattr(
        xlsxwriter.worksheet.Worksheet,
        "_prepare_formula",
        lambda self, formula, *args: calls.append(formula) or stock(self, formula, *args),
    )
    with new_workbook(tmp_path / "t.xlsx", title="t") as book:
        ws = book.add_worksheet("s")
        assert isinstance(ws, Worksheet)
        ws.write_formula(0, 0, "=SUMPRODUCT(G20:P20,$G$8:$P$8)", None, 1.0)
        ws.write_formula(1, 0, "=IF(Q20<0,0,Q20)", None, 1.0)
        assert calls == []
        ws.write_formula(2, 0, "=SORT(A1:A2)", None, 1.0)  # needs _xlfn.: XlsxWriter's own path
        ws.write_formula(3, 0, "=ISINGLE(A1)", None, 1.0)
        assert calls == ["=SORT(A1:A2)", "=ISINGLE(A1)"]


@pytest.fixture(scope="module")
def books():
    """Inputs of a small Titanic workbook and a fitted regression."""
    from small_book import book_inputs

    import workbench as wb

    passengers = wb.load_titanic().head(60)
    table = wb.lesson_table(passengers)
    fits, histories = book_inputs(table)
    return passengers, table, fits, histories, wb.fit_dataset(wb.load_dataset("line"))


@pytest.mark.parametrize("constant_memory", [False, True], ids=["in-memory", "streamed"])
def test_workbooks_have_stock_xlsxwriters_bytes(tmp_path, monkeypatch, books, constant_memory):
    """The Titanic workbook (every sheet kind, the descent sheet), a regression workbook and a table's."""
    import workbench.sheets.write.xlsx
    from workbench.sheets.books.regression import write_regression_book
    from workbench.sheets.books.titanic import add_titanic_descent_sheet, titanic_descent, write_titanic_book

    passengers, table, fits, histories, line = books

    def write(folder):
        folder.mkdir()
        descent = titanic_descent(table, epochs=5)
        write_titanic_book(
            folder / "titanic.xlsx", passengers, table, fits, histories=histories,
            extra_sheets=[lambda book: add_titanic_descent_sheet(book, table, descent)],
            constant_memory=constant_memory,
        )  # fmt: skip
        write_regression_book(line, folder / "line.xlsx")
        write_tabular_book(folder / "table.xlsx", prep, table_fits, constant_memory=constant_memory)
        return {p.name: p.read_bytes() for p in folder.iterdir()}

    import pandas as pd

    from workbench.sheets.books.tabular import write_tabular_book
    from workbench.tabular import prepare
    from workbench.tabular.fit import fit_prepared

    # A level with characters XML escapes, inside each row's EXACT("a<b&c",...) formula.
    frame = pd.DataFrame(
        {"x": [(i * 7) % 11 for i in range(80)], "kind": ["a<b&c", "d>e", "f"] * 26 + ["f"] * 2}
    )
    frame["y"] = frame.x / 10 + (frame.kind == "d>e")
    prep = prepare(frame, "y")
    table_fits = fit_prepared(prep)

    ours = write(tmp_path / "ours")
    monkeypatch.setattr(
        workbench.sheets.write.xlsx.Workbook, "worksheet_class", xlsxwriter.worksheet.Worksheet
    )
    stock = write(tmp_path / "stock")
    assert ours.keys() == stock.keys() == {"titanic.xlsx", "line.xlsx", "table.xlsx"}
    with zipfile.ZipFile(tmp_path / "ours" / "table.xlsx") as z:  # the escaping was needed
        sheets = "".join(z.read(n).decode() for n in z.namelist() if n.startswith("xl/worksheets/sheet"))
    assert "<f>IF(EXACT(C" in sheets and ',"a&lt;b&amp;c")' in sheets
    for name in ours:
        assert ours[name] == stock[name], name


def test_xlsxwriters_substitutions_are_the_names_its_search_looks_for():
    """What the fast path relies on, read from the installed XlsxWriter's source: every
    substitution made with future functions off looks for a name of re_dynamic_function."""
    source = inspect.getsource(xlsxwriter.worksheet.Worksheet._prepare_formula)
    always = source[: source.index("if not self.use_future_functions")]
    substituted = re.findall(r're\.sub\(r"\\(?:b|S)([A-Z.]+)\\\(', always)
    assert len(substituted) == always.count("re.sub(") == len(DYNAMIC_NAMES) > 20
    assert set(substituted) == {
        name.removeprefix("S") if name == "SINGLE" else name for name in DYNAMIC_NAMES
    }
    assert r're.sub(r"\SINGLE\(' in always  # the typo the fast path checks with "INGLE("


def test_the_private_xlsxwriter_api_we_override_is_still_there():
    """A new XlsxWriter that renames or re-signs what _xlsxwriter_private overrides fails here."""
    import inspect
    from importlib.metadata import version

    import xlsxwriter.workbook

    from workbench.sheets.write._xlsxwriter_private import PRIVATE_API

    major, minor = (int(v) for v in version("xlsxwriter").split(".")[:2])
    assert (3, 1) <= (major, minor) < (3, 4), "pyproject.toml allows xlsxwriter>=3.1,<3.4"
    modules = {"worksheet": xlsxwriter.worksheet, "workbook": xlsxwriter.workbook}
    for dotted, expected in PRIVATE_API.items():
        module, *path = dotted.split(".")
        obj = modules[module]
        for name in path:
            assert hasattr(obj, name), f"xlsxwriter.{dotted} is gone"
            obj = getattr(obj, name)
        if hasattr(obj, "_fields"):
            assert obj._fields == expected, dotted
        elif callable(obj) and expected:
            assert tuple(inspect.signature(obj).parameters) == expected, dotted
