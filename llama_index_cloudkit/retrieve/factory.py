"""One call from a target and a preset to a retriever, query engine, chat engine or agent tool.

The target table (:data:`_TARGETS`) is the one place a kind of target is accepted; a new vector
store or service is one row there. Rows are tried in order:

| target | accepted when | retriever |
|---|---|---|
| a hybrid index (Local-, Qdrant-, PostgresHybridIndex) | it has ``as_hybrid_retriever`` | its own |
| a LlamaIndex ``VectorStoreIndex`` (any vector store) | ``isinstance`` | :mod:`.vector_store` |
| a LlamaCloud index | a name (``str``) or a reference / ``LlamaCloudIndex`` | :mod:`.llamacloud.service` |

Every target returns at most ``config.final_top_k`` nodes: ``rerank_top_n`` with reranking
on, ``top_k`` with it off (docs/retrieval-presets.md has one table per target).

Example:
    >>> from llama_index.core.schema import TextNode
    >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
    >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay")])
    >>> [hit.node.node_id for hit in make_retriever(index, preset="keyword", top_k=1).retrieve("hay")]
    ['hay']
"""

from __future__ import annotations

import difflib
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, cast

from llama_index.core.base.base_query_engine import BaseQueryEngine
from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.chat_engine.types import BaseChatEngine
from llama_index.core.indices.vector_store.base import VectorStoreIndex
from llama_index.core.llms import LLM
from llama_index.core.schema import NodeWithScore, QueryBundle
from llama_index.core.tools import QueryEngineTool, RetrieverTool, ToolMetadata
from pydantic import ValidationError

from llama_index_cloudkit._llama_settings import explicit_llm
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.refs import is_llamacloud_index
from llama_index_cloudkit.retrieve.llamacloud.service import llamacloud_retriever
from llama_index_cloudkit.retrieve.passages import PassagesQueryEngine
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.vector_store import vector_store_retriever
from llama_index_cloudkit.settings import CONNECTION_FIELDS, CloudKitSettings, check_keywords, settings_with

__all__ = [
    "FinalCountRetriever",
    "PresetLike",
    "chat_engine_for",
    "default_llm",
    "make_chat_engine",
    "make_query_engine",
    "make_query_engine_tool",
    "make_retriever",
    "make_retriever_tool",
    "query_engine_for",
    "resolve_config",
]

PresetLike = str | RetrievalPreset | HybridConfig | None


class FinalCountRetriever(BaseRetriever):
    """Keeps the first ``top_k`` nodes of another retriever (for services with no final count).

    LlamaCloud's v1 pipelines return every fused candidate when reranking is off, and some
    vector stores ignore ``hybrid_top_k``: this cut keeps the count the config promises.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="hay"), TextNode(text="hay and water")])
        >>> len(FinalCountRetriever(index.as_retriever("fast"), 1).retrieve("hay"))
        1
    """

    def __init__(self, inner: BaseRetriever, top_k: int) -> None:
        self.inner = inner
        self.top_k = top_k
        super().__init__(callback_manager=CallbackManager([]))

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return self.inner.retrieve(query_bundle)[: self.top_k]

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return (await self.inner.aretrieve(query_bundle))[: self.top_k]


# --- the target table: one row per kind of target ---------------------------------------------


@dataclass(frozen=True)
class _Target:
    name: str
    accepts: Callable[[Any], bool]
    build: Callable[[Any, HybridConfig, CloudKitSettings, CloudPolicy | None], BaseRetriever]


def _is_hybrid_index(target: Any) -> bool:
    return callable(getattr(target, "as_hybrid_retriever", None))


def _hybrid_retriever(
    target: Any, config: HybridConfig, settings: CloudKitSettings, policy: CloudPolicy | None
) -> BaseRetriever:
    retriever: BaseRetriever = target.as_hybrid_retriever(config)
    return retriever


def _vector_store_retriever(
    index: VectorStoreIndex, config: HybridConfig, settings: CloudKitSettings, policy: CloudPolicy | None
) -> BaseRetriever:
    return vector_store_retriever(index, config)


