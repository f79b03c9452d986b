"""Office files: DOCX (python-docx), PPTX (python-pptx), XLSX (openpyxl).

A DOCX page ends at each hard page break and at each page break Word recorded when it last laid
the document out; a PPTX page is a slide; an XLSX page is a sheet.
"""

from __future__ import annotations

import io
import itertools
import re
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
    # python-docx gives a merged cell once per grid column and row it spans: a markdown reader
    # expects the value repeated across the span, so every copy is kept.
    return _rows_to_table([[cell.text for cell in row.cells] for row in table.rows])


def _pptx_table(table: Any) -> ParsedTable | None:
    """A PPTX table with each merged cell's text repeated across its span."""
    grid = [[cell.text for cell in row.cells] for row in table.rows]
    for r, row in enumerate(table.rows):
        for c, cell in enumerate(row.cells):
            if cell.is_merge_origin:
                for rr in range(r, min(r + cell.span_height, len(grid))):
                    for cc in range(c, min(c + cell.span_width, len(grid[rr]))):
                        grid[rr][cc] = cell.text
    return _rows_to_table(grid)


def _paragraph_breaks_page(paragraph: Any) -> bool:
    xml = paragraph._p.xml
    return 'w:type="page"' in xml or "lastRenderedPageBreak" in xml


def iter_docx_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield a DOCX's pages: paragraphs as markdown (headings, lists) and tables.

    Example:
        >>> import io, docx
        >>> memo = docx.Document()
        >>> _ = memo.add_heading("Memo", level=1), memo.add_paragraph("Lunch is at noon.")
        >>> table = memo.add_table(rows=0, cols=2)
        >>> for day, room in [("Day", "Room"), ("Mon", "B2")]:
        ...     cells = table.add_row().cells
        ...     cells[0].text, cells[1].text = day, room
        >>> out = io.BytesIO(); memo.save(out)
        >>> print(next(iter_docx_pages(out.getvalue(), "memo.docx")).markdown())
        # Memo
        <BLANKLINE>
        Lunch is at noon.
        <BLANKLINE>
        | Day | Room |
        | --- | --- |
        | Mon | B2 |
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
        table = _pptx_table(shape.table)
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
        >>> import io, pptx
        >>> deck = pptx.Presentation()
        >>> slide = deck.slides.add_slide(deck.slide_layouts[1])  # title and content
        >>> slide.shapes.title.text, slide.placeholders[1].text = "Results", "Sales grew"
        >>> out = io.BytesIO(); deck.save(out)
        >>> for page in iter_pptx_pages(out.getvalue(), "deck.pptx"):
        ...     print(page.number, page.markdown().splitlines())
        1 ['# Results', '', 'Sales grew']
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


_MERGE = re.compile(rb'<mergeCell[^>]*\bref="([A-Z]+)(\d+):([A-Z]+)(\d+)"')


def _column_index(letters: bytes) -> int:
    index = 0
    for ch in letters:
        index = index * 26 + ch - 64
    return index - 1


def _merged_ranges(archive: zipfile.ZipFile, path: str) -> list[tuple[int, int, int, int]]:
    """The merged ranges of a sheet, as 0-based (first row, first column, last row, last column).

    Read from the sheet's XML: openpyxl's read-only mode (flat memory on big sheets) skips them.
    """
    try:
        xml = archive.read(path.lstrip("/"))
    except KeyError:
        return []
    return [
        (int(r0) - 1, _column_index(c0), int(r1) - 1, _column_index(c1))
        for c0, r0, c1, r1 in _MERGE.findall(xml)
    ]


