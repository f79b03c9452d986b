"""A PDF page with no table pays nothing for table detection: the expensive steps never run on it.

The expensive steps are pdfplumber's table finder (pdfminer re-reads the page) and reading the
text of PDFium's rectangles cell by cell (``_segments``); the cheap gate before them is the
page's drawing (rules both ways, or two rules of one extent with columns between them).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

import pytest

from llama_index_cloudkit.parse.local import LocalParser
from llama_index_cloudkit.parse.local import pdf as local_pdf


@pytest.fixture
def expensive_calls(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    """How often each expensive table step ran."""
    pdfplumber = pytest.importorskip("pdfplumber")
    calls: Counter[str] = Counter()
    segments = local_pdf._segments
    find_tables = pdfplumber.page.Page.find_tables

    def counted_segments(*args: Any) -> Any:
        calls["segments"] += 1
        return segments(*args)

    def counted_find_tables(self: Any, *args: Any, **kwargs: Any) -> Any:
        calls["pdfplumber"] += 1
        return find_tables(self, *args, **kwargs)

    monkeypatch.setattr(local_pdf, "_segments", counted_segments)
    monkeypatch.setattr(pdfplumber.page.Page, "find_tables", counted_find_tables)
    return calls


def _page(*, rules: bool, table: bool) -> bytes:
    """Prose; with ``rules`` a header rule, an underlined title and a footnote rule; with
    ``table`` a booktabs table (three rules of one extent, four columns)."""
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.set_font("Helvetica", size=10)
    if rules:
        pdf.line(60, 40, 530, 40)  # running header rule
        pdf.set_xy(60, 50)
        pdf.cell(200, 14, "A title, underlined")
        pdf.line(60, 65, 200, 65)
    pdf.set_xy(60, 80)
    pdf.multi_cell(470, 14, "Plain prose, a paragraph of running text with no table in it. " * 8)
    if table:
        rows = [["Name", "Year", "Score", "City"], ["Ann", "2020", "12", "Lyon"]]
        rows.append(["Bob", "2021", "7", "Oslo"])
        pdf.line(80, 240, 440, 240)
        for r, row in enumerate(rows):
            for c, text in enumerate(row):
                pdf.set_xy(84 + 90 * c, 243 + 16 * r)
                pdf.cell(80, 14, text)
            if r == 0:
                pdf.line(80, 259, 440, 259)
        pdf.line(80, 294, 440, 294)
    pdf.set_xy(60, 320)
    pdf.multi_cell(470, 14, "More prose after it. " * 10)
    if rules:
        pdf.line(60, 760, 200, 760)  # footnote rule
        pdf.set_xy(60, 765)
        pdf.cell(300, 10, "1 A footnote.")
    return bytes(pdf.output())


@pytest.mark.parametrize("rules", [False, True], ids=["no rules", "header, title and footnote rules"])
def test_a_page_with_no_table_never_runs_the_expensive_table_steps(
    expensive_calls: Counter[str], rules: bool
) -> None:
    page = LocalParser().parse(_page(rules=rules, table=False), "prose.pdf").pages[0]
    assert page.tables == [] and "Plain prose" in page.markdown()
    assert expensive_calls == Counter()


def test_a_page_with_a_table_runs_them_once(expensive_calls: Counter[str]) -> None:
    page = LocalParser().parse(_page(rules=True, table=True), "table.pdf").pages[0]
    assert [t.rows[1] for t in page.tables] == [["Ann", "2020", "12", "Lyon"]]
    assert expensive_calls == Counter({"segments": 1})
