"""One call from a target and a preset to a retriever, query engine, chat engine or agent tool.

Targets, tried in order (one row each in ``retriever_targets``):

| target | accepted when | retriever |
|---|---|---|
| a hybrid index (Local-, Qdrant-, PostgresHybridIndex) | it has ``as_hybrid_retriever`` | its own |
| a LlamaIndex ``VectorStoreIndex`` (any vector store) | ``isinstance`` | ``index.as_retriever`` |
| a LlamaCloud index | a name (``str``) or a ``LlamaCloudIndex`` | ``retrieve.cloud`` |

Every target returns at most ``config.final_top_k`` nodes: ``rerank_top_n`` with reranking
on, ``top_k`` with it off (docs/retrieval-presets.md has one table per target).

Example:
    >>> index = LocalHybridIndex.from_documents(docs)  # doctest: +SKIP
    >>> engine = make_query_engine(index, preset="balanced", top_k=3)  # doctest: +SKIP
    >>> print(engine.query("How much hay does a llama eat?"))  # doctest: +SKIP
"""

from __future__ import annotations

import os
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.llms import LLM
from llama_index.core.tools import QueryEngineTool, RetrieverTool, ToolMetadata

from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.local_retriever import LocalHybridRetriever
from llama_index_cloudkit.retrieve.passages_engine import NO_LLM_NOTE, PassagesQueryEngine, format_citation
from llama_index_cloudkit.retrieve.retriever_targets import (
    FinalCountRetriever,
    PresetLike,
    resolve_config,
    retriever_for,
)
from llama_index_cloudkit.settings import CloudKitSettings

# FinalCountRetriever, resolve_config and PresetLike (retriever_targets), PassagesQueryEngine,
# format_citation and NO_LLM_NOTE (passages_engine) stay importable from here.
__all__ = [
    "NO_LLM_NOTE",
    "FinalCountRetriever",
    "LocalHybridRetriever",
    "PassagesQueryEngine",
    "PresetLike",
    "format_citation",
    "make_chat_engine",
    "make_query_engine",
    "make_query_engine_tool",
    "make_retriever",
    "make_retriever_tool",
    "resolve_config",
]


def make_retriever(
    target: Any,
    preset: PresetLike = None,
    *,
    settings: CloudKitSettings | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    project_name: str | None = None,
    project_id: str | None = None,
    organization_id: str | None = None,
    **overrides: Any,
) -> BaseRetriever:
    """A retriever on ``target`` with a preset's settings (``overrides`` win).

    Args:
        target: a LocalHybridIndex (or any index with ``as_hybrid_retriever``), a
            VectorStoreIndex, a LlamaCloud index name, or a LlamaCloudIndex.
        preset: ``balanced``, ``semantic``, ``keyword``, ``fast``, ``deep``, or a HybridConfig;
            None (default) is the target's tuned config when it has one, else ``balanced``.
        settings: key, endpoint and project for LlamaCloud targets.
        api_key: LlamaCloud key, on top of ``settings`` (like the LlamaCloud SDK's keywords).
        base_url: LlamaCloud endpoint.
        project_name: LlamaCloud project name.
        project_id: LlamaCloud project id.
        organization_id: LlamaCloud organization id.
        **overrides: any HybridConfig field (``alpha``, ``filters``, ``top_k``, ...), and
            ``policy=CloudPolicy(...)`` for LlamaCloud targets (retries, timeouts).

    Returns:
        A retriever that returns at most ``top_k`` nodes (``rerank_top_n`` with reranking on).

    Raises:
        ConfigError: an unknown keyword ("did you mean ...?"), an unknown preset, or a target
            that is none of the above.

    Example:
        >>> retriever = make_retriever("handbook", preset="keyword", top_k=3)  # doctest: +SKIP
    """
    connection = {
        "api_key": api_key,
        "base_url": base_url,
        "project_name": project_name,
        "project_id": project_id,
        "organization_id": organization_id,
    }
    return retriever_for(target, preset, settings, {**overrides, **connection}, "make_retriever")


def _default_llm() -> LLM | None:
    if not os.environ.get("OPENAI_API_KEY"):
        return None
    from llama_index.llms.openai import OpenAI

    return OpenAI(model="gpt-4o-mini", temperature=0)


