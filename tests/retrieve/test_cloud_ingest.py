"""Documents into a LlamaCloud index: bounded by one deadline, typed on failure, never printing."""

from __future__ import annotations

import datetime as dt
import logging
import sys

import pytest
from llama_index.core import Document

from llama_index_cloudkit import CloudKitSettings, ConfigError
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.transport import RetryPolicy
from llama_index_cloudkit.errors import JobFailedError, JobLostError, JobTimeoutError
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.service import (
    llamacloud_index_from_documents,
    llamacloud_retriever,
)
from llama_index_cloudkit.testing import FakeLlamaCloud

POLICY = CloudPolicy(
    retry=RetryPolicy(max_attempts=3, max_total_seconds=2.0, initial_backoff=0.01, max_backoff=0.05),
    request_timeout=2.0,
    poll_interval=0.02,
    max_poll_interval=0.05,
)
STATUS = r"/api/v1/pipelines/[^/]+/status"
DOC_STATUS = r"/api/v1/pipelines/[^/]+/documents/.+/status"
DOCS = [
    Document(text="Adult llamas eat grass hay every day.", id_="care/hay 1", metadata={"page_number": 2}),
    Document(text="Shear the fleece once a year.", id_="care/shear", metadata={"page_number": 3}),
]


@pytest.fixture()
def settings(fake_llamacloud: FakeLlamaCloud) -> CloudKitSettings:
    return CloudKitSettings()


def _stored(fake: FakeLlamaCloud, pipeline_id: str) -> list[dict]:
    return fake.state.pipelines.list_documents(pipeline_id, 0, 1000)


def test_documents_become_a_retrievable_index_and_nothing_is_printed(
    settings: CloudKitSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    index = llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)
    assert (index.name, index.status, index.failed_documents) == ("handbook", "SUCCESS", ())
    assert index.id == index.pipeline_id
    hits = llamacloud_retriever(index, HybridConfig(), settings).retrieve("what do llamas eat")
    assert hits[0].node.ref_doc_id == "care/hay 1"
    assert capsys.readouterr() == ("", "")


def test_running_it_again_replaces_the_documents_and_adds_none(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    first = llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)
    again = llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)
    assert again.pipeline_id == first.pipeline_id
    assert sorted(d["id"] for d in _stored(fake_llamacloud, first.pipeline_id)) == [
        "care/hay 1",
        "care/shear",
    ]


