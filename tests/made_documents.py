"""Small PDF, PPTX and XLSX files made in memory, for tests that count pages, slides and sheets."""

from __future__ import annotations

import io

import pytest

__all__ = ["docx_bytes", "pdf_bytes", "pptx_bytes", "xlsx_bytes"]


def pdf_bytes(pages: int, tag: str = "") -> bytes:
    """A PDF of ``pages`` pages; ``tag`` makes files with the same page count differ."""
    fpdf = pytest.importorskip("fpdf")
    pdf = fpdf.FPDF()
    pdf.set_font("Helvetica", size=12)
    for i in range(pages):
        pdf.add_page()
        pdf.cell(text=f"{tag} page {i}")
    return bytes(pdf.output())


def pptx_bytes(slides: int) -> bytes:
    """A deck of ``slides`` titled slides."""
    pptx = pytest.importorskip("pptx")
    deck = pptx.Presentation()
    for i in range(slides):
        deck.slides.add_slide(deck.slide_layouts[5]).shapes.title.text = f"Slide {i}"
    out = io.BytesIO()
    deck.save(out)
    return out.getvalue()


def xlsx_bytes(sheets: int) -> bytes:
    """A workbook of ``sheets`` sheets."""
    openpyxl = pytest.importorskip("openpyxl")
    book = openpyxl.Workbook()
    for i in range(sheets - 1):
        book.create_sheet(f"S{i}")
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def docx_bytes(paragraphs: int) -> bytes:
    """A Word document of ``paragraphs`` short paragraphs (one page)."""
    docx = pytest.importorskip("docx")
    document = docx.Document()
    for i in range(paragraphs):
        document.add_paragraph(f"Paragraph {i}: llamas eat hay.")
    out = io.BytesIO()
    document.save(out)
    return out.getvalue()
