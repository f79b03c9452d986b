"""Parse results in LlamaParse's JSON shape, computed by the local parser: page text, pictures, layout.

What the emulator makes of the form fields:

- ``text`` keeps the layout's line breaks and no markdown syntax; ``md`` reflows PDF prose into
  one line per paragraph (:func:`markdown_block`), so the two differ as they do on the service:
  ``text`` keeps the page's line breaks (the layout) and holds no markdown syntax; ``md`` joins
  the lines of a paragraph (a hyphen at a line end joins without a space) and separates
  paragraphs and headings with blank lines.
- ``save_images`` (sent ``true`` by default): the pictures drawn on PDF pages, as
  ``img_p{page index}_{n}.png`` with their real size and placement.
- ``take_screenshot``: ``page_{n}.jpg`` per PDF page, real pixel size.
- ``extract_layout``: one ``layout`` entry per item (and picture), labelled ``title``,
  ``sectionHeader``, ``text``, ``table`` or ``picture``, with the page screenshot as its image.
  The emulator has no layout model: text items are stacked down the page in reading order, so
  their boxes are approximate; pictures have their real boxes.
- ``extract_charts``: every picture on a PDF page is reported as a chart (geometry, no values:
  the emulator reads no chart data).

Example:
    >>> result, images = build_parse_result(b"# Title\\n\\nBody", "notes.md", form={})
    >>> result["pages"][0]["md"], result["pages"][0]["text"], result["job_metadata"]["job_pages"]
    ('# Title\\n\\nBody', 'Title\\n\\nBody', 1)
"""

from __future__ import annotations

import io
import re
from dataclasses import dataclass
from typing import Any

from llama_index_cloudkit.parse.local import LocalParser
from llama_index_cloudkit.parse.model import ParsedPage, ParsedTable

__all__ = [
    "TINY_PNG",
    "NoDataError",
    "Picture",
    "build_parse_result",
    "embedded_pictures",
    "markdown_block",
    "page_range",
    "page_screenshot",
    "text_block",
    "tiny_jpeg",
]


# --- page text: layout text versus reflowed markdown ------------------------------------

_END = re.compile(r"[.!?:;)\"'\u201d]$")
_STRUCTURED = re.compile(r"^(#{1,6}\s|[-*+]\s|\d+[.)]\s|\||>|```|<)")
_KEEP_LINES = re.compile(r"^([-*+]\s|\d+[.)]\s|```|\|)")
_EMPHASIS = re.compile(r"(\*\*|__|\*|_)(?=\S)(.+?)(?<=\S)\1")
_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_HEADING = re.compile(r"^#{1,6}\s+", re.MULTILINE)


def _paragraphs(lines: list[str]) -> list[list[str]]:
    """Group layout lines into paragraphs: a short line ends one, as does a short title line."""
    width = max((len(line) for line in lines), default=0)
    groups: list[list[str]] = []
    current: list[str] = []
    for line in lines:
        if _STRUCTURED.match(line):  # markdown structure already: one line, one unit
            if current:
                groups.append(current)
                current = []
            groups.append([line])
            continue
        current.append(line)
        short = len(line) < 0.8 * width
        if short and (_END.search(line) or len(current) == 1):
            groups.append(current)
            current = []
    if current:
        groups.append(current)
    return groups


def _join(lines: list[str]) -> str:
    joined = ""
    for line in lines:
        if joined.endswith("-") and line[:1].islower():
            joined = joined[:-1] + line
        else:
            joined = f"{joined} {line}" if joined else line
    return joined


def markdown_block(block: str) -> str:
    """A text block as LlamaParse's markdown: paragraphs reflowed onto one line each.

    Example:
        >>> markdown_block("A line long enough to wrap at the right\\nmargin of the page.\\nNext.")
        'A line long enough to wrap at the right margin of the page.\\n\\nNext.'
    """
    out: list[str] = []
    for paragraph in re.split(r"\n\s*\n", block.strip()):
        lines = [line.strip() for line in paragraph.splitlines() if line.strip()]
        if lines and (_KEEP_LINES.match(lines[0]) or any(line.startswith("|") for line in lines)):
            out.append("\n".join(lines))  # lists, tables and code keep their lines
            continue
        out.extend(_join(group) for group in _paragraphs(lines))
    return "\n\n".join(p for p in out if p)


