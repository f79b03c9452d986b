"""PostgresHybridIndex against a real PostgreSQL server (pgvector + full-text search): no mocks."""

from __future__ import annotations

import asyncio
import math
import threading
from typing import Any

import numpy as np
import pytest
from llama_index.core.schema import Document, TextNode
from llama_index.core.vector_stores import FilterCondition, MetadataFilter, MetadataFilters

from llama_index_cloudkit.errors import ConfigError, ServiceError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.factory import make_query_engine, make_retriever
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.presets import RetrievalPreset

pytest.importorskip("llama_index.vector_stores.postgres")

from llama_index_cloudkit.retrieve.postgres.index import PostgresHybridIndex, open_postgres_index

FILLER = [
    f"Farm diary, week {week}: the {animal} were moved to the {place} field and the fences were checked."
    for week, (animal, place) in enumerate(
        [
            (a, p)
            for a in ("llamas", "alpacas", "sheep", "goats")
            for p in ("north", "south", "east", "river", "hill")
        ],
        start=1,
    )
]

_VECTORS: dict[str, list[float]] = {}


def _ids(hits: list[Any]) -> list[str]:
    return [h.node.node_id for h in hits]


@pytest.fixture()
def big_nodes(nodes: list[TextNode], embedder: MiniLMEmbedding) -> list[TextNode]:
    """The ten care/shop/news passages and twenty diary entries, with vectors computed once."""
    extra = [
        TextNode(text=text, id_=f"diary-{i}", metadata={"section": "diary", "year": 2000 + i})
        for i, text in enumerate(FILLER)
    ]
    every = [*nodes, *extra]
    missing = [n.text for n in every if n.text not in _VECTORS]
    if missing:
        for text, row in zip(missing, embedder.embed(missing), strict=True):
            _VECTORS[text] = row.tolist()
    for node in every:
        node.embedding = _VECTORS[node.text]
    return every


@pytest.fixture()
def pg(big_nodes: list[TextNode], embedder: MiniLMEmbedding, postgres_url: str, table_name: str) -> Any:
    index = PostgresHybridIndex.from_nodes(
        big_nodes, postgres_url, table_name=table_name, embed_model=embedder
    )
    yield index
    index.close()


@pytest.fixture()
def local(big_nodes: list[TextNode], embedder: MiniLMEmbedding) -> LocalHybridIndex:
    matrix = np.asarray([n.embedding for n in big_nodes], dtype=np.float32)
    return LocalHybridIndex(big_nodes, embed_model=embedder, _embeddings=matrix)


# --- presets, counts, the factory ------------------------------------------------------------------


@pytest.mark.parametrize("preset", [p.value for p in RetrievalPreset])
def test_each_preset_returns_the_count_of_the_preset_table(pg: PostgresHybridIndex, preset: str) -> None:
    hits = pg.as_retriever(preset).retrieve("how should llamas be cared for")
    assert len(hits) == RetrievalPreset.from_name(preset).config().final_top_k


@pytest.mark.parametrize(
    ("preset", "overrides", "count"),
    [("balanced", {}, 10), ("deep", {}, 20), ("fast", {"top_k": 1}, 1), ("deep", {"rerank_top_n": 3}, 3)],
)
def test_the_factory_gives_the_preset_counts_with_overrides(
    pg: PostgresHybridIndex, preset: str, overrides: dict[str, int], count: int
) -> None:
    assert len(make_retriever(pg, preset, **overrides).retrieve("how should llamas be cared for")) == count


def test_the_offline_query_engine_answers_with_cited_passages(pg: PostgresHybridIndex) -> None:
    answer = make_query_engine(pg, "balanced", top_k=2).query("what do llamas eat")
    assert _ids(answer.source_nodes)[0] == "hay"
    assert len(answer.source_nodes) == 2
    assert "[1] (care.md, page 1)" in str(answer)


def test_keyword_and_semantic_rank_differently(pg: PostgresHybridIndex) -> None:
    keyword = _ids(pg.as_retriever("keyword").retrieve("stock of hay"))
    semantic = _ids(pg.as_retriever("semantic").retrieve("stock of hay"))
    assert keyword[0] == "stocks"  # the exact (stemmed) word
    assert semantic[0] == "hay"  # the meaning
    assert keyword != semantic


