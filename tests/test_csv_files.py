"""The text encodings a CSV may come in: UTF-8, Excel's other two (Windows-1252 for its plain "CSV"
on most Western Windows machines, UTF-16 for its "Unicode Text"), and what is no text at all."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import workbench as wb
from workbench.csv_files import read_csv
from workbench.tabular import read_table

#: A European Excel's "CSV": semicolons, decimal commas, accents in Windows-1252.
EUROPEAN = "ville;prix;vendu\r\nCafé;2,5;1\r\nZürich;3,5;0\r\nSão Paulo;1,25;1\r\n"


def written(tmp_path: Path, data: bytes, name: str = "x.csv") -> Path:
    path = tmp_path / name
    path.write_bytes(data)
    return path


def test_excels_windows_csv_is_read_and_said(tmp_path):
    t = read_table(written(tmp_path, EUROPEAN.encode("cp1252")))
    assert t["ville"].tolist() == ["Café", "Zürich", "São Paulo"]
    assert t["prix"].tolist() == [2.5, 3.5, 1.25]
    assert t.attrs["read_as"].startswith("text in Windows-1252; fields separated by semicolons")


def test_excels_unicode_text_is_read_and_said(tmp_path):
    tabs = EUROPEAN.replace(";", "\t").replace(",", ".")
    for encoding in ("utf-16-le", "utf-16-be"):  # with its byte order mark, as Excel writes it
        mark = "\ufeff".encode(encoding)
        t = read_table(written(tmp_path, mark + tabs.encode(encoding)))
        assert t["ville"].tolist() == ["Café", "Zürich", "São Paulo"]
        assert t["prix"].dtype == np.float64 and t["prix"].sum() == 7.25
        assert t.attrs["read_as"] == "text in UTF-16; fields separated by tabs"


def test_kaggles_train_csv_saved_by_excel_either_way_is_the_same_passengers(tmp_path):
    from workbench.titanic.data import TRAIN_CSV

    text = TRAIN_CSV.read_bytes().decode("utf-8-sig").replace("Owen Harris", "Owen Harrís")
    want = wb.load_titanic(written(tmp_path, text.encode(), "utf-8.csv"))
    assert want["Name"].iloc[0] == "Braund, Mr. Owen Harrís"
    for encoding in ("utf-16", "cp1252"):
        got = wb.load_titanic(written(tmp_path, text.encode(encoding), f"{encoding}.csv"))
        assert got.equals(want), encoding


def test_utf8_with_or_without_its_mark_is_said_nothing_of(tmp_path):
    for mark in (b"", b"\xef\xbb\xbf"):
        read = read_csv(written(tmp_path, mark + EUROPEAN.encode()), rows_are="rows")
        assert read.header == ["ville", "prix", "vendu"] and read.rows[1][0] == "Zürich"
        assert read.read_as == "fields separated by semicolons"


def test_a_byte_that_fits_no_encoding_is_named_by_its_line_and_offset(tmp_path):
    far = b"x,y\n" + b"1,2\n" * 300_000  # past the first chunk the reader counts
    cases = {
        b"x,y\n1,\x812\n": ("line 2 is neither UTF-8 nor Windows-1252 text (byte 0x81 at offset 6)"),
        # UTF-8's own characters first: a stray byte later is UTF-8 gone wrong, not Windows-1252
        "x,y\né,1\n".encode() + b"2,\xe9\n": "line 3 is not UTF-8 text (byte 0xe9 at offset 11)",
        "é,1\n".encode()
        + far
        + b"3,\xe9\n": f"line 300003 is not UTF-8 text (byte 0xe9 at offset {len(far) + 7})",
        far
        + b"\x9d,4\n": f"line 300002 is neither UTF-8 nor Windows-1252 text (byte 0x9d at offset {len(far)})",
        "x,y\né,1\n".encode() + b"1,\xc3": "line 3 is not UTF-8 text (byte 0xc3 at offset 11)",  # cut short
        "\ufeffa\tb\r\n1\t2\r\n".encode("utf-16-le") + b"3": "is not UTF-16 text throughout",
    }
    for data, said in cases.items():
        with pytest.raises(wb.DataError) as e:
            read_csv(written(tmp_path, data), rows_are="rows")
        assert said in str(e.value) and "save the file as 'CSV UTF-8'" in str(e.value)


def test_a_character_split_between_the_chunks_read_is_one_character(tmp_path):
    prefix = b"x,y\n" + b"1,2\n" * 262_000
    pad = 2**20 - 1 - len(prefix) - 2
    data = prefix + b"1," + b"a" * pad + "é\n".encode()
    assert data[2**20 - 1] == "é".encode()[0]  # the last byte of the first chunk read
    read = read_csv(written(tmp_path, data), rows_are="rows")
    assert read.rows[-1] == ["1", "a" * pad + "é"] and read.read_as == ""
    cut = prefix + b"1," + b"a" * pad + "Ã\n2,3\n".encode("cp1252")  # no UTF-8 character follows
    read = read_csv(written(tmp_path, cut), rows_are="rows")
    assert read.rows[-2:] == [["1", "a" * pad + "Ã"], ["2", "3"]] and read.read_as == "text in Windows-1252"


def test_a_workbook_given_as_a_csv_is_named_for_what_it_is(tmp_path):
    book = written(tmp_path, (Path(wb.__file__).parent.parent / "workbooks" / "line.xlsx").read_bytes())
    with pytest.raises(wb.DataError, match=r"x.csv: is an Excel workbook \(.xlsx\)"):
        read_table(book)
    with pytest.raises(wb.DataError, match=r"is an Excel 97-2003 workbook \(.xls\), not a CSV file"):
        wb.load_titanic(written(tmp_path, b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)))


def test_a_first_line_naming_the_separator_is_obeyed_and_no_row(tmp_path):
    """Excel's ``sep=;``: without it, this file's rows of three fields under a header of one."""
    path = written(tmp_path, b"sep=;\r\n" + EUROPEAN.encode())
    read = read_csv(path, rows_are="rows")
    assert read.header == ["ville", "prix", "vendu"] and read.lines == [3, 4, 5]
    assert read.read_as == "fields separated by semicolons, as its first line says"
    assert read_table(path)["prix"].tolist() == [2.5, 3.5, 1.25]  # decimal commas, as with ';'
    commas = read_csv(written(tmp_path, b"sep=,\na,b\n1,2\n"), rows_are="rows")
    assert (
        commas.rows == [["1", "2"]] and commas.read_as == "fields separated by commas, as its first line says"
    )
    with pytest.raises(wb.DataError, match=r"row 1 \(line 3\) has 2 fields, the header has 3"):
        read_csv(written(tmp_path, b"sep=;\na;b;c\n1;2\n"), rows_are="rows")


def test_numbers_with_commas_between_groups_of_digits_are_numbers_where_the_comma_is_no_decimal_mark(
    tmp_path,
):
    """A spreadsheet saves a cell formatted as 1,234.5 so, quoted: a number, not a level of text."""
    from workbench.tabular import prepare

    prices = ["1,234.5", "12,000", "950", "-2,500,000", "", "7,100"]
    rows = "".join(f'"{p}",{i // 6 % 2}\n' for i, p in enumerate(prices * 10))  # y: no leak
    t = read_table(written(tmp_path, ("price,y\n" + rows).encode()))
    want = [1234.5, 12000.0, 950.0, -2500000.0, np.nan, 7100.0] * 10
    np.testing.assert_array_equal(t["price"].to_numpy(), want)
    assert t.attrs["read_as"] == "commas between groups of digits (1,234) in price"
    assert "price_N" in prepare(t, "y").table  # scaled as a number, not dummies of its texts
    # Not a group where the comma is the decimal mark (semicolons), nor a group of other than three
    semicolons = read_table(written(tmp_path, b"price;y\n1,234;1\n2,5;0\n"))
    assert semicolons["price"].tolist() == [1.234, 2.5]
    odd = read_table(written(tmp_path, b'price,y\n"1,23",1\n"12,3456",0\n'))
    assert odd["price"].tolist() == ["1,23", "12,3456"]


def test_points_between_groups_of_digits_are_numbers_where_the_comma_is_the_decimal_mark(tmp_path):
    """A German spreadsheet saves 1234567.5 formatted with groups as 1.234.567,5: once a column
    shows a point that can only group digits, its every point groups digits (1.234 is 1234)."""
    prices = ["194.476,17", "1.234", "950,5", "-2.500.000", "", "87.000,00"]
    rows = "".join(f"{p};{i // 6 % 2}\r\n" for i, p in enumerate(prices * 10))
    t = read_table(written(tmp_path, ("Preis;y\r\n" + rows).encode("cp1252")))
    want = [194476.17, 1234.0, 950.5, -2500000.0, np.nan, 87000.0] * 10
    np.testing.assert_array_equal(t["Preis"].to_numpy(), want)
    assert t.attrs["read_as"].endswith("points between groups of digits (1.234,5) in Preis")
    # Alone, 1.234 may be a decimal point (files separated by semicolons with points exist): as read.
    assert read_table(written(tmp_path, b"a;y\n1.234;1\n12.345;0\n"))["a"].tolist() == [1.234, 12.345]
    # A point that groups no digits (2.5) beside one that must: no grouping, so text.
    mixed = read_table(written(tmp_path, b"a;y\n1.234,5;1\n2.5;0\n"))["a"]
    assert mixed.tolist() == ["1.234,5", "2.5"]
    # A French spreadsheet groups with (no-break) spaces, which no decimal mark is: 1 234 is 1234
    french = "a;b;y\n1 234,5;1\u202f234,50\u00a0€;1\n12\u00a0000;12 €;0\n950,5;-3 000 €;1\n"
    t = read_table(written(tmp_path, french.encode()))
    assert t["a"].tolist() == [1234.5, 12000.0, 950.5] and t["b"].tolist() == [1234.5, 12.0, -3000.0]


@pytest.mark.parametrize(
    ("text", "unit"),
    [
        ("$1,234.50", ("$", "1,234.50")),
        ("-$5", ("$", "-5")),
        ("$-5", ("$", "-5")),
        ("($5.00)", ("$", "-5.00")),  # an accounting format's negative
        ("12,50 €", ("€", "12,50")),
        ("12,50\u00a0€", ("€", "12,50")),  # a no-break space, as French spreadsheets write it
        ("£3", ("£", "3")),
        ("12%", ("%", "12")),
        ("-7.5 %", ("%", "-7.5")),
        ("12", None),  # no symbol
        ("$12%", None),  # two
        ("(12%)", None),
        ("--$5", None),
        ("$", None),
        ("$ abc", None),
        ("12$ 3", None),
    ],
)
def test_a_money_or_percent_symbol_is_told_from_its_number(text, unit):
    from workbench.csv_files import unit_of

    assert unit_of(text) == unit


def test_money_and_percents_are_numbers_as_a_spreadsheet_reads_them(tmp_path):
    """A cell formatted as money or a percent is saved with its symbol: numbers all the same (12% is
    0.12, as a spreadsheet stores it), where every value of the column has the one symbol."""
    prices, cuts = ["$1,234.50", "$99", "($5.00)", "", "$12,000"], ["10%", "0%", "12.5%", "25%", "5%"]
    rows = "".join(f'"{p}",{c},{k % 2}\n' for k, (p, c) in enumerate(zip(prices * 4, cuts * 4, strict=True)))
    t = read_table(written(tmp_path, ("price,cut,y\n" + rows).encode()))
    np.testing.assert_array_equal(t["price"].to_numpy(), [1234.5, 99.0, -5.0, np.nan, 12000.0] * 4)
    np.testing.assert_array_equal(t["cut"].to_numpy(), [0.10, 0.0, 0.125, 0.25, 0.05] * 4)
    assert t.attrs["read_as"] == (
        "commas between groups of digits (1,234) in price; money without its symbol in price ($);"
        " percents as a spreadsheet reads them (12% is 0.12) in cut"
    )
    # Where the comma is the decimal mark, with points grouping digits: 1.234,50 € is 1234.5
    euros = read_table(written(tmp_path, "a;y\n1.234,50 €;1\n12,5 €;0\n".encode()))["a"]
    assert euros.tolist() == [1234.5, 12.5]
    # One value without the symbol, or with another: text, as before
    for mixed in (b"a,y\n$5,1\n7,0\n", "a,y\n$5,1\n€7,0\n".encode()):
        assert read_table(written(tmp_path, mixed))["a"].dtype == object


def test_empty_unnamed_columns_after_the_last_name_are_no_columns(tmp_path):
    """A spreadsheet saves the columns right of the table whose cells were once formatted: no name,
    no value (or no field at all on some rows)."""
    read = read_csv(written(tmp_path, b"a,b,,\r\n1,2,,\r\n3,4\r\n5,6,\r\n"), rows_are="rows")
    assert read.header == ["a", "b"] and read.rows == [["1", "2"], ["3", "4"], ["5", "6"]]
    with pytest.raises(wb.DataError, match=r"row 2 \(line 3\) has 'x' in column 4, which the header leaves"):
        read_csv(written(tmp_path, b"a,b,,\n1,2,,\n3,4,,x\n"), rows_are="rows")
    # A column with no name before the last name: named as pandas names it (its to_csv writes the
    # row index so), and said
    index = read_csv(written(tmp_path, b",a,,Unnamed: 2\n0,1,2,3\n1,4,5,6\n"), rows_are="rows")
    assert index.header == ["Unnamed: 0", "a", "Unnamed: 2.1", "Unnamed: 2"]  # as pandas names them
    assert index.rows == [["0", "1", "2", "3"], ["1", "4", "5", "6"]]
    assert index.read_as == (
        "columns with no name in the header named as pandas names them:"
        " 1 as 'Unnamed: 0', 3 as 'Unnamed: 2.1'"
    )
    with pytest.raises(wb.DataError, match=r"row 1 \(line 2\) has 5 fields, the header has 2"):
        read_csv(written(tmp_path, b"a,b,,\n1,2,,,\n"), rows_are="rows")  # wider than the header line


@pytest.mark.parametrize(
    ("header", "twice"), [(",a,a,,b,a.1,a", True), ("x,x,x", True), ("Unnamed: 0,,y", False)]
)
def test_a_tables_header_is_named_as_pandas_names_it(tmp_path, header, twice):
    """A table (read_table) takes names given twice, or none, as pandas does: x, x.1, Unnamed: 3."""
    import pandas as pd

    width = header.count(",") + 1
    path = written(tmp_path, (header + "\n" + ",".join(map(str, range(width))) + "\n").encode())
    assert list(read_table(path).columns) == list(pd.read_csv(path).columns)
    if twice:  # the lesson's readers pick their columns by name: a name given twice is refused
        with pytest.raises(wb.DataError, match="twice"):
            read_csv(path, rows_are="rows")


def test_a_title_above_the_header_is_named_in_the_error(tmp_path):
    path = written(tmp_path, b"Sales report 2024\r\n\r\nregion,units,y\r\nnorth,3,1\r\nsouth,4,0\r\n")
    with pytest.raises(wb.DataError) as e:
        read_table(path)
    assert str(e.value).endswith(
        "row 1 (line 3) has 3 fields, the header has 1; if 'Sales report 2024' is a title above the"
        " header, delete its line"
    )
    path.write_bytes(path.read_bytes().split(b"\r\n", 2)[2])  # as the message says
    assert read_table(path)["units"].tolist() == [3.0, 4.0]
