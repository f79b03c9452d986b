"""Parse results in LlamaParse's JSON shape, computed by the local parser.

What the emulator makes of the form fields:

- ``text`` keeps the layout's line breaks and no markdown syntax; ``md`` reflows PDF prose into
  one line per paragraph (:mod:`.page_text`), so the two differ as they do on the service.
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

from typing import Any

from llama_index_cloudkit.parse.local import LocalParser
from llama_index_cloudkit.parse.model import ParsedPage, ParsedTable
from llama_index_cloudkit.testing.page_text import markdown_block, text_block
from llama_index_cloudkit.testing.pdf_pictures import Picture, embedded_pictures, page_screenshot

__all__ = ["TINY_PNG", "NoDataError", "build_parse_result", "page_range", "page_screenshot_jpeg"]

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


def page_screenshot_jpeg(data: bytes, index: int) -> bytes:
    """A JPEG render of page ``index`` (0-based) of a PDF; IndexError past the end.

    Example:
        >>> page_screenshot_jpeg(pdf_bytes, 0)[:2]  # doctest: +SKIP
        b'\\xff\\xd8'
    """
    return page_screenshot(data, index).data


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