def test_settings_tuned_on_the_local_index_drive_the_postgresql_index(
    pg: PostgresHybridIndex, local: LocalHybridIndex
) -> None:
    from llama_index_cloudkit.retrieve.tuning import tune_retrieval

    pairs = [("what do llamas eat", ["hay"]), ("stock market", ["stocks"]), ("refund", ["refund"])] * 4
    result = tune_retrieval(local, pairs, alphas=(0.0, 0.5), leg_top_ks=(5, 10), held_out=0.25, apply=False)
    pg.retrieval_config = result.config.with_overrides(top_k=2)
    assert len(make_retriever(pg).retrieve("what do llamas eat")) == 2  # no preset: the tuned config
    assert len(pg.as_retriever().retrieve("what do llamas eat")) == 2
    assert len(make_retriever(pg, "deep").retrieve("what do llamas eat")) == 20  # a preset still wins


def test_async_retrieval_gives_the_sync_results(pg: PostgresHybridIndex) -> None:
    retriever = pg.as_retriever("balanced", rerank_top_n=3)
    assert _ids(asyncio.run(retriever.aretrieve("what do llamas eat"))) == _ids(
        retriever.retrieve("what do llamas eat")
    )


# --- the legs against the local index and against BM25 itself ------------------------------------


@pytest.mark.parametrize("query", ["what do llamas eat", "stock of hay", "fences in the river field"])
def test_the_dense_leg_gives_the_local_index_results_and_scores(
    pg: PostgresHybridIndex, local: LocalHybridIndex, query: str
) -> None:
    config = HybridConfig(alpha=1.0, dense_similarity_top_k=8, sparse_similarity_top_k=8, rerank_top_n=6)
    ours = [(h.node.node_id, h.score) for h in pg.search(query, config)]
    theirs = [(h.node.node_id, h.score) for h in local.search(query, config)]
    assert [i for i, _ in ours] == [i for i, _ in theirs]
    assert [s for _, s in ours] == pytest.approx([s for _, s in theirs], abs=1e-5)


def _bm25_oracle(index: PostgresHybridIndex, query: str) -> dict[str, float]:
    """BM25 (bm25s' Lucene formula) computed in Python from PostgreSQL's own lexemes."""
    sa = index.table.sa
    with index.table.connect("read lexemes") as connection:
        rows = connection.execute(
            sa.text(
                f"SELECT node_id, (SELECT json_object_agg(lexeme, array_length(positions, 1)) "
                f"FROM unnest(text_search_tsv)) FROM {index.table.sql_name}"
            )
        ).all()
        query_terms = connection.execute(
            sa.text("SELECT lexeme, array_length(positions, 1) FROM unnest(to_tsvector('english', :q))"),
            {"q": query},
        ).all()
    docs = {node_id: terms or {} for node_id, terms in rows}
    k1, b, avgdl = index.settings["k1"], index.settings["b"], index.settings["avgdl"]
    scores: dict[str, float] = {}
    for node_id, terms in docs.items():
        length = sum(terms.values())
        score = 0.0
        for lexeme, qtf in query_terms:
            df = sum(1 for t in docs.values() if lexeme in t)
            tf = terms.get(lexeme, 0)
            if tf:
                idf = math.log(1 + (len(docs) - df + 0.5) / (df + 0.5))
                score += qtf * idf * tf / (tf + k1 * (1 - b + b * length / avgdl))
        if score > 0:
            scores[node_id] = score
    return scores


@pytest.mark.parametrize("query", ["what do llamas eat", "stock of hay", "llamas llamas fences river"])
def test_the_full_text_leg_is_bm25_over_postgresql_lexemes(pg: PostgresHybridIndex, query: str) -> None:
    expected = _bm25_oracle(pg, query)
    config = HybridConfig(alpha=0.0, sparse_similarity_top_k=30, enable_reranking=False, top_k=30)
    # alpha=0 fuses one leg: min-max scaled BM25, best first.
    ours = {h.node.node_id: h.score for h in pg.search(query, config)}
    low, high = min(expected.values()), max(expected.values())
    scaled = {k: (v - low) / (high - low) if high > low else 1.0 for k, v in expected.items()}
    assert ours.keys() == scaled.keys()
    for node_id, score in scaled.items():
        assert ours[node_id] == pytest.approx(score, abs=1e-6)


