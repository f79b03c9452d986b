"""The cloud extraction path as a user sees it: loop-safe, retried, journaled, typed, keyed."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field

from llama_index_cloudkit import CloudKitSettings, ConfigError
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.transport import RetryPolicy
from llama_index_cloudkit.errors import JobFailedError, SubmissionUnknownError
from llama_index_cloudkit.extract.spec import ExtractionToolSpec
from llama_index_cloudkit.extract.tool import ExtractionOutput, extraction_tool
from llama_index_cloudkit.testing import FakeLlamaCloud


class Shipping(BaseModel):
    """Shipping terms."""

    standard_days: str | None = Field(description="Standard delivery time")
    refund_window_days: int | None = Field(description="Days to return an item")


ANSWER = {"standard_days": "3-5", "refund_window_days": 30}
RUN = "/api/v1/extraction/run"
JOB = r"/api/v1/extraction/jobs/[^/]+"
AGENT_RUN = "/api/v1/extraction/jobs"
QUICK = CloudPolicy(
    retry=RetryPolicy(max_attempts=4, max_total_seconds=3.0, initial_backoff=0.05, max_backoff=0.3),
    request_timeout=2.0,
    job_timeout=5.0,
    poll_interval=0.05,
    max_poll_interval=0.2,
)
AGENT_SCHEMA = {
    "title": "Terms",
    "type": "object",
    "properties": {
        "carrier": {"enum": ["UPS", "DHL"], "description": "Who ships"},
        "refund_window_days": {"anyOf": [{"type": "integer"}, {"type": "null"}]},
        "regions": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {"name": {"type": "string"}, "days": {"type": "integer"}},
                "required": ["name", "days"],
            },
        },
    },
    "required": ["carrier", "refund_window_days", "regions"],
}
TERMS = {"carrier": "UPS", "refund_window_days": 30, "regions": [{"name": "EU", "days": 4}]}


def _create_agent(fake: FakeLlamaCloud, name: str, schema: dict[str, Any]) -> dict[str, Any]:
    response = httpx.post(
        f"{fake.base_url}/api/v1/extraction/extraction-agents",
        headers={"Authorization": f"Bearer {fake.api_key}"},
        json={"name": name, "data_schema": schema, "config": {"extraction_mode": "FAST"}},
    )
    response.raise_for_status()
    return dict(response.json())


def _tool(**kwargs: Any) -> Any:
    return extraction_tool(schema=Shipping, backend="cloud", policy=QUICK, **kwargs)


# --- event loops --------------------------------------------------------------------------------


def test_tool_works_from_ten_event_loops_in_a_row_on_a_keep_alive_server(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    tool = _tool(allowed_dirs=[examples_dir])
    doc = str(examples_dir / "shipping-policy.docx")
    for i in range(10):
        out = asyncio.run(tool.acall(text=f"loop {i}"))
        assert out.raw_output == Shipping(**ANSWER), out.content
        assert tool.call(text=f"sync after loop {i}").raw_output == Shipping(**ANSWER)
    assert asyncio.run(tool.acall(file_path=doc)).raw_output == Shipping(**ANSWER)
    assert tool.call(file_path=doc).raw_output == Shipping(**ANSWER)


def test_tool_works_from_one_event_loop_per_thread(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    tool = _tool()
    results: list[Any] = []

    def work(i: int) -> None:
        results.append(asyncio.run(tool.acall(text=f"thread {i}")))
        results.append(tool.call(text=f"thread sync {i}"))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(results) == 8 and all(r.raw_output == Shipping(**ANSWER) for r in results)


def test_sync_call_inside_a_running_loop_works(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    tool = _tool()

    async def main() -> Any:
        return tool.call(text="from inside a loop")

    assert asyncio.run(main()).raw_output == Shipping(**ANSWER)


def test_tool_spec_queue_and_results_work_from_many_loops_sync_and_async(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    _create_agent(fake_llamacloud, "shipping", Shipping.model_json_schema())
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    spec = ExtractionToolSpec(allowed_dirs=[examples_dir], policy=QUICK)
    tools = {t.metadata.name: t for t in spec.to_tool_list()}
    files = [str(examples_dir / "faq.html"), str(examples_dir / "release-notes.md")]
    for i in range(10):  # the second, third ... tenth event loop
        queued = json.loads(asyncio.run(spec.aqueue_extractions("shipping", files)))
        results = json.loads(asyncio.run(spec.aget_extraction_results("shipping", queued["job_ids"])))
        assert all(r["status"] in ("PENDING", "SUCCESS") for r in results), results
        sync = json.loads(spec.get_extraction_results("shipping", queued["job_ids"]))
        assert [r["data"] for r in sync] == [ANSWER, ANSWER]
        out = asyncio.run(tools["extract_with_agent"].acall(agent_name="shipping", text=f"loop {i}"))
        assert json.loads(out.content) == ANSWER
        assert json.loads(asyncio.run(tools["list_agents"].acall()).content)[0]["name"] == "shipping"
    # the same files were queued ten times: one paid job each
    assert fake_llamacloud.count("POST", AGENT_RUN) == 2 + 10


# --- retries and typed errors -------------------------------------------------------------------


@pytest.mark.parametrize("status", [500, 503, 429])
def test_one_refused_submission_is_retried(fake_llamacloud: FakeLlamaCloud, status: int) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    fake_llamacloud.add_fault("POST", RUN, status=status, times=1, retry_after=0.1)
    out = _tool().call(text="Returns within 30 days")
    assert not out.is_error, out.content
    assert out.raw_output == Shipping(**ANSWER)


def test_a_dropped_status_poll_is_retried(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    fake_llamacloud.add_fault("GET", JOB, drop=True, times=1)
    assert _tool().call(text="x").raw_output == Shipping(**ANSWER)


def test_a_dropped_submission_is_a_typed_error_output_and_is_not_repeated(
    fake_llamacloud: FakeLlamaCloud,
) -> None:
    fake_llamacloud.add_fault("POST", RUN, drop=True, times=1)
    out = _tool().call(text="x")
    assert out.is_error and "SubmissionUnknownError" in out.content
    assert isinstance(out.raw_output, SubmissionUnknownError)
    assert fake_llamacloud.count("POST", RUN) == 1


def test_raise_errors_raises_the_typed_error(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.add_fault("POST", RUN, drop=True, times=1)
    with pytest.raises(SubmissionUnknownError):
        _tool(raise_errors=True).call(text="x")
    fake_llamacloud.script_extract_jobs("ERROR", count=1, error_message="model refused")
    with pytest.raises(JobFailedError, match="model refused"):
        asyncio.run(_tool(raise_errors=True).acall(text="y"))


# --- journal ------------------------------------------------------------------------------------


def test_a_rerun_reattaches_instead_of_paying_again(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    first = _tool().call(text="Returns within 30 days")
    again = _tool().call(text="Returns within 30 days")
    assert first.raw_output == again.raw_output == Shipping(**ANSWER)
    assert fake_llamacloud.count("POST", RUN) == 1
    assert again.metadata["reattached"] is True and again.metadata["job_id"] == first.metadata["job_id"]


def test_invalidate_cache_submits_a_fresh_job(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    tool = _tool(config={"extraction_mode": "FAST", "invalidate_cache": True})
    tool.call(text="x")
    tool.call(text="x")
    assert fake_llamacloud.count("POST", RUN) == 2


def test_a_job_timeout_is_reattached_by_the_next_call(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    fake_llamacloud.script_extract_jobs("SUCCESS", count=1, pending_seconds=1.0)
    impatient = QUICK.model_copy(update={"job_timeout": 0.3})
    out = extraction_tool(schema=Shipping, backend="cloud", policy=impatient).call(text="slow")
    assert out.is_error and "JobTimeoutError" in out.content and out.metadata["job_id"]
    late = _tool().call(text="slow")
    assert late.raw_output == Shipping(**ANSWER) and late.metadata["job_id"] == out.metadata["job_id"]
    assert fake_llamacloud.count("POST", RUN) == 1


def test_a_lost_result_is_typed_and_the_next_call_submits_again(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    fake_llamacloud.add_fault("GET", r"/api/v1/extraction/runs/by-job/.*", status=404, times=1)
    lost = _tool().call(text="x")
    assert lost.is_error and "JobLostError" in lost.content and lost.metadata["job_id"] in lost.content
    assert _tool().call(text="x").raw_output == Shipping(**ANSWER)
    assert fake_llamacloud.count("POST", RUN) == 2


# --- typed raw_output ---------------------------------------------------------------------------


def test_a_saved_agent_gives_a_typed_object_built_from_its_schema(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    _create_agent(fake_llamacloud, "terms", AGENT_SCHEMA)
    fake_llamacloud.on_extract(lambda s, c, t: dict(TERMS))
    tool = extraction_tool("terms", allowed_dirs=[examples_dir], policy=QUICK)
    out = tool.call(file_path=str(examples_dir / "shipping-policy.docx"))
    assert isinstance(out.raw_output, BaseModel), out.content
    assert type(out.raw_output).__name__ == "Terms"
    assert out.raw_output.carrier == "UPS" and out.raw_output.regions[0].days == 4
    assert json.loads(out.content) == TERMS
    assert fake_llamacloud.count("POST", "/api/v1/files") == 1
    assert fake_llamacloud.count("POST", AGENT_RUN) == 1


def test_an_agent_can_be_named_by_its_id(fake_llamacloud: FakeLlamaCloud) -> None:
    agent = _create_agent(fake_llamacloud, "terms", AGENT_SCHEMA)
    fake_llamacloud.on_extract(lambda s, c, t: dict(TERMS))
    out = extraction_tool(agent["id"], policy=QUICK).call(text="UPS, 30 days")
    assert out.raw_output.carrier == "UPS"
    assert fake_llamacloud.count("GET", f"/api/v1/extraction/extraction-agents/{agent['id']}") == 1


def test_schema_beside_an_agent_types_the_output(fake_llamacloud: FakeLlamaCloud) -> None:
    _create_agent(fake_llamacloud, "shipping", Shipping.model_json_schema())
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    out = extraction_tool("shipping", schema=Shipping, policy=QUICK).call(text="30 days")
    assert isinstance(out.raw_output, Shipping) and out.raw_output.refund_window_days == 30


def test_an_sdk_extraction_agent_object_still_works(fake_llamacloud: FakeLlamaCloud) -> None:
    from llama_cloud_services import LlamaExtract

    agent = LlamaExtract(verbose=False).create_agent("Shipping Terms", Shipping)
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    tool = extraction_tool(agent, policy=QUICK)
    out = tool.call(text="Returns within 30 days")
    assert tool.metadata.name == "extract_shipping_terms"
    assert isinstance(out.raw_output, BaseModel) and out.raw_output.model_dump() == ANSWER
    assert fake_llamacloud.count("GET", "/api/v1/extraction/extraction-agents/by-name/Shipping Terms") == 0


def test_data_that_does_not_fit_the_schema_is_a_typed_error_keeping_the_data(
    fake_llamacloud: FakeLlamaCloud,
) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: {"standard_days": "3-5", "refund_window_days": "soon"})
    out = _tool().call(text="x")
    assert out.is_error and "ExtractionError" in out.content and "refund_window_days" in out.content
    assert "soon" in out.raw_output.last_output


def test_an_unknown_agent_name_lists_the_known_ones(fake_llamacloud: FakeLlamaCloud) -> None:
    _create_agent(fake_llamacloud, "terms", AGENT_SCHEMA)
    with pytest.raises(ConfigError, match="Known agents: terms"):
        extraction_tool("term", policy=QUICK)


def test_a_bad_config_value_fails_before_anything_is_sent(fake_llamacloud: FakeLlamaCloud) -> None:
    with pytest.raises(ConfigError, match="extraction_mode"):
        _tool(config={"extraction_mode": "FASTEST"})
    with pytest.raises(ConfigError, match="Did you mean extraction_mode"):
        _tool(config={"extraction_mod": "FAST"})
    assert fake_llamacloud.requests == []


# --- connection keywords ------------------------------------------------------------------------


def test_connection_keywords_work_without_environment(
    fake_llamacloud: FakeLlamaCloud, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.delenv("LLAMA_CLOUD_API_KEY")
    monkeypatch.delenv("LLAMA_CLOUD_BASE_URL")
    caplog.set_level(logging.DEBUG)
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    _create_agent(fake_llamacloud, "shipping", Shipping.model_json_schema())
    key, url = fake_llamacloud.api_key, fake_llamacloud.base_url
    tool = _tool(api_key=key, base_url=url, project_id="proj-0000-default")
    out = tool.call(text="x")
    assert out.raw_output == Shipping(**ANSWER)
    spec = ExtractionToolSpec(api_key=key, base_url=url, policy=QUICK)
    assert json.loads(spec.extract_with_agent("shipping", text="x")) == ANSWER
    sent = next(r for r in fake_llamacloud.requests if r.path == RUN)
    assert sent.query["project_id"] == "proj-0000-default"
    shown = [
        repr(tool),
        str(tool.metadata),
        repr(out),
        repr(spec.__dict__),
        *(r.getMessage() for r in caplog.records),
    ]
    assert all(key not in text for text in shown)


def test_an_unknown_keyword_names_the_closest_one() -> None:
    with pytest.raises(ConfigError, match="Did you mean api_key"):
        extraction_tool(schema=Shipping, api_kye="llx-1")
    with pytest.raises(ConfigError, match="Did you mean allowed_dirs"):
        ExtractionToolSpec(allowed_dir=["."], api_key="llx-1")


def test_an_unknown_project_name_is_a_config_error(fake_llamacloud: FakeLlamaCloud) -> None:
    out = _tool(project_name="No Such Project").call(text="x")
    assert out.is_error and "ConfigError" in out.content and "No Such Project" in out.content


# --- metadata -----------------------------------------------------------------------------------


def test_usage_reported_by_the_service_is_kept_in_the_output_metadata(
    fake_llamacloud: FakeLlamaCloud,
) -> None:
    if not hasattr(fake_llamacloud, "serve_fixture"):
        pytest.skip("this emulator cannot serve an extraction run's metadata yet")
    usage = {"num_pages_extracted": 2, "num_document_tokens": 900, "num_output_tokens": 40}
    fake_llamacloud.serve_fixture(
        {"data": dict(ANSWER), "extraction_metadata": {"usage": usage}}, kind="extract", count=1
    )
    out = _tool().call(text="x")
    assert isinstance(out, ExtractionOutput) and out.raw_output == Shipping(**ANSWER)
    assert out.metadata["usage"] == usage
    assert out.metadata["job_id"] and out.metadata["run_id"]


def test_settings_object_still_works(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    settings = CloudKitSettings(api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
    assert _tool(settings=settings).call(text="x").raw_output == Shipping(**ANSWER)


# --- a paid submission whose answer is lost ---------------------------------------------------


def _service_that_loses_the_answer(accepted: bool, calls: list[str]) -> httpx.MockTransport:
    """An agent service that creates the job, then loses E11's answer (or never gets E11)."""

    def handle(request: httpx.Request) -> httpx.Response:
        route = f"{request.method} {request.url.path}"
        calls.append(route)
        if route == "POST /api/v1/files":
            return httpx.Response(200, json={"id": "file-1", "name": "a.md", "project_id": "p"})
        if route == "POST /api/v1/extraction/jobs":
            raise httpx.ReadError("the connection was reset after the request was sent")
        if route == "GET /api/v1/extraction/runs":
            items = [{"id": "run-1", "job_id": "job-9", "file_id": "file-1"}] if accepted else []
            return httpx.Response(200, json={"items": items, "skip": 0, "limit": 100, "total": len(items)})
        if route == "GET /api/v1/extraction/jobs/job-9":
            return httpx.Response(200, json={"id": "job-9", "status": "SUCCESS"})
        if route == "GET /api/v1/extraction/runs/by-job/job-9":
            return httpx.Response(200, json={"id": "run-1", "status": "SUCCESS", "data": dict(ANSWER)})
        return httpx.Response(404, json={"detail": "not here"})

    return httpx.MockTransport(handle)


@pytest.mark.parametrize("accepted", [True, False], ids=["accepted", "not found"])
def test_a_lost_agent_submission_is_looked_up_never_repeated(tmp_path: Path, accepted: bool) -> None:
    from llama_index_cloudkit.extract.llamacloud.llamaextract_v1 import LlamaExtractV1
    from llama_index_cloudkit.extract.model import SavedExtraction

    calls: list[str] = []
    settings = CloudKitSettings(
        api_key="llx-mock-0123456789", base_url="http://127.0.0.1:9", cache_dir=tmp_path
    )
    client = LlamaExtractV1(settings, QUICK, transport=_service_that_loses_the_answer(accepted, calls))
    agent = SavedExtraction("agent-1", "shipping", Shipping.model_json_schema(), {})
    if accepted:
        assert client.extract_saved(agent, text="30 days").data == ANSWER
    else:
        with pytest.raises(SubmissionUnknownError):
            client.extract_saved(agent, text="30 days")
    assert calls.count("POST /api/v1/extraction/jobs") == 1
