"""A small corpus for fast retrieval tests, written for this project."""

from __future__ import annotations

import pytest
from llama_index.core.schema import TextNode

from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex

TEXTS = [
    ("hay", "Adult llamas eat two to three kilograms of grass hay every day.", "care", 2021),
    ("water", "Fresh water must always be available; a llama drinks eight to twelve litres.", "care", 2021),
    ("shear", "Shear the fleece once a year in late spring before the heat arrives.", "care", 2019),
    ("spit", "Llamas rarely spit at people; they spit at each other over food.", "faq", 2020),
    ("visit", "Guided farm visits run every Saturday morning from April to October.", "faq", 2022),
    ("refund", "Unused items can be returned within thirty days for a full refund.", "shop", 2023),
    ("ship", "Standard shipping takes three to five business days.", "shop", 2023),
    ("stocks", "The stock market fell sharply as interest rates rose.", "news", 2020),
    ("rain", "Heavy rain is expected across the region this weekend.", "news", 2022),
    ("herd", "Never keep a single llama alone: they are herd animals.", "care", 2018),
]


@pytest.fixture(scope="session")
def embedder() -> MiniLMEmbedding:
    return MiniLMEmbedding()


@pytest.fixture()
def nodes() -> list[TextNode]:
    return [
        TextNode(
            text=text,
            id_=node_id,
            metadata={"section": section, "year": year, "file_name": f"{section}.md", "page_number": 1},
        )
        for node_id, text, section, year in TEXTS
    ]


@pytest.fixture()
def index(nodes: list[TextNode], embedder: MiniLMEmbedding) -> LocalHybridIndex:
    return LocalHybridIndex(nodes, embed_model=embedder)
