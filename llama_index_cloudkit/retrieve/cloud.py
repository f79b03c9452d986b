"""LlamaCloud indexes as LlamaIndex retrievers, and documents into a LlamaCloud index.

Plain HTTP over the cloud core (:mod:`llama_index_cloudkit.cloud`): every call is bounded,
retried per its intent, typed on failure, and opens its HTTP client inside the event loop that
uses it. No SDK client is used, so nothing outlives an event loop, nothing waits without a
deadline, and nothing is printed. The pieces:

- :mod:`.cloud_index`: :class:`LlamaCloudIndexRef` and name resolution (X1, X4);
- :mod:`.cloud_retriever`: :class:`LlamaCloudHybridRetriever` (X15, F3, F4);
- :mod:`.cloud_nodes`: retrieval answers to nodes;
- :mod:`.cloud_ingest`: upsert, sync and wait (X3, X6, X8, X10, X9);
- :mod:`.cloud_v2`: Index v2 retrieval (``settings.api_version == "v2"``): the same entry points
  dispatch there, so ``make_retriever`` / ``make_query_engine`` need no change.

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
from llama_index_cloudkit.retrieve.cloud_v2 import (
    LlamaCloudV2IndexRef,
    LlamaCloudV2Retriever,
    resolve_v2_index,
)
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = [
    "LlamaCloudHybridRetriever",
    "LlamaCloudIndexRef",
    "LlamaCloudV2IndexRef",
    "LlamaCloudV2Retriever",
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
    if isinstance(obj, (LlamaCloudIndexRef, LlamaCloudV2IndexRef)):
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
    score_threshold: float | None = None,
) -> LlamaCloudHybridRetriever | LlamaCloudV2Retriever:
    """A retriever on a LlamaCloud index with exactly ``config``'s parameters.

    ``settings.api_version`` picks the API generation: v1 retrieves from a pipeline
    (:class:`LlamaCloudHybridRetriever`), v2 from an Index v2 index named by its name or id
    (:class:`LlamaCloudV2Retriever`; a v1 :class:`LlamaCloudIndexRef` is looked up by its name).

    A name is resolved now (so a wrong name fails here, with a ConfigError naming it); a
    :class:`LlamaCloudIndexRef` or an SDK ``LlamaCloudIndex`` needs no request. The retriever
    returns at most ``config.final_top_k`` passages, then any image nodes.

    Args:
        target: an index name, a LlamaCloudIndexRef, or a LlamaCloudIndex.
        config: the retrieval settings (0, 0.0 and False are sent as given).
        settings: key, endpoint and project.
        policy: retries and timeouts of the cloud core (default: :class:`CloudPolicy`).
        retrieve_page_screenshot_nodes: ask for page screenshots and fetch their bytes.
        retrieve_page_figure_nodes: ask for page figures and fetch their bytes (v1 only).
        score_threshold: v2 only: drop results scored below it.

    Raises:
        ConfigError: no API key, an unknown index name, a target of another type, an option
            the API generation does not have, or (v2) a filter Index v2 cannot express.

    Example:
        >>> retriever = llamacloud_retriever("handbook", HybridConfig(), CloudKitSettings())  # doctest: +SKIP
    """
    settings.require_key()
    if settings.api_version == "v2":
        if retrieve_page_screenshot_nodes or retrieve_page_figure_nodes:
            raise ConfigError(
                "Index v2 retrieval returns no page screenshot or figure nodes",
                hint="Drop retrieve_page_*_nodes, or use api_version='v1'",
            )
        return LlamaCloudV2Retriever(
            _v2_ref(target, settings, policy),
            config,
            settings,
            policy=policy,
            score_threshold=score_threshold,
        )
    if score_threshold is not None:
        raise ConfigError("score_threshold is an Index v2 parameter", hint="Use api_version='v2', or drop it")
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


def _v2_ref(target: Any, settings: CloudKitSettings, policy: CloudPolicy | None) -> LlamaCloudV2IndexRef:
    """An Index v2 reference from a name, an id, a v2 reference or a v1 reference (by name)."""
    if isinstance(target, LlamaCloudV2IndexRef):
        return target
    if isinstance(target, str):
        return resolve_v2_index(target, settings, policy=policy)
    if is_llamacloud_index(target):
        return resolve_v2_index(index_ref_of(target).name, settings, policy=policy)
    raise ConfigError(
        f"Cannot retrieve from a {type(target).__name__} on LlamaCloud",
        hint="Pass an index name or id, or a LlamaCloudV2IndexRef",
    )


def _no_v2_ingestion(settings: CloudKitSettings) -> None:
    if settings.api_version == "v2":
        raise ConfigError(
            "Index v2 builds an index from a LlamaCloud directory (POST /api/v1/indexes with a "
            "source_directory_id); this package does not upload documents to Index v2",
            hint="Create the index in LlamaCloud and retrieve from it by name or id with "
            "api_version='v2', or ingest into a pipeline with api_version='v1'",
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
    _no_v2_ingestion(settings)
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
        ConfigError: no API key, no documents, an unknown project, or ``api_version="v2"``
            (Index v2 indexes are built from a LlamaCloud directory, not from documents).
        AuthError, RateLimitError, ServiceError: from the cloud core, naming the index.

    Example:
        >>> ref = llamacloud_index_from_documents(docs, "handbook", CloudKitSettings())  # doctest: +SKIP
        >>> ref.name, ref.status  # doctest: +SKIP
        ('handbook', 'SUCCESS')
    """
    settings.require_key()
    _no_v2_ingestion(settings)

    async def work(session: CloudSession) -> LlamaCloudIndexRef:
        timeout = ingestion_timeout if ingestion_timeout is not None else session.policy.job_timeout
        return await aingest_documents(session, documents, name, timeout=timeout, partial_ok=partial_ok)

    return run_in_session(settings, policy, work)
