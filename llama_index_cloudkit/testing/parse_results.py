"""Parse results in LlamaParse's JSON shape, computed by the local parser.

Example:
    >>> result, images = build_parse_result(b"# Title\\n\\nBody", "notes.md", form={})
    >>> result["pages"][0]["md"], result["job_metadata"]["job_pages"]
    ('# Title\\n\\nBody', 1)
"""

from __future__ import annotations

from typing import Any

from llama_index_cloudkit.parse.local import LocalParser
from llama_index_cloudkit.parse.model import ParsedPage, ParsedTable

__all__ = ["NoDataError", "build_parse_result", "page_range"]


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


def _items(page: ParsedPage, tables_as_html: bool) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    for block in page.blocks:
        if isinstance(block, ParsedTable):
            items.append(
                {
                    "type": "table",
                    "rows": block.rows,
                    "md": block.to_markdown(),
                    "html": block.to_html(),
                    "csv": block.to_csv(),
                    "isPerfectTable": True,
                    "bBox": {"x": 0, "y": 0, "w": 0, "h": 0},
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
                items.append({"type": "text", "value": stripped, "md": stripped})
    return items


def _true(form: dict[str, str], name: str) -> bool:
    return str(form.get(name, "")).lower() == "true"


def page_screenshot_jpeg(data: bytes, index: int) -> bytes:
    """A JPEG render of page ``index`` (0-based) of a PDF; IndexError past the end."""
    return _screenshot(data, index)


def _screenshot(data: bytes, index: int) -> bytes:
    import io

    import pypdfium2

    from llama_index_cloudkit.parse.local.pdf import PDFIUM_LOCK, render_page

    with PDFIUM_LOCK:
        pdf = pypdfium2.PdfDocument(data)
        try:
            if not 0 <= index < len(pdf):
                raise IndexError(index)
            page = pdf[index]
            try:
                image = render_page(page, 1).convert("RGB")
            finally:
                page.close()
        finally:
            pdf.close()
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=70)
    return out.getvalue()


# A valid 1x1 PNG, served for the extra image names a test asks for.
TINY_PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def page_images(
    data: bytes, file_name: str, form: dict[str, str], index: int, extra_names: list[str]
) -> dict[str, bytes]:
    """Images of one page: a screenshot with ``take_screenshot``, plus test-provided names.

    Example:
        >>> sorted(page_images(b"", "a.md", {}, 0, ["x.png"]))
        ['x.png']
    """
    images = {name: TINY_PNG for name in extra_names}
    if _true(form, "take_screenshot") and file_name.lower().endswith(".pdf"):
        images[f"page_{index + 1}.jpg"] = _screenshot(data, index)
    return images


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
    json_pages = []
    images: dict[str, bytes] = {}
    for index in indexes:
        page = pages[index]
        own = page_images(
            data,
            file_name,
            form,
            index,
            [n.replace("{page}", str(page.number)) for n in extra_image_names or []],
        )
        images.update(own)
        json_pages.append(
            {
                "page": page.number,
                "text": page.text(),
                "md": page.markdown(tables_as_html=tables_as_html),
                "images": [
                    {
                        "name": name,
                        "height": 1,
                        "width": 1,
                        "x": 0,
                        "y": 0,
                        "original_width": 1,
                        "original_height": 1,
                        "type": "full_page_screenshot" if name.startswith("page_") else None,
                    }
                    for name in own
                ],
                "charts": [],
                "tables": [],
                "layout": [],
                "links": [],
                "items": _items(page, tables_as_html),
                "status": "OK",
                "width": page.width or 612,
                "height": page.height or 792,
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
