"""The look shared by workbench's sheets: one place for fonts, fills and number formats.

Parameter cells (what Solver changes) are pale yellow, the random starting
parameters grey, results a reader should look at are boxed in bold. Call
:func:`styles` once per workbook and pass the result to every sheet writer.
"""

from __future__ import annotations

from dataclasses import dataclass

import xlsxwriter
from xlsxwriter.format import Format
from xlsxwriter.worksheet import Worksheet

PARAM_FILL = "#FFF2CC"  # pale yellow: the cells Solver changes
START_FILL = "#EDEDED"  # grey: the random start, kept for reference
HEADER_FILL = "#DDEBF7"  # pale blue: column headings
MINE_FILL = "#E2EFDA"  # pale green: a cell the learner types into


@dataclass(frozen=True)
class Page:
    """Where a sheet writer writes: the open workbook, the sheet, and the book's styles."""

    book: xlsxwriter.Workbook
    ws: Worksheet
    st: Styles


@dataclass(frozen=True)
class Styles:
    """The formats of one workbook (XlsxWriter formats belong to one workbook)."""

    title: Format
    note: Format
    wrapped_note: Format  # a note that wraps inside a merged block of cells
    heading: Format  # a bold block title, left-aligned
    header: Format
    label: Format  # a right-aligned bold label such as "Total loss:"
    text: Format  # free text such as a name
    category: Format  # a short category such as male or S, centred
    whole: Format  # 0, 1, 3 ..., centred
    number: Format  # as typed (Age: 22, 0.42)
    money: Format  # 7.25
    feature: Format  # a derived input such as 0.275
    value: Format  # a computed value such as a prediction or a loss
    param: Format  # a parameter Solver changes
    start: Format  # a random starting parameter
    mine: Format  # a cell the learner types into (their own parameters, a switch)
    total: Format  # a total loss
    big_total: Format  # the lesson's own Total loss, larger
    big_label: Format  # its label
    percent: Format  # an accuracy
    small: Format  # a scientific number such as a gap of 1e-9


def styles(book: xlsxwriter.Workbook) -> Styles:
    """Create the shared formats in ``book``."""

    def fmt(**props: object) -> Format:
        return book.add_format({"font_name": "Calibri", "font_size": 11, **props})

    box = {"border": 1, "border_color": "#808080"}
    # quote_prefix: Excel's leading apostrophe, so a text such as "= 2 / ..." stays text when a
    # user presses F2 then Enter on it (without it, Excel would turn it into a formula).
    return Styles(
        title=fmt(bold=True, font_size=14),
        note=fmt(italic=True, font_color="#404040", quote_prefix=True),
        wrapped_note=fmt(italic=True, font_color="#404040", quote_prefix=True, text_wrap=True, valign="top"),
        heading=fmt(bold=True),
        header=fmt(bold=True, bg_color=HEADER_FILL, bottom=1, align="center", valign="vcenter"),
        label=fmt(bold=True, align="right"),
        text=fmt(quote_prefix=True),
        category=fmt(align="center"),
        whole=fmt(num_format="0", align="center"),
        number=fmt(num_format="General"),
        money=fmt(num_format="0.00"),
        feature=fmt(num_format="0.000"),
        value=fmt(num_format="0.0000"),
        param=fmt(num_format="0.0000", bg_color=PARAM_FILL, **box),
        start=fmt(num_format="0.0000", bg_color=START_FILL, italic=True, font_color="#595959", **box),
        mine=fmt(num_format="0.0000", bg_color=MINE_FILL, **box),
        total=fmt(num_format="0.00000000", bold=True, border=2),
        big_total=fmt(num_format="0.00000000", bold=True, border=2, font_size=14),
        big_label=fmt(bold=True, align="right", font_size=14),
        percent=fmt(num_format="0.00%", bold=True, border=2),
        small=fmt(num_format="0.00E+00"),
    )


def set_up_page(ws: Worksheet, *, header_row: int | None = None) -> None:
    """Print settings for a tidy export: landscape, one page wide, gridlines, page numbers.

    ``header_row`` (0-based) repeats on every printed page.
    """
    ws.set_landscape()
    ws.set_paper(9)  # A4
    ws.fit_to_pages(1, 0)
    ws.hide_gridlines(0)  # show gridlines on screen and on paper
    ws.set_margins(left=0.4, right=0.4, top=0.5, bottom=0.6)
    ws.set_footer("&L&A&RPage &P of &N")
    if header_row is not None:
        ws.repeat_rows(header_row)
