"""Registration as LlamaIndex components: class names and round trips with no secret."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from llama_index.core.vector_stores import MetadataFilter, MetadataFilters

import llama_index_cloudkit as ck
from llama_index_cloudkit import CloudKitReader, CloudKitSettings, HybridConfig

KEY = "llx-serialization-secret-42424242"


def test_reader_round_trips_without_the_key() -> None:
    reader = CloudKitReader(
        backend="local",
        preset="agentic_plus",
        max_concurrency=3,
        settings=CloudKitSettings(api_key=KEY, project_id="p1"),
    )
    for text in (json.dumps(reader.to_dict(), default=str), reader.to_json(), repr(reader)):
        assert KEY not in text
    again = CloudKitReader.from_dict(reader.to_dict())
    assert (again.preset.value, again.max_concurrency, again.settings.project_id) == ("agentic_plus", 3, "p1")
    assert CloudKitReader.from_json(reader.to_json()).backend == "local"


def test_configs_round_trip() -> None:
    settings = CloudKitSettings(api_key=KEY, organization_id="org-9")
    assert KEY not in settings.to_json() and KEY not in str(settings.to_dict())
    assert CloudKitSettings.from_json(settings.to_json()).organization_id == "org-9"
    config = HybridConfig(
        alpha=0.2, filters=MetadataFilters(filters=[MetadataFilter(key="year", value=2020, operator=">=")])
    )
    again = HybridConfig.from_json(config.to_json())
    assert again == config and again.filters is not None
    assert config.to_dict()["class_name"] == "HybridConfig"


def test_every_public_component_has_a_class_name() -> None:
    for name in ("CloudKitReader", "CloudKitSettings", "HybridConfig", "LocalHybridIndex", "MiniLMEmbedding"):
        assert getattr(ck, name).class_name() == name


def test_llamahub_table_lists_the_components() -> None:
    tomllib = pytest.importorskip("tomllib")
    pyproject = tomllib.loads((Path(__file__).parents[1] / "pyproject.toml").read_text())
    table = pyproject["tool"]["llamahub"]
    assert table["import_path"] == "llama_index_cloudkit"
    for name in table["class_authors"]:
        assert hasattr(ck, name), name
    assert {"CloudKitReader", "LocalHybridIndex", "ExtractionToolSpec"} <= set(table["class_authors"])


def test_reader_works_inside_an_ingestion_pipeline(examples_dir: Path) -> None:
    from llama_index.core.ingestion import IngestionPipeline
    from llama_index.core.node_parser import SentenceSplitter
    from llama_index.core.readers.base import ReaderConfig

    pipeline = IngestionPipeline(
        transformations=[SentenceSplitter(chunk_size=256)],
        readers=[
            ReaderConfig(
                reader=CloudKitReader(backend="local"),
                reader_kwargs={"file_path": [str(examples_dir / "faq.html")]},
            )
        ],
    )
    nodes = pipeline.run()
    assert nodes and nodes[0].metadata["file_name"] == "faq.html"