def test_a_query_of_stopwords_falls_back_to_the_dense_leg(pg: PostgresHybridIndex) -> None:
    assert len(pg.search("the of and", HybridConfig(alpha=0.4, rerank_top_n=3))) == 3


def test_an_empty_query_is_a_config_error(pg: PostgresHybridIndex) -> None:
    with pytest.raises(ConfigError, match="empty"):
        pg.search("   ")


# --- filters -----------------------------------------------------------------------------------------


def _filters(*children: Any, condition: str = "and") -> MetadataFilters:
    return MetadataFilters(filters=list(children), condition=FilterCondition(condition))


NESTED = [
    _filters(MetadataFilter(key="year", value=2021, operator=">=")),
    _filters(
        MetadataFilter(key="year", value=2020, operator=">="),
        _filters(
            MetadataFilter(key="section", value="care"),
            MetadataFilter(key="section", value="shop"),
            condition="or",
        ),
    ),
    _filters(_filters(MetadataFilter(key="section", value="diary"), condition="or"), condition="not"),
    _filters(
        MetadataFilter(key="section", value=["faq", "news"], operator="in"),
        _filters(MetadataFilter(key="year", value=2020), condition="not"),
    ),
    _filters(MetadataFilter(key="section", value="care", operator="!=")),
    _filters(MetadataFilter(key="section", value=["care", "diary"], operator="nin")),
    _filters(MetadataFilter(key="file_name", value="care", operator="text_match")),
    _filters(MetadataFilter(key="file_name", value="CARE", operator="text_match_insensitive")),
    _filters(MetadataFilter(key="year", value=2020.0)),
    _filters(MetadataFilter(key="section", value="fa", operator="<")),
]


@pytest.mark.parametrize("filters", NESTED, ids=[f"filters-{i}" for i in range(len(NESTED))])
def test_metadata_filters_select_the_passages_the_local_index_selects(
    pg: PostgresHybridIndex, local: LocalHybridIndex, filters: MetadataFilters
) -> None:
    config = HybridConfig(
        filters=filters, rerank_top_n=30, dense_similarity_top_k=30, sparse_similarity_top_k=30
    )
    ours = set(_ids(pg.search("llamas farm", config)))
    assert ours
    assert ours == set(_ids(local.search("llamas farm", config)))


def test_a_filter_value_with_quotes_is_a_value_not_sql(pg: PostgresHybridIndex) -> None:
    filters = _filters(MetadataFilter(key="section", value="care' OR '1'='1"))
    assert pg.search("llamas", HybridConfig(filters=filters)) == []


def test_a_filter_of_the_wrong_type_is_a_config_error_naming_the_key(pg: PostgresHybridIndex) -> None:
    filters = _filters(MetadataFilter(key="year", value="2021"))
    with pytest.raises(ConfigError, match=r"'year'.*string.*number"):
        pg.as_retriever("balanced", filters=filters).retrieve("llamas")


# --- writing: idempotent, batched, concurrent --------------------------------------------------------


def _documents() -> list[Document]:
    return [
        Document(text="Refunds are paid within thirty days of the return.", doc_id="policy"),
        Document(text="Llamas eat grass hay and drink fresh water. " * 40, doc_id="care"),
    ]


def test_indexing_the_same_documents_again_inserts_nothing(
    embedder: MiniLMEmbedding, postgres_url: str, table_name: str
) -> None:
    index = PostgresHybridIndex.from_documents(
        _documents(), postgres_url, table_name=table_name, embed_model=embedder, chunk_size=64, batch_size=2
    )
    rows = len(index)
    assert rows > 2  # several passages, inserted in batches of two
    again = PostgresHybridIndex.from_documents(
        _documents(), postgres_url, table_name=table_name, embed_model=embedder, chunk_size=64
    )
    assert len(again) == rows
    assert again.insert_documents(_documents(), chunk_size=64) == []
    assert len(index) == rows
    index.close()
    again.close()


