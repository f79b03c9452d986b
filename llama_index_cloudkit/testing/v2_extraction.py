"""What an Extract v2 job reports: data, ``extract_metadata`` (citations, confidence) and usage.

The data comes from the same places as v1 extraction, first found wins: a v2 served fixture
(``serve_v2_fixture(kind="extract")``: ``extract_result``, ``extract_metadata``, ``usage``), a v1
served extract fixture (``data``, ``extraction_metadata.field_metadata``), the test's
``on_extract`` responder, or data shaped like the schema. ``cite_sources`` and
``confidence_scores`` fill ``extract_metadata.field_metadata.document_metadata`` per top-level
field: ``citation`` (the page where the value's text occurs, with ``matching_text``, empty
``bounding_boxes`` and the page's ``page_dimensions``), ``confidence``, ``extraction_confidence``
and ``parsing_confidence``.

Credits per page (the emulator's table): extract tier turbo 1, cost_effective 3, agentic 10,
agentic_plus 45; plus the parse tier's parse credits when the input is a file (a parse job id
as input is not parsed again).

Not emulated (501): ``extraction_target: per_table_row``; ``page_metadata`` / ``row_metadata``;
nested citations (arrays, nested objects).

Example:
    >>> found = document_metadata({"title": "Care"}, ["Llama Care"], {"cite_sources": True})
    >>> found["title"]["citation"][0]["page"]
    1
"""

from __future__ import annotations

from typing import Any

from llama_index_cloudkit.testing.extraction import empty_like, field_metadata
from llama_index_cloudkit.testing.v2_parse_results import CREDITS_PER_PAGE
from llama_index_cloudkit.testing.v2_state import V2ExtractJob
from llama_index_cloudkit.testing.wire import NotEmulated

__all__ = [
    "EXTRACT_CREDITS_PER_PAGE",
    "EXTRACT_TIERS",
    "document_metadata",
    "fill_extract_job",
    "selected_pages",
]

EXTRACT_TIERS = ("cost_effective", "agentic", "agentic_plus", "turbo")
EXTRACT_CREDITS_PER_PAGE = {"turbo": 1, "cost_effective": 3, "agentic": 10, "agentic_plus": 45}
_PAGE_DIMENSIONS = {"width": 612.0, "height": 792.0}


def selected_pages(pages: list[str], target_pages: str | None, max_pages: int | None) -> list[str]:
    """The pages an extraction reads; the others become empty, so page numbers stay true.

    Example:
        >>> selected_pages(["a", "b", "c"], "1,3", None)
        ['a', '', 'c']
    """
    keep = set(range(1, len(pages) + 1))
    if target_pages:
        keep = set()
        for raw in str(target_pages).split(","):
            part = raw.strip()
            if "-" in part:
                start, end = (int(x) for x in part.split("-", 1))
                keep.update(range(start, end + 1))
            elif part:
                keep.add(int(part))
    if max_pages is not None:
        keep = set(sorted(keep)[: int(max_pages)])
    return [page if number in keep else "" for number, page in enumerate(pages, start=1)]


def document_metadata(data: Any, pages: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """``field_metadata.document_metadata`` for the flags set in ``config``.

    Example:
        >>> document_metadata({"n": "x"}, ["x"], {"confidence_scores": True})["n"]["parsing_confidence"]
        0.95
    """
    flags = {k: bool(config.get(k)) for k in ("cite_sources", "confidence_scores")}
    found = field_metadata(data, pages, flags)
    for entry in found.values():
        for citation in entry.get("citation", []):
            citation.setdefault("bounding_boxes", [])
            citation.setdefault("page_dimensions", dict(_PAGE_DIMENSIONS))
        if flags["confidence_scores"]:
            entry["parsing_confidence"] = 0.95
    return found


def fill_extract_job(
    job: V2ExtractJob,
    pages: list[str],
    *,
    v2_fixture: dict[str, Any] | None,
    v1_fixture: dict[str, Any] | None,
    responder: Any,
    parse_job_id: str | None,
) -> None:
    """Set the job's result, ``extract_metadata``, ``usage`` and ``metadata``.

    Raises:
        NotEmulated: ``extraction_target: per_table_row``.
    """
    config = job.configuration
    schema = config.get("data_schema") or {}
    target = config.get("extraction_target") or "per_doc"
    if target == "per_table_row":
        raise NotEmulated("extraction_target per_table_row")
    pages = selected_pages(pages, config.get("target_pages"), config.get("max_pages"))
    read = [p for p in pages if p]
    metadata: dict[str, Any] = {}
    data: Any
    if v2_fixture is not None:
        data = v2_fixture.get("extract_result")
        metadata = dict(v2_fixture.get("extract_metadata") or {})
    elif v1_fixture is not None:
        data = v1_fixture.get("data")
        field = (v1_fixture.get("extraction_metadata") or {}).get("field_metadata") or {}
        metadata = {"field_metadata": {"document_metadata": field}}
    elif target == "per_page":
        data = [responder(schema, config, p) if responder else empty_like(schema) for p in pages]
    else:
        data = responder(schema, config, "\n\n".join(read)) if responder else empty_like(schema)
    if v2_fixture is None and v1_fixture is None:
        metadata = {"field_metadata": {"document_metadata": {}}}
        if target == "per_doc" and (config.get("cite_sources") or config.get("confidence_scores")):
            metadata["field_metadata"]["document_metadata"] = document_metadata(data, pages, config)
    metadata.setdefault("parse_job_id", parse_job_id)
    metadata.setdefault("parse_tier", config.get("parse_tier"))
    tier = str(config.get("tier") or "cost_effective")
    extract_credits = EXTRACT_CREDITS_PER_PAGE.get(tier, 0) * len(read)
    parse_tier = str(config.get("parse_tier") or "cost_effective")
    parse_credits = 0 if parse_job_id else CREDITS_PER_PAGE.get(parse_tier, 0) * len(read)
    usage = {
        "credits": extract_credits + parse_credits,
        "extract_credits": extract_credits,
        "parse_credits": parse_credits,
    }
    if v2_fixture is not None and isinstance(v2_fixture.get("usage"), dict):
        usage = v2_fixture["usage"]
    job.result, job.extract_metadata, job.usage = data, metadata, usage
    job.metadata = {"usage": {"num_pages_billed": len(read), "num_pages_extracted": len(read)}}