def _is_llamacloud(target: Any) -> bool:
    return isinstance(target, str) or is_llamacloud_index(target)


def _llamacloud_retriever(
    target: Any, config: HybridConfig, settings: CloudKitSettings, policy: CloudPolicy | None
) -> BaseRetriever:
    retriever = llamacloud_retriever(target, config, settings, policy=policy)
    return FinalCountRetriever(retriever, config.final_top_k)


_TARGETS: tuple[_Target, ...] = (
    _Target(
        "a hybrid index (LocalHybridIndex, QdrantHybridIndex, PostgresHybridIndex)",
        _is_hybrid_index,
        _hybrid_retriever,
    ),
    _Target("a VectorStoreIndex", lambda t: isinstance(t, VectorStoreIndex), _vector_store_retriever),
    _Target("a LlamaCloud index name or LlamaCloudIndex", _is_llamacloud, _llamacloud_retriever),
)

_CONFIG_FIELDS = tuple(HybridConfig.model_fields)


def resolve_config(target: Any, preset: PresetLike = None, **overrides: Any) -> HybridConfig:
    """The HybridConfig a target is searched with: preset (or tuned config), then overrides.

    ``preset=None`` takes the target's tuned ``retrieval_config`` when it has one (see
    ``tune_retrieval``), else ``balanced``. A HybridConfig is used as given. Overrides always
    win; ``top_k=N`` alone gives N results whatever the reranking setting.

    Example:
        >>> resolve_config("any-index", "fast", top_k=1).final_top_k
        1
    """
    try:
        if isinstance(preset, HybridConfig):
            return preset.with_overrides(**overrides)
        if preset is None:
            tuned = getattr(target, "retrieval_config", None)
            if isinstance(tuned, HybridConfig):
                return tuned.with_overrides(**overrides)
            preset = RetrievalPreset.BALANCED
        return RetrievalPreset.from_name(preset).config(**overrides)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(map(str, e['loc'])) or 'config'}: {e['msg']}" for e in exc.errors())
        raise ConfigError(
            f"These retrieval settings cannot work together: {problems}",
            hint="Raise the per-leg top-k, or lower top_k / rerank_top_n",
        ) from None


