"""One result count on every target: rerank_top_n with reranking on, top_k with it off.

The table these tests hold the targets to is docs/retrieval-presets.md ("How many results").
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from llama_index.core import Document, VectorStoreIndex
from llama_index.core.embeddings import MockEmbedding
from llama_index.core.schema import TextNode

from llama_index_cloudkit import LocalHybridIndex, make_query_engine, make_retriever
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.presets import RetrievalPreset

QUERY = "how much hay does a llama eat"
TOPICS = ["hay", "water", "shearing", "fleece", "herd", "shelter", "visits", "shipping", "refunds", "stocks"]

# The documented table: results per preset with no override.
RESULTS = {"balanced": 10, "semantic": 10, "keyword": 10, "fast": 10, "deep": 20}
PRESETS = [p.value for p in RetrievalPreset]


def _texts(count: int = 120) -> list[str]:
    return [
        f"Note {i}: llamas and {TOPICS[i % 10]}; the llama herd needs {TOPICS[(i * 3) % 10]} on day {i}."
        for i in range(count)
    ]


@pytest.fixture(scope="module")
def local_target() -> LocalHybridIndex:
    nodes = [TextNode(text=text, id_=f"n{i}") for i, text in enumerate(_texts())]
    return LocalHybridIndex(nodes, embed_model=MiniLMEmbedding())


@pytest.fixture(scope="module")
def vector_target() -> VectorStoreIndex:
    nodes = [TextNode(text=text, id_=f"n{i}") for i, text in enumerate(_texts())]
    return VectorStoreIndex(nodes, embed_model=MockEmbedding(embed_dim=8))


@pytest.fixture(scope="module")
def qdrant_target(local_target: LocalHybridIndex) -> Any:
    pytest.importorskip("qdrant_client", reason="the qdrant extra is not installed")
    from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex

    return QdrantHybridIndex.from_nodes(
        local_target.nodes, location=":memory:", embed_model=local_target.embed_model
    )


@pytest.fixture()
def cloud_target(request: pytest.FixtureRequest) -> str:
    from llama_cloud_services import LlamaCloudIndex

    request.getfixturevalue("fake_llamacloud")
    documents = [Document(text=text, id_=f"d{i}") for i, text in enumerate(_texts(40))]
    LlamaCloudIndex.from_documents(documents, name="counts", verbose=False)
    return "counts"


TARGETS: dict[str, Callable[[pytest.FixtureRequest], Any]] = {
    "LocalHybridIndex": lambda request: request.getfixturevalue("local_target"),
    "QdrantHybridIndex": lambda request: request.getfixturevalue("qdrant_target"),
    "VectorStoreIndex": lambda request: request.getfixturevalue("vector_target"),
    "LlamaCloud index": lambda request: request.getfixturevalue("cloud_target"),
}


@pytest.fixture(params=list(TARGETS))
def target(request: pytest.FixtureRequest) -> Any:
    return TARGETS[request.param](request)


@pytest.mark.parametrize("preset", PRESETS)
def test_each_preset_returns_the_documented_count_on_every_target(target: Any, preset: str) -> None:
    assert len(make_retriever(target, preset).retrieve(QUERY)) == RESULTS[preset]


@pytest.mark.parametrize("preset", PRESETS)
def test_a_rerank_top_n_override_wins_on_every_target(target: Any, preset: str) -> None:
    assert len(make_retriever(target, preset, rerank_top_n=3).retrieve(QUERY)) == 3


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("top_k", [1, 25])
def test_a_top_k_override_wins_on_every_target(target: Any, preset: str, top_k: int) -> None:
    # 25 is more than fast's 20 candidates per leg: the legs widen to fill the count.
    assert len(make_retriever(target, preset, top_k=top_k).retrieve(QUERY)) == top_k


def test_a_query_engine_puts_only_the_count_into_the_prompt(vector_target: VectorStoreIndex) -> None:
    response = make_query_engine(vector_target, "deep", rerank_top_n=3).query(QUERY)
    assert len(response.source_nodes) == 3


@pytest.fixture(scope="module")
def persisted_index(local_target: LocalHybridIndex, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("counts") / "index"
    local_target.persist(folder)
    return folder


@pytest.mark.parametrize("preset", PRESETS)
@pytest.mark.parametrize("top_k", [1, 4])
def test_cli_ask_top_k_is_honoured_for_every_preset(persisted_index: Path, preset: str, top_k: int) -> None:
    from llama_index_cloudkit.cli import cli

    result = CliRunner().invoke(
        cli, ["ask", str(persisted_index), QUERY, "--preset", preset, "--top-k", str(top_k)]
    )
    assert result.exit_code == 0, result.output
    shown = [line for line in result.output.splitlines() if line.startswith("[")]
    assert len(shown) == top_k