def text_block(block: str) -> str:
    """A block as LlamaParse's plain text: the layout's line breaks, no markdown syntax.

    Example:
        >>> text_block("## Feeding\\nHay, **not** grain.")
        'Feeding\\nHay, not grain.'
    """
    text = _HEADING.sub("", block.strip())
    text = _LINK.sub(r"\1", text)
    previous = None
    while previous != text:
        previous, text = text, _EMPHASIS.sub(r"\2", text)
    return text


# --- pictures of PDF pages --------------------------------------------------------------


@dataclass(frozen=True)
class Picture:
    """An image and where it sits: ``x``, ``y`` (from the top), ``w``, ``h`` in PDF points.

    Example:
        >>> Picture(b"", 10, 20, 0, 0, 100, 50).box()
        {'x': 0, 'y': 0, 'w': 100, 'h': 50}
    """

    data: bytes
    width: int
    height: int
    x: float
    y: float
    w: float
    h: float

    def box(self) -> dict[str, float]:
        """The placement as LlamaParse's ``bBox`` (points)."""
        return {"x": self.x, "y": self.y, "w": self.w, "h": self.h}


def tiny_jpeg() -> bytes:
    """A valid 1x1 JPEG (for screenshots of files a served fixture names).

    Example:
        >>> tiny_jpeg()[:2]
        b'\\xff\\xd8'
    """
    from PIL import Image

    out = io.BytesIO()
    Image.new("RGB", (1, 1), (255, 255, 255)).save(out, format="JPEG")
    return out.getvalue()


def _open(data: bytes) -> Any:
    import pypdfium2

    return pypdfium2.PdfDocument(data)


def page_screenshot(data: bytes, index: int, scale: float = 1.0) -> Picture:
    """A JPEG render of page ``index`` (0-based); IndexError past the end."""
    from llama_index_cloudkit.parse.local.pdf import PDFIUM_LOCK, render_page

    with PDFIUM_LOCK:
        pdf = _open(data)
        try:
            if not 0 <= index < len(pdf):
                raise IndexError(index)
            page = pdf[index]
            try:
                width, height = page.get_size()
                image = render_page(page, scale).convert("RGB")
            finally:
                page.close()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return Picture(out.getvalue(), image.width, image.height, 0.0, 0.0, width, height)


def embedded_pictures(data: bytes, index: int) -> list[Picture]:
    """The images drawn on page ``index`` (0-based), as PNG, in drawing order."""
    import pypdfium2

    from llama_index_cloudkit.parse.local.pdf import PDFIUM_LOCK

    pictures: list[Picture] = []
    with PDFIUM_LOCK:
        pdf = _open(data)
        try:
            if not 0 <= index < len(pdf):
                return []
            page = pdf[index]
            try:
                _, page_height = page.get_size()
                for obj in page.get_objects(filter=(pypdfium2.raw.FPDF_PAGEOBJ_IMAGE,)):
                    left, bottom, right, top = obj.get_bounds()
                    bitmap = obj.get_bitmap(render=False)
                    image = bitmap.to_pil().copy()
                    del bitmap  # released under the lock (closing a foreign bitmap warns)
                    if image.mode not in ("1", "L", "LA", "P", "RGB", "RGBA"):
                        image = image.convert("RGB")
                    out = io.BytesIO()
                    image.save(out, format="PNG")
                    pictures.append(
                        Picture(
                            out.getvalue(),
                            image.width,
                            image.height,
                            round(left, 2),
                            round(page_height - top, 2),
                            round(right - left, 2),
                            round(top - bottom, 2),
                        )
                    )
            finally:
                page.close()
        finally:
            pdf.close()
    return pictures


# --- the result/json body ---------------------------------------------------------------

# A valid 1x1 PNG, served for the extra image names a test asks for.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)

_MARGIN = 72.0  # points around the text block of a page
_LINE = 14.0  # points per line of text
_CHARS_PER_LINE = 90