def _retriever_for(
    target: Any,
    preset: PresetLike,
    settings: CloudKitSettings | None,
    kwargs: Mapping[str, Any],
    where: str,
    own: Iterable[str] = (),
) -> BaseRetriever:
    """The retriever of the first row of :data:`_TARGETS` that accepts ``target``.

    ``kwargs`` are checked against HybridConfig's fields, the connection keywords, ``policy``
    and ``own`` (the caller's own keywords, already taken out), naming ``where`` in the error.

    Raises:
        ConfigError: an unknown keyword, settings that cannot work together, or a target no row
            accepts.

    """
    if "similarity_top_k" in kwargs:  # LlamaIndex's name for the result count
        if "top_k" in kwargs:
            raise ConfigError(
                f"{where} got both similarity_top_k and top_k", hint="Pass one (both mean the result count)"
            )
        kwargs = {("top_k" if k == "similarity_top_k" else k): v for k, v in kwargs.items()}
    check_keywords(kwargs, [*_CONFIG_FIELDS, "similarity_top_k", *CONNECTION_FIELDS, "policy", *own], where)
    connection = {k: v for k, v in kwargs.items() if k in CONNECTION_FIELDS}
    overrides = {k: v for k, v in kwargs.items() if k not in CONNECTION_FIELDS and k != "policy"}
    policy = kwargs.get("policy")
    config = resolve_config(target, preset, **overrides)
    for row in _TARGETS:
        if row.accepts(target):
            return row.build(target, config, settings_with(settings, connection), policy)
    raise ConfigError(
        f"Cannot retrieve from a {type(target).__name__}",
        hint="Pass " + ", ".join(row.name for row in _TARGETS),
    )


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
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay")])
        >>> make_retriever(index, preset="keyword", top_k=3).retrieve("hay")[0].node.node_id
        'hay'
    """
    connection = {
        "api_key": api_key,
        "base_url": base_url,
        "project_name": project_name,
        "project_id": project_id,
        "organization_id": organization_id,
    }
    return _retriever_for(target, preset, settings, {**overrides, **connection}, "make_retriever")


def default_llm() -> LLM | None:
    """``Settings.llm`` when set; else gpt-4o-mini (temperature 0) with OPENAI_API_KEY; else None.

    Example:
        >>> llm = default_llm()
        >>> llm is None or llm.model == "gpt-4o-mini"
        True
    """
    configured = explicit_llm()
    if configured is not None:
        return cast(LLM, configured)
    if not os.environ.get("OPENAI_API_KEY"):
        return None
    from llama_index.llms.openai import OpenAI

    return OpenAI(model="gpt-4o-mini", temperature=0)


def _parameters(func: Callable[..., Any], *skip: str) -> frozenset[str]:
    """The keyword names of a LlamaIndex constructor, without the ones the factory fills in."""
    named = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = {p.name for p in inspect.signature(func).parameters.values() if p.kind in named}
    return frozenset(names - {"self", "cls", *skip})


def _query_engine_keywords() -> frozenset[str]:
    from llama_index.core.query_engine import RetrieverQueryEngine

    return _parameters(RetrieverQueryEngine.from_args, "retriever", "llm", "streaming")


def _citation_keywords() -> frozenset[str]:
    from llama_index.core.response_synthesizers import get_response_synthesizer

    synthesizer = _parameters(get_response_synthesizer, "llm", "streaming", "prompt_helper")
    return synthesizer | {"node_postprocessors", "citation_chunk_size", "citation_chunk_overlap"}


# chat_mode -> the LlamaIndex chat engine (ChatMode.BEST is condense_plus_context, as in LlamaIndex)
_CHAT_MODES = ("condense_plus_context", "best", "context", "condense_question")


def _chat_engine_class(mode: str) -> Any:
    from llama_index.core.chat_engine import (
        CondensePlusContextChatEngine,
        CondenseQuestionChatEngine,
        ContextChatEngine,
    )

    if mode == "context":
        return ContextChatEngine
    if mode == "condense_question":
        return CondenseQuestionChatEngine
    return CondensePlusContextChatEngine


def _chat_mode(chat_mode: Any, where: str) -> str:
    mode = str(getattr(chat_mode, "value", chat_mode)).strip().lower()
    if mode in _CHAT_MODES:
        return mode
    close = difflib.get_close_matches(mode, _CHAT_MODES, n=1, cutoff=0.6)
    hint = f"Did you mean {close[0]}?" if close else f"Use one of: {', '.join(_CHAT_MODES)}"
    if mode in ("react", "openai", "simple"):
        hint = (
            f"Use one of: {', '.join(_CHAT_MODES)}; for an agent, give a FunctionAgent or ReActAgent "
            "the tool of make_query_engine_tool"
        )
    raise ConfigError(f"{where} got an unknown chat_mode {chat_mode!r}", hint=hint)


def query_engine_for(
    target: Any,
    preset: PresetLike,
    llm: LLM | None,
    options: Mapping[str, Any],
    where: str,
    settings: CloudKitSettings | None = None,
) -> BaseQueryEngine:
    """The query engine of :func:`make_query_engine` and of every hybrid index's ``as_query_engine``.

    ``options`` holds ``citations`` and ``streaming``, HybridConfig fields (``similarity_top_k``
    is the result count), the connection keywords, and the keywords of LlamaIndex's
    ``RetrieverQueryEngine.from_args`` (``response_mode``, ``text_qa_template``, ...); ``where``
    names the caller in errors.

    Raises:
        ConfigError: an unknown keyword (naming the closest), or an answer-writing keyword such
            as ``response_mode`` with no LLM passed or set on ``Settings.llm``.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.")])
        >>> engine = query_engine_for(index, "fast", None, {"similarity_top_k": 1}, "demo")
        >>> engine.query("hay").source_nodes[0].node.text
        'Llamas eat hay.'
    """
    options = dict(options)
    citations = bool(options.pop("citations", False))
    streaming = bool(options.pop("streaming", False))
    names = _citation_keywords() if citations else _query_engine_keywords()
    engine_options = {k: v for k, v in options.items() if k in names}
    rest = {k: v for k, v in options.items() if k not in names}
    own = ("llm", "citations", "streaming", "settings", *names)
    retriever = _retriever_for(target, preset, settings, rest, where, own)
    llm = llm or default_llm()
    if llm is None:
        if engine_options:
            raise ConfigError(
                f"{where}: {', '.join(sorted(engine_options))} needs an LLM, and none is configured",
                hint="Pass llm=..., set Settings.llm, or set OPENAI_API_KEY; "
                "without an LLM the engine answers with cited passages",
            )
        return PassagesQueryEngine(retriever)
    if citations:
        from llama_index.core.query_engine import CitationQueryEngine
        from llama_index.core.query_engine.citation_query_engine import (
            CITATION_QA_TEMPLATE,
            CITATION_REFINE_TEMPLATE,
        )
        from llama_index.core.response_synthesizers import get_response_synthesizer

        engine_only = {"node_postprocessors", "citation_chunk_size", "citation_chunk_overlap"}
        synthesizer = get_response_synthesizer(
            llm=llm,
            streaming=streaming,
            **{
                "text_qa_template": CITATION_QA_TEMPLATE,
                "refine_template": CITATION_REFINE_TEMPLATE,
                **{k: v for k, v in engine_options.items() if k not in engine_only},
            },
        )
        return CitationQueryEngine(
            retriever=retriever,
            llm=llm,
            response_synthesizer=synthesizer,
            **{k: v for k, v in engine_options.items() if k in engine_only},
        )
    from llama_index.core.query_engine import RetrieverQueryEngine

    return RetrieverQueryEngine.from_args(retriever=retriever, llm=llm, streaming=streaming, **engine_options)


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
        llm: any LlamaIndex LLM; default ``Settings.llm`` when set, else OpenAI (gpt-4o-mini)
            when OPENAI_API_KEY is set, else cited passages without an LLM.
        citations: answer with numbered citations (LlamaIndex's CitationQueryEngine).
        streaming: stream the answer.
        **overrides: HybridConfig fields (``top_k=3`` or LlamaIndex's ``similarity_top_k=3``:
            three passages; ``filters``), the connection keywords of :func:`make_retriever`
            (``api_key``, ``base_url``, ``project_name``, ``project_id``, ``organization_id``),
            and LlamaIndex's query-engine keywords (``response_mode``, ``text_qa_template``,
            ``node_postprocessors``, ...; they need an LLM).

    Raises:
        ConfigError: an unknown keyword ("did you mean ...?"), or a query-engine keyword with
            no LLM passed or set on ``Settings.llm``.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay")])
        >>> from llama_index.core.llms import MockLLM
        >>> engine = make_query_engine(index, llm=MockLLM(), top_k=1)
        >>> [n.node.node_id for n in engine.query("What do llamas eat?").source_nodes]
        ['hay']
    """
    options = {"citations": citations, "streaming": streaming, **overrides}
    return query_engine_for(target, preset, llm, options, "make_query_engine", settings)


