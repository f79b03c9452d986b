"""Parse v2 results read as the v1-shaped result the engine reads, failed pages kept.

Failed pages (``success: false`` in ``markdown.pages`` or ``items.pages``) stay in the result as
pages of their own, with ``success: False`` and the service's ``error``; they are listed in
``job_metadata.failed_pages`` (cached with the result). They are never dropped: the file keeps
one Document per page. Pure functions, no HTTP: :mod:`.cloud_v2` fetches the answer.

Example:
    >>> failed_pages({"pages": [{"page": 1, "success": True},
    ...                         {"page": 2, "success": False, "error": "timeout"}]})
    [{'page': 2, 'error': 'timeout'}]
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from llama_index_cloudkit.errors import ServiceError

__all__ = ["failed_pages", "v1_shaped_result"]


def _pages_of(body: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    section = body.get(key)
    if section is None:
        return []
    pages = section.get("pages") if isinstance(section, Mapping) else None
    if not isinstance(pages, list) or not all(isinstance(p, Mapping) for p in pages):
        raise ServiceError(f"The Parse v2 result's '{key}' has no list of pages")
    return pages


def _number(page: Mapping[str, Any]) -> int:
    number = page.get("page_number")
    if isinstance(number, bool) or not isinstance(number, int):
        raise ServiceError(f"A Parse v2 result page has no page_number ({number!r})")
    return number


def _credits(body: Mapping[str, Any]) -> float | None:
    job = body.get("job")
    for usage in (body.get("usage"), job.get("usage") if isinstance(job, Mapping) else None):
        if isinstance(usage, Mapping):
            credits = usage.get("credits")
            if isinstance(credits, (int, float)) and not isinstance(credits, bool):
                return float(credits)
    return None


_PAGE_IN_NAME = re.compile(r"page[_-]?(\d+)", re.I)


def v1_shaped_result(body: Mapping[str, Any], *, tier: str, version: str) -> dict[str, Any]:
    """A ``GET /api/v2/parse/{id}?expand=...`` answer as the v1-shaped result the engine reads.

    Pages come from ``markdown.pages`` (``text.pages`` on the fast tier), joined by page number
    with ``text``, ``items`` and ``metadata``; a failed page keeps its place with
    ``success: False`` and ``error``. Images are placed on the page their file name names
    (``page_3.jpg``, the screenshots); v2 gives no page for other images, so they are listed in
    ``job_metadata.images_without_page``. ``job_metadata`` also holds pages, credits, tier,
    version and failed pages.

    Raises:
        ServiceError: an answer without pages or of another shape.

    Example:
        >>> body = {"job": {"id": "pjb-1", "status": "COMPLETED", "usage": {"credits": 20}},
        ...         "markdown": {"pages": [{"page_number": 1, "markdown": "# A", "success": True},
        ...                                {"page_number": 2, "error": "timeout", "success": False}]}}
        >>> result = v1_shaped_result(body, tier="agentic", version="2026-10-16")
        >>> [(p["page"], p["md"], p["success"]) for p in result["pages"]]
        [(1, '# A', True), (2, '', False)]
        >>> result["job_metadata"]["credits"], result["job_metadata"]["failed_pages"]
        (20.0, [{'page': 2, 'error': 'timeout'}])
    """
    pages: dict[int, dict[str, Any]] = {}

    def page(number: int) -> dict[str, Any]:
        return pages.setdefault(
            number, {"page": number, "md": "", "text": "", "items": [], "images": [], "success": True}
        )

    for entry in _pages_of(body, "markdown"):
        target = page(_number(entry))
        if entry.get("success") is False:
            target.update(success=False, error=str(entry.get("error") or "no message"))
        else:
            target["md"] = str(entry.get("markdown") or "")
    for entry in _pages_of(body, "text"):
        page(_number(entry))["text"] = str(entry.get("text") or "")
    for entry in _pages_of(body, "items"):
        target = page(_number(entry))
        if entry.get("success") is False:
            target.update(success=False, error=str(entry.get("error") or target.get("error") or "no message"))
            continue
        target["width"], target["height"] = entry.get("page_width"), entry.get("page_height")
        target["items"] = [dict(i) for i in entry.get("items") or [] if isinstance(i, Mapping)]
    for entry in _pages_of(body, "metadata"):
        target = page(_number(entry))
        for key in ("confidence", "printed_page_number"):
            if entry.get(key) is not None:
                target[key] = entry[key]
    images = body.get("images_content_metadata")
    unplaced: list[str] = []
    for image in (images.get("images") or []) if isinstance(images, Mapping) else []:
        name = str(image.get("filename") or "") if isinstance(image, Mapping) else ""
        match = _PAGE_IN_NAME.search(name)
        if match and int(match.group(1)) in pages:
            pages[int(match.group(1))]["images"].append(
                {"name": name, "category": image.get("category"), "url": image.get("presigned_url")}
            )
        elif name:
            unplaced.append(name)  # v2 lists no page for an embedded image
    if not pages and body.get("text_full") is None and body.get("markdown_full") is None:
        raise ServiceError("The Parse v2 result has no pages (markdown, text or items)")
    ordered = [pages[n] for n in sorted(pages)]
    failed = [{"page": p["page"], "error": p["error"]} for p in ordered if p["success"] is False]
    job = body.get("job") if isinstance(body.get("job"), Mapping) else {}
    metadata: dict[str, Any] = {
        "api_version": "v2",
        "tier": tier,
        "version": version,
        "job_pages": len(ordered),
        "failed_pages": failed,
    }
    if unplaced:
        metadata["images_without_page"] = unplaced
    credits = _credits(body)
    if credits is not None:
        metadata["credits"] = credits
    if isinstance(job, Mapping) and job.get("id"):
        metadata["job_id"] = job["id"]
    return {"pages": ordered, "job_metadata": metadata}


def failed_pages(result: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The pages of a (v1-shaped) result that the service could not parse, with its error.

    Example:
        >>> failed_pages({"pages": [{"page": 1, "success": True},
        ...                         {"page": 2, "success": False, "error": "timeout"}]})
        [{'page': 2, 'error': 'timeout'}]
    """
    return [
        {"page": p.get("page"), "error": p.get("error") or "no message"}
        for p in result.get("pages") or []
        if isinstance(p, Mapping) and p.get("success") is False
    ]
