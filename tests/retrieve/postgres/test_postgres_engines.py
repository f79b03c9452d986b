"""as_query_engine / as_chat_engine on a PostgresHybridIndex (the local server of conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from llama_index.core.chat_engine import ContextChatEngine
from llama_index.core.llms import MockLLM
from llama_index.core.schema import TextNode

from llama_index_cloudkit import ConfigError, PostgresHybridIndex
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding

QUESTION = "How much hay does an adult llama eat?"


@pytest.fixture()
def pg(
    nodes: list[TextNode], embedder: MiniLMEmbedding, postgres_url: str, table_name: str
) -> Iterator[PostgresHybridIndex]:
    index = PostgresHybridIndex.from_nodes(nodes, postgres_url, table_name=table_name, embed_model=embedder)
    yield index
    index.close()


def test_the_postgres_index_has_llamaindex_engines(pg: PostgresHybridIndex) -> None:
    response = pg.as_query_engine(llm=MockLLM(max_tokens=5), similarity_top_k=2).query(QUESTION)
    assert len(response.source_nodes) == 2 and response.source_nodes[0].node.node_id == "hay"
    chat = pg.as_chat_engine(chat_mode="context", llm=MockLLM(max_tokens=5), similarity_top_k=1)
    assert isinstance(chat, ContextChatEngine)
    assert chat.chat(QUESTION).source_nodes[0].node.node_id == "hay"
    with pytest.raises(ConfigError, match="Did you mean similarity_top_k"):
        pg.as_query_engine(llm=MockLLM(), similarity_topk=2)