def chat_engine_for(
    target: Any,
    preset: PresetLike,
    llm: LLM | None,
    options: Mapping[str, Any],
    where: str,
    settings: CloudKitSettings | None = None,
) -> BaseChatEngine:
    """The chat engine of :func:`make_chat_engine` and of every hybrid index's ``as_chat_engine``.

    ``options`` holds ``chat_mode`` (``condense_plus_context`` by default, ``best`` is the same,
    ``context``, ``condense_question``), the keywords of that LlamaIndex chat engine's
    ``from_defaults`` (``system_prompt``, ``memory``, ...; with ``condense_question`` also the
    query engine's), HybridConfig fields and the connection keywords.

    Raises:
        ConfigError: no LLM passed, ``Settings.llm`` unset and OPENAI_API_KEY unset; an unknown
            chat mode or keyword (naming the closest).

    Example:
        >>> from llama_index.core.llms import MockLLM
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.")])
        >>> type(chat_engine_for(index, None, MockLLM(), {"chat_mode": "context"}, "demo")).__name__
        'ContextChatEngine'
    """
    options = dict(options)
    mode = _chat_mode(options.pop("chat_mode", "condense_plus_context"), where)
    engine_class = _chat_engine_class(mode)
    chat_names = _parameters(engine_class.from_defaults, "retriever", "llm", "query_engine")
    query_names = _query_engine_keywords() | {"streaming"} if mode == "condense_question" else frozenset()
    chat_options = {k: v for k, v in options.items() if k in chat_names}
    query_options = {k: v for k, v in options.items() if k in query_names}
    rest = {k: v for k, v in options.items() if k not in chat_names and k not in query_names}
    own = ("llm", "settings", "chat_mode", *chat_names, *query_names)
    retriever = _retriever_for(target, preset, settings, rest, where, own)
    llm = llm or default_llm()
    if llm is None:
        raise ConfigError(
            "A chat engine needs an LLM, and none is configured",
            hint="Pass llm=..., set Settings.llm, or set OPENAI_API_KEY; "
            "for passages without an LLM use a query engine",
        )
    if mode == "condense_question":
        from llama_index.core.query_engine import RetrieverQueryEngine

        query_engine = RetrieverQueryEngine.from_args(retriever=retriever, llm=llm, **query_options)
        engine: BaseChatEngine = engine_class.from_defaults(
            query_engine=query_engine, llm=llm, **chat_options
        )
        return engine
    engine = engine_class.from_defaults(retriever=retriever, llm=llm, **chat_options)
    return engine


