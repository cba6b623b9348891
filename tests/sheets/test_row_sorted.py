"""A streamed sheet (XlsxWriter's constant_memory) written out of row order through a
RowSortedBook, its long runs of rows given to write_rows, holds the cells of the same sheet
written whole, and keeps none of those rows before its flush."""

from __future__ import annotations

import openpyxl

from workbench.sheets.write.grid import RowSortedBook, write_rows
from workbench.sheets.write.xlsx import new_workbook


def _write(ws, log: list[int]) -> None:
    """Heading cells written after the rows they stand among, and a run of rows from row 3 on."""

    def point(i: int) -> None:
        log.append(i)
        ws.write_number(3 + i, 0, i + 1)
        ws.write_formula(3 + i, 1, f"=A{4 + i}*2", None, 2 * (i + 1))

    write_rows(ws, 3, 50, point)
    ws.write_string(0, 0, "title")
    ws.write_string(5, 3, "beside row 3 of the run")  # above rows already given
    ws.merge_range(20, 3, 21, 4, "merged beside the run", None)
    ws.write_number(2, 0, 0.5)


def _cells(path) -> dict[str, object]:
    ws = openpyxl.load_workbook(path)["s"]
    return {c.coordinate: c.value for row in ws.iter_rows() for c in row if c.value is not None}


def test_rows_given_to_write_rows_take_their_place_among_the_kept_cells(tmp_path):
    whole_log, streamed_log = [], []
    with new_workbook(tmp_path / "whole.xlsx", title="t") as book:
        _write(book.add_worksheet("s"), whole_log)
    with new_workbook(tmp_path / "streamed.xlsx", title="t", constant_memory=True) as book:
        sorted_book = RowSortedBook(book)
        _write(sorted_book.add_worksheet("s"), streamed_log)
        assert streamed_log == []  # held as one callable, not as 100 cells
        sorted_book.flush()
    assert streamed_log == whole_log == list(range(50))
    got, want = _cells(tmp_path / "streamed.xlsx"), _cells(tmp_path / "whole.xlsx")
    assert got == want
    assert got["D6"] == "beside row 3 of the run" and got["B53"] == "=A53*2" and got["A3"] == 0.5


def test_without_write_rows_a_streamed_sheet_loses_cells_written_above_its_row(tmp_path):
    """Why the run must wait: XlsxWriter's constant_memory drops a cell above the current row."""
    with new_workbook(tmp_path / "t.xlsx", title="t", constant_memory=True) as book:
        ws = book.add_worksheet("s")
        _write(ws, [])
    assert "D6" not in _cells(tmp_path / "t.xlsx")
