"""Figures and syntax diagrams drawn with lines are not tables, and their glyphs come out once.

The case behind it: a syntax diagram in an IBM Redbook (railroad tracks ruled both ways, bold
keywords drawn twice a hair apart, arrowheads from a font with no text map) came out as a table
of ``EENNFFOORRCCEEDD`` and ``(cid:2)`` cells. The generated pages below have the same traits.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from llama_index_cloudkit.parse.local import LocalParser

DEJAVU = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")
DOUBLED = re.compile(r"\b(?:([A-Z])\1){4,}\b")  # EENNFFOORRCCEEDD


def _diagram(labels: list[list[str]], *, curves: bool) -> bytes:
    """A railroad syntax diagram: tracks ruled both ways, keywords in fake bold, arrow glyphs
    from an embedded font whose text map is removed (pdfminer reads them as ``(cid:N)``)."""
    fpdf = pytest.importorskip("fpdf")
    if not DEJAVU.exists():
        pytest.skip(f"no TrueType font to draw arrow glyphs with ({DEJAVU})")
    pdf = fpdf.FPDF(unit="pt", format="A4")
    pdf.add_page()
    pdf.add_font("Arrows", fname=str(DEJAVU))
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(60, 50)
    pdf.multi_cell(470, 14, "The syntax of the statement is shown below.")
    xs, ys = [100, 200, 300, 400, 500], [120, 150, 180]
    pdf.set_line_width(0.5)
    for y in ys:
        pdf.line(xs[0], y, xs[-1], y)
    for x in xs:
        pdf.line(x, ys[0], x, ys[-1])
    if curves:  # the rounded corners where a branch leaves the main track
        for x in xs[1:-1]:
            pdf.arc(x - 6, ys[1] - 6, 12, 0, 90)
            pdf.arc(x - 6, ys[2] - 6, 12, 90, 180)
    for r, row in enumerate(labels):
        for c, text in enumerate(row):
            x, y = xs[c] + 10, ys[r] + 19
            if text in "►◄":
                pdf.set_font("Arrows", size=10)
                pdf.text(x, y, text)
            else:
                pdf.set_font("Helvetica", "B", size=9)
                pdf.text(x, y, text)
                pdf.text(x + 0.4, y, text)  # fake bold: the same word drawn twice
    pdf.set_font("Helvetica", size=10)
    pdf.set_xy(60, 220)
    pdf.multi_cell(470, 14, "The statement ends with a semicolon.")
    return bytes(pdf.output()).replace(b"/ToUnicode", b"/ToUnicodX")  # same length: offsets hold


def test_a_ruled_diagram_of_arrow_glyphs_is_not_a_table_and_leaves_no_cid() -> None:
    data = _diagram([["►", "►", "◄", "►"], ["◄", "A", "►", "◄"]], curves=False)
    page = LocalParser().parse(data, "syntax.pdf").pages[0]
    markdown = page.markdown()
    assert page.tables == []
    assert "(cid:" not in markdown
    assert "The syntax of the statement" in markdown and "ends with a semicolon" in markdown


def test_a_ruled_grid_with_curves_drawn_inside_is_a_diagram_and_its_bold_words_come_once() -> None:
    labels = [["ENFORCED", "NOT", "TRUSTED", "QUERY"], ["ALTER", "DROP", "CHECK", "UNIQUE"]]
    page = LocalParser().parse(_diagram(labels, curves=True), "syntax.pdf").pages[0]
    markdown = page.markdown()
    assert page.tables == []
    assert not DOUBLED.search(markdown), markdown
    assert "ENFORCED" in markdown and "UNIQUE" in markdown


def test_bold_text_drawn_twice_in_a_real_ruled_table_is_read_once() -> None:
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF(unit="pt", format="A4")
    pdf.add_page()
    rows = [["Keyword", "Meaning"], ["ENFORCED", "checked on insert"], ["TRUSTED", "not checked"]]
    pdf.set_line_width(0.5)
    for r in range(len(rows) + 1):
        pdf.line(100, 100 + 20 * r, 400, 100 + 20 * r)
    for x in (100, 220, 400):
        pdf.line(x, 100, x, 100 + 20 * len(rows))
    for r, row in enumerate(rows):
        for c, text in enumerate(row):
            pdf.set_font("Helvetica", "B" if c == 0 else "", size=9)
            pdf.text(105 + 120 * c, 114 + 20 * r, text)
            if c == 0:
                pdf.text(105.4, 114 + 20 * r, text)  # fake bold
    page = LocalParser().parse(bytes(pdf.output()), "keywords.pdf").pages[0]
    assert [t.rows for t in page.tables] == [rows]


@pytest.mark.corpus
def test_no_corpus_pdf_has_cid_leftovers_or_doubled_glyphs(corpus: Path) -> None:
    parser = LocalParser(ocr="off")
    for path in sorted(corpus.glob("*.pdf")):
        markdown = "\n".join(p.markdown() for p in parser.parse(path.read_bytes(), path.name).pages)
        assert "(cid:" not in markdown, path.name
        assert not DOUBLED.search(markdown), (path.name, DOUBLED.search(markdown))


@pytest.mark.corpus
def test_the_redbook_syntax_diagram_is_not_a_table(corpus: Path) -> None:
    path = corpus / "redp5110_sampled.pdf"  # docling's IBM Redbook sample, when the corpus has it
    if not path.exists():
        pytest.skip(f"{path.name} is not in the corpus")
    pages = LocalParser(ocr="off").parse(path.read_bytes(), path.name).pages
    markdown = "\n".join(p.markdown() for p in pages)
    assert "(cid:" not in markdown
    assert "EENNFFOORRCCEEDD" not in markdown
