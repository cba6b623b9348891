"""The snapshot comparison (tests/snapshot.py) that checks the committed workbooks can fail.

Each test edits one thing in a small Titanic workbook's XML and checks that the
comparison reports it by sheet and cell, or lets it pass when within the policy.
"""

from __future__ import annotations

import io
import re
import zipfile

import numpy as np
import pandas as pd
import pytest
import snapshot
from PIL import Image
from small_book import Fitted, write_small_book

import workbench as wb
from workbench.sheets.books.titanic import write_titanic_book


@pytest.fixture(scope="module")
def book(tmp_path_factory) -> bytes:
    return write_small_book(tmp_path_factory.mktemp("snap") / "t.xlsx").path.read_bytes()


def sheet_part(data: bytes, sheet: str) -> str:
    z = zipfile.ZipFile(io.BytesIO(data))
    names = re.findall(r'<sheet name="([^"]+)" sheetId="(\d+)"', z.read("xl/workbook.xml").decode())
    return f"xl/worksheets/sheet{dict(names)[sheet]}.xml"


def edit(data: bytes, part: str, change) -> bytes:
    """The workbook with ``change(text)`` applied to one part."""
    src = zipfile.ZipFile(io.BytesIO(data))
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as z:
        for info in src.infolist():
            body = src.read(info)
            if info.filename == part:
                edited = change(body.decode())
                assert edited != body.decode(), "the edit changed nothing"
                body = edited.encode()
            z.writestr(info, body)
    return out.getvalue()


def set_value(data: bytes, sheet: str, ref: str, new: str) -> bytes:
    def change(xml: str) -> str:
        return re.sub(rf'(<c r="{ref}"[^>]*>(?:<f>[^<]*</f>)?<v>)[^<]*(</v>)', rf"\g<1>{new}\g<2>", xml)

    return edit(data, sheet_part(data, sheet), change)


def value(data: bytes, sheet: str, ref: str) -> float:
    return snapshot.read_book(data).cells[sheet][ref].value


def label_ref(data: bytes, sheet: str, label: str) -> str:
    """The cell to the right of a label."""
    cells = snapshot.read_book(data).cells[sheet]
    ref = next(r for r, c in cells.items() if c.value == label)
    letters, digits = re.match(r"([A-Z]+)(\d+)", ref).groups()
    return f"{chr(ord(letters) + 1)}{digits}"


def test_a_workbook_is_the_same_as_itself(book):
    report = snapshot.compare_books(book, book)
    assert report.differences == [] and report.numbers > 1000


def test_a_number_moved_beyond_rounding_is_named_by_sheet_and_cell(book):
    ref = label_ref(book, "linear", "Total loss:")
    old = value(book, "linear", ref)
    moved = set_value(book, "linear", ref, repr(old * (1 + 1e-7)))
    assert snapshot.compare_books(book, moved).differences == [
        f"linear!{ref}: {old!r} -> {old * (1 + 1e-7)!r}"
    ]
    rounded = set_value(book, "linear", ref, repr(old * (1 + 1e-12)))
    assert snapshot.compare_books(book, rounded).differences == []


def test_a_changed_formula_or_string_is_named(book):
    part = sheet_part(book, "linear")
    changed = edit(book, part, lambda xml: xml.replace("AVERAGE(", "SUM(", 1))
    lines = snapshot.compare_books(book, changed).differences
    assert len(lines) == 1 and re.fullmatch(r"linear!R\d+: =?AVERAGE\(.*-> =?SUM\(.*", lines[0]), lines
    renamed = edit(book, "xl/sharedStrings.xml", lambda xml: xml.replace(">Total loss:<", ">Loss:<"))
    lines = snapshot.compare_books(book, renamed).differences
    assert lines and all(": 'Total loss:' -> 'Loss:'" in line for line in lines), lines


def test_a_renamed_defined_name_or_chart_range_is_caught(book):
    renamed = edit(book, "xl/workbook.xml", lambda xml: xml.replace("solver_opt", "solver_opx", 1))
    assert snapshot.compare_books(book, renamed).differences == [
        "xl/workbook.xml: differs (names, styles, drawings or properties)"
    ]


@pytest.mark.parametrize("label", ["Total loss:", "Train loss:", "Valid loss:"])
def test_the_titanic_policy_frees_the_nets_numbers_but_not_its_loss(book, label):
    policy = snapshot.titanic_policy(snapshot.read_book(book))
    ref = label_ref(book, "nnet", label)
    old = value(book, "nnet", ref)
    near = set_value(book, "nnet", ref, repr(old + 5e-7))
    assert snapshot.compare_books(book, near, policy).differences == []
    far = set_value(book, "nnet", ref, repr(old + 2e-6))
    assert snapshot.compare_books(book, far, policy).differences == [f"nnet!{ref}: {old!r} -> {old + 2e-6!r}"]
    cells = snapshot.read_book(book).cells["nnet"]
    first = next(r for r, c in cells.items() if c.formula is None and isinstance(c.value, float))
    param = set_value(book, "nnet", first, "0.123")  # a parameter cell: another start may win
    assert snapshot.compare_books(book, param, policy).differences == []
    assert snapshot.compare_books(book, param).differences  # the default policy would not allow it


