"""Extraction keeps the parse side's promises: concurrent identical calls pay once, a cancelled
caller leaves the others their result, a malformed answer is typed and never kept."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from pydantic import BaseModel

from llama_index_cloudkit import CloudKitSettings, CloudPolicy, errors
from llama_index_cloudkit.errors import ServiceError
from llama_index_cloudkit.extract import extraction_tool
from llama_index_cloudkit.testing import FakeLlamaCloud

RUN = "/api/v1/extraction/run"
QUICK = CloudPolicy(job_timeout=60, poll_interval=0.05, max_poll_interval=0.2)


class Terms(BaseModel):
    carrier: str
    refund_window_days: int


ANSWER = {"carrier": "UPS", "refund_window_days": 30}


def _slow_answers(fake: FakeLlamaCloud) -> None:
    fake.on_extract(lambda s, c, t: dict(ANSWER))
    fake.script_extract_jobs("SUCCESS", pending_seconds=0.5)  # calls overlap while it runs


def test_three_threads_asking_the_same_text_pay_once(fake_llamacloud: FakeLlamaCloud) -> None:
    _slow_answers(fake_llamacloud)
    tool = extraction_tool(schema=Terms, backend="cloud", policy=QUICK)
    outputs: list[Any] = []
    barrier = threading.Barrier(3)

    def call() -> None:
        barrier.wait()
        outputs.append(tool.call(text="Shipped by UPS; returns within 30 days."))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outputs) == 3 and all(o.raw_output == Terms(**ANSWER) for o in outputs), outputs
    assert fake_llamacloud.count("POST", RUN) == 1


def test_concurrent_async_calls_on_one_file_pay_once(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    _slow_answers(fake_llamacloud)
    tool = extraction_tool(schema=Terms, backend="cloud", policy=QUICK, allowed_dirs=[examples_dir])
    doc = str(examples_dir / "shipping-policy.docx")

    async def three() -> list[Any]:
        return list(await asyncio.gather(*(tool.acall(file_path=doc) for _ in range(3))))

    outputs = asyncio.run(three())
    assert all(o.raw_output == Terms(**ANSWER) for o in outputs), outputs
    assert fake_llamacloud.count("POST", RUN) == 1


def test_queueing_the_same_file_twice_pays_once(fake_llamacloud: FakeLlamaCloud, examples_dir: Path) -> None:
    from llama_cloud_services import LlamaExtract

    from llama_index_cloudkit.extract import ExtractionToolSpec

    LlamaExtract(verbose=False).create_agent("terms", Terms)
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    spec = ExtractionToolSpec(allowed_dirs=[examples_dir])
    doc = str(examples_dir / "shipping-policy.docx")
    before = fake_llamacloud.count("POST", "/api/v1/extraction/jobs")
    queued = json.loads(spec.queue_extractions("terms", [doc, doc]))
    assert fake_llamacloud.count("POST", "/api/v1/extraction/jobs") - before == 1
    assert len(queued["job_ids"]) == 2 and queued["job_ids"][0] == queued["job_ids"][1]


# --- malformed answers ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "malformed",
    [{"data": "UPS"}, {"data": {"carrier": "UPS"}, "extraction_metadata": ["not", "an", "object"]}],
    ids=["data-is-text", "metadata-is-a-list"],
)
def test_a_malformed_v1_result_is_a_service_error_and_a_rerun_reads_it_again_unpaid(
    fake_llamacloud: FakeLlamaCloud, malformed: dict[str, Any]
) -> None:
    """E4 answers a run of the wrong shape: a ServiceError naming the job (not a TypeError or
    AttributeError deep in the tool), nothing kept; the next call re-attaches to the same job
    and reads its result again: one paid run in all."""
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    body = {"id": "run-1", "status": "SUCCESS", **malformed}
    fake_llamacloud.add_fault("GET", r"/api/v1/extraction/runs/by-job/.*", status=200, body=body, times=1)
    tool = extraction_tool(schema=Terms, backend="cloud", policy=QUICK)
    text = f"Shipped by UPS; returns within 30 days ({sorted(malformed)})."

    first = tool.call(text=text)
    assert first.is_error and isinstance(first.raw_output, ServiceError), first.content
    assert "wrong shape" in first.content and first.raw_output.job_id
    again = tool.call(text=text)
    assert again.raw_output == Terms(**ANSWER), again.content
    assert fake_llamacloud.count("POST", RUN) == 1


def test_a_malformed_v2_result_is_a_service_error_and_a_rerun_reads_it_again_unpaid(
    fake_llamacloud: FakeLlamaCloud,
) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    job = r"/api/v2/extract/(?!schema)[^/]+"
    fake_llamacloud.add_fault(
        "GET", job, status=200, body={"id": "ext-1", "status": "COMPLETED", "extract_result": "UPS"}
    )
    tool = extraction_tool(schema=Terms, settings=CloudKitSettings(api_version="v2"), policy=QUICK)
    text = "Shipped by UPS; returns within 30 days (v2)."

    first = tool.call(text=text)
    assert first.is_error and isinstance(first.raw_output, ServiceError), first.content
    assert "extract_result" in first.content
    fake_llamacloud.clear_faults()
    again = tool.call(text=text)
    assert again.raw_output == Terms(**ANSWER), again.content
    assert fake_llamacloud.count("POST", "/api/v2/extract") == 1


# --- a lost queued job, asked for by two callers at once -------------------------------------------


def test_a_lost_queued_job_asked_for_twice_at_once_is_resubmitted_once(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    from llama_cloud_services import LlamaExtract

    from llama_index_cloudkit.extract import ExtractionToolSpec

    LlamaExtract(verbose=False).create_agent("terms", Terms)
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    spec = ExtractionToolSpec(allowed_dirs=[examples_dir], policy=QUICK)
    (job_id,) = json.loads(spec.queue_extractions("terms", [str(examples_dir / "shipping-policy.docx")]))[
        "job_ids"
    ]
    fake_llamacloud.add_fault("GET", f"/api/v1/extraction/jobs/{job_id}", status=404)  # lost for good
    fake_llamacloud.add_fault("POST", "/api/v1/extraction/jobs", delay=1.0, times=2)  # callers overlap
    barrier = threading.Barrier(2)
    answers: list[Any] = []

    def ask() -> None:
        barrier.wait()
        answers.append(json.loads(spec.get_extraction_results("terms", [job_id]))[0])

    threads = [threading.Thread(target=ask) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(answers) == 2, answers
    assert fake_llamacloud.count("POST", "/api/v1/extraction/jobs") == 2  # the queueing + one resubmission
    assert {a["resubmitted_as"] for a in answers} == {answers[0]["resubmitted_as"]}
    assert all(a["job_id"] == job_id and a["status"] in ("SUCCESS", "PENDING") for a in answers), answers


# --- cancellation ---------------------------------------------------------------------------------


def test_cancelling_the_caller_that_submitted_leaves_the_others_their_extraction(
    fake_llamacloud: FakeLlamaCloud,
) -> None:
    """Three async callers and a sync one (another thread) need the same extraction; the first
    is cancelled by ``asyncio.wait_for`` while its job runs. The others get the data, nobody else
    sees a CancelledError, and the job is paid once."""
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    fake_llamacloud.script_extract_jobs("SUCCESS", pending_seconds=1.5)
    tool = extraction_tool(schema=Terms, backend="cloud", policy=QUICK)
    text = "Shipped by UPS; returns within 30 days (cancelled owner)."
    sync_output: list[Any] = []

    def sync_caller() -> None:
        time.sleep(0.5)  # after the owner has claimed the key
        sync_output.append(tool.call(text=text))

    async def callers() -> list[Any]:
        owner = asyncio.ensure_future(asyncio.wait_for(tool.acall(text=text), timeout=0.8))
        await asyncio.sleep(0.3)
        others = [asyncio.ensure_future(tool.acall(text=text)) for _ in range(2)]
        return list(await asyncio.gather(owner, *others, return_exceptions=True))

    thread = threading.Thread(target=sync_caller)
    thread.start()
    owner, *others = asyncio.run(callers())
    thread.join(timeout=60)
    assert isinstance(owner, asyncio.TimeoutError)  # the cancelled caller, and only it
    assert all(not isinstance(o, BaseException) and o.raw_output == Terms(**ANSWER) for o in others), others
    assert sync_output and sync_output[0].raw_output == Terms(**ANSWER), sync_output
    assert fake_llamacloud.count("POST", RUN) == 1


def test_a_caller_holding_a_stale_journal_row_gets_lost_not_a_third_submission(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    """A caller read the journal row of a lost queued job before another caller resubmitted it,
    and that resubmission was lost too: the bound (one resubmission) holds, and the caller gets
    a LOST entry, not an exception and not a third paid job."""
    from llama_cloud_services import LlamaExtract

    from llama_index_cloudkit.extract.llamacloud.llamaextract_v1 import LlamaExtractV1

    LlamaExtract(verbose=False).create_agent("terms", Terms)
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    service = LlamaExtractV1(CloudKitSettings(), QUICK)
    doc = str(examples_dir / "shipping-policy.docx")
    (entry,) = service.queue("terms", [doc])
    job_id = entry["job_id"]
    (stale,) = [row for row in service._client.journal.entries() if row["job_id"] == job_id]  # type: ignore[union-attr]
    fake_llamacloud.add_fault("GET", r"/api/v1/extraction/jobs/[^/]+", status=404)  # every job lost
    (first,) = service.job_results("terms", [job_id])
    assert first["status"] == "LOST" and first["resubmitted_as"]

    async def late_caller() -> dict[str, Any]:
        lost = errors.JobLostError("lost", job_id=job_id)
        return await service._client.in_loop(
            lambda session: service._resubmit_lost(session, "terms", job_id, stale, lost)
        )

    late = asyncio.run(late_caller())
    assert late["status"] == "LOST" and late["error_type"] == "JobLostError", late
    assert fake_llamacloud.count("POST", "/api/v1/extraction/jobs") == 2  # queued + one resubmission
