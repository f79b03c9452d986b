"""The fault matrix for LlamaCloud indexes: retrieval by name and index creation, keep-alive emulator.

Retrieval goes through ``llamacloud_retriever("handbook", ...)`` (project X1, pipeline X4, then
X15 per query), sync and async, and the offline query engine on it. (``make_retriever`` takes no
``policy`` yet, so it would run the matrix with the default 60 s timeouts; it reaches the same
``llamacloud_retriever``.) Index creation goes through
``llamacloud_index_from_documents`` (X1, X3, X6, X8, X10, X9), sync and async. Every fault ends
with the right result after recovery, or a typed error that names the index.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from llama_index.core import Document

from llama_index_cloudkit import CloudKitSettings
from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudIndexRef
from llama_index_cloudkit.retrieve.llamacloud.service import (
    LlamaCloudRetriever,
    allamacloud_index_from_documents,
    llamacloud_index_from_documents,
    llamacloud_retriever,
)
from llama_index_cloudkit.retrieve.passages import PassagesQueryEngine
from llama_index_cloudkit.testing import FakeLlamaCloud

from .conftest import FAST_POLICY, HTTP_FAULTS, KEY, HttpFault, assert_typed

NAME = "handbook"
DOCS = [
    Document(text="Adult llamas eat grass hay every day.", id_="hay", metadata={"file_name": "care.pdf"}),
    Document(text="Shear the fleece once a year in spring.", id_="shear", metadata={"file_name": "care.pdf"}),
]
LOOKUP_ROUTES = {
    "project lookup": ("GET", "/api/v1/projects"),
    "index lookup": ("GET", "/api/v1/pipelines"),
}
RETRIEVE_ROUTES = {**LOOKUP_ROUTES, "retrieve": ("POST", r"/api/v1/pipelines/[^/]+/retrieve")}
INGEST_ROUTES = {
    "project lookup": ("GET", "/api/v1/projects"),
    "index upsert": ("PUT", "/api/v1/pipelines"),
    "documents upsert": ("PUT", r"/api/v1/pipelines/[^/]+/documents"),
    "sync": ("POST", r"/api/v1/pipelines/[^/]+/sync"),
    "index status": ("GET", r"/api/v1/pipelines/[^/]+/status"),
    "document status": ("GET", r"/api/v1/pipelines/[^/]+/documents/[^/]+/status"),
}
STATUS = INGEST_ROUTES["index status"]


def _settings(fake: FakeLlamaCloud, key: str = KEY) -> CloudKitSettings:
    return CloudKitSettings(api_key=key, base_url=fake.base_url)


# --- entry points ---------------------------------------------------------------------------------

Retrieve = Callable[[CloudKitSettings], list[str]]


def _retriever(settings: CloudKitSettings) -> LlamaCloudRetriever:
    return llamacloud_retriever(NAME, HybridConfig(), settings, policy=FAST_POLICY)


def _retrieve(settings: CloudKitSettings) -> list[str]:
    hits = _retriever(settings).retrieve("what do llamas eat")
    return [str(hit.node.ref_doc_id) for hit in hits]


def _aretrieve(settings: CloudKitSettings) -> list[str]:
    hits = asyncio.run(_retriever(settings).aretrieve("what do llamas eat"))
    return [str(hit.node.ref_doc_id) for hit in hits]


def _query(settings: CloudKitSettings) -> list[str]:
    response = PassagesQueryEngine(_retriever(settings)).query("what do llamas eat")
    return [str(node.node.ref_doc_id) for node in response.source_nodes]


RETRIEVE_ENTRIES: dict[str, Retrieve] = {"retrieve": _retrieve, "aretrieve": _aretrieve, "query": _query}

Ingest = Callable[[CloudKitSettings], LlamaCloudIndexRef]


def _ingest(settings: CloudKitSettings) -> LlamaCloudIndexRef:
    return llamacloud_index_from_documents(DOCS, NAME, settings, policy=FAST_POLICY)


def _aingest(settings: CloudKitSettings) -> LlamaCloudIndexRef:
    return asyncio.run(allamacloud_index_from_documents(DOCS, NAME, settings, policy=FAST_POLICY))


INGEST_ENTRIES: dict[str, Ingest] = {"from_documents": _ingest, "afrom_documents": _aingest}


# --- checks ---------------------------------------------------------------------------------------


def _outcome(run: Callable[[], Any], expect: str, error: str) -> Any:
    """Run; a typed failure names the index and is the expected class; anything raw fails."""
    started = time.monotonic()
    try:
        result = run()
    except CloudKitError as exc:
        assert expect == "typed", f"expected recovery, got {type(exc).__name__}: {exc}"
        assert_typed(exc, names=(repr(NAME),))
        assert error in {cls.__name__ for cls in type(exc).__mro__}, f"{type(exc).__name__}: {exc}"
        return None
    except BaseException as exc:  # anything else is a defect of the package
        pytest.fail(f"raw {type(exc).__name__} escaped: {exc}")
    assert time.monotonic() - started < 30
    assert expect == "recover", f"expected a {error}, got {result!r}"
    return result


def _check_retrieval(run: Callable[[], list[str]], expect: str, error: str) -> None:
    found = _outcome(run, expect, error)
    if found is not None:
        assert found and found[0] == "hay"


def _check_ingestion(
    fake: FakeLlamaCloud, run: Callable[[], LlamaCloudIndexRef], expect: str, error: str
) -> None:
    ref = _outcome(run, expect, error)
    if ref is not None:
        assert ref.status == "SUCCESS" and ref.name == NAME
        stored = fake.state.pipelines.list_documents(ref.pipeline_id, 0, 100)
        assert sorted(d["id"] for d in stored) == ["hay", "shear"]  # each once, none lost


@pytest.fixture
def indexed(fake: FakeLlamaCloud) -> LlamaCloudIndexRef:
    """The index, built and searched once so the emulator's engine is warm before any fault."""
    settings = _settings(fake)
    ref = llamacloud_index_from_documents(DOCS, NAME, settings)
    assert llamacloud_retriever(ref.name, HybridConfig(), settings).retrieve("hay")
    return ref