def test_a_changed_document_replaces_its_passages(
    embedder: MiniLMEmbedding, postgres_url: str, table_name: str
) -> None:
    index = PostgresHybridIndex.from_documents(
        _documents(), postgres_url, table_name=table_name, embed_model=embedder
    )
    index.insert(Document(text="Refunds are paid within sixty days.", doc_id="policy"))
    texts = [n.get_content() for n in index.nodes if n.ref_doc_id == "policy"]
    assert texts == ["Refunds are paid within sixty days."]
    index.close()


def test_eight_clients_query_while_one_indexes(
    pg: PostgresHybridIndex, embedder: MiniLMEmbedding, postgres_url: str
) -> None:
    table = pg.table.table_name
    errors: list[BaseException] = []
    counts: list[int] = []
    stop = threading.Event()

    def query() -> None:
        client = open_postgres_index(postgres_url, table_name=table, embed_model=embedder)
        try:
            while True:  # at least one query each, then until the writer is done
                counts.append(len(client.search("what do llamas eat", HybridConfig(rerank_top_n=5))))
                if stop.is_set():
                    break
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)
        finally:
            client.close()

    clients = [threading.Thread(target=query) for _ in range(8)]
    for thread in clients:
        thread.start()
    writer = open_postgres_index(postgres_url, table_name=table, embed_model=embedder)
    new = [
        TextNode(text=f"Llama note {i}: llamas graze at dawn in field {i}.", id_=f"new-{i}")
        for i in range(40)
    ]
    writer.insert_nodes(new, batch_size=5)
    stop.set()
    for thread in clients:
        thread.join()
    writer.close()
    assert errors == []
    assert len(counts) >= 8 and set(counts) == {5}
    assert len(pg) == 70


def test_two_writers_of_the_same_passages_store_them_once(
    big_nodes: list[TextNode], embedder: MiniLMEmbedding, postgres_url: str, table_name: str
) -> None:
    PostgresHybridIndex.from_nodes(
        big_nodes[:2], postgres_url, table_name=table_name, embed_model=embedder
    ).close()
    errors: list[BaseException] = []

    def write() -> None:
        try:
            client = open_postgres_index(postgres_url, table_name=table_name, embed_model=embedder)
            client.insert_nodes(big_nodes, batch_size=4)
            client.close()
        except BaseException as exc:  # collected for the assertion below
            errors.append(exc)

    writers = [threading.Thread(target=write) for _ in range(3)]
    for thread in writers:
        thread.start()
    for thread in writers:
        thread.join()
    assert errors == []
    assert len(open_postgres_index(postgres_url, table_name=table_name, embed_model=embedder)) == 30


def test_delete_removes_every_passage_of_a_document(pg: PostgresHybridIndex) -> None:
    pg.insert(Document(text="Alpaca wool is softer than sheep wool.", doc_id="wool"))
    assert pg.delete("wool") == 1
    assert pg.delete("wool") == 0
    assert pg.delete_nodes(["refund", "no-such-node"]) == 1
    assert "refund" not in _ids(pg.search("refund", HybridConfig(alpha=0.0, rerank_top_n=1)))
    assert len(pg) == 29


def test_repeated_ids_in_one_insert_are_a_config_error(pg: PostgresHybridIndex) -> None:
    with pytest.raises(ConfigError, match="repeated"):
        pg.insert_nodes([TextNode(text="a", id_="x"), TextNode(text="b", id_="x")])


# --- opening, settings, errors ------------------------------------------------------------------------


def test_a_table_reopens_by_name_with_its_settings(
    big_nodes: list[TextNode], embedder: MiniLMEmbedding, postgres_url: str, table_name: str
) -> None:
    built = PostgresHybridIndex.from_nodes(
        big_nodes, postgres_url, table_name=table_name, embed_model=embedder, k1=1.2, b=0.5
    )
    config = HybridConfig(alpha=0.4, rerank_top_n=5)
    expected = [(h.node.node_id, h.score) for h in built.search("what do llamas eat", config)]
    built.close()
    reopened = open_postgres_index(postgres_url, table_name=table_name, embed_model=embedder)
    assert (reopened.settings["k1"], reopened.settings["b"]) == (1.2, 0.5)
    again = reopened.search("what do llamas eat", config)
    assert [(h.node.node_id, h.score) for h in again] == expected
    assert again[0].node.metadata["section"] == "care"
    with pytest.raises(ConfigError, match="'year'"):  # the key types come back with it
        reopened.search("llamas", HybridConfig(filters=_filters(MetadataFilter(key="year", value="x"))))
    reopened.close()


