"""One call from a target and a preset to a retriever, query engine, chat engine or agent tool.

Targets: a LlamaCloud index name, a LlamaCloudIndex, a :class:`LocalHybridIndex`, or any
LlamaIndex ``VectorStoreIndex`` (Qdrant, pgvector, ...: the way to scale past one machine).

Example:
    >>> index = LocalHybridIndex.from_documents(docs)  # doctest: +SKIP
    >>> engine = make_query_engine(index, preset="balanced")  # doctest: +SKIP
    >>> print(engine.query("How much hay does a llama eat?"))  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import os
from typing import Any

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.base.response.schema import Response
from llama_index.core.callbacks import CallbackManager
from llama_index.core.indices.vector_store.base import VectorStoreIndex
from llama_index.core.llms import LLM
from llama_index.core.prompts.mixin import PromptDictType, PromptMixinType
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.tools import QueryEngineTool, RetrieverTool, ToolMetadata

from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.local import LocalHybridIndex
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = [
    "LocalHybridRetriever",
    "PassagesQueryEngine",
    "format_citation",
    "make_chat_engine",
    "make_query_engine",
    "make_query_engine_tool",
    "make_retriever",
    "make_retriever_tool",
]

logger = logging.getLogger(__name__)

NO_LLM_NOTE = (
    "No LLM is configured (pass llm=... or set OPENAI_API_KEY), so here are the most relevant passages:"
)


def format_citation(metadata: dict[str, Any]) -> str:
    """``file, page N`` from a node's metadata.

    Example:
        >>> format_citation({"file_name": "guide.pdf", "page_number": 2})
        'guide.pdf, page 2'
    """
    page = metadata.get("page_label") or metadata.get("page_number")
    name = metadata.get("file_name") or metadata.get("file_path") or "unknown source"
    return f"{name}, page {page}" if page is not None else str(name)


class LocalHybridRetriever(BaseRetriever):
    """A LlamaIndex retriever over a :class:`LocalHybridIndex` with a fixed HybridConfig.

    Example:
        >>> retriever = LocalHybridRetriever(index, HybridConfig(alpha=0.3))  # doctest: +SKIP
        >>> retriever.retrieve("hay")  # doctest: +SKIP
    """

    def __init__(
        self, index: LocalHybridIndex, config: HybridConfig, callback_manager: CallbackManager | None = None
    ) -> None:
        self.index = index
        self.config = config
        super().__init__(callback_manager=callback_manager)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.index.search(query_bundle.query_str, self.config)

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await asyncio.to_thread(self._retrieve, query_bundle)


def _config(preset: str | RetrievalPreset, overrides: dict[str, Any]) -> HybridConfig:
    config: HybridConfig = RetrievalPreset.from_name(preset).config(**overrides)
    return config


def make_retriever(
    target: Any,
    preset: str | RetrievalPreset = "balanced",
    *,
    settings: CloudKitSettings | None = None,
    **overrides: Any,
) -> BaseRetriever:
    """A retriever on ``target`` with a preset's settings (``overrides`` win).

    Args:
        target: a LlamaCloud index name, a LlamaCloudIndex, a LocalHybridIndex, or a
            VectorStoreIndex.
        preset: ``balanced`` (default), ``semantic``, ``keyword``, ``fast`` or ``deep``.
        settings: key, endpoint and project for LlamaCloud targets.
        **overrides: any HybridConfig field (``alpha``, ``filters``, ...).

    Example:
        >>> retriever = make_retriever("handbook", preset="keyword", alpha=0.0)  # doctest: +SKIP
    """
    config = _config(preset, overrides)
    if isinstance(target, LocalHybridIndex):
        return LocalHybridRetriever(target, config)
    if isinstance(target, VectorStoreIndex):
        return _vector_store_retriever(target, config)
    from llama_index_cloudkit.retrieve import cloud

    if isinstance(target, str) or cloud.is_llamacloud_index(target):
        return cloud.llamacloud_retriever(target, config, settings or CloudKitSettings())
    raise ConfigError(
        f"Cannot retrieve from a {type(target).__name__}",
        hint="Pass a LlamaCloud index name, a LlamaCloudIndex, a LocalHybridIndex or a VectorStoreIndex",
    )


def _vector_store_retriever(index: VectorStoreIndex, config: HybridConfig) -> BaseRetriever:
    hybrid = bool(getattr(index.vector_store, "enable_hybrid", False))
    kwargs: dict[str, Any] = {
        "similarity_top_k": config.dense_similarity_top_k or config.sparse_similarity_top_k,
        "filters": config.filters,
    }
    if hybrid:
        kwargs.update(
            vector_store_query_mode="hybrid", alpha=config.alpha, sparse_top_k=config.sparse_similarity_top_k
        )
    elif config.alpha < 1:
        logger.info("%s has no hybrid search; using its dense search only", type(index.vector_store).__name__)
    return index.as_retriever(**kwargs)


class PassagesQueryEngine(BaseQueryEngine):
    """The offline query engine: the top passages with file and page citations, no LLM.

    Example:
        >>> print(PassagesQueryEngine(retriever).query("hay"))  # doctest: +SKIP
    """

    def __init__(self, retriever: BaseRetriever) -> None:
        self.retriever = retriever
        super().__init__(callback_manager=CallbackManager([]))

    def _get_prompts(self) -> PromptDictType:
        return {}

    def _update_prompts(self, prompts_dict: PromptDictType) -> None:
        """No prompts: this engine never calls an LLM."""

    def _get_prompt_modules(self) -> PromptMixinType:
        return {}

    @staticmethod
    def _answer(nodes: list[NodeWithScore]) -> Response:
        lines = [NO_LLM_NOTE]
        for rank, hit in enumerate(nodes, start=1):
            text = " ".join(hit.node.get_content().split())
            lines.append(f"[{rank}] ({format_citation(hit.node.metadata)}) {text}")
        if not nodes:
            lines.append("(no passage matched)")
        return Response(
            response="\n".join(lines),
            source_nodes=nodes,
            metadata={"llm": None, "citations": [format_citation(n.node.metadata) for n in nodes]},
        )

    def _query(self, query_bundle: QueryBundle) -> Response:
        return self._answer(self.retriever.retrieve(query_bundle))

    async def _aquery(self, query_bundle: QueryBundle) -> Response:
        return self._answer(await self.retriever.aretrieve(query_bundle))


def _default_llm() -> LLM | None:
    if not os.environ.get("OPENAI_API_KEY"):
        return None
    from llama_index.llms.openai import OpenAI

    return OpenAI(model="gpt-4o-mini", temperature=0)


def make_query_engine(
    target: Any,
    preset: str | RetrievalPreset = "balanced",
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

    Example:
        >>> engine = make_query_engine(index)  # doctest: +SKIP
        >>> engine.query("What is the refund window?").source_nodes  # doctest: +SKIP
    """
    retriever = make_retriever(target, preset, settings=settings, **overrides)
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
    preset: str | RetrievalPreset = "balanced",
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

    retriever = make_retriever(target, preset, settings=settings, **overrides)
    return CondensePlusContextChatEngine.from_defaults(retriever=retriever, llm=llm)


def make_query_engine_tool(
    target: Any,
    *,
    name: str,
    description: str,
    preset: str | RetrievalPreset = "balanced",
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
    preset: str | RetrievalPreset = "balanced",
    settings: CloudKitSettings | None = None,
    **overrides: Any,
) -> RetrieverTool:
    """A retriever as an agent tool (the agent gets the passages and writes its own answer).

    Example:
        >>> tool = make_retriever_tool(index, name="search", description="Search")  # doctest: +SKIP
    """
    retriever = make_retriever(target, preset, settings=settings, **overrides)
    return RetrieverTool(retriever=retriever, metadata=ToolMetadata(name=name, description=description))
