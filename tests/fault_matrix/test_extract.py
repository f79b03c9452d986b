"""The fault matrix for extraction: extraction_tool (text, file_path) and ExtractionToolSpec (queue).

Each fault is applied to the submission route (E2 stateless, E11 agent) and to the status poll
(E3). Recoverable faults end with the right data; the others with a typed error from
``llama_index_cloudkit.errors`` that names the input and/or the job. A lost answer to a paid
submission ends with SubmissionUnknownError, by design: it is never repeated blindly.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field

from llama_index_cloudkit import CloudKitSettings, errors
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.extract.spec import ExtractionToolSpec
from llama_index_cloudkit.extract.tool import extraction_tool
from llama_index_cloudkit.testing import FakeLlamaCloud

from .conftest import FAST_POLICY, HTTP_FAULTS, KEY, HttpFault, assert_typed

pytestmark = pytest.mark.usefixtures("no_key_in_logs")


class Shipping(BaseModel):
    """Shipping terms."""

    standard_days: str | None = Field(description="Standard delivery time")
    refund_window_days: int | None = Field(description="Days to return an item")


ANSWER = {"standard_days": "3-5", "refund_window_days": 30}
STATUS = ("GET", r"/api/v1/extraction/jobs/[^/]+")
ROUTES = {
    "stateless": {"submission": ("POST", "/api/v1/extraction/run"), "polling": STATUS},
    "agent": {"submission": ("POST", "/api/v1/extraction/jobs"), "polling": STATUS},
}
# A paid submission whose answer is lost may have been accepted: typed, by design.
LOST_ANSWER = {"one dropped connection", "slower than the client's timeout"}
SHORT = FAST_POLICY.model_copy(update={"job_timeout": 0.6})


def _settings(fake: FakeLlamaCloud, cache: Path, key: str = KEY) -> CloudKitSettings:
    return CloudKitSettings(api_key=key, base_url=fake.base_url, cache_dir=cache)


def _files(folder: Path, count: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"terms-{i}.md"
        path.write_text(f"# Terms {i}\n\nStandard shipping 3-5 days; returns within 30 days ({i}).")
        paths.append(path)
    return paths


def _agent(fake: FakeLlamaCloud) -> None:
    response = httpx.post(
        f"{fake.base_url}/api/v1/extraction/extraction-agents",
        headers={"Authorization": f"Bearer {KEY}"},
        json={"name": "shipping", "data_schema": Shipping.model_json_schema(), "config": {}},
    )
    response.raise_for_status()


def _accepted(fake: FakeLlamaCloud, path: str) -> int:
    """Submissions the service itself answered (an injected fault or a dropped request is none)."""
    return sum(1 for r in fake.requests if r.method == "POST" and r.path == path and not r.injected)


def _expect(fault: HttpFault, route: str) -> tuple[str, str]:
    if fault.outcome == "typed":
        return "typed", fault.error
    if route == "submission" and fault.name in LOST_ANSWER:
        return "typed", "SubmissionUnknownError"
    return "recover", ""


# --- the three entry points ---------------------------------------------------------------------


def _tool_run(
    fake: FakeLlamaCloud, tmp_path: Path, *, text: bool, policy: CloudPolicy = FAST_POLICY, key: str = KEY
) -> tuple[Any, str]:
    """Run the tool once (text: sync ``call``; file: ``acall`` in a fresh loop)."""
    (file,) = _files(tmp_path / "docs", 1)
    tool = extraction_tool(
        schema=Shipping,
        backend="cloud",
        settings=_settings(fake, tmp_path / "cache", key),
        policy=policy,
        allowed_dirs=[file.parent],
    )
    if text:
        return tool.call(text="Standard shipping 3-5 days; returns within 30 days."), "text input"
    return asyncio.run(tool.acall(file_path=str(file))), file.name


def _check_tool(out: Any, expect: str, error: str, name: str) -> None:
    if expect == "recover":
        assert not out.is_error, out.content
        assert out.raw_output == Shipping(**ANSWER)
        return
    assert out.is_error, f"expected {error}, got {out.content}"
    assert isinstance(out.raw_output, getattr(errors, error)), out.content
    assert type(out.raw_output).__name__ in out.content
    assert_typed(out.raw_output, names=(name,))


def _spec(fake: FakeLlamaCloud, tmp_path: Path, policy: CloudPolicy = FAST_POLICY) -> ExtractionToolSpec:
    return ExtractionToolSpec(
        settings=_settings(fake, tmp_path / "cache"), allowed_dirs=[tmp_path / "docs"], policy=policy
    )


async def _queue_and_collect(spec: ExtractionToolSpec, files: list[Path]) -> tuple[dict[str, Any], list[Any]]:
    queued = json.loads(await spec.aqueue_extractions("shipping", [str(f) for f in files]))
    deadline = time.monotonic() + 10
    while True:
        results = json.loads(await spec.aget_extraction_results("shipping", queued["job_ids"]))
        if all(r["status"] != "PENDING" for r in results) or time.monotonic() > deadline:
            return queued, results
        await asyncio.sleep(0.05)


# --- HTTP faults ----------------------------------------------------------------------------------


@pytest.mark.parametrize("route", ["submission", "polling"])
@pytest.mark.parametrize("text", [True, False], ids=["text", "file_path"])
@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=[f.name for f in HTTP_FAULTS])
def test_tool_under_http_faults(
    fake: FakeLlamaCloud, tmp_path: Path, fault: HttpFault, text: bool, route: str
) -> None:
    fake.on_extract(lambda s, c, t: dict(ANSWER))
    method, path = ROUTES["stateless"][route]
    fake.add_fault(method, path, **fault.fault)
    expect, error = _expect(fault, route)
    out, name = _tool_run(fake, tmp_path, text=text)
    _check_tool(out, expect, error, name)
    made = _accepted(fake, "/api/v1/extraction/run")
    assert made <= 1 and (made == 1 or expect == "typed")  # paid at most once, whatever happened


@pytest.mark.parametrize("route", ["submission", "polling"])
@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=[f.name for f in HTTP_FAULTS])
def test_tool_spec_queue_under_http_faults(
    fake: FakeLlamaCloud, tmp_path: Path, fault: HttpFault, route: str
) -> None:
    _agent(fake)
    fake.on_extract(lambda s, c, t: dict(ANSWER))
    files = _files(tmp_path / "docs")
    method, path = ROUTES["agent"][route]
    fake.add_fault(method, path, **fault.fault)
    expect, error = _expect(fault, route)
    try:
        queued, results = asyncio.run(_queue_and_collect(_spec(fake, tmp_path), files))
    except CloudKitError as exc:
        assert expect == "typed", f"expected recovery, got {type(exc).__name__}: {exc}"
        assert isinstance(exc, getattr(errors, error)), f"{type(exc).__name__}: {exc}"
        assert_typed(exc)
        assert exc.file or exc.job_id, f"names neither file nor job: {exc}"
        return
    finally:
        assert _accepted(fake, "/api/v1/extraction/jobs") <= len(files)  # never paid twice
    if expect == "recover":
        assert "errors" not in queued, queued
        assert [r["status"] for r in results] == ["SUCCESS", "SUCCESS"], results
        assert [r["data"] for r in results] == [ANSWER, ANSWER]
        return
    # a fault on one file's submission: that file is reported, the other is queued and done
    (failed,) = queued["errors"]
    assert failed["error_type"] == error and Path(failed["file"]).name in failed["error"]
    assert KEY not in failed["error"]
    assert [r["data"] for r in results] == [ANSWER]


# --- job outcomes ---------------------------------------------------------------------------------

JOB_FAILURES = [
    ("ERROR", "JobFailedError"),
    ("CANCELLED", "JobFailedError"),
    ("PARTIAL_SUCCESS", "JobFailedError"),
]


@pytest.mark.parametrize("status,error", JOB_FAILURES)
@pytest.mark.parametrize("text", [True, False], ids=["text", "file_path"])
def test_tool_when_the_job_fails(
    fake: FakeLlamaCloud, tmp_path: Path, status: str, error: str, text: bool
) -> None:
    fake.script_extract_jobs(status, count=1, error_message="the model refused")
    out, name = _tool_run(fake, tmp_path, text=text)
    _check_tool(out, "typed", error, name)
    assert out.raw_output.status == status and out.raw_output.job_id
    assert "the model refused" in out.content


@pytest.mark.parametrize("status,error", JOB_FAILURES)
def test_tool_spec_reports_failed_jobs(fake: FakeLlamaCloud, tmp_path: Path, status: str, error: str) -> None:
    _agent(fake)
    fake.script_extract_jobs(status, count=2, error_message="the model refused")
    queued, results = asyncio.run(_queue_and_collect(_spec(fake, tmp_path), _files(tmp_path / "docs")))
    assert [r["status"] for r in results] == [status, status]
    for job_id, result in zip(queued["job_ids"], results, strict=True):
        assert result["error_type"] == error and job_id in result["error"]
        assert "the model refused" in result["error"] and "data" not in result


@pytest.mark.parametrize("text", [True, False], ids=["text", "file_path"])
def test_tool_when_the_job_is_stuck(fake: FakeLlamaCloud, tmp_path: Path, text: bool) -> None:
    fake.script_extract_jobs(stuck=True)
    started = time.monotonic()
    out, name = _tool_run(fake, tmp_path, text=text, policy=SHORT)
    _check_tool(out, "typed", "JobTimeoutError", name)
    assert out.raw_output.job_id and time.monotonic() - started < 10


def test_tool_spec_when_the_job_is_stuck(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    _agent(fake)
    fake.script_extract_jobs(stuck=True)
    spec = _spec(fake, tmp_path, SHORT)
    (file,) = _files(tmp_path / "docs", 1)
    with pytest.raises(errors.JobTimeoutError) as info:
        spec.extract_with_agent("shipping", file_path=str(file))
    assert_typed(info.value, names=(file.name,))
    queued = json.loads(spec.queue_extractions("shipping", [str(file)]))
    assert queued["job_ids"] == [info.value.job_id]  # journaled: the same job, not a new one
    (result,) = json.loads(spec.get_extraction_results("shipping", queued["job_ids"]))
    assert result["status"] == "PENDING"


@pytest.mark.parametrize("text", [True, False], ids=["text", "file_path"])
def test_tool_when_the_service_answers_401(fake: FakeLlamaCloud, tmp_path: Path, text: bool) -> None:
    wrong = "llx-wrong-key-9876543210"
    out, _ = _tool_run(fake, tmp_path, text=text, key=wrong)
    _check_tool(out, "typed", "AuthError", "")
    assert wrong not in out.content


def test_tool_spec_when_the_service_answers_401(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    _agent(fake)
    wrong = "llx-wrong-key-9876543210"
    spec = ExtractionToolSpec(settings=_settings(fake, tmp_path, wrong), allowed_dirs=[tmp_path / "docs"])
    with pytest.raises(errors.AuthError) as info:
        spec.queue_extractions("shipping", [str(f) for f in _files(tmp_path / "docs")])
    assert_typed(info.value)
    assert wrong not in str(info.value)


# --- lost jobs ------------------------------------------------------------------------------------


@pytest.mark.parametrize("times,expect", [(1, "recover"), (None, "typed")], ids=["once", "always"])
@pytest.mark.parametrize("text", [True, False], ids=["text", "file_path"])
def test_tool_when_the_job_status_answers_404(
    fake: FakeLlamaCloud, tmp_path: Path, times: int | None, expect: str, text: bool
) -> None:
    fake.on_extract(lambda s, c, t: dict(ANSWER))
    fake.add_fault(*STATUS, status=404, times=times)
    out, name = _tool_run(fake, tmp_path, text=text)
    _check_tool(out, expect, "JobLostError", name)
    assert fake.count("POST", "/api/v1/extraction/run") == 2  # submitted again once, never more
    if expect == "typed":
        assert out.raw_output.resubmissions == 1 and out.raw_output.job_id


@pytest.mark.parametrize("times,expect", [(1, "recover"), (None, "typed")], ids=["once", "always"])
def test_tool_spec_when_the_job_status_answers_404(
    fake: FakeLlamaCloud, tmp_path: Path, times: int | None, expect: str
) -> None:
    _agent(fake)
    fake.on_extract(lambda s, c, t: dict(ANSWER))
    (file,) = _files(tmp_path / "docs", 1)
    spec = _spec(fake, tmp_path)
    queued = json.loads(spec.queue_extractions("shipping", [str(file)]))
    fake.add_fault(*STATUS, status=404, times=times)
    (result,) = json.loads(spec.get_extraction_results("shipping", queued["job_ids"]))
    assert result["job_id"] == queued["job_ids"][0]
    if expect == "recover":
        assert result["status"] == "SUCCESS" and result["data"] == ANSWER and result["resubmitted_as"]
        (again,) = json.loads(spec.get_extraction_results("shipping", queued["job_ids"]))
        assert again["data"] == ANSWER  # the old id keeps working
    else:
        assert result["status"] == "LOST" and result["error_type"] == "JobLostError"
        assert file.name in result["error"] and KEY not in result["error"]
        (again,) = json.loads(spec.get_extraction_results("shipping", queued["job_ids"]))
        assert again["status"] == "LOST"
    assert fake.count("POST", "/api/v1/extraction/jobs") == 2  # submitted again once, never more


# --- the service goes away mid-batch ----------------------------------------------------------------


def _needs_restart(fake: FakeLlamaCloud) -> None:
    if not hasattr(fake, "restart"):
        pytest.skip("FakeLlamaCloud cannot restart on the same port yet (llama_index_cloudkit.testing)")


def _stop_when(fake: FakeLlamaCloud, ready: Callable[[], bool]) -> threading.Thread:
    def watch() -> None:
        deadline = time.monotonic() + 10
        while not ready() and time.monotonic() < deadline:
            time.sleep(0.005)
        fake.stop()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def test_tool_when_the_service_stops_while_polling_and_comes_back(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    _needs_restart(fake)
    fake.on_extract(lambda s, c, t: dict(ANSWER))
    fake.script_extract_jobs("SUCCESS", count=1, pending_seconds=1.0)  # running during the outage
    watcher = _stop_when(fake, lambda: fake.count("GET", STATUS[1], regex=True) >= 1)
    out, name = _tool_run(fake, tmp_path, text=False)
    watcher.join(timeout=20)
    _check_tool(out, "typed", "ServiceError", name)
    assert out.raw_output.job_id  # the job is named, and journaled
    fake.restart()
    again, _ = _tool_run(fake, tmp_path, text=False)
    _check_tool(again, "recover", "", name)
    assert again.metadata["job_id"] == out.raw_output.job_id and again.metadata["reattached"]
    assert fake.count("POST", "/api/v1/extraction/run") == 1  # nothing submitted twice


def test_tool_spec_queue_when_the_service_stops_mid_batch_and_comes_back(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    _needs_restart(fake)
    _agent(fake)
    fake.on_extract(lambda s, c, t: dict(ANSWER))
    files = _files(tmp_path / "docs", 4)
    fake.add_fault("POST", "/api/v1/extraction/jobs", delay=0.3)  # the outage begins during one
    watcher = _stop_when(fake, lambda: fake.count("POST", "/api/v1/extraction/jobs") >= 1)
    one_at_a_time = FAST_POLICY.model_copy(update={"max_concurrency": 1})
    spec = _spec(fake, tmp_path, one_at_a_time)
    try:
        first = json.loads(spec.queue_extractions("shipping", [str(f) for f in files]))
    except CloudKitError as exc:  # nothing was queued before the outage
        assert_typed(exc)
        first = {"job_ids": [], "errors": [{"error_type": type(exc).__name__}]}
    watcher.join(timeout=20)
    assert len(first["job_ids"]) < len(files), first  # the outage came mid-batch
    for failed in first["errors"]:
        assert failed["error_type"] in ("ServiceError", "SubmissionUnknownError"), failed
    fake.clear_faults()
    fake.restart()
    queued, results = asyncio.run(_queue_and_collect(spec, files))
    assert "errors" not in queued and set(first["job_ids"]) <= set(queued["job_ids"])
    assert [r["data"] for r in results] == [ANSWER] * 4  # nothing lost
    made = [fake.state.get_file(run["file_id"]).name for run in fake.state.extraction.runs.values()]
    assert sorted(made) == sorted(f.name for f in files)  # nothing submitted twice