def picture(pixels: np.ndarray, fmt: str = "PNG") -> bytes:
    out = io.BytesIO()
    Image.fromarray(pixels.astype(np.uint8)).save(out, format=fmt)
    return out.getvalue()


def test_pictures_may_differ_in_a_few_pixels_only():
    rng = np.random.default_rng(0)
    base = rng.integers(0, 255, size=(100, 200, 3))
    speck = base.copy()
    speck[:5, :5] = 255 - speck[:5, :5]  # 25 of 20,000 pixels
    assert snapshot.compare_pictures(picture(base), picture(speck)) == []
    blot = base.copy()
    blot[:20, :20] = 255 - blot[:20, :20]  # 2%
    assert snapshot.compare_pictures(picture(base), picture(blot)) == [
        "frame 0: 2.00% of the pixels differ (at most 0.5% may)"
    ]
    assert snapshot.compare_pictures(picture(base), picture(base[:99])) == ["PNG (200, 100) -> PNG (200, 99)"]
    # the over-fitting picture's share: 2% passes, 4% does not
    assert snapshot.compare_pictures(picture(base), picture(blot), snapshot.FREE_PIXEL_SHARE) == []
    more = base.copy()
    more[:20, :40] = 255 - more[:20, :40]  # 4%
    assert snapshot.compare_pictures(picture(base), picture(more), snapshot.FREE_PIXEL_SHARE) == [
        "frame 0: 4.00% of the pixels differ (at most 3.0% may)"
    ]


def test_a_csv_may_change_only_the_allowed_share_of_rows():
    old = b"Id,y\n" + b"".join(f"{i},0\n".encode() for i in range(100))
    two = old.replace(b"\n5,0\n", b"\n5,1\n").replace(b"\n7,0\n", b"\n7,1\n")
    assert snapshot.compare_csv(old, two, free_share=0.02) == []
    assert snapshot.compare_csv(old, two) == [
        "line 7: ['5', '0'] -> ['5', '1']",
        "line 9: ['7', '0'] -> ['7', '1']",
    ]
    assert snapshot.compare_csv(old, old.replace(b"\n5,0\n", b"\n6,0\n"), free_share=1)


def test_the_titanic_policy_frees_the_over_fitting_heading_but_no_other_text(tmp_path):
    """The sweep's heading says what its numbers show, and those may differ freely by CPU (test_build
    holds a fresh build's heading to its own numbers); every other string must stay as it was."""
    passengers = wb.load_titanic().head(80)
    table = wb.lesson_table(passengers)
    fits = {k: Fitted(np.full(s, 0.1)) for k, s in (("linear", 10), ("nnet", (2, 10)), ("sigmoid", 10))}
    units = pd.DataFrame(
        {"units": [1, 2, 4, 8], "parameters": [10, 20, 40, 80], "train_loss": [0.15, 0.14, 0.13, 0.12],
         "valid_loss": [0.14, 0.12, 0.11, 0.13], "train_accuracy": 0.8, "valid_accuracy": 0.8}
    )  # fmt: skip
    write_titanic_book(tmp_path / "t.xlsx", passengers, table, fits, units=units)
    book = (tmp_path / "t.xlsx").read_bytes()
    policy = snapshot.titanic_policy(snapshot.read_book(book))
    moved = edit(
        book, "xl/sharedStrings.xml", lambda xml: xml.replace("lowest at 4 ReLUs", "lowest at 8 ReLUs")
    )
    assert snapshot.compare_books(book, moved, policy).differences == []
    assert snapshot.compare_books(book, moved).differences  # the default policy would not allow it
    renamed = edit(book, "xl/sharedStrings.xml", lambda xml: xml.replace(">summary: every", ">summary: each"))
    lines = snapshot.compare_books(book, renamed, policy).differences
    assert len(lines) == 1 and "'summary: every" in lines[0], lines
    retitled = edit(book, "xl/sharedStrings.xml", lambda xml: xml.replace(">nnet: the lesson's", ">nnet: a"))
    lines = snapshot.compare_books(book, retitled, policy).differences  # on a sheet of free numbers
    assert lines and lines[0].startswith("nnet!A1: "), lines
