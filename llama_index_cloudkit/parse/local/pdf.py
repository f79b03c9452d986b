"""PDF pages: pypdfium2 for text, pdfplumber for ruled tables, OCR for pages with no text layer.

pypdfium2 reads a page's text layer fast (about 160 pages/s on our corpus). pdfplumber's table
finder is slow, so it only runs on pages whose drawing has ruled lines in both directions; its
tables are spliced in place of the text they cover, and the text outside them is read from the
bands above, between, beside and below.
"""

from __future__ import annotations

import ctypes
import io
import itertools
import logging
import os
import re
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.errors import ParseError, UnsupportedFileError
from llama_index_cloudkit.parse.local.tables import (
    Rule,
    RuleRegion,
    Segment,
    find_aligned_regions,
    find_rule_regions,
    has_columns,
    mostly_glyphs,
    table_in_region,
)
from llama_index_cloudkit.parse.model import Block, ParsedPage, ParsedTable

__all__ = ["iter_pdf_pages"]

logger = logging.getLogger(__name__)

# A path object this thin is a rule; this long is not a dot or a glyph.
_RULE_THICKNESS = 3.0
_RULE_MIN_LENGTH = 15.0
_CELL_BOX_HEIGHT = 100.0

OcrFn = Callable[[Any], str]


