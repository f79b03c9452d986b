"""Instrumentation: an event handler sees parse, extract and retrieve events."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.instrumentation import get_dispatcher
from llama_index.core.instrumentation.event_handlers import BaseEventHandler
from pydantic import BaseModel, Field

from llama_index_cloudkit import CloudKitReader, CloudKitSettings, LocalHybridIndex, extraction_tool
from llama_index_cloudkit.events import ExtractEndEvent, ParseFileEndEvent, RetrieveEndEvent
from llama_index_cloudkit.testing import FakeLlamaCloud


class Collector(BaseEventHandler):
    events: list[Any] = Field(default_factory=list)

    @classmethod
    def class_name(cls) -> str:
        return "Collector"

    def handle(self, event: Any, **kwargs: Any) -> None:
        self.events.append(event)


@pytest.fixture()
def collected() -> Iterator[list[Any]]:
    handler = Collector(events=[])
    root = get_dispatcher()
    root.add_event_handler(handler)
    yield handler.events
    root.event_handlers.remove(handler)


class Title(BaseModel):
    title: str | None


def test_parse_extract_and_retrieve_emit_events(
    collected: list[Any], fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    settings = CloudKitSettings(api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
    CloudKitReader(backend="cloud", settings=settings, poll_interval=0.05).load_data(
        examples_dir / "llama-care-guide.pdf"
    )
    docs = CloudKitReader(backend="local").load_data(examples_dir / "faq.html")
    fake_llamacloud.on_extract(lambda s, c, t: {"title": "FAQ"})
    extraction_tool(schema=Title, backend="cloud", settings=settings).call(text="FAQ")
    LocalHybridIndex.from_documents(docs).search("visit the farm")

    parses = [e for e in collected if isinstance(e, ParseFileEndEvent)]
    cloud = next(e for e in parses if e.backend == "cloud")
    assert cloud.file.endswith("llama-care-guide.pdf") and cloud.pages == 2
    assert cloud.job_id and cloud.cache_hit is False
    assert any(e.backend == "local" and e.file.endswith("faq.html") for e in parses)
    (extract,) = [e for e in collected if isinstance(e, ExtractEndEvent)]
    assert extract.ok and extract.tool == "extract_title"
    (retrieve,) = [e for e in collected if isinstance(e, RetrieveEndEvent)]
    assert retrieve.query == "visit the farm" and retrieve.results >= 1
