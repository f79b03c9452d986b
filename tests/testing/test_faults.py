"""Faults, observed through the real SDK the way section 5 of the spec describes."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from llama_cloud.core.api_error import ApiError
from llama_cloud_services import LlamaExtract, LlamaParse, SourceText
from llama_cloud_services.extract import ExtractConfig
from llama_cloud_services.parse.base import JobFailedException

from llama_index_cloudkit.testing import FakeLlamaCloud

SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}}


@pytest.fixture()
def guide(examples_dir: Path) -> str:
    return str(examples_dir / "llama-care-guide.pdf")


def _auth(fake: FakeLlamaCloud) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key}"}


@pytest.mark.parametrize("status", [500, 429])
def test_one_transient_upload_error_is_retried_by_the_sdk(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str, status: int
) -> None:
    fake_llamacloud.add_fault("POST", "/api/parsing/upload", status=status, times=1, retry_after=1)
    result = LlamaParse(**parser_kwargs).parse(guide)
    assert len(result.pages) == 2
    statuses = [r.status for r in fake_llamacloud.requests if r.path == "/api/parsing/upload"]
    assert statuses == [status, 200]


def test_retry_after_header_is_sent_with_429(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.add_fault("GET", "/api/v1/projects", status=429, retry_after=7, times=1)
    response = httpx.get(fake_llamacloud.base_url + "/api/v1/projects", headers=_auth(fake_llamacloud))
    assert response.status_code == 429 and response.headers["retry-after"] == "7"


def test_dropped_connection_is_retried_by_the_sdk(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str
) -> None:
    fake_llamacloud.add_fault("POST", "/api/parsing/upload", drop=True, times=1)
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.post(
            fake_llamacloud.base_url + "/api/parsing/upload",
            headers=_auth(fake_llamacloud),
            files={"file": ("a.md", b"x")},
        )
    fake_llamacloud.add_fault("POST", "/api/parsing/upload", drop=True, times=1)
    assert len(LlamaParse(**parser_kwargs).parse(guide).pages) == 2


def test_stuck_pending_job_times_out_in_the_sdk(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str
) -> None:
    fake_llamacloud.script_parse_jobs(stuck=True)
    started = time.monotonic()
    with pytest.raises(Exception, match="Timeout while parsing"):
        LlamaParse(**{**parser_kwargs, "max_timeout": 2}).parse(guide)
    assert time.monotonic() - started < 15


@pytest.mark.parametrize("status", ["ERROR", "CANCELED", "PARTIAL_SUCCESS"])
def test_failed_parse_jobs_raise_job_failed(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str, status: str
) -> None:
    fake_llamacloud.script_parse_jobs(
        status, count=1, error_code="PDF_IS_BROKEN", error_message="broken xref"
    )
    with pytest.raises(JobFailedException) as info:
        LlamaParse(**parser_kwargs, ignore_errors=False).parse(guide)
    assert (info.value.status, info.value.error_code) == (status, "PDF_IS_BROKEN")
    result = LlamaParse(**parser_kwargs).parse(guide)  # the next job is back to SUCCESS
    assert len(result.pages) == 2


def test_corrupt_upload_ends_in_an_error_job(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any]
) -> None:
    with pytest.raises(JobFailedException) as info:
        LlamaParse(**parser_kwargs, ignore_errors=False).parse(
            b"%PDF-1.4 broken", extra_info={"file_name": "broken.pdf"}
        )
    assert info.value.error_code == "PARSE_FAILED"


def test_rate_limiter_answers_429_past_the_limit(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.rate_limit(limit=3, window=30)
    codes = [
        httpx.get(fake_llamacloud.base_url + "/api/v1/projects", headers=_auth(fake_llamacloud)).status_code
        for _ in range(5)
    ]
    assert codes == [200, 200, 200, 429, 429]


def test_delay_slows_the_answer(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.add_fault("GET", "/api/v1/projects", delay=0.5, times=1)
    started = time.monotonic()
    httpx.get(fake_llamacloud.base_url + "/api/v1/projects", headers=_auth(fake_llamacloud))
    assert time.monotonic() - started >= 0.5


def test_extract_errors_reach_the_sdk_as_api_errors(fake_llamacloud: FakeLlamaCloud) -> None:
    extract = LlamaExtract(
        api_key=fake_llamacloud.api_key,
        base_url=fake_llamacloud.base_url,
        check_interval=0,
        max_timeout=30,
        verbose=False,
    )
    fake_llamacloud.add_fault("POST", "/api/v1/extraction/run", status=500, times=1)
    with pytest.raises(ApiError) as info:
        extract.extract(SCHEMA, ExtractConfig(), SourceText(text_content="x"))
    assert info.value.status_code == 500
    assert fake_llamacloud.count("POST", "/api/v1/extraction/run") == 1  # not retried
    fake_llamacloud.add_fault("GET", r"/api/v1/extraction/jobs/.*", status=500, times=1)
    run = extract.extract(SCHEMA, ExtractConfig(), SourceText(text_content="x"))
    assert run.status == "SUCCESS"  # the poller retries job reads


def test_wrong_key_reaches_the_sdk_as_401(fake_llamacloud: FakeLlamaCloud) -> None:
    extract = LlamaExtract(api_key="llx-wrong", base_url=fake_llamacloud.base_url, verbose=False)
    with pytest.raises(ApiError) as info:
        extract.extract(SCHEMA, ExtractConfig(), SourceText(text_content="x"))
    assert info.value.status_code == 401