@pytest.fixture(scope="module")
def _served() -> Iterator[FakeLlamaCloud]:
    """One keep-alive emulator with the index, built once for the module's retrieval faults."""
    with FakeLlamaCloud(api_key=KEY) as server:
        settings = _settings(server)
        llamacloud_index_from_documents(DOCS, NAME, settings)
        assert llamacloud_retriever(NAME, HybridConfig(), settings).retrieve("hay")  # engine warm
        yield server


@pytest.fixture
def served(_served: FakeLlamaCloud) -> Iterator[FakeLlamaCloud]:
    """The shared emulator with no fault left over from another test."""
    _served.clear_faults()
    yield _served
    _served.clear_faults()


# --- retrieval ------------------------------------------------------------------------------------


# The lookups run while the retriever is built, the same way for every entry point; the
# retrieve route runs per query, sync and async.
RETRIEVE_CASES = [
    *((route, "retrieve") for route in LOOKUP_ROUTES),
    *(("retrieve", e) for e in RETRIEVE_ENTRIES),
]


@pytest.mark.parametrize(("route", "entry"), RETRIEVE_CASES, ids=lambda v: v)
@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=lambda f: f.name)
def test_retrieval_http_fault_recovers_or_is_typed(
    served: FakeLlamaCloud, entry: str, route: str, fault: HttpFault, no_key_in_logs: None
) -> None:
    served.add_fault(*RETRIEVE_ROUTES[route], **fault.fault)
    _check_retrieval(lambda: RETRIEVE_ENTRIES[entry](_settings(served)), fault.outcome, fault.error)


@pytest.mark.parametrize("entry", RETRIEVE_ENTRIES)
def test_retrieval_with_a_wrong_key_is_an_auth_error(
    served: FakeLlamaCloud, entry: str, no_key_in_logs: None
) -> None:
    settings = _settings(served, key="llx-wrong-key-0123456789")
    _check_retrieval(lambda: RETRIEVE_ENTRIES[entry](settings), "typed", "AuthError")


def test_retrieval_from_a_deleted_index_is_a_service_error(
    fake: FakeLlamaCloud, indexed: LlamaCloudIndexRef
) -> None:
    retriever = _retriever(_settings(fake))
    fake.state.pipelines.delete(indexed.pipeline_id)
    _check_retrieval(
        lambda: [str(h.node.ref_doc_id) for h in retriever.retrieve("hay")], "typed", "ServiceError"
    )


