"""Which API generation parses: the adapter protocol, the cache key's options, reported usage.

v1 is llama-cloud-services' routes (:mod:`llama_index_cloudkit.parse.cloud`), v2 LlamaCloud's
current API (:mod:`llama_index_cloudkit.parse.cloud_v2`); ``CloudKitSettings.api_version``
chooses. The batch engine (:mod:`llama_index_cloudkit.parse.cloud_backend`) only sees
:class:`ParseAdapter`.

Example:
    >>> key_options(CloudKitSettings(api_version="v1"), ParsePreset.AGENTIC, {"max_pages": 2})
    {'max_pages': 2}
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

from llama_index_cloudkit.cloud.errors import JobState
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.parse.cloud import LlamaParseAdapter
from llama_index_cloudkit.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["ParseAdapter", "credits_per_page", "key_options", "parse_adapter", "reported_usage"]


def credits_per_page(settings: CloudKitSettings, preset: ParsePreset, options: Mapping[str, Any]) -> int:
    """What one page costs: the preset's price, or on v2 the price of the tier actually asked for.

    Example:
        >>> credits_per_page(CloudKitSettings(api_version="v1"), ParsePreset.AGENTIC, {})
        10
    """
    if settings.api_version == "v2":
        from llama_index_cloudkit.parse.cloud_v2 import v2_tier

        return int(v2_tier(preset, options)[0].credits_per_page)
    return preset.credits_per_page


def key_options(
    settings: CloudKitSettings, preset: ParsePreset, options: Mapping[str, Any]
) -> dict[str, Any]:
    """What, beside the bytes, makes a parse result: the options, and on v2 the tier and version.

    v1 keys are the options alone, so caches written before v2 existed stay valid.

    Example:
        >>> key_options(CloudKitSettings(api_version="v1"), ParsePreset.AGENTIC, {"max_pages": 2})
        {'max_pages': 2}
    """
    if settings.api_version == "v2":
        from llama_index_cloudkit.parse.cloud_v2 import v2_key_options

        return v2_key_options(preset, options)
    return dict(options)


class ParseAdapter(Protocol):
    """What the batch engine needs from an API generation's parse adapter."""

    async def submit(self, data: bytes, file_name: str) -> str:
        """Submit the file once; the job id."""
        ...

    async def state(self, job_id: str, file_name: str) -> tuple[JobState, dict[str, Any]]:
        """One status poll (404: JobLostError)."""
        ...

    async def result(self, job_id: str, file_name: str) -> dict[str, Any]:
        """The finished job's result, v1-shaped (``pages``, ``job_metadata``)."""
        ...

    async def image(self, job_id: str, name: str, file_name: str) -> bytes:
        """One image of the finished job, by the name its result lists."""
        ...


def parse_adapter(
    settings: CloudKitSettings, preset: ParsePreset, options: Mapping[str, Any], session: CloudSession
) -> ParseAdapter:
    """The adapter of the configured API generation (v1: llama-cloud-services' routes; v2: plain HTTP).

    Every adapter offers ``submit``, ``state``, ``result`` (a v1-shaped result: ``pages`` with
    ``page``, ``md``, ``text``, ``items``, ``images``; ``job_metadata``) and ``image``.
    """
    if settings.api_version == "v2":
        from llama_index_cloudkit.parse.cloud_v2 import LlamaParseV2Adapter

        adapter: ParseAdapter = LlamaParseV2Adapter(settings, preset, options, session)
        return adapter
    return LlamaParseAdapter(settings, preset, options, session)


def reported_usage(result: Mapping[str, Any], preset: ParsePreset) -> tuple[int | None, float | None]:
    """(pages, credits) the service reported for a job, where it reports them.

    v1 reports billed pages (``job_metadata.job_pages``), so credits are those pages times the
    preset's price; v2 reports credits (``job_metadata.credits``, from the job's usage).

    Example:
        >>> reported_usage({"job_metadata": {"job_pages": 3}}, ParsePreset.AGENTIC)
        (3, 30.0)
    """
    metadata = result.get("job_metadata")
    if not isinstance(metadata, Mapping):
        return None, None
    pages = metadata.get("job_pages")
    pages = int(pages) if isinstance(pages, (int, float)) and not isinstance(pages, bool) else None
    credits = metadata.get("credits")
    if isinstance(credits, (int, float)) and not isinstance(credits, bool):
        return pages, float(credits)
    return pages, (float(pages * preset.credits_per_page) if pages is not None else None)