def test_documents_are_upserted_in_batches(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    from llama_index_cloudkit.retrieve.llamacloud.ingestion_v1 import DOCUMENT_BATCH

    many = [Document(text=f"passage number {i}", id_=f"d{i}") for i in range(DOCUMENT_BATCH + 5)]
    index = llamacloud_index_from_documents(many, "big", settings, policy=POLICY)
    assert fake_llamacloud.count("PUT", f"/api/v1/pipelines/{index.pipeline_id}/documents") == 2
    assert len(_stored(fake_llamacloud, index.pipeline_id)) == len(many)


def test_metadata_json_cannot_hold_is_sent_as_text(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    doc = Document(text="dated", id_="d", metadata={"when": dt.date(2024, 5, 1)})
    index = llamacloud_index_from_documents([doc], "dated", settings, policy=POLICY)
    assert _stored(fake_llamacloud, index.pipeline_id)[0]["metadata"] == {"when": "2024-05-01"}


def test_a_pipeline_stuck_in_progress_raises_job_timeout_at_its_deadline_and_leaves_stdout_alone(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings, capsys: pytest.CaptureFixture[str]
) -> None:
    fake_llamacloud.add_fault("GET", STATUS, status=200, body={"status": "IN_PROGRESS"})
    stdout = sys.stdout
    # The deadline counts from the call's first request: 1.5 s leaves room for several polls
    # after creating the pipeline and upserting, even on a loaded machine.
    with pytest.raises(JobTimeoutError, match="'handbook'") as caught:
        llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY, ingestion_timeout=1.5)
    assert sys.stdout is stdout
    assert capsys.readouterr().out == ""
    pipeline_id = fake_llamacloud.state.pipelines.find(None, "handbook")[0]["id"]
    assert caught.value.job_id == pipeline_id and "after 1.5 s" in str(caught.value)
    assert fake_llamacloud.count("GET", STATUS, regex=True) > 1


def test_the_policy_job_timeout_is_the_default_deadline(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    fake_llamacloud.add_fault("GET", STATUS, status=200, body={"status": "NOT_STARTED"})
    with pytest.raises(JobTimeoutError, match=r"after 0\.3 s"):
        llamacloud_index_from_documents(
            DOCS, "handbook", settings, policy=POLICY.model_copy(update={"job_timeout": 0.3})
        )


def test_documents_still_running_after_the_pipeline_says_success_are_waited_for(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    fake_llamacloud.add_fault("GET", DOC_STATUS, status=200, body={"status": "NOT_STARTED"}, times=3)
    index = llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)
    assert index.status == "SUCCESS"
    assert fake_llamacloud.count("GET", DOC_STATUS, regex=True) == 3 + len(DOCS)


def test_a_failed_ingestion_is_a_job_failed_error_naming_index_and_pipeline(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    fake_llamacloud.state.pipelines.status_script = ["IN_PROGRESS", "ERROR"]
    with pytest.raises(JobFailedError, match="'handbook'") as caught:
        llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)
    assert caught.value.status == "ERROR" and caught.value.job_id
    assert caught.value.job_id in str(caught.value)


@pytest.mark.parametrize("status", ["CANCELED", "CANCELLED"])
def test_a_cancelled_ingestion_is_a_job_failed_error(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings, status: str
) -> None:
    fake_llamacloud.state.pipelines.status_script = [status]
    with pytest.raises(JobFailedError, match=status):
        llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)


def test_partial_success_is_an_error_unless_partial_ok(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    fake_llamacloud.state.pipelines.status_script = ["PARTIAL_SUCCESS"]
    with pytest.raises(JobFailedError, match="partial_ok=True") as caught:
        llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)
    assert caught.value.status == "PARTIAL_SUCCESS"


def test_with_partial_ok_a_failed_document_is_listed_and_logged(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings, caplog: pytest.LogCaptureFixture
) -> None:
    fake_llamacloud.add_fault(
        "GET", r"/api/v1/pipelines/[^/]+/documents/care%2Fshear/status", status=200, body={"status": "ERROR"}
    )
    caplog.set_level(logging.WARNING, logger="llama_index_cloudkit")
    index = llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY, partial_ok=True)
    assert index.status == "PARTIAL_SUCCESS" and index.failed_documents == ("care/shear",)
    assert any("partly ingested" in r.getMessage() and "handbook" in r.getMessage() for r in caplog.records)


def test_a_failed_document_without_partial_ok_is_named_in_the_error(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    fake_llamacloud.add_fault(
        "GET", r"/api/v1/pipelines/[^/]+/documents/care%2Fshear/status", status=200, body={"status": "ERROR"}
    )
    with pytest.raises(JobFailedError, match="care/shear"):
        llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)


def test_a_pipeline_the_service_forgets_is_a_job_lost_error(
    fake_llamacloud: FakeLlamaCloud, settings: CloudKitSettings
) -> None:
    fake_llamacloud.add_fault("GET", STATUS, status=404, body={"detail": "Pipeline not found"})
    with pytest.raises(JobLostError, match="'handbook'"):
        llamacloud_index_from_documents(DOCS, "handbook", settings, policy=POLICY)


def test_no_documents_is_a_config_error(settings: CloudKitSettings) -> None:
    with pytest.raises(ConfigError, match="No documents"):
        llamacloud_index_from_documents([], "handbook", settings)


def test_without_a_key_it_says_how_to_set_one() -> None:
    with pytest.raises(ConfigError, match="LLAMA_CLOUD_API_KEY"):
        llamacloud_index_from_documents(DOCS, "handbook", CloudKitSettings())
