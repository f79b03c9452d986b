"""LlamaIndex instrumentation events for parse, extract and retrieve.

Subscribe with any ``llama_index.core.instrumentation`` event handler, for example:

Example:
    >>> from llama_index.core.instrumentation import get_dispatcher
    >>> from llama_index.core.instrumentation.event_handlers import BaseEventHandler
    >>> class Printer(BaseEventHandler):
    ...     def handle(self, event, **kwargs):
    ...         if isinstance(event, ParseFileEndEvent):
    ...             print(event.file, event.pages, event.cache_hit)
    >>> get_dispatcher().add_event_handler(Printer())
    >>> from llama_index_cloudkit import CloudKitReader
    >>> _ = CloudKitReader(backend="local").load_data(b"# Hi", extra_info={"file_name": "a.md"})
    a.md 1 False
    >>> get_dispatcher().event_handlers.pop() and None
"""

from __future__ import annotations

from typing import Any

from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.events import BaseEvent
from pydantic import Field

__all__ = [
    "ExtractEndEvent",
    "ParseFileEndEvent",
    "RetrieveEndEvent",
    "dispatcher",
]

dispatcher = get_dispatcher("llama_index_cloudkit")


class ParseFileEndEvent(BaseEvent):
    """A file was parsed (or failed): file, backend, job id, pages, cache hit, error."""

    file: str
    backend: str
    job_id: str | None = None
    pages: int = 0
    cache_hit: bool = False
    error: str | None = None

    @classmethod
    def class_name(cls) -> str:
        """The event's name."""
        return "CloudKitParseFileEndEvent"


class ExtractEndEvent(BaseEvent):
    """An extraction ended: tool, backend, file (if any), job id, success."""

    tool: str
    backend: str
    file: str | None = None
    job_id: str | None = None
    ok: bool = True
    error: str | None = None

    @classmethod
    def class_name(cls) -> str:
        """The event's name."""
        return "CloudKitExtractEndEvent"


class RetrieveEndEvent(BaseEvent):
    """A local hybrid search ended: query, settings used, number of results."""

    query: str
    alpha: float
    results: int
    settings: dict[str, Any] = Field(default_factory=dict)

    @classmethod
    def class_name(cls) -> str:
        """The event's name."""
        return "CloudKitRetrieveEndEvent"
