"""Parse v2 results: the local parser's output (:mod:`.parse_results`) in v2's shapes.

A v2 job is computed as a v1 job would be (same parser, same pages), from a v1 form translated
from the v2 request (:func:`v1_form`), and its v1-shaped result is then answered per ``expand``
value (:func:`expanded_sections`): ``markdown.pages`` (``{page_number, markdown, success}``, or
``{page_number, error, success: false}`` for a failed page), ``text.pages``, ``markdown_full``,
``text_full``, ``items.pages``, ``metadata``, ``job_metadata`` and ``usage``.

Credits per page, by tier (the emulator's table; LlamaCloud's prices may differ):
fast 1, cost_effective 3, agentic 10, agentic_plus 45. Failed pages are not billed.

Example:
    >>> v1_form({"page_ranges": {"target_pages": "1,3-4"}})["target_pages"]
    '0,2-3'
    >>> result = {"pages": [{"page": 1, "md": "# Hi", "text": "Hi", "items": []}]}
    >>> expanded_sections(result, ["markdown"], tier="agentic", version="2026-10-16")["markdown"]
    {'pages': [{'page_number': 1, 'markdown': '# Hi', 'success': True}]}
"""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from llama_index_cloudkit.testing.wire import BadRequest

__all__ = [
    "CREDITS_PER_PAGE",
    "EXPAND_VALUES",
    "LATEST_VERSIONS",
    "NOT_ON_FAST",
    "TIERS",
    "VERSIONS",
    "expanded_sections",
    "resolve_version",
    "v1_form",
    "v2_item",
]

TIERS = ("fast", "cost_effective", "agentic", "agentic_plus")
CREDITS_PER_PAGE = {"fast": 1, "cost_effective": 3, "agentic": 10, "agentic_plus": 45}
# What ``latest`` resolves to in llama-cloud 2.19.0's docstring (reference, section 2).
LATEST_VERSIONS = {
    "fast": "2026-06-15",
    "cost_effective": "2026-09-28",
    "agentic": "2026-10-16",
    "agentic_plus": "2026-09-28",
}
VERSIONS: dict[str, list[str]] = {tier: [pin] for tier, pin in LATEST_VERSIONS.items()}
INLINE_EXPANDS = (
    "markdown",
    "text",
    "markdown_full",
    "text_full",
    "items",
    "metadata",
    "job_metadata",
    "usage",
    "images_content_metadata",
)
NOT_EMULATED_EXPANDS = (
    "markdown_content_metadata",
    "text_content_metadata",
    "items_content_metadata",
    "metadata_content_metadata",
    "job_metadata_content_metadata",
    "forms",
)
EXPAND_VALUES = INLINE_EXPANDS + NOT_EMULATED_EXPANDS
NOT_ON_FAST = ("markdown", "markdown_full", "items")


def resolve_version(tier: str, version: str) -> str:
    """The dated version a job runs: ``latest`` resolved, a pin checked against the tier's list.

    Raises:
        BadRequest: an unknown tier, or a pin the tier does not offer (422).

    Example:
        >>> resolve_version("agentic", "latest")
        '2026-10-16'
    """
    if tier not in TIERS:
        raise BadRequest(["body", "tier"], f"Input should be {', '.join(map(repr, TIERS))}", "enum")
    if version == "latest":
        return LATEST_VERSIONS[tier]
    if version not in VERSIONS[tier]:
        allowed = ", ".join(["latest", *VERSIONS[tier]])
        raise BadRequest(["body", "version"], f"Unknown version {version!r} for tier {tier!r}: use {allowed}")
    return version


def _one_based_to_v1(spec: str) -> str:
    """``"1,3,5-8"`` (v2, 1-based) as the v1 form's 0-based ``"0,2,4-7"``."""
    parts = []
    for raw in spec.split(","):
        part = raw.strip()
        if not part:
            continue
        try:
            if "-" in part:
                start, end = (int(x) for x in part.split("-", 1))
                parts.append(f"{start - 1}-{end - 1}")
            else:
                parts.append(str(int(part) - 1))
        except ValueError:
            raise BadRequest(
                ["body", "page_ranges", "target_pages"], f"Invalid page range {spec!r}", "value_error"
            ) from None
    return ",".join(parts)


