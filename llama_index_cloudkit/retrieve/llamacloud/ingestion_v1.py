"""Index v1 ingestion: documents into a pipeline, bounded: upsert, sync, and wait to one deadline.

The steps (routes of reference/llamacloud-api.md section 2.4):

1. the project: ``settings.project_id``, else by name (X1);
2. the pipeline, created or found by name (X3, ``PUT /api/v1/pipelines``: an upsert);
3. the documents, in batches (X6, ``PUT .../documents``: an upsert keyed by ``Document.id_``,
   so a retried or repeated batch replaces the same documents and adds nothing);
4. a sync (X8, ``POST .../sync``: repeating it re-syncs the same documents, so it is retried
   like a GET);
5. the pipeline status (X10) until it is terminal, then each document's status (X9) until
   every one is, all under one :class:`~llama_index_cloudkit.cloud.jobs.Deadline` made before
   step 1 that never restarts.

How it ends:

| outcome | result |
|---|---|
| pipeline SUCCESS, every document SUCCESS | the :class:`LlamaCloudIndexRef` |
| pipeline ERROR or CANCELLED | :class:`JobFailedError` naming index and pipeline |
| pipeline PARTIAL_SUCCESS, or a document ERROR | :class:`JobFailedError`, status PARTIAL_SUCCESS |
| the same with ``partial_ok=True`` | a logged warning; the reference lists ``failed_documents`` |
| still running at the deadline | :class:`JobTimeoutError`; ``job_id`` is the pipeline id |

The deadline is checked between requests; one request is itself bounded by the retry policy
(``CloudPolicy.retry.max_total_seconds``), so the call returns within the deadline plus one
request's bound. Nothing is printed and ``sys.stdout`` is never touched.

Example:
    >>> cloud_document(Document(text="hay", id_="d1"))["id"]
    'd1'
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import quote_plus

from llama_index.core.schema import Document

from llama_index_cloudkit.cloud.deadline import Deadline
from llama_index_cloudkit.cloud.errors import JobState, job_state
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ConfigError, JobFailedError, JobTimeoutError
from llama_index_cloudkit.retrieve.llamacloud.refs import (
    LlamaCloudIndexRef,
    about_index,
    aresolve_project_id,
    json_objects,
    object_id,
)

__all__ = ["DOCUMENT_BATCH", "aingest_documents", "cloud_document"]

logger = logging.getLogger(__name__)

DOCUMENT_BATCH = 100
"""Documents per upsert request (X6)."""

_FAILED_SHOWN = 10

Sleep = Callable[[float], Awaitable[Any]]


def _jsonable(value: Any) -> Any:
    """``value`` as JSON data; anything JSON cannot hold becomes its ``str``."""
    return json.loads(json.dumps(value, default=str))


def cloud_document(document: Document) -> dict[str, Any]:
    """The X6 body of one document, as the SDK sends it.

    Example:
        >>> cloud_document(Document(text="hay", id_="d1", metadata={"page": 1}))["metadata"]
        {'page': 1}
    """
    return {
        "id": document.id_,
        "text": document.text,
        "metadata": _jsonable(dict(document.metadata)),
        "excluded_embed_metadata_keys": list(document.excluded_embed_metadata_keys),
        "excluded_llm_metadata_keys": list(document.excluded_llm_metadata_keys),
    }


def _timeout(name: str, pipeline_id: str, deadline: Deadline, doing: str) -> JobTimeoutError:
    return JobTimeoutError(
        f"Ingestion into LlamaCloud index {name!r} (pipeline {pipeline_id}) was still {doing} "
        f"after {deadline.seconds:g} s",
        job_id=pipeline_id,
        hint="LlamaCloud keeps ingesting: query the index later, or run the same call again "
        "with a longer ingestion_timeout (the documents are upserted, never duplicated)",
    )


def _status(body: Mapping[str, Any]) -> JobState:
    return job_state(body.get("status"))


async def _pipeline_status(session: CloudSession, name: str, pipeline_id: str) -> Mapping[str, Any]:
    return await session.json(
        "GET",
        f"/api/v1/pipelines/{pipeline_id}/status",
        what=f"reading the ingestion status of LlamaCloud index {name!r}",
        job_id=pipeline_id,
        lost_on_404=True,
    )


async def _document_states(
    session: CloudSession, name: str, pipeline_id: str, document_ids: Sequence[str]
) -> dict[str, JobState]:
    async def one(doc_id: str) -> JobState:
        # The SDK quote_plus-es a document id twice in this path; the service decodes both.
        path = f"/api/v1/pipelines/{pipeline_id}/documents/{quote_plus(quote_plus(doc_id))}/status"
        body = await session.json(
            "GET", path, what=f"reading the ingestion status of document {doc_id!r} of index {name!r}"
        )
        return _status(body)

    states = await asyncio.gather(*(one(doc_id) for doc_id in document_ids))
    return dict(zip(document_ids, states, strict=True))


def _failed(name: str, pipeline_id: str, status: str, message: str, failed: Sequence[str]) -> JobFailedError:
    shown = ", ".join(failed[:_FAILED_SHOWN]) + (
        f" and {len(failed) - _FAILED_SHOWN} more" if len(failed) > _FAILED_SHOWN else ""
    )
    detail = f"; failed documents: {shown}" if failed else ""
    return JobFailedError(
        f"Ingestion into LlamaCloud index {name!r} (pipeline {pipeline_id}) {message}{detail}",
        status=status,
        job_id=pipeline_id,
        hint="See the index's ingestion errors in the LlamaCloud dashboard, fix or drop those "
        "documents and run again (documents are upserted by id, never duplicated)"
        + ("; pass partial_ok=True to keep a partly ingested index" if status == "PARTIAL_SUCCESS" else ""),
    )


async def _wait(
    session: CloudSession,
    name: str,
    pipeline_id: str,
    document_ids: Sequence[str],
    deadline: Deadline,
    sleep: Sleep,
) -> tuple[JobState, list[str]]:
    """Poll X10 until terminal, then X9 for the documents still running; the same deadline."""
    policy = session.policy
    interval = policy.poll_interval
    pipeline_state = JobState.PENDING
    pending = list(dict.fromkeys(document_ids))
    failed: list[str] = []
    while True:
        if not pipeline_state.terminal:
            body = await _pipeline_status(session, name, pipeline_id)
            pipeline_state = _status(body)
            if pipeline_state in (JobState.FAILED, JobState.CANCELLED):
                status = str(body.get("status") or pipeline_state.value).upper()
                error = body.get("error_message") or body.get("error") or "no message"
                raise _failed(name, pipeline_id, status, f"ended {status}: {error}", [])
        if pipeline_state.terminal:
            # A pipeline status read right after the sync may still describe the last run:
            # the documents say whether this run's are done.
            states = await _document_states(session, name, pipeline_id, pending)
            failed += [
                doc for doc, state in states.items() if state.terminal and state is not JobState.SUCCESS
            ]
            pending = [doc for doc, state in states.items() if not state.terminal]
            if not pending:
                return pipeline_state, failed
        if deadline.expired() or deadline.remaining() < min(interval, 0.05):
            doing = "ingesting" if not pipeline_state.terminal else f"ingesting {len(pending)} document(s)"
            raise _timeout(name, pipeline_id, deadline, doing)
        await sleep(min(interval, deadline.remaining()))
        interval = min(interval * 1.5, policy.max_poll_interval)


async def aingest_documents(
    session: CloudSession,
    documents: Sequence[Document],
    name: str,
    *,
    timeout: float,
    partial_ok: bool = False,
    batch_size: int = DOCUMENT_BATCH,
    sleep: Sleep = asyncio.sleep,
) -> LlamaCloudIndexRef:
    """Create or update the index ``name`` with ``documents`` and wait until it is ingested.

    Args:
        session: an open cloud session.
        documents: the documents (their ``id_`` is the upsert key).
        name: the index name.
        timeout: seconds for the whole call, from the first request; never restarts.
        partial_ok: accept a partly ingested index (logged warning) instead of raising.
        batch_size: documents per upsert request.
        sleep: injectable for tests.

    Raises:
        ConfigError: no documents, or an unknown project.
        JobTimeoutError: still ingesting at the deadline.
        JobFailedError: ingestion ended ERROR / CANCELLED, or PARTIAL_SUCCESS without ``partial_ok``.
        AuthError, RateLimitError, ServiceError: from the cloud core, naming the index.

    Example:
        >>> from llama_index_cloudkit.settings import CloudKitSettings
        >>> async def nothing() -> LlamaCloudIndexRef:
        ...     async with CloudSession(CloudKitSettings(api_key="llx-example")) as session:
        ...         return await aingest_documents(session, [], "handbook", timeout=60)
        >>> asyncio.run(nothing())  # doctest: +ELLIPSIS
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: No documents to put into LlamaCloud index 'handbook'. ...
    """
    if not documents:
        raise ConfigError(
            f"No documents to put into LlamaCloud index {name!r}",
            hint="Pass at least one Document (an empty folder gives none)",
        )
    deadline = Deadline(timeout)
    with about_index(name):
        project_id = await aresolve_project_id(session)
        pipeline = await session.json(
            "PUT",
            "/api/v1/pipelines",
            what=f"creating LlamaCloud index {name!r}",
            params={"project_id": project_id},
            json={
                "name": name,
                "pipeline_type": "MANAGED",
                "embedding_config": None,
                "transform_config": {},
                "llama_parse_parameters": {},
            },
            idempotent=True,  # an upsert by name
        )
        pipeline_id = object_id(pipeline, f"creating LlamaCloud index {name!r}")
        owner = pipeline.get("project_id")
        project_id = owner if isinstance(owner, str) and owner else project_id
    with about_index(name, pipeline_id):
        bodies = [cloud_document(document) for document in documents]
        for start in range(0, len(bodies), batch_size):
            if deadline.expired():
                raise _timeout(name, pipeline_id, deadline, "uploading documents")
            batch = bodies[start : start + batch_size]
            answer = await session.json_list(
                "PUT",
                f"/api/v1/pipelines/{pipeline_id}/documents",
                what=f"upserting documents {start + 1}-{start + len(batch)} into index {name!r}",
                json=batch,
                idempotent=True,  # an upsert keyed by document id
            )
            json_objects(answer, f"upserting documents into index {name!r}")
        await session.json(
            "POST",
            f"/api/v1/pipelines/{pipeline_id}/sync",
            what=f"starting ingestion into index {name!r}",
            idempotent=True,  # a second sync re-syncs the same documents
        )
        state, failed = await _wait(
            session, name, pipeline_id, [body["id"] for body in bodies], deadline, sleep
        )
    partial = state is JobState.PARTIAL or bool(failed)
    ref = LlamaCloudIndexRef(
        name,
        pipeline_id,
        project_id,
        status="PARTIAL_SUCCESS" if partial else "SUCCESS",
        failed_documents=tuple(failed),
    )
    if partial and not partial_ok:
        raise _failed(name, pipeline_id, "PARTIAL_SUCCESS", "ended PARTIAL_SUCCESS", failed)
    if partial:
        logger.warning(
            "%s was only partly ingested: %d of %d document(s) failed", ref, len(failed), len(bodies)
        )
    else:
        logger.info("%s is ready: %d document(s) ingested", ref, len(bodies))
    return ref