@pytest.mark.parametrize("entry", ["retrieve", "aretrieve"])
def test_retrieval_while_the_service_is_down_is_typed_and_works_again_after_its_restart(
    fake: FakeLlamaCloud, indexed: LlamaCloudIndexRef, entry: str, no_key_in_logs: None
) -> None:
    retriever = _retriever(_settings(fake))

    def search() -> list[str]:
        query = "what do llamas eat"
        hits = retriever.retrieve(query) if entry == "retrieve" else asyncio.run(retriever.aretrieve(query))
        return [str(hit.node.ref_doc_id) for hit in hits]

    _check_retrieval(search, "recover", "")  # a keep-alive connection is open now
    fake.stop()
    _check_retrieval(search, "typed", "ServiceError")
    fake.start()  # same port, same state
    _check_retrieval(search, "recover", "")


# --- index creation -------------------------------------------------------------------------------


# Sync and async share every request (the sync entry runs the async one in a fresh loop): the
# HTTP faults run on the sync entry, the job outcomes below on both.
@pytest.mark.parametrize("route", INGEST_ROUTES)
@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=lambda f: f.name)
def test_ingestion_http_fault_recovers_or_is_typed(
    fake: FakeLlamaCloud, route: str, fault: HttpFault, no_key_in_logs: None
) -> None:
    fake.add_fault(*INGEST_ROUTES[route], **fault.fault)
    _check_ingestion(fake, lambda: _ingest(_settings(fake)), fault.outcome, fault.error)


@pytest.mark.parametrize("entry", INGEST_ENTRIES)
def test_ingestion_with_a_wrong_key_is_an_auth_error(
    fake: FakeLlamaCloud, entry: str, no_key_in_logs: None
) -> None:
    settings = _settings(fake, key="llx-wrong-key-0123456789")
    _check_ingestion(fake, lambda: INGEST_ENTRIES[entry](settings), "typed", "AuthError")


@pytest.mark.parametrize("entry", INGEST_ENTRIES)
@pytest.mark.parametrize("status", ["ERROR", "CANCELED", "PARTIAL_SUCCESS"])
def test_ingestion_that_does_not_succeed_is_a_job_failed_error(
    fake: FakeLlamaCloud, entry: str, status: str
) -> None:
    fake.state.pipelines.status_script = ["IN_PROGRESS", status]
    _check_ingestion(fake, lambda: INGEST_ENTRIES[entry](_settings(fake)), "typed", "JobFailedError")


@pytest.mark.parametrize("entry", INGEST_ENTRIES)
def test_ingestion_stuck_past_its_deadline_times_out(fake: FakeLlamaCloud, entry: str) -> None:
    fake.add_fault(*STATUS, status=200, body={"status": "IN_PROGRESS"})
    started = time.monotonic()
    _check_ingestion(fake, lambda: INGEST_ENTRIES[entry](_settings(fake)), "typed", "JobTimeoutError")
    assert time.monotonic() - started < FAST_POLICY.job_timeout * 3


@pytest.mark.parametrize("entry", INGEST_ENTRIES)
def test_ingestion_status_404_is_a_job_lost_error(fake: FakeLlamaCloud, entry: str) -> None:
    fake.add_fault(*STATUS, status=404)
    _check_ingestion(fake, lambda: INGEST_ENTRIES[entry](_settings(fake)), "typed", "JobLostError")


def test_ingestion_with_the_service_stopped_mid_way_is_typed_and_a_rerun_after_restart_loses_nothing(
    fake: FakeLlamaCloud, no_key_in_logs: None
) -> None:
    fake.state.pipelines.status_script = ["IN_PROGRESS"] * 10_000
    stopped = threading.Event()

    def outage() -> None:
        deadline = time.monotonic() + 10
        while fake.count(*STATUS, regex=True) < 1 and time.monotonic() < deadline:
            time.sleep(0.005)
        fake.stop()  # while the pipeline is ingesting
        stopped.set()

    thread = threading.Thread(target=outage)
    thread.start()
    try:
        _check_ingestion(fake, lambda: _ingest(_settings(fake)), "typed", "ServiceError")
    finally:
        thread.join()
    assert stopped.is_set()
    fake.state.pipelines.status_script = []
    fake.start()  # same port, same state
    _check_ingestion(fake, lambda: _ingest(_settings(fake)), "recover", "")


def test_ingestion_while_the_service_is_down_is_a_typed_error(
    fake: FakeLlamaCloud, no_key_in_logs: None
) -> None:
    settings = _settings(fake)
    fake.stop()
    _check_ingestion(fake, lambda: _ingest(settings), "typed", "ServiceError")