def v1_form(config: dict[str, Any]) -> dict[str, str]:
    """The v1 upload form that makes the local parser produce what a v2 request asks for.

    Example:
        >>> v1_form({"output_options": {"images_to_save": ["screenshot"]}})["take_screenshot"]
        'true'
    """
    form: dict[str, str] = {"save_images": "false"}
    ranges = config.get("page_ranges") or {}
    if ranges.get("target_pages"):
        form["target_pages"] = _one_based_to_v1(str(ranges["target_pages"]))
    elif ranges.get("max_pages") is not None:  # target_pages wins when both are set
        form["max_pages"] = str(int(ranges["max_pages"]))
    output = config.get("output_options") or {}
    saved = output.get("images_to_save") or []
    if "screenshot" in saved:
        form["take_screenshot"] = "true"
    if "embedded" in saved:
        form["save_images"] = "true"
    tables = ((output.get("markdown") or {}).get("tables")) or {}
    if tables.get("output_tables_as_markdown") is False:
        form["output_tables_as_HTML"] = "true"
    return form


def v2_item(item: dict[str, Any]) -> dict[str, Any]:
    """A v1 page item as a v2 ``items`` entry (``type`` discriminated; ``bbox`` lower case).

    Example:
        >>> v2_item({"type": "heading", "lvl": 2, "value": "Care", "md": "## Care"})
        {'type': 'heading', 'md': '## Care', 'value': 'Care', 'level': 2}
    """
    kind = str(item.get("type") or "text")
    answer: dict[str, Any] = {"type": kind, "md": item.get("md", "")}
    if kind == "table":
        for key in ("html", "csv", "rows"):
            if key in item:
                answer[key] = item[key]
    else:
        answer["value"] = item.get("value", item.get("md", ""))
    if kind == "heading":
        answer["level"] = item.get("lvl", item.get("level", 1))
    box = item.get("bBox") or item.get("bbox")
    if isinstance(box, dict):
        answer["bbox"] = {k: box.get(k) for k in ("x", "y", "w", "h")}
    return answer


def _pages(result: dict[str, Any]) -> list[dict[str, Any]]:
    return [p for p in result.get("pages") or [] if isinstance(p, dict)]


def _number(page: dict[str, Any], index: int) -> int:
    return int(page.get("page") or page.get("page_number") or index + 1)


def expanded_sections(
    result: dict[str, Any],
    expand: Sequence[str],
    *,
    tier: str,
    version: str,
    failed_pages: Collection[int] = (),
    page_error: str = "Emulated page failure",
) -> dict[str, Any]:
    """The sections of ``GET /api/v2/parse/{job_id}`` that ``expand`` asks for, from a v1 result.

    ``images_content_metadata`` is left to the route (it needs signed URLs).

    Example:
        >>> expanded_sections({"pages": []}, ["usage"], tier="fast", version="2026-06-15")
        {'usage': {'credits': 0, 'num_pages': 0}}
    """
    pages = _pages(result)
    numbered = [(_number(p, i), p) for i, p in enumerate(pages)]
    ok = [(n, p) for n, p in numbered if n not in failed_pages]
    answer: dict[str, Any] = {}
    for value in expand:
        if value == "markdown":
            answer["markdown"] = {
                "pages": [
                    {"page_number": n, "error": page_error, "success": False}
                    if n in failed_pages
                    else {"page_number": n, "markdown": str(p.get("md") or ""), "success": True}
                    for n, p in numbered
                ]
            }
        elif value == "text":
            answer["text"] = {
                "pages": [
                    {"page_number": n, "text": "" if n in failed_pages else str(p.get("text") or "")}
                    for n, p in numbered
                ]
            }
        elif value == "markdown_full":
            answer["markdown_full"] = "\n\n".join(str(p.get("md") or "") for _, p in ok)
        elif value == "text_full":
            answer["text_full"] = "\n\n".join(str(p.get("text") or "") for _, p in ok)
        elif value == "items":
            answer["items"] = {
                "pages": [
                    {"page_number": n, "error": page_error, "success": False}
                    if n in failed_pages
                    else {
                        "page_number": n,
                        "page_width": p.get("width") or 612.0,
                        "page_height": p.get("height") or 792.0,
                        "success": True,
                        "items": [v2_item(i) for i in p.get("items") or [] if isinstance(i, dict)],
                    }
                    for n, p in numbered
                ]
            }
        elif value == "metadata":
            answer["metadata"] = {
                "pages": [
                    {"page_number": n, "confidence": 0.0 if n in failed_pages else 0.95} for n, _ in numbered
                ],
                "document": {"confidence": 0.95 if ok else 0.0},
            }
        elif value == "job_metadata":
            answer["job_metadata"] = {
                **(result.get("job_metadata") or {}),
                "job_pages": len(numbered),
                "tier": tier,
                "version": version,
                "emulated": True,
            }
        elif value == "usage":
            answer["usage"] = {"credits": CREDITS_PER_PAGE.get(tier, 0) * len(ok), "num_pages": len(ok)}
    return answer
