"""The cloud backend: LlamaParse through the cloud core, one adapter per API generation.

- :mod:`.engine`: the :class:`~.engine.ParseService` protocol and the engine (cache, in-flight
  claims, the core's job lifecycle, budget, images).
- :mod:`.llamaparse_v1`: LlamaParse v1 (the only module importing llama_cloud_services' parser).
- :mod:`.llamaparse_v2`: LlamaParse on API v2 (plain HTTP: tiers, pinned versions).
- :mod:`.files`: the Files API upload and the paid submission, shared with Extract v2.
- :mod:`.backend`: the reader's cloud backend (inputs -> jobs -> Documents and the report).
- :mod:`.lookahead`: which files a SimpleDirectoryReader run hands over next.

``CloudKitSettings.api_version`` is read here, once: :func:`parse_service` picks the adapter.

Example:
    >>> from llama_index_cloudkit.parse.presets import ParsePreset
    >>> parse_service(CloudKitSettings(api_version="v2"), ParsePreset.FAST, {}).credits_per_page
    1
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from llama_index_cloudkit.settings import CloudKitSettings

if TYPE_CHECKING:
    from llama_index_cloudkit.parse.llamacloud.engine import ParseService
    from llama_index_cloudkit.parse.presets import ParsePreset

__all__ = ["parse_service"]


def parse_service(
    settings: CloudKitSettings, preset: ParsePreset, options: Mapping[str, Any]
) -> ParseService:
    """The parse service of the configured API generation, for one preset and options.

    Raises:
        ConfigError: ``fast`` on v1, an unknown option or value, or one v2 cannot carry.

    Example:
        >>> from llama_index_cloudkit.parse.presets import ParsePreset
        >>> parse_service(CloudKitSettings(api_version="v1"), ParsePreset.AGENTIC, {}).presets[-1].value
        'agentic_plus'
    """
    if settings.api_version == "v2":
        from llama_index_cloudkit.parse.llamacloud.llamaparse_v2 import LlamaParseV2

        # v2 keys name their generation (v1 keys predate v2 and stay as they were)
        return LlamaParseV2(preset, options, cache_tag={"api_version": settings.api_version})
    from llama_index_cloudkit.parse.llamacloud.llamaparse_v1 import LlamaParseV1

    return LlamaParseV1(settings, preset, options)