class NoDataError(ValueError):
    """The requested target pages are past the end of the document."""


def page_range(spec: str | None, total: int) -> list[int]:
    """0-based page indexes selected by a ``target_pages`` spec like ``"0-2,5"``.

    Example:
        >>> page_range("0-1,3", 10)
        [0, 1, 3]
    """
    if not spec:
        return list(range(total))
    selected: list[int] = []
    for part in spec.split(","):
        part = part.strip()
        if "-" in part:
            start, end = (int(x) for x in part.split("-", 1))
            selected.extend(range(start, end + 1))
        elif part:
            selected.append(int(part))
    return [i for i in dict.fromkeys(selected) if 0 <= i < total]


def _true(form: dict[str, str], name: str) -> bool:
    return str(form.get(name, "")).lower() == "true"


def _page_markdown(page: ParsedPage, reflow: bool, tables_as_html: bool) -> list[str | ParsedTable]:
    """The page's blocks as the service's markdown: prose reflowed, tables kept."""
    blocks: list[str | ParsedTable] = []
    for block in page.blocks:
        if isinstance(block, ParsedTable):
            blocks.append(block)
        elif block.strip():
            blocks.append(markdown_block(block) if reflow else block.strip())
    return blocks


def _items(blocks: list[str | ParsedTable], tables_as_html: bool) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for block in blocks:
        if isinstance(block, ParsedTable):
            items.append(
                {
                    "type": "table",
                    "rows": block.rows,
                    "md": block.to_markdown(),
                    "html": block.to_html(),
                    "csv": block.to_csv(),
                    "isPerfectTable": True,
                }
            )
            continue
        for paragraph in block.split("\n\n"):
            stripped = paragraph.strip()
            if not stripped:
                continue
            if stripped.startswith("#"):
                level = len(stripped) - len(stripped.lstrip("#"))
                value = stripped[level:].strip()
                items.append({"type": "heading", "lvl": level, "value": value, "md": stripped})
            else:
                items.append({"type": "text", "value": text_block(stripped), "md": stripped})
    return items


