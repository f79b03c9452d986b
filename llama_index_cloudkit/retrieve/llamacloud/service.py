"""LlamaCloud indexes as LlamaIndex retrievers, and documents into a LlamaCloud index.

One protocol, :class:`IndexService`, and one adapter per API generation: :class:`.IndexV1`
(pipelines, the seed's API) and :class:`.IndexV2` (Index v2, the current API). Only the adapters
know routes, body fields and status words; they answer scored nodes. The generation is chosen
here, once, by :func:`index_service` from the settings; everything after it holds an adapter.

Plain HTTP over the cloud core (:mod:`llama_index_cloudkit.cloud`): every call is bounded,
retried per its intent, typed on failure, and opens its HTTP client inside the event loop that
uses it. No SDK client is used, so nothing outlives an event loop, nothing waits without a
deadline, and nothing is printed.

A target is an index name (or, on v2, an index id), a :class:`.LlamaCloudIndexRef` (what
:func:`llamacloud_index_from_documents` returns), a :class:`.LlamaCloudV2IndexRef`, or an SDK
``LlamaCloudIndex`` (its ids are read from the object; no SDK call is made).

Example:
    >>> from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudIndexRef
    >>> settings = CloudKitSettings(api_key="llx-example")
    >>> ref = LlamaCloudIndexRef("handbook", "pipe-1", "proj-1")
    >>> llamacloud_retriever(ref, HybridConfig(top_k=3), settings)
    LlamaCloudRetriever(LlamaCloud index 'handbook' (pipeline pipe-1), final_top_k=3)
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Protocol, runtime_checkable

from llama_index.core.base.base_retriever import BaseRetriever
from llama_index.core.callbacks import CallbackManager
from llama_index.core.schema import Document, NodeWithScore, QueryBundle

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession, run_in_session
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.index_v1 import IndexV1
from llama_index_cloudkit.retrieve.llamacloud.index_v2 import IndexV2
from llama_index_cloudkit.retrieve.llamacloud.refs import IndexRef, LlamaCloudIndexRef
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = [
    "IndexService",
    "LlamaCloudRetriever",
    "allamacloud_index_from_documents",
    "index_service",
    "llamacloud_index_from_documents",
    "llamacloud_retriever",
]


@runtime_checkable
class IndexService(Protocol):
    """What one API generation of LlamaCloud's index service does (an adapter per generation).

    Example:
        >>> isinstance(index_service(CloudKitSettings(api_version="v2")), IndexService)
        True
    """

    def check(self, config: HybridConfig) -> None:
        """Refuse, before any request, a config this generation cannot express."""

    async def resolve(self, session: CloudSession, target: Any) -> IndexRef:
        """The index a target names (a name is looked up; a reference is used as it is)."""

    async def search(
        self, session: CloudSession, index: Any, query: str, config: HybridConfig
    ) -> list[NodeWithScore]:
        """One retrieval: scored nodes, at most ``config.final_top_k`` passages."""

    async def ingest(
        self,
        session: CloudSession,
        documents: Sequence[Document],
        name: str,
        *,
        timeout: float,
        partial_ok: bool = False,
    ) -> LlamaCloudIndexRef:
        """Create or update the index ``name`` with ``documents`` and wait for ingestion."""


def index_service(
    settings: CloudKitSettings,
    *,
    screenshots: bool = False,
    figures: bool = False,
    score_threshold: float | None = None,
) -> IndexService:
    """The adapter of ``settings.api_version``: the one place the index's API generation is read.

    Args:
        settings: its ``api_version`` picks the adapter (``v1`` pipelines, ``v2`` Index v2).
        screenshots: v1 only: ask for page screenshots and fetch their bytes.
        figures: v1 only: ask for page figures and fetch their bytes.
        score_threshold: v2 only: drop results scored below it.

    Raises:
        ConfigError: an option the chosen generation does not have.

    Example:
        >>> type(index_service(CloudKitSettings(api_version="v1"))).__name__
        'IndexV1'
    """
    if settings.api_version == "v2":
        return IndexV2(screenshots=screenshots, figures=figures, score_threshold=score_threshold)
    return IndexV1(screenshots=screenshots, figures=figures, score_threshold=score_threshold)


class LlamaCloudRetriever(BaseRetriever):
    """A LlamaIndex retriever on a LlamaCloud index, safe across event loops and threads.

    Every call opens its own :class:`~llama_index_cloudkit.cloud.session.CloudSession` in the
    running event loop and closes it before returning (sync calls go through ``run_in_session``),
    so one retriever works from any number of event loops and threads: the SDK's retriever kept
    one AsyncClient across loops. The config is checked against the adapter when the retriever is
    built, so a filter the generation cannot express fails here, before any request.

    Args:
        service: the adapter of the index's API generation (see :func:`index_service`).
        index: the index reference (see :func:`llamacloud_retriever` to start from a name).
        config: the retrieval settings; at most ``config.final_top_k`` passages come back.
        settings: key and endpoint.
        policy: retries and timeouts of the cloud core (default ``CloudPolicy()``).
        callback_manager: LlamaIndex callbacks.

    Example:
        >>> from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudV2IndexRef
        >>> settings = CloudKitSettings(api_version="v2")
        >>> ref = LlamaCloudV2IndexRef("handbook", "idx-1")
        >>> LlamaCloudRetriever(index_service(settings), ref, HybridConfig(), settings).index.id
        'idx-1'
    """

    def __init__(
        self,
        service: IndexService,
        index: Any,
        config: HybridConfig,
        settings: CloudKitSettings,
        *,
        policy: CloudPolicy | None = None,
        callback_manager: CallbackManager | None = None,
    ) -> None:
        service.check(config)
        self.service = service
        self.index = index
        self.config = config
        self.settings = settings
        self.policy = policy or CloudPolicy()
        super().__init__(callback_manager=callback_manager)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.index}, final_top_k={self.config.final_top_k})"

    async def _search(self, session: CloudSession, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return await self.service.search(session, self.index, query_bundle.query_str, self.config)

    def _retrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        return run_in_session(self.settings, self.policy, lambda session: self._search(session, query_bundle))

    async def _aretrieve(self, query_bundle: QueryBundle) -> list[NodeWithScore]:
        async with CloudSession(self.settings, self.policy) as session:
            return await self._search(session, query_bundle)


def llamacloud_retriever(
    target: Any,
    config: HybridConfig,
    settings: CloudKitSettings,
    *,
    policy: CloudPolicy | None = None,
    retrieve_page_screenshot_nodes: bool = False,
    retrieve_page_figure_nodes: bool = False,
    score_threshold: float | None = None,
) -> LlamaCloudRetriever:
    """A retriever on a LlamaCloud index with exactly ``config``'s parameters.

    ``settings.api_version`` picks the API generation (:func:`index_service`): v1 retrieves from
    a pipeline, v2 from an Index v2 index named by its name or id (a v1 reference is looked up by
    its name). A name is resolved now, so a wrong name fails here with a ConfigError naming it; a
    reference or an SDK ``LlamaCloudIndex`` needs no request. The retriever returns at most
    ``config.final_top_k`` passages, then any image nodes.

    Args:
        target: an index name (or v2 id), a reference, or a LlamaCloudIndex.
        config: the retrieval settings (0, 0.0 and False are sent as given).
        settings: key, endpoint and project.
        policy: retries and timeouts of the cloud core (default: :class:`CloudPolicy`).
        retrieve_page_screenshot_nodes: ask for page screenshots and fetch their bytes (v1 only).
        retrieve_page_figure_nodes: ask for page figures and fetch their bytes (v1 only).
        score_threshold: v2 only: drop results scored below it.

    Raises:
        ConfigError: no API key, an unknown index name, a target of another type, an option
            the API generation does not have, or (v2) a filter Index v2 cannot express.

    Example:
        >>> from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudIndexRef
        >>> ref = LlamaCloudIndexRef("handbook", "pipe-1", "proj-1")
        >>> llamacloud_retriever(ref, HybridConfig(), CloudKitSettings(api_key="llx-example")).index.name
        'handbook'
    """
    settings.require_key()
    service = index_service(
        settings,
        screenshots=retrieve_page_screenshot_nodes,
        figures=retrieve_page_figure_nodes,
        score_threshold=score_threshold,
    )
    service.check(config)
    index = run_in_session(settings, policy, lambda session: service.resolve(session, target))
    return LlamaCloudRetriever(service, index, config, settings, policy=policy)


async def allamacloud_index_from_documents(
    documents: Sequence[Document],
    name: str,
    settings: CloudKitSettings,
    *,
    policy: CloudPolicy | None = None,
    ingestion_timeout: float | None = None,
    partial_ok: bool = False,
) -> LlamaCloudIndexRef:
    """Async :func:`llamacloud_index_from_documents`: awaits the cloud core in the caller's loop.

    Example:
        >>> import asyncio
        >>> settings = CloudKitSettings(api_key="llx-example")
        >>> asyncio.run(allamacloud_index_from_documents([], "handbook", settings))  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: No documents to put into LlamaCloud index 'handbook'. ...
    """
    service = index_service(settings)
    async with CloudSession(settings, policy) as session:
        timeout = ingestion_timeout if ingestion_timeout is not None else session.policy.job_timeout
        return await service.ingest(session, documents, name, timeout=timeout, partial_ok=partial_ok)


def llamacloud_index_from_documents(
    documents: Sequence[Document],
    name: str,
    settings: CloudKitSettings,
    *,
    policy: CloudPolicy | None = None,
    ingestion_timeout: float | None = None,
    partial_ok: bool = False,
) -> LlamaCloudIndexRef:
    """Create or update the LlamaCloud index ``name`` with ``documents`` and wait for ingestion.

    Documents are upserted by ``Document.id_``: running it again with the same documents
    replaces them and adds nothing. Nothing is printed.

    Args:
        documents: the documents to index.
        name: the index name (created in the settings' project when it does not exist).
        settings: key, endpoint and project.
        policy: retries and timeouts of the cloud core.
        ingestion_timeout: seconds the whole call may take, from its first request; it never
            restarts (default: ``policy.job_timeout``, 1800 s).
        partial_ok: when some documents fail, log a warning and return the index (its
            ``failed_documents`` lists them) instead of raising JobFailedError.

    Returns:
        A :class:`.LlamaCloudIndexRef` (``.name``, ``.id``), a target for ``make_retriever``.

    Raises:
        JobTimeoutError: still ingesting at the deadline (names the index; ``job_id`` is the
            pipeline id). LlamaCloud keeps ingesting; query the index later.
        JobFailedError: ingestion ended ERROR / CANCELLED, or PARTIAL_SUCCESS without
            ``partial_ok``.
        ConfigError: no API key, no documents, an unknown project, or the v2 API (Index v2
            indexes are built from a LlamaCloud directory, not from documents).
        AuthError, RateLimitError, ServiceError: from the cloud core, naming the index.

    Example:
        >>> settings = CloudKitSettings(api_key="llx-example")
        >>> llamacloud_index_from_documents([], "handbook", settings)  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: No documents to put into LlamaCloud index 'handbook'. ...
    """
    settings.require_key()
    service = index_service(settings)

    async def work(session: CloudSession) -> LlamaCloudIndexRef:
        timeout = ingestion_timeout if ingestion_timeout is not None else session.policy.job_timeout
        return await service.ingest(session, documents, name, timeout=timeout, partial_ok=partial_ok)

    return run_in_session(settings, policy, work)