def make_query_engine(
    target: Any,
    preset: PresetLike = None,
    *,
    llm: LLM | None = None,
    citations: bool = False,
    streaming: bool = False,
    settings: CloudKitSettings | None = None,
    **overrides: Any,
) -> BaseQueryEngine:
    """A query engine on ``target``; with no LLM configured it returns cited passages.

    Args:
        llm: any LlamaIndex LLM; default OpenAI (gpt-4o-mini) when OPENAI_API_KEY is set.
        citations: answer with numbered citations (LlamaIndex's CitationQueryEngine).
        streaming: stream the answer.
        **overrides: HybridConfig fields (``top_k=3``: three passages) and the connection
            keywords of :func:`make_retriever` (``api_key``, ``base_url``, ``project_name``,
            ``project_id``, ``organization_id``).

    Example:
        >>> engine = make_query_engine(index)  # doctest: +SKIP
        >>> engine.query("What is the refund window?").source_nodes  # doctest: +SKIP
    """
    own = ("llm", "citations", "streaming", "settings")
    retriever = retriever_for(target, preset, settings, overrides, "make_query_engine", own)
    llm = llm or _default_llm()
    if llm is None:
        return PassagesQueryEngine(retriever)
    if citations:
        from llama_index.core.query_engine import CitationQueryEngine
        from llama_index.core.query_engine.citation_query_engine import (
            CITATION_QA_TEMPLATE,
            CITATION_REFINE_TEMPLATE,
        )
        from llama_index.core.response_synthesizers import get_response_synthesizer

        synthesizer = get_response_synthesizer(
            llm=llm,
            streaming=streaming,
            text_qa_template=CITATION_QA_TEMPLATE,
            refine_template=CITATION_REFINE_TEMPLATE,
        )
        return CitationQueryEngine(retriever=retriever, llm=llm, response_synthesizer=synthesizer)
    from llama_index.core.query_engine import RetrieverQueryEngine

    return RetrieverQueryEngine.from_args(retriever=retriever, llm=llm, streaming=streaming)


def make_chat_engine(
    target: Any,
    preset: PresetLike = None,
    *,
    llm: LLM | None = None,
    settings: CloudKitSettings | None = None,
    **overrides: Any,
) -> Any:
    """A chat engine (condense question + context) on ``target``.

    Raises:
        ConfigError: no LLM given and OPENAI_API_KEY is not set (chat needs an LLM).

    Example:
        >>> chat = make_chat_engine(index, llm=my_llm)  # doctest: +SKIP
    """
    llm = llm or _default_llm()
    if llm is None:
        raise ConfigError(
            "A chat engine needs an LLM, and none is configured",
            hint="Pass llm=... or set OPENAI_API_KEY; for passages without an LLM use make_query_engine",
        )
    from llama_index.core.chat_engine import CondensePlusContextChatEngine

    retriever = retriever_for(target, preset, settings, overrides, "make_chat_engine", ("llm", "settings"))
    return CondensePlusContextChatEngine.from_defaults(retriever=retriever, llm=llm)


def make_query_engine_tool(
    target: Any,
    *,
    name: str,
    description: str,
    preset: PresetLike = None,
    llm: LLM | None = None,
    settings: CloudKitSettings | None = None,
    **overrides: Any,
) -> QueryEngineTool:
    """A query engine as an agent tool.

    Example:
        >>> tool = make_query_engine_tool(index, name="handbook",
        ...                               description="Answers questions about llama care")  # doctest: +SKIP
    """
    engine = make_query_engine(target, preset, llm=llm, settings=settings, **overrides)
    return QueryEngineTool(query_engine=engine, metadata=ToolMetadata(name=name, description=description))


def make_retriever_tool(
    target: Any,
    *,
    name: str,
    description: str,
    preset: PresetLike = None,
    settings: CloudKitSettings | None = None,
    **overrides: Any,
) -> RetrieverTool:
    """A retriever as an agent tool (the agent gets the passages and writes its own answer).

    Example:
        >>> tool = make_retriever_tool(index, name="search", description="Search")  # doctest: +SKIP
    """
    own = ("name", "description", "settings")
    retriever = retriever_for(target, preset, settings, overrides, "make_retriever_tool", own)
    return RetrieverTool(retriever=retriever, metadata=ToolMetadata(name=name, description=description))
