"""PDF tables with no rules at all: columns set apart by wide gaps, aligned over three or more lines."""

from __future__ import annotations

from typing import Any

import pytest

from llama_index_cloudkit.parse.local import LocalParser

LABELS = ["Persons with disabilities", "Children", "Women", "The elderly", "Migrants"]


def _pdf(landscape: bool = False) -> Any:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(unit="pt", format="A4", orientation="L" if landscape else "P")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    return pdf


def _checklist(pdf: Any, left: float, top: float) -> None:
    """A survey question's grid: bullets, labels, two columns of check marks under a two-line header."""
    pdf.set_xy(left, top)
    pdf.multi_cell(300, 13, "28. Are specialized services provided to these groups? By whom?")
    pdf.text(left + 10, top + 45, "(Please select all that apply)")
    pdf.text(left + 200, top + 70, "State funded")
    pdf.text(left + 206, top + 82, "legal aid")
    pdf.text(left + 280, top + 70, "CSOs")
    for r, label in enumerate(LABELS):
        y = top + 100 + 18 * r
        pdf.text(left + 2, y, "-")  # the bullet
        pdf.text(left + 15, y, label)
        pdf.text(left + 220, y, "o")  # the check boxes
        pdf.text(left + 288, y, "o")


def test_an_unruled_grid_under_a_two_line_header_is_a_table() -> None:
    pdf = _pdf()
    _checklist(pdf, 60, 80)
    pdf.set_xy(60, 320)
    pdf.multi_cell(470, 14, "The next question follows the grid. " * 5)
    page = LocalParser().parse(bytes(pdf.output()), "survey.pdf").pages[0]
    (table,) = page.tables
    assert table.rows == [["", "State funded legal aid", "CSOs"], *[[label, "o", "o"] for label in LABELS]]
    markdown = page.markdown()
    assert markdown.index("Please select all that apply") < markdown.index("| Persons with disabilities |")
    assert markdown.index("| Migrants |") < markdown.index("The next question")


def test_beside_a_column_of_prose_the_table_keeps_only_its_own_cells() -> None:
    pdf = _pdf(landscape=True)  # a spread: prose on the left page, the grid on the right, same heights
    pdf.set_xy(40, 60)
    pdf.multi_cell(330, 18, "Yes, at the national level, and at the regional level of the country. " * 12)
    _checklist(pdf, 450, 80)
    page = LocalParser().parse(bytes(pdf.output()), "spread.pdf").pages[0]
    (table,) = page.tables
    assert [row[0] for row in table.rows[1:]] == LABELS
    assert "national level" in page.markdown() and "national level" not in str(table.rows)


def test_two_columns_of_prose_are_not_a_table() -> None:
    pdf = _pdf()
    for left in (50, 310):
        pdf.set_xy(left, 60)
        pdf.multi_cell(235, 13, "Column text flows down the page as a paper sets it in two columns. " * 14)
    page = LocalParser().parse(bytes(pdf.output()), "paper.pdf").pages[0]
    assert page.tables == []


def test_a_two_column_list_with_wide_gaps_is_not_a_table() -> None:
    pdf = _pdf()
    for r, (title, number) in enumerate(
        [("Introduction", "1"), ("Methods", "4"), ("Results", "9"), ("Notes", "12")]
    ):
        pdf.text(60, 80 + 16 * r, title)
        pdf.text(500, 80 + 16 * r, number)
    page = LocalParser().parse(bytes(pdf.output()), "contents.pdf").pages[0]
    assert page.tables == [] and "Introduction" in page.markdown()
