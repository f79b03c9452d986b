"""A LlamaCloud retriever and index creation work from any event loop, on keep-alive connections.

The SDK's retriever kept one AsyncClient: its second ``asyncio.run`` failed with "Event loop is
closed". These tests run the emulator as the real service runs: connections kept alive.
"""

from __future__ import annotations

import asyncio
import threading

import pytest
from llama_index.core import Document

from llama_index_cloudkit import CloudKitSettings, make_retriever
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudIndexRef
from llama_index_cloudkit.retrieve.llamacloud.service import (
    LlamaCloudRetriever,
    allamacloud_index_from_documents,
    llamacloud_index_from_documents,
    llamacloud_retriever,
)
from llama_index_cloudkit.testing import FakeLlamaCloud

DOCS = [
    Document(text="Adult llamas eat grass hay every day.", id_="hay", metadata={"file_name": "care.pdf"}),
    Document(text="Shear the fleece once a year.", id_="shear", metadata={"file_name": "care.pdf"}),
]


@pytest.fixture()
def settings(fake_llamacloud: FakeLlamaCloud) -> CloudKitSettings:
    return CloudKitSettings()


@pytest.fixture()
def retriever(settings: CloudKitSettings) -> LlamaCloudRetriever:
    index = llamacloud_index_from_documents(DOCS, "handbook", settings)
    return llamacloud_retriever(index, HybridConfig(top_k=1), settings)


def _top(hits: list) -> str:
    return str(hits[0].node.ref_doc_id)


def test_async_retrieval_works_from_ten_event_loops_in_a_row(retriever: LlamaCloudRetriever) -> None:
    answers = [_top(asyncio.run(retriever.aretrieve("hay"))) for _ in range(10)]
    assert answers == ["hay"] * 10


def test_sync_and_async_retrieval_alternate_across_loops(retriever: LlamaCloudRetriever) -> None:
    answers = []
    for _ in range(3):
        answers.append(_top(asyncio.run(retriever.aretrieve("hay"))))
        answers.append(_top(retriever.retrieve("hay")))
    assert answers == ["hay"] * 6


def test_retrieval_works_with_one_event_loop_per_thread(retriever: LlamaCloudRetriever) -> None:
    answers: list[str] = []
    errors: list[BaseException] = []
    lock = threading.Lock()

    def work() -> None:
        try:
            found = [_top(asyncio.run(retriever.aretrieve("hay"))), _top(retriever.retrieve("hay"))]
        except BaseException as exc:  # reported below, with its type
            with lock:
                errors.append(exc)
            return
        with lock:
            answers.extend(found)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors, errors
    assert answers == ["hay"] * 8


async def test_sync_retrieval_inside_a_running_loop_then_async_in_it(
    retriever: LlamaCloudRetriever,
) -> None:
    assert _top(retriever.retrieve("hay")) == "hay"
    assert _top(await retriever.aretrieve("hay")) == "hay"
    assert _top(await retriever.aretrieve("hay")) == "hay"


def test_the_factory_retriever_by_name_works_from_a_second_and_third_loop(
    retriever: LlamaCloudRetriever, settings: CloudKitSettings
) -> None:
    by_name = make_retriever("handbook", top_k=1, settings=settings)
    answers = [_top(asyncio.run(by_name.aretrieve("hay"))) for _ in range(3)]
    assert answers == ["hay"] * 3


def test_index_creation_works_from_successive_loops(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    refs = [asyncio.run(allamacloud_index_from_documents(DOCS, "handbook", settings)) for _ in range(3)]
    refs.append(llamacloud_index_from_documents(DOCS, "handbook", settings))
    assert {ref.pipeline_id for ref in refs} == {refs[0].pipeline_id}
    assert all(isinstance(ref, LlamaCloudIndexRef) and ref.status == "SUCCESS" for ref in refs)
    assert len(fake_llamacloud.state.pipelines.list_documents(refs[0].pipeline_id, 0, 100)) == len(DOCS)