def test_reopening_with_another_embedder_or_bm25_setting_is_a_config_error(
    pg: PostgresHybridIndex, postgres_url: str
) -> None:
    table = pg.table.table_name
    with pytest.raises(ConfigError, match="another-model"):
        PostgresHybridIndex(postgres_url, table, embed_model=MiniLMEmbedding(model_name="another-model"))
    with pytest.raises(ConfigError, match="k1"):
        PostgresHybridIndex(postgres_url, table, embed_model=pg.embed_model, k1=0.9)


def test_a_plain_pgvectorstore_table_is_a_config_error(
    embedder: MiniLMEmbedding, postgres_url: str, table_name: str
) -> None:
    from llama_index.vector_stores.postgres import PGVectorStore

    from llama_index_cloudkit.retrieve.postgres.connection import driver_urls

    sync_url, async_url = driver_urls(postgres_url)
    store = PGVectorStore(
        connection_string=str(sync_url),
        async_connection_string=str(async_url),
        table_name=table_name,
        embed_dim=384,
    )
    store.add([TextNode(text="theirs", embedding=[0.1] * 384)])
    with pytest.raises(ConfigError, match="not made by PostgresHybridIndex"):
        PostgresHybridIndex(postgres_url, table_name, embed_model=embedder)


def test_pgvectorstore_reads_the_rows_this_index_wrote(pg: PostgresHybridIndex) -> None:
    from llama_index.core.vector_stores.types import VectorStoreQuery

    result = pg.vector_store.query(VectorStoreQuery(query_embedding=_VECTORS[FILLER[0]], similarity_top_k=1))
    assert result.ids == ["diary-0"]


def test_a_new_table_is_empty_until_the_first_insert(
    embedder: MiniLMEmbedding, postgres_url: str, table_name: str
) -> None:
    index = open_postgres_index(postgres_url, table_name=table_name, embed_model=embedder)
    assert len(index) == 0
    assert index.as_retriever().retrieve("llamas") == []
    index.insert_documents([Document(text="Llamas are herd animals.")])
    assert len(index.as_retriever().retrieve("llamas")) == 1
    index.close()


def test_an_unreachable_server_is_a_service_error_naming_the_host_not_the_password(
    embedder: MiniLMEmbedding,
) -> None:
    with pytest.raises(ServiceError) as caught:
        PostgresHybridIndex("postgresql://app:s3cr3t-pw@127.0.0.1:9/handbook", embed_model=embedder)
    message = str(caught.value)
    assert "127.0.0.1:9/handbook" in message and "server is running" in message
    assert "s3cr3t-pw" not in message and "s3cr3t-pw" not in repr(caught.value)


def test_a_url_that_is_not_postgresql_is_a_config_error(embedder: MiniLMEmbedding) -> None:
    with pytest.raises(ConfigError, match="postgresql://"):
        PostgresHybridIndex("mysql://app@db/handbook", embed_model=embedder)


def test_a_database_without_the_vector_extension_is_a_config_error(
    postgres_server: Any, postgres_url: str, embedder: MiniLMEmbedding, table_name: str
) -> None:
    """A database where pgvector is not installed, opened by a user who may not install it."""
    role, database = f"r_{table_name}", f"d_{table_name}"
    postgres_server.psql(f"CREATE ROLE {role} LOGIN; CREATE DATABASE {database} OWNER {role};")
    from sqlalchemy.engine import make_url

    url = make_url(postgres_url).set(username=role, database=database).render_as_string(hide_password=False)
    with pytest.raises(ConfigError, match=r"no vector extension.*") as caught:
        PostgresHybridIndex(url, embed_model=embedder)
    assert "CREATE EXTENSION vector" in str(caught.value)