def make_chat_engine(
    target: Any,
    preset: PresetLike = None,
    *,
    llm: LLM | None = None,
    settings: CloudKitSettings | None = None,
    **overrides: Any,
) -> BaseChatEngine:
    """A chat engine on ``target``: condense the question, retrieve, answer (``chat_mode`` to change).

    Args:
        llm: any LlamaIndex LLM; default ``Settings.llm``, else OpenAI with OPENAI_API_KEY.
        **overrides: ``chat_mode`` (``condense_plus_context``, ``best``, ``context``,
            ``condense_question``), the chat engine's keywords (``system_prompt``, ``memory``,
            ...), HybridConfig fields (``similarity_top_k``, ``filters``, ...) and the
            connection keywords of :func:`make_retriever`.

    Raises:
        ConfigError: no LLM given, ``Settings.llm`` unset and OPENAI_API_KEY unset; an unknown
            chat mode or keyword.

    Example:
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay")])
        >>> from llama_index.core.llms import MockLLM
        >>> type(make_chat_engine(index, llm=MockLLM())).__name__
        'CondensePlusContextChatEngine'
    """
    return chat_engine_for(target, preset, llm, overrides, "make_chat_engine", settings)


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
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay")])
        >>> from llama_index.core.llms import MockLLM
        >>> tool = make_query_engine_tool(index, name="handbook", description="Llama care", llm=MockLLM())
        >>> tool.metadata.name
        'handbook'
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
        >>> from llama_index.core.schema import TextNode
        >>> from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
        >>> index = LocalHybridIndex([TextNode(text="Llamas eat hay.", id_="hay")])
        >>> make_retriever_tool(index, name="search", description="Search the handbook").metadata.name
        'search'
    """
    own = ("name", "description", "settings")
    retriever = _retriever_for(target, preset, settings, overrides, "make_retriever_tool", own)
    return RetrieverTool(retriever=retriever, metadata=ToolMetadata(name=name, description=description))
