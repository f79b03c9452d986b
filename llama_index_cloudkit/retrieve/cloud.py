"""LlamaCloud indexes as LlamaIndex retrievers, and documents into a LlamaCloud index.

Plain HTTP over the cloud core (:mod:`llama_index_cloudkit.cloud`): every call is bounded,
retried per its intent, typed on failure, and opens its HTTP client inside the event loop that
uses it. No SDK client is used, so nothing outlives an event loop, nothing waits without a
deadline, and nothing is printed. The pieces:

- :mod:`.cloud_index`: :class:`LlamaCloudIndexRef` and name resolution (X1, X4);
- :mod:`.cloud_retriever`: :class:`LlamaCloudHybridRetriever` (X15, F3, F4);
- :mod:`.cloud_nodes`: retrieval answers to nodes;
- :mod:`.cloud_ingest`: upsert, sync and wait (X3, X6, X8, X10, X9).

A target is an index name, a :class:`LlamaCloudIndexRef` (what
:func:`llamacloud_index_from_documents` returns), or an SDK ``LlamaCloudIndex`` (its ids are
read from the object; no SDK call is made).

Example:
    >>> ref = llamacloud_index_from_documents(docs, "handbook", CloudKitSettings())  # doctest: +SKIP
    >>> retriever = llamacloud_retriever(ref, HybridConfig(top_k=3), CloudKitSettings())  # doctest: +SKIP
    >>> retriever.retrieve("what do llamas eat")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession, run_in_session
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.retrieve.cloud_index import (
    LlamaCloudIndexRef,
    aresolve_index,
    index_ref_of,
)
from llama_index_cloudkit.retrieve.cloud_ingest import aingest_documents
from llama_index_cloudkit.retrieve.cloud_retriever import LlamaCloudHybridRetriever
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = [
    "LlamaCloudHybridRetriever",
    "LlamaCloudIndexRef",
    "allamacloud_index_from_documents",
    "aresolve_llamacloud_index",
    "is_llamacloud_index",
    "llamacloud_index_from_documents",
    "llamacloud_retriever",
    "resolve_llamacloud_index",
]


def is_llamacloud_index(obj: Any) -> bool:
    """Whether ``obj`` is a LlamaCloud index: a :class:`LlamaCloudIndexRef` or an SDK
    ``LlamaCloudIndex`` (recognised without importing the SDK).

    Example:
        >>> is_llamacloud_index(LlamaCloudIndexRef("handbook", "pipe-1", "proj-1"))
        True
        >>> is_llamacloud_index(object())
        False
    """
    if isinstance(obj, LlamaCloudIndexRef):
        return True
    return any(cls.__name__ == "LlamaCloudIndex" for cls in type(obj).__mro__)


async def aresolve_llamacloud_index(
    name: str, settings: CloudKitSettings, *, policy: CloudPolicy | None = None
) -> LlamaCloudIndexRef:
    """The index named ``name`` in the settings' project (for async code: no blocking call).

    Raises:
        ConfigError: no index of that name, no such project, or no API key.

    Example:
        >>> ref = await aresolve_llamacloud_index("handbook", CloudKitSettings())  # doctest: +SKIP
    """
    async with CloudSession(settings, policy) as session:
        return await aresolve_index(session, name)


def resolve_llamacloud_index(
    name: str, settings: CloudKitSettings, *, policy: CloudPolicy | None = None
) -> LlamaCloudIndexRef:
    """The index named ``name`` in the settings' project (X1 unless ``project_id``, then X4).

    Raises:
        ConfigError: no index of that name, no such project, or no API key.

    Example:
        >>> resolve_llamacloud_index("handbook", CloudKitSettings()).pipeline_id  # doctest: +SKIP
        'pipe-...'
    """
    return run_in_session(settings, policy, lambda session: aresolve_index(session, name))


def llamacloud_retriever(
    target: Any,
    config: HybridConfig,
    settings: CloudKitSettings,
    *,
    policy: CloudPolicy | None = None,
    retrieve_page_screenshot_nodes: bool = False,
    retrieve_page_figure_nodes: bool = False,
) -> LlamaCloudHybridRetriever:
    """A retriever on a LlamaCloud index with exactly ``config``'s parameters.

    A name is resolved now (so a wrong name fails here, with a ConfigError naming it); a
    :class:`LlamaCloudIndexRef` or an SDK ``LlamaCloudIndex`` needs no request. The retriever
    returns at most ``config.final_top_k`` passages, then any image nodes.

    Args:
        target: an index name, a LlamaCloudIndexRef, or a LlamaCloudIndex.
        config: the retrieval settings (0, 0.0 and False are sent as given).
        settings: key, endpoint and project.
        policy: retries and timeouts of the cloud core (default: :class:`CloudPolicy`).
        retrieve_page_screenshot_nodes: ask for page screenshots and fetch their bytes.
        retrieve_page_figure_nodes: ask for page figures and fetch their bytes.

    Raises:
        ConfigError: no API key, an unknown index name, or a target of another type.

    Example:
        >>> retriever = llamacloud_retriever("handbook", HybridConfig(), CloudKitSettings())  # doctest: +SKIP
    """
    settings.require_key()
    if isinstance(target, str):
        ref = resolve_llamacloud_index(target, settings, policy=policy)
    elif is_llamacloud_index(target):
        ref = index_ref_of(target)
    else:
        raise ConfigError(
            f"Cannot retrieve from a {type(target).__name__} on LlamaCloud",
            hint="Pass an index name, a LlamaCloudIndexRef or a LlamaCloudIndex",
        )
    return LlamaCloudHybridRetriever(
        ref,
        config,
        settings,
        policy=policy,
        retrieve_page_screenshot_nodes=retrieve_page_screenshot_nodes,
        retrieve_page_figure_nodes=retrieve_page_figure_nodes,
    )


async def allamacloud_index_from_documents(
    documents: Sequence[Document],
    name: str,
    settings: CloudKitSettings,
    *,
    policy: CloudPolicy | None = None,
    ingestion_timeout: float | None = None,
    partial_ok: bool = False,
) -> LlamaCloudIndexRef:
    """Async :func:`llamacloud_index_from_documents`.

    Example:
        >>> ref = await allamacloud_index_from_documents(docs, "handbook", settings)  # doctest: +SKIP
    """
    async with CloudSession(settings, policy) as session:
        timeout = ingestion_timeout if ingestion_timeout is not None else session.policy.job_timeout
        return await aingest_documents(session, documents, name, timeout=timeout, partial_ok=partial_ok)


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
        A :class:`LlamaCloudIndexRef` (``.name``, ``.id``), a target for ``make_retriever``.

    Raises:
        JobTimeoutError: still ingesting at the deadline (names the index; ``job_id`` is the
            pipeline id). LlamaCloud keeps ingesting; query the index later.
        JobFailedError: ingestion ended ERROR / CANCELLED, or PARTIAL_SUCCESS without
            ``partial_ok``.
        ConfigError: no API key, no documents, or an unknown project.
        AuthError, RateLimitError, ServiceError: from the cloud core, naming the index.

    Example:
        >>> ref = llamacloud_index_from_documents(docs, "handbook", CloudKitSettings())  # doctest: +SKIP
        >>> ref.name, ref.status  # doctest: +SKIP
        ('handbook', 'SUCCESS')
    """
    settings.require_key()

    async def work(session: CloudSession) -> LlamaCloudIndexRef:
        timeout = ingestion_timeout if ingestion_timeout is not None else session.policy.job_timeout
        return await aingest_documents(session, documents, name, timeout=timeout, partial_ok=partial_ok)

    return run_in_session(settings, policy, work)
