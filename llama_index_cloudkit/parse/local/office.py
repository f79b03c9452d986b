"""Office files: DOCX (python-docx), PPTX (python-pptx), XLSX (openpyxl).

A DOCX page ends at each hard page break and at each page break Word recorded when it last laid
the document out; a PPTX page is a slide; an XLSX page is a sheet.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator
from typing import Any

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.errors import ParseError
from llama_index_cloudkit.parse.model import Block, ParsedPage, ParsedTable

__all__ = ["iter_docx_pages", "iter_pptx_pages", "iter_xlsx_pages"]


def _check_zip(data: bytes, file_name: str, kind: str) -> None:
    if not data:
        raise ParseError("The file is empty", file=file_name)
    if not zipfile.is_zipfile(io.BytesIO(data)):
        raise ParseError(
            f"The file is not a valid {kind} (an Office file is a zip archive, this is not one)",
            file=file_name,
            hint="Check that the file is complete; an old binary .doc/.ppt/.xls must be saved "
            "in the newer format first",
        )


def _rows_to_table(rows: list[list[str]]) -> ParsedTable | None:
    rows = [[" ".join(c.split()) for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    return ParsedTable(rows=rows) if rows else None


# --- DOCX -----------------------------------------------------------------------------------

_HEADING_STYLES = {"title": 1, "subtitle": 2}


def _docx_paragraph_markdown(paragraph: Any) -> str:
    text = paragraph.text.strip()
    if not text:
        return ""
    style = (paragraph.style.name if paragraph.style is not None else "").lower()
    if style.startswith("heading"):
        digits = "".join(ch for ch in style if ch.isdigit())
        level = min(int(digits), 6) if digits else 1
        return "#" * level + " " + text
    if style in _HEADING_STYLES:
        return "#" * _HEADING_STYLES[style] + " " + text
    if "list" in style:
        marker = "1." if "number" in style else "-"
        return f"{marker} {text}"
    return text


def _docx_table(table: Any) -> ParsedTable | None:
    rows = []
    for row in table.rows:
        cells, previous = [], None
        for cell in row.cells:
            # Merged cells come back once per grid column; keep one copy.
            if previous is not None and cell._tc is previous:
                continue
            previous = cell._tc
            cells.append(cell.text)
        rows.append(cells)
    return _rows_to_table(rows)


def _paragraph_breaks_page(paragraph: Any) -> bool:
    xml = paragraph._p.xml
    return 'w:type="page"' in xml or "lastRenderedPageBreak" in xml


def iter_docx_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield a DOCX's pages: paragraphs as markdown (headings, lists) and tables.

    Example:
        >>> pages = list(iter_docx_pages(open("memo.docx", "rb").read(), "memo.docx"))  # doctest: +SKIP
    """
    _check_zip(data, file_name, "DOCX")
    docx = require("docx", "local", package="python-docx")
    from docx.table import Table
    from docx.text.paragraph import Paragraph

    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises several unrelated types on bad input
        raise ParseError(f"The DOCX cannot be read ({exc})", file=file_name) from exc
    pages: list[list[Block]] = [[]]
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            if _paragraph_breaks_page(item) and any(pages[-1]):
                pages.append([])
            text = _docx_paragraph_markdown(item)
            if text:
                pages[-1].append(text)
        elif isinstance(item, Table):
            table = _docx_table(item)
            if table is not None:
                pages[-1].append(table)
    for number, blocks in enumerate(pages, start=1):
        yield ParsedPage(number=number, blocks=_join_lines(blocks))


def _join_lines(blocks: list[Block]) -> list[Block]:
    """Merge consecutive list items into one block so they render as one list."""
    merged: list[Block] = []
    for block in blocks:
        if (
            isinstance(block, str)
            and merged
            and isinstance(merged[-1], str)
            and block.startswith(("- ", "1. "))
            and merged[-1].split("\n")[-1].startswith(("- ", "1. "))
        ):
            merged[-1] = merged[-1] + "\n" + block
        else:
            merged.append(block)
    return merged


# --- PPTX -----------------------------------------------------------------------------------


def _pptx_shape_blocks(shape: Any) -> list[Block]:
    blocks: list[Block] = []
    if getattr(shape, "has_table", False) and shape.has_table:
        table = _rows_to_table([[cell.text for cell in row.cells] for row in shape.table.rows])
        if table is not None:
            blocks.append(table)
    elif getattr(shape, "shape_type", None) is not None and hasattr(shape, "shapes"):
        for child in shape.shapes:  # a group
            blocks.extend(_pptx_shape_blocks(child))
    elif getattr(shape, "has_text_frame", False) and shape.has_text_frame:
        text = "\n".join(p.text.strip() for p in shape.text_frame.paragraphs if p.text.strip())
        if text:
            blocks.append(text)
    return blocks


def iter_pptx_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield one page per slide: the title as a heading, text frames, tables.

    Example:
        >>> pages = list(iter_pptx_pages(open("deck.pptx", "rb").read(), "deck.pptx"))  # doctest: +SKIP
    """
    _check_zip(data, file_name, "PPTX")
    pptx = require("pptx", "local", package="python-pptx")
    try:
        presentation = pptx.Presentation(io.BytesIO(data))
    except Exception as exc:  # python-pptx raises several unrelated types on bad input
        raise ParseError(f"The PPTX cannot be read ({exc})", file=file_name) from exc
    for number, slide in enumerate(presentation.slides, start=1):
        blocks: list[Block] = []
        title = slide.shapes.title
        if title is not None and title.has_text_frame and title.text_frame.text.strip():
            blocks.append("# " + " ".join(title.text_frame.text.split()))
        for shape in slide.shapes:
            if title is not None and shape.shape_id == title.shape_id:
                continue
            blocks.extend(_pptx_shape_blocks(shape))
        yield ParsedPage(number=number, blocks=blocks)


# --- XLSX -----------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def iter_xlsx_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield one page per sheet: the sheet name as a heading and its used cells as a table.

    Example:
        >>> pages = list(iter_xlsx_pages(open("sales.xlsx", "rb").read(), "sales.xlsx"))  # doctest: +SKIP
    """
    _check_zip(data, file_name, "XLSX")
    openpyxl = require("openpyxl", "local")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several unrelated types on bad input
        raise ParseError(f"The XLSX cannot be read ({exc})", file=file_name) from exc
    try:
        for number, sheet in enumerate(workbook.worksheets, start=1):
            rows = [[_cell_text(v) for v in row] for row in sheet.iter_rows(values_only=True)]
            rows = [row for row in rows if any(c.strip() for c in row)]
            if rows:
                used = [
                    j
                    for j in range(max(len(r) for r in rows))
                    if any(j < len(r) and r[j].strip() for r in rows)
                ]
                rows = [[row[j] if j < len(row) else "" for j in used] for row in rows]
            blocks: list[Block] = [f"## {sheet.title}"]
            table = _rows_to_table(rows)
            if table is not None:
                blocks.append(table)
            yield ParsedPage(number=number, blocks=blocks, label=sheet.title)
    finally:
        workbook.close()
