"""LlamaExtract as one protocol, with one adapter per API generation.

:class:`ExtractionService` is what the extraction tool needs of LlamaExtract: check a
configuration, look up a saved setup, and extract with a schema or with a saved setup. Two
adapters implement it, and only they know a route, a body field or a status word; both return
:class:`~llama_index_cloudkit.extract.model.ExtractResult`:

- :class:`~.llamaextract_v1.LlamaExtractV1`: stateless extraction, saved agents, and the agent
  queue (agents and the queue exist on v1 only: ``ExtractionToolSpec`` always uses v1);
- :class:`~.llamaextract_v2.LlamaExtractV2`: Extract v2, saved configurations.

:func:`extraction_service` reads ``settings.api_version`` (the one place extraction does) and
makes the matching adapter. A third generation is one more adapter and one more branch here.

Example:
    >>> from llama_index_cloudkit.settings import CloudKitSettings
    >>> settings = CloudKitSettings(api_key="llx-test", api_version="v2")
    >>> type(extraction_service(settings)).__name__
    'LlamaExtractV2'
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any, Protocol

import httpx

from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.extract.llamacloud.llamaextract_v1 import LlamaExtractV1
from llama_index_cloudkit.extract.llamacloud.llamaextract_v2 import LlamaExtractV2
from llama_index_cloudkit.extract.model import ExtractResult, SavedExtraction
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["ExtractionService", "LlamaExtractV1", "LlamaExtractV2", "extraction_service"]


class ExtractionService(Protocol):
    """What the extraction tool needs of LlamaExtract, whatever the API generation.

    Example:
        >>> from llama_index_cloudkit.settings import CloudKitSettings
        >>> service: ExtractionService = extraction_service(CloudKitSettings(api_key="llx-test"))
        >>> service.check_config({"extraction_mode": "FAST"})
        {'extraction_mode': 'FAST'}
    """

    def check_config(self, config: Mapping[str, Any] | None) -> dict[str, Any]:
        """The configuration, checked before anything is sent (None: the service's default)."""
        ...

    def saved(self, ref: Any) -> SavedExtraction:
        """A saved setup (v1 agent, v2 configuration) by name or id, or from an object."""
        ...

    def extract(
        self,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """One extraction of a file or a text with a JSON schema and a checked configuration."""
        ...

    async def aextract(
        self,
        schema: Mapping[str, Any] | None,
        config: Mapping[str, Any],
        *,
        file_path: str | os.PathLike[str] | None = None,
        text: str | None = None,
    ) -> ExtractResult:
        """:meth:`extract` in the running event loop."""
        ...

    def extract_saved(
        self, ref: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """One extraction with a saved setup."""
        ...

    async def aextract_saved(
        self, ref: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """:meth:`extract_saved` in the running event loop."""
        ...


def extraction_service(
    settings: CloudKitSettings,
    policy: CloudPolicy | None = None,
    *,
    journal: JobJournal | str | None = "default",
    transport: httpx.AsyncBaseTransport | None = None,
) -> ExtractionService:
    """The LlamaExtract adapter of ``settings.api_version`` (``v1`` or ``v2``).

    Args:
        settings: key, endpoint, project, organization and API generation.
        policy: retries, timeouts, job deadline and polling (default: :class:`CloudPolicy`).
        journal: where job ids are written before polling (``"default"``: ``journal.sqlite`` in
            the cache directory; None disables re-attaching).
        transport: the HTTP transport under the core's resilient one (tests).

    Example:
        >>> from llama_index_cloudkit.settings import CloudKitSettings
        >>> type(extraction_service(CloudKitSettings(api_key="llx-test"))).__name__
        'LlamaExtractV1'
    """
    adapter = LlamaExtractV2 if settings.api_version == "v2" else LlamaExtractV1
    return adapter(settings, policy, journal=journal, transport=transport)
