"""Tables the local engines keep: PDF tables ruled horizontally only, figures that are not tables."""

from __future__ import annotations

import io
from typing import Any

import pytest

from llama_index_cloudkit.parse.local import LocalParser
from llama_index_cloudkit.parse.local import pdf as local_pdf


def _booktabs(rows: list[list[str]], *, rules_between: bool = False, prose: bool = True) -> bytes:
    """A PDF page with a table drawn booktabs-style: a top, a header and a bottom rule, no verticals."""
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    if prose:
        pdf.set_xy(60, 60)
        pdf.multi_cell(470, 14, "Results are in Table 1. " * 12)
    left, width, top, line = 80.0, 90.0, 200.0, 14.0
    right = left + width * len(rows[0])
    pdf.set_line_width(0.6)
    pdf.line(left, top, right, top)
    y = top + 3
    for r, row in enumerate(rows):
        for c, cell in enumerate(row):
            pdf.set_xy(left + c * width + 4, y)
            pdf.cell(width - 8, line, cell)
        y += line + 2
        if r == 0 or (rules_between and r < len(rows) - 1):
            pdf.line(left, y, right, y)
            y += 3
    pdf.line(left, y + 2, right, y + 2)
    if prose:
        pdf.set_xy(60, y + 30)
        pdf.multi_cell(470, 14, "After the table the text goes on. " * 6)
    return bytes(pdf.output())


ROWS = [
    ["Country", "Capital", "Population", "Languages"],
    ["Belgium", "Brussels", "11.5", "Dutch, French"],
    ["France", "Paris", "67.8", "French"],
    ["Spain", "Madrid", "47.4", "Spanish"],
]


def test_a_table_with_horizontal_rules_only_keeps_rows_columns_and_words() -> None:
    page = LocalParser().parse(_booktabs(ROWS), "booktabs.pdf").pages[0]
    (table,) = page.tables
    assert table.rows == ROWS  # header first, words never glued
    markdown = page.markdown()
    assert markdown.index("Results are in Table 1") < markdown.index("| Country |")
    assert markdown.index("| Spain |") < markdown.index("After the table")
    assert "Belgium Brussels" not in markdown  # the table's text is not repeated as prose


def test_rows_between_rules_holding_numbers_line_by_line_stay_rows() -> None:
    rows = [["Model", "Size", "Score"], ["small", "6", "0.91"], ["large", "12", "0.95"]]
    page = LocalParser().parse(_booktabs(rows, rules_between=True), "t.pdf").pages[0]
    assert [t.rows for t in page.tables] == [rows]


def test_a_page_without_rules_pays_nothing_for_table_detection(monkeypatch: pytest.MonkeyPatch) -> None:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", size=11)
    pdf.multi_cell(0, 6, "Plain prose, no table here. " * 40)

    def fail(*args: Any) -> None:
        raise AssertionError("table detection ran on a page without rules")

    monkeypatch.setattr(local_pdf, "_segments", fail)
    page = LocalParser().parse(bytes(pdf.output()), "prose.pdf").pages[0]
    assert page.tables == [] and "Plain prose" in page.markdown()


def test_prose_between_two_rules_is_not_a_table() -> None:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    pdf.line(60, 100, 530, 100)
    pdf.set_xy(60, 110)
    pdf.multi_cell(470, 14, "A boxed note in running text, read as a paragraph. " * 5)
    pdf.line(60, 200, 530, 200)
    page = LocalParser().parse(bytes(pdf.output()), "note.pdf").pages[0]
    assert page.tables == [] and "boxed note" in page.markdown()


def test_a_diagram_of_single_glyph_labels_between_rules_is_not_a_table() -> None:
    labels = [["A", "B", "C", "D"], ["x", "y", "z", "w"], ["1", "2", "3", "4"]]
    page = LocalParser().parse(_booktabs(labels, prose=False), "diagram.pdf").pages[0]
    assert page.tables == []
    assert "A" in page.markdown()


def _xlsx(rows: list[list[object]], merged: tuple[str, ...] = ()) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for row in rows:
        book.active.append(row)
    for span in merged:
        book.active.merge_cells(span)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def test_xlsx_regions_side_by_side_and_stacked_are_tables_of_their_own() -> None:
    rows: list[list[object]] = [
        ["Team", "Cups", None, "City", "State"],
        ["Blues", 1, None, "St. Louis", "MO"],
        [None, None, None, None, None],
        ["Year", "Winner", None, None, None],
        [2019, "Blues", None, None, None],
    ]
    page = LocalParser().parse(_xlsx(rows), "book.xlsx").pages[0]
    assert [t.rows for t in page.tables] == [
        [["Team", "Cups"], ["Blues", "1"]],
        [["City", "State"], ["St. Louis", "MO"]],
        [["Year", "Winner"], ["2019", "Blues"]],
    ]  # in reading order: the top band left to right, then the next band
    assert "nan" not in page.markdown().lower()