def _regions(grid: list[list[str]]) -> list[list[list[str]]]:
    """The rectangular regions of a sheet: blocks of cells cut apart by empty rows or columns.

    Cuts alternate between rows and columns until no block has an empty row or column inside,
    so regions side by side or one above the other each come out on their own.
    """
    rows = [k for k, row in enumerate(grid) if any(row)]
    if not rows:
        return []
    grid = grid[rows[0] : rows[-1] + 1]
    columns = [j for j in range(max(len(r) for r in grid)) if any(j < len(r) and r[j] for r in grid)]
    grid = [[row[j] if j < len(row) else "" for j in range(columns[0], columns[-1] + 1)] for row in grid]
    empty_rows = [k for k, row in enumerate(grid) if not any(row)]
    if empty_rows:
        return _split(grid, empty_rows, rows_first=True)
    empty_columns = [j for j in range(len(grid[0])) if not any(row[j] for row in grid)]
    if empty_columns:
        return _split(grid, empty_columns, rows_first=False)
    return [grid]


def _split(grid: list[list[str]], cuts: list[int], rows_first: bool) -> list[list[list[str]]]:
    length = len(grid) if rows_first else len(grid[0])
    edges = [-1, *cuts, length]
    parts = []
    for start, end in itertools.pairwise(edges):
        if end - start <= 1:
            continue
        part = grid[start + 1 : end] if rows_first else [row[start + 1 : end] for row in grid]
        parts += _regions(part)
    return parts


def _region_blocks(region: list[list[str]]) -> list[Block]:
    """A region as blocks: a lone cell or a title row over the region as text, the rest as a table."""
    blocks: list[Block] = []
    if (
        len({c for c in region[0] if c}) == 1
        and len(region) > 1
        and any(sum(1 for c in r if c) > 1 for r in region[1:])
    ):
        blocks.append(f"**{next(c for c in region[0] if c)}**")  # a title merged over the table
        region = _regions(region[1:])[0] if _regions(region[1:]) else []
    if not region:
        return blocks
    if len(region) == 1 and sum(1 for c in region[0] if c) == 1:
        return [*blocks, next(c for c in region[0] if c)]
    table = _rows_to_table(region)
    return [*blocks, table] if table is not None else blocks


def iter_xlsx_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield one page per sheet: the sheet name as a heading, then each region of cells as a table.

    A region is a rectangle of cells set apart by empty rows or columns; its first row is its
    header. A merged cell's value is repeated across its span; a title merged over a region
    comes out as text above its table.

    Example:
        >>> import io, openpyxl
        >>> book = openpyxl.Workbook()
        >>> for row in [["Team", "Cups", None, "City"], ["Blues", 1, None, "STL"]]:
        ...     book.active.append(row)
        >>> out = io.BytesIO(); book.save(out)
        >>> [t.rows for t in next(iter_xlsx_pages(out.getvalue(), "a.xlsx")).tables]
        [[['Team', 'Cups'], ['Blues', '1']], [['City'], ['STL']]]
    """
    _check_zip(data, file_name, "XLSX")
    openpyxl = require("openpyxl", "local")
    try:
        workbook = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        archive = zipfile.ZipFile(io.BytesIO(data))
    except Exception as exc:  # openpyxl raises several unrelated types on bad input
        raise ParseError(f"The XLSX cannot be read ({exc})", file=file_name) from exc
    try:
        for number, sheet in enumerate(workbook.worksheets, start=1):
            grid = [[_cell_text(v).strip() for v in row] for row in sheet.iter_rows(values_only=True)]
            for r0, c0, r1, c1 in _merged_ranges(archive, getattr(sheet, "_worksheet_path", "")):
                value = grid[r0][c0] if r0 < len(grid) and c0 < len(grid[r0]) else ""
                for r in range(r0, min(r1 + 1, len(grid))):
                    row = grid[r]
                    row.extend([""] * (c1 + 1 - len(row)))
                    for c in range(c0, c1 + 1):
                        row[c] = value
            blocks: list[Block] = [f"## {sheet.title}"]
            for region in _regions(grid):
                blocks += _region_blocks(region)
            yield ParsedPage(number=number, blocks=blocks, label=sheet.title)
    finally:
        workbook.close()