def _normalize(text: str) -> str:
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    text = text.replace("\ufffe", "").replace("\x02", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip()


Box = tuple[float, float, float, float]  # left, bottom, right, top (PDF points, y up)


@dataclass
class _Drawing:
    """The rules a page draws: what decides which table finder, if any, runs on it."""

    horizontal: list[Rule]
    vertical: list[tuple[float, float, float]]  # x, bottom, top of each vertical rule
    lattice: bool  # rules both ways, or cell boxes: pdfplumber's lattice finder
    shapes: list[tuple[Box, Any]]  # paths that are not thin rules: boxes, or curves of a figure
    text: list[Box]  # the box of each text object (no text): where rule-free tables are looked for
    raw: Any = None
    pieced: bool = False  # a lattice only once vertical rules drawn a piece a row are joined

    def drawn_over(self, box: Box) -> bool:
        """Whether a curve or a slanted line is drawn inside ``box`` (a figure or a diagram there).

        A table's own frame (a rounded box around it) is not: only shapes smaller than half
        the box count. Segments are only walked for the few shapes inside ``box``.
        """
        left, bottom, right, top = box
        area = (right - left) * (top - bottom)
        for (x0, y0, x1, y1), handle in self.shapes:
            inside = left - 2 <= x0 and x1 <= right + 2 and bottom - 2 <= y0 and y1 <= top + 2
            if inside and (x1 - x0) * (y1 - y0) < 0.5 * area and _curved(handle, self.raw):
                return True
        return False


def _curved(handle: Any, raw: Any) -> bool:
    """Whether a path has a Bezier segment or a line that is neither horizontal nor vertical."""
    x, y = ctypes.c_float(), ctypes.c_float()
    last: tuple[float, float] | None = None
    for index in range(raw.FPDFPath_CountSegments(handle)):
        segment = raw.FPDFPath_GetPathSegment(handle, index)
        kind = raw.FPDFPathSegment_GetType(segment)
        if kind == raw.FPDF_SEGMENT_BEZIERTO:
            return True
        raw.FPDFPathSegment_GetPoint(segment, ctypes.byref(x), ctypes.byref(y))
        point = (x.value, y.value)
        if kind == raw.FPDF_SEGMENT_LINETO and last is not None:
            dx, dy = abs(point[0] - last[0]), abs(point[1] - last[1])
            if dx > 1 and dy > 1:
                return True
        last = point
    return False


def _objects(page: Any, raw: Any) -> tuple[list[tuple[Box, Any]], list[Box]]:
    """The bounds and handle of every path object on a page, in forms too (two levels deep),
    and the bounds of its text objects.

    Every page pays for this scan, so it calls PDFium directly: no wrapper object per page
    object (about five times cheaper than ``PdfPage.get_objects``, a few percent of reading
    the page's text).
    """
    left, bottom, right, top = ctypes.c_float(), ctypes.c_float(), ctypes.c_float(), ctypes.c_float()
    refs = (ctypes.byref(left), ctypes.byref(bottom), ctypes.byref(right), ctypes.byref(top))
    path, text, form = raw.FPDF_PAGEOBJ_PATH, raw.FPDF_PAGEOBJ_TEXT, raw.FPDF_PAGEOBJ_FORM
    get_type, get_bounds = raw.FPDFPageObj_GetType, raw.FPDFPageObj_GetBounds
    paths: list[tuple[Box, Any]] = []
    texts: list[Box] = []
    handle = page.raw

    def children(parent: Any) -> Iterator[Any]:
        if parent is None:  # the page itself
            return (raw.FPDFPage_GetObject(handle, i) for i in range(raw.FPDFPage_CountObjects(handle)))
        return (raw.FPDFFormObj_GetObject(parent, i) for i in range(raw.FPDFFormObj_CountObjects(parent)))

    pending: list[tuple[Any, int]] = [(None, 0)]  # the page, then its forms (one level deep)
    while pending:
        parent, depth = pending.pop()
        for obj in children(parent):
            kind = get_type(obj)
            if kind == path:
                get_bounds(obj, *refs)
                paths.append(((left.value, bottom.value, right.value, top.value), obj))
            elif kind == text:
                get_bounds(obj, *refs)
                texts.append((left.value, bottom.value, right.value, top.value))
            elif kind == form and depth == 0:
                pending.append((obj, 1))
    return paths, texts


def _joined_verticals(pieces: list[tuple[float, float, float]]) -> list[tuple[float, float, float]]:
    """Vertical rule pieces at one x that touch end to end, as one rule each: (x, bottom, top)."""
    joined: list[tuple[float, float, float]] = []
    for x, bottom, top in sorted(pieces, key=lambda v: (round(v[0]), v[1])):
        if joined and abs(joined[-1][0] - x) < 1 and bottom <= joined[-1][2] + 2:
            joined[-1] = (joined[-1][0], joined[-1][1], max(joined[-1][2], top))
        else:
            joined.append((x, bottom, top))
    return joined


def _drawing(page: Any, raw: Any) -> _Drawing:
    horizontal: list[Rule] = []
    vertical: list[tuple[float, float, float]] = []
    shapes: list[tuple[Box, Any]] = []
    boxes = 0
    paths, texts = _objects(page, raw)
    for bounds, handle in paths:
        left, bottom, right, top = bounds
        width, height = right - left, top - bottom
        if height < _RULE_THICKNESS and width > _RULE_MIN_LENGTH:
            horizontal.append(Rule(left, (bottom + top) / 2, right))
        elif width < _RULE_THICKNESS and height > _RULE_THICKNESS:
            vertical.append(((left + right) / 2, bottom, top))  # LaTeX draws one piece a row
        elif width > _RULE_THICKNESS and height > _RULE_THICKNESS:
            shapes.append((bounds, handle))
            if width > _RULE_MIN_LENGTH:
                boxes += 1  # cell borders drawn as rectangles
                if height <= _CELL_BOX_HEIGHT:  # a cell's edges are rules too; a page frame's are not
                    horizontal += [Rule(left, top, right), Rule(left, bottom, right)]
    whole = sum(1 for v in vertical if v[2] - v[1] > _RULE_MIN_LENGTH)  # drawn in one piece
    vertical = [v for v in _joined_verticals(vertical) if v[2] - v[1] > _RULE_MIN_LENGTH]
    lattice = (len(horizontal) - 2 * boxes >= 2 and len(vertical) >= 2) or boxes >= 4
    pieced = lattice and not ((len(horizontal) - 2 * boxes >= 2 and whole >= 2) or boxes >= 4)
    return _Drawing(horizontal, vertical, lattice, shapes, texts, raw, pieced)


def _segments(
    textpage: Any,
    rects: list[tuple[float, float, float, float]],
    cuts: list[tuple[float, float, float]],
    bands: list[tuple[float, float]],
) -> list[Segment]:
    """The text of PDFium's rectangles in ``bands`` (bottom, top), cut at vertical rules (under the lock)."""
    segments = []
    for left, bottom, right, top in rects:
        middle = (bottom + top) / 2
        if not any(low - 2 <= middle <= high + 2 for low, high in bands):
            continue  # text outside every candidate table: its text is not needed
        inner = {x for x, low, high in cuts if left + 1 < x < right - 1 and low < middle < high}
        edges = [left, *sorted(inner), right]
        for x0, x1 in itertools.pairwise(edges):
            text = textpage.get_text_bounded(left=x0, bottom=bottom, right=x1, top=top)
            if text.strip():
                segments.append(Segment(x0, bottom, x1, top, text))
    return segments


def _layout_tables(textpage: Any, drawing: _Drawing, height: float) -> list[Block] | None:
    """Blocks for a page whose tables have horizontal rules only, or no rules at all and columns
    set apart by wide gaps, else None (under the lock).

    The page's drawing and its text objects' boxes decide whether any text is read: a page
    without two rules of the same extent, or three lines aligned on three wide-gapped columns,
    costs nothing here.
    """
    regions = find_rule_regions(drawing.horizontal)
    aligned = [] if regions else find_aligned_regions(drawing.text)
    if not regions and not aligned:
        return None
    rects = [textpage.get_rect(index) for index in range(textpage.count_rects())]  # geometry: cheap
    boxes = [Segment(x0, y0, x1, y1, "") for x0, y0, x1, y1 in rects]
    candidates: list[tuple[RuleRegion, list[float]]] = [(region, []) for region in aligned]
    for region in regions:
        inner = [
            x
            for x, low, high in drawing.vertical
            if region.x0 + 2 < x < region.x1 - 2 and low < region.top and region.bottom < high
        ]
        if inner or has_columns(region, boxes):  # prose between rules is dropped before any text is read
            candidates.append((region, inner))
    if not candidates:
        return None
    segments = _segments(textpage, rects, drawing.vertical, [(r.bottom, r.top) for r, _ in candidates])
    found = []
    for region, inner in candidates:
        table = table_in_region(region, segments, inner)
        if table is not None:
            bbox = (region.x0, height - region.top, region.x1, height - region.bottom)
            found.append((bbox, table.rows))
    return _page_with_tables(textpage, found, height, drawing) if found else None


def _once(plumber_page: Any) -> Any:
    """The pdfplumber page with text drawn twice a hair apart (fake bold) read once: no
    ``EENNFFOORRCCEEDD``. One pass over the characters; pdfplumber's ``dedupe_chars`` costs
    several times the table finding itself."""
    seen: dict[tuple[str, int], list[tuple[float, float]]] = {}
    twice: set[int] = set()
    for char in plumber_page.chars:  # the same glyph less than a point away, either way
        x, top = char["x0"], char["top"]
        near = [p for dy in (-1, 0, 1) for p in seen.get((char["text"], round(top) + dy), ())]
        if any(abs(x - px) < 1 and abs(top - py) < 1 for px, py in near):
            twice.add(id(char))
        else:
            seen.setdefault((char["text"], round(top)), []).append((x, top))
    if not twice:
        return plumber_page
    return plumber_page.filter(lambda obj: id(obj) not in twice)


def _gap_rules(plumber_page: Any, found: list[Any]) -> list[dict[str, Any]]:
    """Vertical rules a lattice table leaves out: inside one of its ruled columns, an x band no
    word on any line crosses, wider than most words are tall, with words on both sides.

    Tables that rule some column gaps and not others (``|c|cc|c|``) otherwise come out with
    two columns in one cell. Words are read only for pages pdfplumber found tables on.
    """
    rules: list[dict[str, Any]] = []
    for table in found:
        _, top, _, bottom = table.bbox
        words = plumber_page.within_bbox(table.bbox).extract_words()
        if not words:
            continue
        heights = sorted(w["bottom"] - w["top"] for w in words)
        wide = max(0.8 * heights[len(heights) // 2], 5.0)
        edges = sorted({round(c[0], 1) for c in table.cells} | {round(c[2], 1) for c in table.cells})
        for left, right in itertools.pairwise(edges):
            spans: list[list[float]] = []
            for a, b in sorted(
                (w["x0"], w["x1"]) for w in words if w["x0"] >= left - 1 and w["x1"] <= right + 1
            ):
                if spans and a <= spans[-1][1]:
                    spans[-1][1] = max(spans[-1][1], b)
                else:
                    spans.append([a, b])
            for (_, end), (start, _) in itertools.pairwise(spans):
                if start - end >= wide:
                    x = (start + end) / 2
                    rules.append(
                        {
                            "object_type": "line",
                            "x0": x,
                            "x1": x,
                            "top": top,
                            "bottom": bottom,
                            "width": 0,
                            "height": bottom - top,
                        }
                    )
    return rules


_NUMBER_LINE = re.compile(r"^[-+(]?[$€£]?\d[\d,.]*%?\)?$")


def _split_stacked_rows(rows: list[list[str]]) -> list[list[str]]:
    """Split a row whose cells all hold the same number k > 1 of lines into k rows.

    Tables ruled every few rows (statistics tables often rule each block of five) come out
    of pdfplumber as one row per block, each cell holding one line per real row. Cells of one
    line beside cells of k lines of numbers (a label centred on a block of results) go to
    the block's first row.
    """
    result: list[list[str]] = []
    for row in rows:
        lines = [cell.split("\n") if cell else [] for cell in row]
        counts = {len(cell_lines) for cell_lines in lines if cell_lines}
        filled = sum(1 for cell_lines in lines if cell_lines)
        k = max(counts, default=1)
        stacked = [line for cell_lines in lines if len(cell_lines) == k for line in cell_lines]
        numbers = sum(1 for line in stacked if _NUMBER_LINE.match(line.strip()))
        labelled = counts == {1, k} and len(stacked) >= 2 * k and numbers >= 0.5 * len(stacked)
        if k > 1 and filled >= 2 and (len(counts) == 1 or labelled):
            for i in range(k):
                result.append([cell_lines[i] if i < len(cell_lines) else "" for cell_lines in lines])
        else:
            result.append(row)
    return result


# pdfminer writes a glyph its font does not map to text as "(cid:N)" (arrows of a syntax diagram).
_CID = re.compile(r"\(cid:\d+\)")


def _clean_table(raw_rows: list[list[Any]]) -> ParsedTable | None:
    rows = [[str(c).strip() if c is not None else "" for c in row] for row in raw_rows]
    rows = _split_stacked_rows(rows)
    rows = [[" ".join(_CID.sub("\ufffc", c).split()) for c in row] for row in rows]
    rows = [row for row in rows if any(row)]
    if len(rows) < 2 or mostly_glyphs(rows):  # a diagram's arrows and labels, not a table
        return None
    rows = [[" ".join(c.replace("\ufffc", " ").split()) for c in row] for row in rows]
    keep = [j for j in range(max(len(r) for r in rows)) if any(j < len(r) and r[j] for r in rows)]
    if len(keep) < 2:
        return None
    return ParsedTable(rows=[[row[j] if j < len(row) else "" for j in keep] for row in rows])


def _cells(blocks: list[Block] | None) -> int:
    """How many filled table cells ``blocks`` hold."""
    return sum(
        1 for b in blocks or [] if isinstance(b, ParsedTable) for row in b.rows for cell in row if cell
    )


def _nonspace(text: str) -> int:
    return sum(1 for ch in text if not ch.isspace())


def _page_with_tables(
    textpage: Any,
    found: list[tuple[tuple[float, float, float, float], list[list[Any]]]],
    height: float,
    drawing: _Drawing,
) -> list[Block] | None:
    """Blocks for a page with ruled tables that pdfplumber reads well, else None (under the lock).

    ``found`` is pdfplumber's tables: (bbox, rows) each. The page's own text order is kept:
    characters are walked in PDFium's order, and each table is emitted where its first
    character stands, in place of the text it covers. A candidate with curves or slanted
    lines drawn inside it is a figure or a diagram, not a table: its text stays text.
    """
    boxes: list[Box] = []
    tables: list[ParsedTable] = []
    for bbox, rows in found:
        parsed = _clean_table(rows)
        if parsed is None:
            continue
        x0, top, x1, bottom = bbox
        # pdfplumber measures y from the top of the page; PDFium from the bottom.
        box = (x0 - 1, height - bottom - 1, x1 + 1, height - top + 1)
        if drawing.drawn_over(box):
            continue
        covered = textpage.get_text_bounded(left=box[0], bottom=box[1], right=box[2], top=box[3])
        cells = "".join(c for row in parsed.rows for c in row)
        # A table that lost much of the text it covers is worse than that text.
        if _nonspace(cells) < 0.8 * _nonspace(covered):
            continue
        boxes.append(box)
        tables.append(parsed)
    if not tables:
        return None
    blocks: list[Block] = []
    emitted: set[int] = set()
    run_start: int | None = 0
    count = textpage.count_chars()

    def flush(end: int) -> None:
        if run_start is not None and end > run_start:
            blocks.append(_normalize(textpage.get_text_range(run_start, end - run_start)))

    # PDFium's text rectangles come in text order, each a run of characters on one line: walking
    # them (a few hundred) instead of every character, and asking PDFium for the index of the
    # first character only where the walk enters or leaves a table, keeps this cheap.
    current: int | None = None  # the table the walk is in, None in running text
    for rect in range(textpage.count_rects()):
        left, bottom, right, top = textpage.get_rect(rect)
        cx, cy = (left + right) / 2, (bottom + top) / 2
        inside = None
        for k, (l0, b0, r0, t0) in enumerate(boxes):
            if l0 <= cx <= r0 and b0 <= cy <= t0:
                inside = k
                break
        if inside == current:
            continue
        first = textpage.get_index(left + 0.5, cy, 1.0, (top - bottom) / 2)
        if first is None or first < 0:
            return None  # no character where PDFium puts its text: keep the page's plain text
        if inside is None:
            run_start = first
        else:
            if current is None:
                flush(first)
            run_start = None
            if inside not in emitted:
                emitted.add(inside)
                blocks.append(tables[inside])
        current = inside
    flush(count)
    blocks += [t for k, t in enumerate(tables) if k not in emitted]
    return [b for b in blocks if isinstance(b, ParsedTable) or b]


# PDFium is not thread-safe: every call into it, from any thread, goes through this lock.
# (SimpleDirectoryReader's aload_data parses files in parallel threads; unguarded, PDFium
# crashes the process.) Slow work that does not touch PDFium (pdfplumber's table finder, OCR)
# runs outside it; a page's PDFium handles stay open across, used only under the lock.
PDFIUM_LOCK = threading.RLock()


def _open(data: bytes | str, file_name: str, password: str | None) -> Any:
    pdfium = require("pypdfium2", "local")
    if not data or (isinstance(data, str) and os.path.getsize(data) == 0):
        raise ParseError("The file is empty", file=file_name)
    try:
        with PDFIUM_LOCK:
            return pdfium.PdfDocument(data, password=password)
    except pdfium.PdfiumError as exc:
        reason = str(exc)
        if "password" in reason.lower():
            raise ParseError(
                "The PDF is encrypted and no (or a wrong) password was given",
                file=file_name,
                hint="Pass password='...' to the reader, or decrypt the file first",
            ) from exc
        raise ParseError(
            f"The PDF cannot be opened, it looks corrupt ({reason})",
            file=file_name,
            hint="Check that the file is a complete PDF (open it in a viewer)",
        ) from exc


def render_page(page: Any, scale: float) -> Any:
    """A PIL image of a PDFium page, independent of PDFium's buffers (call under the lock).

    Example:
        >>> import pypdfium2
        >>> document = pypdfium2.PdfDocument.new()
        >>> with PDFIUM_LOCK:
        ...     render_page(document.new_page(100, 50), scale=2).size
        (200, 100)
    """
    bitmap = page.render(scale=scale)
    try:
        return bitmap.to_pil().copy()
    finally:
        bitmap.close()


def _has_images(page: Any, raw: Any) -> bool:
    return any(True for _ in page.get_objects(filter=[raw.FPDF_PAGEOBJ_IMAGE], max_depth=2))


@dataclass
class _PageRead:
    blocks: list[Block]
    label: str | None
    width: float
    height: float
    image: Any = None  # a render to OCR, when the page has no text layer
    needs_ocr: bool = False  # no text layer, images only, and no OCR asked for


def _read_page(document: Any, index: int, raw: Any, tables: Any, want_ocr: bool) -> _PageRead:
    """Everything one page needs from PDFium (under the lock) and pdfplumber (outside it)."""
    with PDFIUM_LOCK:
        page = document[index]
        textpage = None
        try:
            width, height = page.get_size()
            label = document.get_page_label(index) or None
            textpage = page.get_textpage()
            drawing = _drawing(page, raw) if tables is not None else None
        except BaseException:
            if textpage is not None:
                textpage.close()
            page.close()
            raise
    try:
        blocks: list[Block] | None = None
        if drawing is not None and drawing.lattice:
            plumber_page = tables(index)
            try:
                page_once = _once(plumber_page)
                found = page_once.find_tables()  # the slow part: pdfminer, no PDFium
                gaps = _gap_rules(page_once, found)
                if gaps:  # columns the rules leave unruled: find the tables again with them ruled
                    found = page_once.find_tables({"explicit_vertical_lines": gaps})
                extracted = [(table.bbox, table.extract()) for table in found]
            finally:
                plumber_page.close()  # drops pdfplumber's per-page caches
            with PDFIUM_LOCK:
                blocks = _page_with_tables(textpage, extracted, height, drawing)
        with PDFIUM_LOCK:
            # Where a lattice needs joined rule pieces (LaTeX), both finders read the page and the
            # one keeping more cells wins: pdfplumber misses the outer columns of a table with no
            # outer verticals.
            retry = blocks is None or (drawing is not None and drawing.pieced)
            if retry and drawing is not None and (len(drawing.horizontal) >= 2 or drawing.text):
                layout = _layout_tables(textpage, drawing, height)
                if layout is not None and _cells(layout) > _cells(blocks):
                    blocks = layout
            image = None
            needs_ocr = False
            if blocks is None:
                text = _normalize(textpage.get_text_range())
                blocks = [text] if text else []
                if not text and _has_images(page, raw):
                    if want_ocr:
                        image = render_page(page, 300 / 72)
                    else:
                        needs_ocr = True
    finally:
        with PDFIUM_LOCK:
            textpage.close()
            page.close()
    return _PageRead(blocks, label, width, height, image, needs_ocr)


def iter_pdf_pages(
    data: bytes | str,
    file_name: str,
    *,
    password: str | None = None,
    ocr: OcrFn | None = None,
    find_tables: bool = True,
    no_ocr_reason: str = "no OCR engine is installed",
    pages: range | None = None,
) -> Iterator[ParsedPage]:
    """Yield the pages of a PDF one at a time (memory stays flat on long documents).

    A page with no text layer but images (a scan) is read by ``ocr``; without one it comes
    out empty, with ``needs_ocr=True`` and a warning that gives ``no_ocr_reason``.

    Args:
        data: the PDF's bytes, or its local path (read as needed: memory stays flat on big files).
        file_name: for error messages.
        password: for encrypted PDFs.
        ocr: called with a PIL image of a page that has no text layer; None skips OCR.
        find_tables: look for ruled tables with pdfplumber.
        no_ocr_reason: why ``ocr`` is None, for the warning on pages that needed it.
        pages: 0-based page indexes to read (default: all), for splitting a long PDF.

    Example:
        >>> from fpdf import FPDF  # a one-page PDF to read (fpdf2)
        >>> pdf = FPDF()
        >>> pdf.add_page()
        >>> pdf.set_font("Helvetica", size=12)
        >>> _ = pdf.cell(text="Quarterly report")
        >>> [(page.number, page.blocks) for page in iter_pdf_pages(bytes(pdf.output()), "report.pdf")]
        [(1, ['Quarterly report'])]
    """
    raw = require("pypdfium2.raw", "local", package="pypdfium2")
    document = _open(data, file_name, password)
    plumber: list[Any] = []

    def plumber_page(index: int) -> Any:
        if not plumber:
            pdfplumber = require("pdfplumber", "local")
            source = data if isinstance(data, str) else io.BytesIO(data)
            plumber.append(pdfplumber.open(source, password=password or ""))
        return plumber[0].pages[index]

    try:
        with PDFIUM_LOCK:
            count = len(document)
        for index in pages if pages is not None else range(count):
            if not 0 <= index < count:
                raise ParseError(f"The PDF has no page {index + 1} (it has {count})", file=file_name)
            read = _read_page(document, index, raw, plumber_page if find_tables else None, ocr is not None)
            blocks = read.blocks
            warnings: list[str] = []
            needs_ocr = read.needs_ocr
            if read.image is not None and ocr is not None:
                try:
                    text = _normalize(ocr(read.image))  # outside the lock: OCR is slow
                except UnsupportedFileError as exc:  # an OCR engine that cannot start
                    needs_ocr, text = True, ""
                    warnings.append(f"this scanned page needs OCR, and OCR failed: {exc}")
                else:
                    if not text:
                        warnings.append("OCR found no text on this scanned page")
                blocks = [text] if text else []
            if read.needs_ocr:
                warnings.append(f"this scanned page needs OCR and got none: {no_ocr_reason}")
            yield ParsedPage(
                number=index + 1,
                blocks=blocks,
                label=read.label,
                width=read.width,
                height=read.height,
                needs_ocr=needs_ocr,
                warnings=warnings,
            )
    finally:
        if plumber:
            plumber[0].close()
        with PDFIUM_LOCK:
            document.close()


def count_pdf_pages(data: bytes, file_name: str, password: str | None = None) -> int:
    """How many pages a PDF has, without reading them.

    Example:
        >>> from fpdf import FPDF  # a two-page PDF (fpdf2)
        >>> pdf = FPDF()
        >>> pdf.add_page()
        >>> pdf.add_page()
        >>> count_pdf_pages(bytes(pdf.output()), "report.pdf")
        2
    """
    document = _open(data, file_name, password)
    with PDFIUM_LOCK:
        try:
            return len(document)
        finally:
            document.close()