def test_xlsx_merged_cells_repeat_across_their_span_and_a_merged_title_is_text() -> None:
    rows: list[list[object]] = [
        ["Scores 2024", None, None],
        ["Team", "Q1", "Q2"],
        ["Blues", 3, None],
        ["Flyers", 2, 4],
    ]
    page = LocalParser().parse(_xlsx(rows, merged=("A1:C1", "B3:C3")), "book.xlsx").pages[0]
    (table,) = page.tables
    assert table.rows == [["Team", "Q1", "Q2"], ["Blues", "3", "3"], ["Flyers", "2", "4"]]
    assert page.markdown().index("Scores 2024") < page.markdown().index("| Team |")


def test_docx_merged_cells_repeat_across_their_span() -> None:
    docx = pytest.importorskip("docx")
    document = docx.Document()
    table = document.add_table(rows=3, cols=3)
    for r, row in enumerate([["Name", "Contact", ""], ["Ann", "a@x.org", "555"], ["Bob", "b@x.org", "556"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    table.cell(0, 1).merge(table.cell(0, 2))  # a header over two columns
    table.cell(1, 0).merge(table.cell(2, 0)).text = "Team A"  # a label down two rows
    out = io.BytesIO()
    document.save(out)
    (parsed,) = LocalParser().parse(out.getvalue(), "t.docx").pages[0].tables
    assert parsed.rows[0] == ["Name", "Contact", "Contact"]
    assert [row[0] for row in parsed.rows[1:]] == ["Team A", "Team A"]


def test_pptx_merged_cells_repeat_across_their_span() -> None:
    pptx = pytest.importorskip("pptx")
    from pptx.util import Inches

    deck = pptx.Presentation()
    slide = deck.slides.add_slide(deck.slide_layouts[6])
    table = slide.shapes.add_table(3, 3, Inches(1), Inches(1), Inches(6), Inches(2)).table
    for r, row in enumerate([["Region", "Sales", ""], ["North", "10", "12"], ["South", "7", "9"]]):
        for c, text in enumerate(row):
            table.cell(r, c).text = text
    table.cell(0, 1).merge(table.cell(0, 2))
    out = io.BytesIO()
    deck.save(out)
    (parsed,) = LocalParser().parse(out.getvalue(), "t.pptx").pages[0].tables
    assert parsed.rows == [["Region", "Sales", "Sales"], ["North", "10", "12"], ["South", "7", "9"]]


def _detections(rows: list[list[str]], top: float = 100) -> list[tuple[float, float, float, float, str]]:
    """OCR detections of a grid: one box a cell, columns 300 px apart, rows 40 px apart."""
    return [
        (50 + 300 * c, top + 40 * r, 50 + 300 * c + 20 * len(text), top + 40 * r + 30, text)
        for r, row in enumerate(rows)
        for c, text in enumerate(row)
        if text
    ]


def test_ocr_detections_forming_a_grid_come_out_as_a_table() -> None:
    from llama_index_cloudkit.parse.local.ocr import layout_ocr_lines

    body = [["Base 128", "64,058", "800.73 (484.11)", "N/A"], ["Chipper", "20,843", "260.57", "96.20"]]
    body.append(["Base 512", "16,046", "200.58", "N/A"])
    header = (50, 60, 1200, 90, "Processing | total chunks | mean chunks | tables mean")  # rules read as |
    text = layout_ocr_lines([(0, 0, 400, 30, "Table 3. Chunking"), header, *_detections(body)])
    lines = text.splitlines()
    assert lines[0] == "Table 3. Chunking"
    assert lines[1] == "| Processing | total chunks | mean chunks | tables mean |"
    assert "| Chipper | 20,843 | 260.57 | 96.20 |" in lines


def test_ocr_of_two_column_prose_stays_lines_in_the_engines_order() -> None:
    from llama_index_cloudkit.parse.local.ocr import layout_ocr_lines

    left = [(50, 100 + 40 * r, 500, 130 + 40 * r, f"left line {r}") for r in range(5)]
    right = [(600, 100 + 40 * r, 1050, 130 + 40 * r, f"right line {r}") for r in range(5)]
    assert layout_ocr_lines(left + right) == "\n".join(t for *_, t in left + right)


def test_a_latex_grid_with_rules_drawn_a_row_at_a_time_and_unruled_column_gaps_keeps_every_column() -> None:
    """``|l|ll|l|``: vertical rules drawn one piece a line, none between the middle columns,
    horizontal rules every two lines: one row a line, four columns, words never joined."""
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    rows = [[f"r{r}c{c} word" for c in range(4)] for r in range(6)]
    xs, left_of = [100, 200, 400, 500], [105, 205, 290, 405]  # no rule at 300: columns 2 and 3 share one
    pdf.set_line_width(0.4)
    top = 100
    for r, row in enumerate(rows):
        y = top + 14 * r
        for x in xs:
            pdf.line(x, y, x, y + 14)  # one piece per line, as LaTeX draws it
        if r % 2 == 0:
            pdf.line(xs[0], y, xs[-1], y)
        for x, text in zip(left_of, row, strict=True):
            pdf.text(x, y + 10, text)
    pdf.line(xs[0], top + 14 * len(rows), xs[-1], top + 14 * len(rows))
    (table,) = LocalParser().parse(bytes(pdf.output()), "grid.pdf").pages[0].tables
    assert table.rows == rows