def _stack(items: list[dict[str, Any]], width: float, height: float) -> None:
    """Give every item a ``bBox``: stacked down the page in reading order (approximate)."""
    heights = []
    for item in items:
        if item["type"] == "table":
            heights.append(18.0 * max(len(item["rows"]), 1))
        else:
            heights.append(_LINE * (len(item["md"]) // _CHARS_PER_LINE + 1))
    gap = 6.0
    room = max(height - 2 * _MARGIN, 1.0)
    total = sum(heights) + gap * max(len(items) - 1, 0)
    scale = min(1.0, room / total) if total else 1.0
    y = _MARGIN
    for item, h in zip(items, heights, strict=True):
        item["bBox"] = {
            "x": _MARGIN,
            "y": round(y, 2),
            "w": round(width - 2 * _MARGIN, 2),
            "h": round(h * scale, 2),
        }
        y += (h + gap) * scale


def _label(item: dict[str, Any]) -> str:
    if item["type"] == "heading":
        return "title" if item.get("lvl") == 1 else "sectionHeader"
    return str(item["type"])


_CONFIDENCE = {"title": 0.93, "sectionHeader": 0.91, "text": 0.95, "table": 0.9, "picture": 0.88}


def _layout(
    items: list[dict[str, Any]], pictures: list[Picture], width: float, height: float, image: str | None
) -> list[dict[str, Any]]:
    boxes = [(_label(i), i["bBox"]) for i in items] + [("picture", p.box()) for p in pictures]
    return [
        {
            "image": image,
            "confidence": _CONFIDENCE.get(label, 0.9),
            "label": label,
            "bbox": {
                "x": round(box["x"] / width, 4),
                "y": round(box["y"] / height, 4),
                "w": round(box["w"] / width, 4),
                "h": round(box["h"] / height, 4),
            },
            "isLikelyNoise": False,
        }
        for label, box in boxes
    ]


def _image_entry(name: str, picture: Picture, kind: str | None) -> dict[str, Any]:
    return {
        "name": name,
        "height": picture.h,
        "width": picture.w,
        "x": picture.x,
        "y": picture.y,
        "original_width": picture.width,
        "original_height": picture.height,
        "type": kind,
    }


def _chart_entry(name: str, picture: Picture) -> dict[str, Any]:
    return {
        **_image_entry(name, picture, "chart"),
        "confidence": _CONFIDENCE["picture"],
        "items": [],  # the emulator reads no chart values
    }


def _tiny(name: str) -> dict[str, Any]:
    return _image_entry(name, Picture(TINY_PNG, 1, 1, 0.0, 0.0, 1.0, 1.0), None)


def build_parse_result(
    data: bytes, file_name: str, form: dict[str, str], extra_image_names: list[str] | None = None
) -> tuple[dict[str, Any], dict[str, bytes]]:
    """The JSON result of a parse job, and its images by name.

    The result has no top-level ``job_id`` or ``file_name``: the SDK rejects them.

    Raises:
        NoDataError: ``target_pages`` selects no page.
        CloudKitError: the local parser could not read the file.
    """
    pages = LocalParser(ocr="auto").parse(data, file_name).pages
    indexes = page_range(form.get("target_pages"), len(pages))
    if form.get("max_pages"):
        indexes = indexes[: int(form["max_pages"])]
    if not indexes:
        raise NoDataError("no page selected")
    tables_as_html = _true(form, "output_tables_as_HTML")
    is_pdf = file_name.lower().endswith(".pdf")
    want_layout, want_charts = _true(form, "extract_layout"), _true(form, "extract_charts")
    json_pages = []
    images: dict[str, bytes] = {}
    for index in indexes:
        page = pages[index]
        width, height = page.width or 612.0, page.height or 792.0
        blocks = _page_markdown(page, is_pdf, tables_as_html)
        items = _items(blocks, tables_as_html)
        _stack(items, width, height)
        pictures = (
            embedded_pictures(data, index) if is_pdf and (want_charts or _true(form, "save_images")) else []
        )
        entries: list[dict[str, Any]] = []
        screenshot: str | None = None
        if is_pdf and (_true(form, "take_screenshot") or want_layout):
            screenshot = f"page_{page.number}.jpg"
            shot = page_screenshot(data, index)
            images[screenshot] = shot.data
            entries.append(
                {
                    **_image_entry(screenshot, shot, "full_page_screenshot"),
                    "width": shot.width,
                    "height": shot.height,
                }
            )
        if _true(form, "save_images"):
            for n, picture in enumerate(pictures, start=1):
                name = f"img_p{index}_{n}.png"
                images[name] = picture.data
                entries.append(_image_entry(name, picture, None))
        charts = []
        if want_charts:
            for n, picture in enumerate(pictures, start=1):
                name = f"chart_p{index}_{n}.png"
                images[name] = picture.data
                charts.append(_chart_entry(name, picture))
        for raw in extra_image_names or []:
            name = raw.replace("{page}", str(page.number))
            images[name] = TINY_PNG
            entries.append(_tiny(name))
        markdown = "\n\n".join(
            (b.to_html() if tables_as_html else b.to_markdown()) if isinstance(b, ParsedTable) else b
            for b in blocks
        )
        text = "\n\n".join(
            b.to_text() if isinstance(b, ParsedTable) else text_block(b) for b in page.blocks if b
        ).strip()
        json_pages.append(
            {
                "page": page.number,
                "text": text,
                "md": markdown,
                "images": entries,
                "charts": charts,
                "tables": [],
                "layout": _layout(items, pictures, width, height, screenshot) if want_layout else [],
                "links": [],
                "items": items,
                "status": "OK",
                "width": width,
                "height": height,
                "structuredData": None,
                "noStructuredContent": False,
                "noTextContent": not page.blocks,
                "triggeredAutoMode": False,
                "parsingMode": form.get("parse_mode", "accurate").replace("ParsingMode.", ""),
            }
        )
    return {
        "pages": json_pages,
        "job_metadata": {
            "job_pages": len(json_pages),
            "job_auto_mode_triggered_pages": 0,
            "job_is_cache_hit": False,
            "emulated": True,
        },
    }, images
