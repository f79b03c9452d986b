"""One translation table: every httpx error, every HTTP status, every job status word is ours."""

from __future__ import annotations

import contextlib
import inspect
import json

import httpx
import pytest

from llama_index_cloudkit.cloud.errors import (
    JOB_STATES,
    JobState,
    error_for_status,
    job_state,
    json_list,
    json_object,
    map_cloud_errors,
)
from llama_index_cloudkit.cloud.transport import RETRYABLE_STATUS
from llama_index_cloudkit.errors import CloudKitError, JobLostError, ServiceError

HTTPX_ERRORS = [
    cls
    for _, cls in inspect.getmembers(httpx, inspect.isclass)
    if issubclass(cls, httpx.HTTPError) and cls is not httpx.HTTPStatusError
]


def _instance(cls: type[httpx.HTTPError]) -> httpx.HTTPError:
    request = httpx.Request("GET", "http://cloud.test/api/x")
    error = cls("boom") if cls is not httpx.HTTPError else httpx.HTTPError("boom")
    with contextlib.suppress(AttributeError):
        error.request = request
    return error


@pytest.mark.parametrize("cls", HTTPX_ERRORS, ids=lambda c: c.__name__)
def test_every_httpx_error_becomes_a_typed_error(cls: type[httpx.HTTPError]) -> None:
    with pytest.raises(CloudKitError) as info, map_cloud_errors("polling", file="a.pdf", job_id="j1"):
        raise _instance(cls)
    assert info.value.file == "a.pdf" and info.value.job_id == "j1"
    assert isinstance(info.value.__cause__, cls)


@pytest.mark.parametrize("status", sorted(RETRYABLE_STATUS | {400, 401, 403, 404, 409, 410, 422}))
def test_every_error_status_maps_to_a_typed_error(status: int) -> None:
    error = error_for_status(status, "uploading", "detail", file="a.pdf")
    assert isinstance(error, CloudKitError) and "a.pdf" in str(error) and str(status) in str(error)


def test_a_404_on_a_job_is_a_lost_job() -> None:
    assert isinstance(error_for_status(404, "polling", job_id="j", lost_on_404=True), JobLostError)


@pytest.mark.parametrize("word", sorted(JOB_STATES))
def test_every_status_word_of_v1_and_v2_is_known(word: str) -> None:
    assert isinstance(job_state(word), JobState) and job_state(word.lower()) is job_state(word)


def test_an_unknown_status_word_is_a_malformed_answer() -> None:
    with pytest.raises(ServiceError, match="unknown job status"):
        job_state("EXPLODED")


@pytest.mark.parametrize(
    "response",
    [
        httpx.Response(200, content=b"<html>gateway</html>"),
        httpx.Response(200, json=["a", "list"]),
        httpx.Response(200, json="text"),
    ],
)
def test_a_malformed_body_is_a_service_error_naming_the_file(response: httpx.Response) -> None:
    with pytest.raises(ServiceError, match="malformed") as info:
        json_object(response, "fetching a result", file="a.pdf", job_id="j1")
    assert "a.pdf" in str(info.value) and "j1" in str(info.value)


def test_json_list_refuses_an_object() -> None:
    with pytest.raises(ServiceError, match="malformed"):
        json_list(httpx.Response(200, json={"a": 1}), "listing")


def test_a_json_decode_error_in_the_block_is_typed() -> None:
    with pytest.raises(ServiceError, match="malformed"), map_cloud_errors("reading"):
        json.loads("{")


def test_an_sdk_api_error_maps_by_status() -> None:
    class ApiError(Exception):
        def __init__(self) -> None:
            self.status_code, self.body = 404, {"detail": "not found"}

    with pytest.raises(JobLostError), map_cloud_errors("polling", job_id="j", lost_on_404=True):
        raise ApiError()
