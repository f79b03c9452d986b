"""Faults, job scripts, served fixtures, the request log and 401s on the v2 routes, as on v1.

A client test drives v2 failure paths with these: ``fake.fail`` / ``add_fault`` / ``drop`` /
``rate_limit`` (path regexes match v2 paths), ``script_v2_parse_jobs`` /
``script_v2_extract_jobs`` (PENDING, RUNNING, stuck, FAILED, CANCELLED, failed pages),
``serve_v2_fixture`` (and v1 ``serve_fixture`` bodies mapped to v2), ``sent_json`` and
``fake.v2`` (what the client sent).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from llama_index_cloudkit.testing import FakeLlamaCloud

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "llamacloud"
NOTES = b"# Llama notes\n\nLlamas eat hay.\n"
SCHEMA = {"type": "object", "properties": {"title": {"type": "string"}}}


@pytest.fixture()
def fake_llamacloud(module_fake_llamacloud: FakeLlamaCloud) -> FakeLlamaCloud:
    """This module's tests share one emulator, reset before each (see conftest)."""
    return module_fake_llamacloud


@pytest.fixture()
def fake(fake_llamacloud: FakeLlamaCloud) -> FakeLlamaCloud:
    return fake_llamacloud


def _file(api: httpx.Client, name: str = "notes.md", data: bytes = NOTES) -> str:
    response = api.post("/api/v1/beta/files", files={"file": (name, data)}, data={"purpose": "parse"})
    assert response.status_code == 200, response.text
    file_id: str = response.json()["id"]
    return file_id


def _parse(api: httpx.Client, tier: str = "agentic", file_id: str | None = None) -> str:
    body = {"tier": tier, "version": "latest", "file_id": file_id or _file(api)}
    response = api.post("/api/v2/parse", json=body)
    assert response.status_code == 200, response.text
    job_id: str = response.json()["id"]
    return job_id


def _get(api: httpx.Client, job_id: str, *expand: str) -> dict[str, Any]:
    answer: dict[str, Any] = api.get(f"/api/v2/parse/{job_id}", params=[("expand", e) for e in expand]).json()
    return answer


def _extract(api: httpx.Client) -> str:
    body = {"file_input": _file(api), "configuration": {"data_schema": SCHEMA}}
    job_id: str = api.post("/api/v2/extract", json=body).json()["id"]
    return job_id


# --- 401 ----------------------------------------------------------------------------------------

V2_ROUTES = [
    ("POST", "/api/v1/beta/files"),
    ("GET", "/api/v1/beta/files/dfl-1/content"),
    ("POST", "/api/v2/parse"),
    ("POST", "/api/v2/parse/upload"),
    ("GET", "/api/v2/parse/pjb-1"),
    ("GET", "/api/v2/parse"),
    ("POST", "/api/v2/parse/pjb-1/cancel"),
    ("DELETE", "/api/v2/parse/pjb-1"),
    ("GET", "/api/v2/parse/versions"),
    ("POST", "/api/v2/extract"),
    ("GET", "/api/v2/extract/exj-1"),
    ("GET", "/api/v2/extract"),
    ("POST", "/api/v2/extract/schema/validation"),
    ("POST", "/api/v2/extract/schema/generate"),
    ("POST", "/api/v1/beta/configurations"),
    ("GET", "/api/v1/beta/configurations/cfg-1"),
    ("GET", "/api/v1/beta/extraction-agents"),
    ("POST", "/api/v1/retrieval/retrieve"),
    ("POST", "/api/v1/indexes"),
    ("GET", "/api/v1/indexes"),
    ("POST", "/api/v1/indexes/i-1/sync"),
]


@pytest.mark.parametrize(("method", "path"), V2_ROUTES)
def test_every_v2_route_answers_401_without_the_key(fake: FakeLlamaCloud, method: str, path: str) -> None:
    with httpx.Client(base_url=fake.base_url) as anonymous:
        missing = anonymous.request(method, path)
        wrong = anonymous.request(method, path, headers={"Authorization": "Bearer llx-wrong"})
    assert (missing.status_code, wrong.status_code) == (401, 401)
    assert missing.json() == {"detail": "Invalid or missing API key"}
    assert [r.source for r in fake.requests] == ["auth", "auth"]
    assert fake.requests[1].headers["authorization"] == "<wrong key>"


# --- faults -------------------------------------------------------------------------------------


def test_an_injected_503_with_retry_after_then_the_real_answer(
    api: httpx.Client, fake: FakeLlamaCloud
) -> None:
    fake.fail("POST", "/api/v2/parse", 503, retry_after=2)
    file_id = _file(api)
    body = {"tier": "fast", "version": "latest", "file_id": file_id}
    first = api.post("/api/v2/parse", json=body)
    assert first.status_code == 503 and first.headers["retry-after"] == "2"
    assert api.post("/api/v2/parse", json=body).json()["status"] == "PENDING"
    assert [r.status for r in fake.requests if r.path == "/api/v2/parse"] == [503, 200]
    assert len(fake.v2.parse_jobs) == 1  # the faulted submission made no job


def test_a_fault_matches_v2_paths_by_regex(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    job_id = _parse(api)
    fake.fail("GET", r"/api/v2/parse/pjb-[^/]+", 500, times=2, body={"detail": "upstream down"})
    assert [api.get(f"/api/v2/parse/{job_id}").status_code for _ in range(3)] == [500, 500, 200]
    assert api.get("/api/v2/parse/versions").status_code == 200  # not matched
    assert fake.unexpected() == []  # injected answers do not fail the test


def test_a_dropped_connection_on_a_v2_route(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fake.drop("POST", "/api/v1/retrieval/retrieve")
    index_id = fake.add_v2_index("h", [{"text": "Llamas eat hay."}])["id"]
    with pytest.raises(httpx.RemoteProtocolError):
        api.post("/api/v1/retrieval/retrieve", json={"index_id": index_id, "query": "hay"})
    again = api.post("/api/v1/retrieval/retrieve", json={"index_id": index_id, "query": "hay"})
    assert again.status_code == 200 and again.json()["results"][0]["content"] == "Llamas eat hay."


def test_the_rate_limit_applies_to_v2_routes(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fake.rate_limit(2, window=60)
    answers = [api.get("/api/v2/parse/versions") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert int(answers[2].headers["retry-after"]) >= 1


def test_an_unknown_v2_route_is_not_emulated_and_unexpected(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    response = api.post("/api/v1/retrieval/files/grep", json={"index_id": "i", "pattern": "x"})
    assert response.status_code == 501 and response.json()["detail"].startswith("not emulated")
    assert [r.source for r in fake.unexpected()] == ["not_emulated"]
    fake.reset()  # so the strict teardown lets this test pass


# --- scripts ------------------------------------------------------------------------------------


def test_a_scripted_parse_goes_pending_running_completed(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fake.script_v2_parse_jobs(pending_polls=1, running_polls=2, count=1)
    job_id = _parse(api)
    assert [_get(api, job_id)["job"]["status"] for _ in range(4)] == [
        "PENDING",
        "RUNNING",
        "RUNNING",
        "COMPLETED",
    ]
    later = _parse(api)
    assert _get(api, later)["job"]["status"] == "COMPLETED"  # count=1: the default again


def test_a_stuck_parse_stays_running_until_cancelled(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fake.script_v2_parse_jobs(stuck=True)
    job_id = _parse(api)
    assert {_get(api, job_id)["job"]["status"] for _ in range(5)} == {"RUNNING"}
    api.post(f"/api/v2/parse/{job_id}/cancel")
    assert _get(api, job_id, "markdown") == {"job": _get(api, job_id)["job"]}  # no content
    assert _get(api, job_id)["job"]["status"] == "CANCELLED"


def test_running_seconds_keep_a_job_running(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fake.script_v2_parse_jobs(running_seconds=600, count=1)
    assert _get(api, _parse(api))["job"]["status"] == "RUNNING"


def test_a_failed_parse_reports_its_error_and_no_content(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fake.script_v2_parse_jobs("FAILED", error_message="PDF_IS_BROKEN: cannot read page 1", count=1)
    answer = _get(api, _parse(api), "markdown", "text")
    assert answer == {"job": answer["job"]}
    assert answer["job"]["status"] == "FAILED"
    assert answer["job"]["error_message"] == "PDF_IS_BROKEN: cannot read page 1"


def test_a_scripted_cancelled_parse(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fake.script_v2_parse_jobs("CANCELLED", count=1)
    assert _get(api, _parse(api))["job"]["status"] == "CANCELLED"


def test_failed_pages_are_reported_per_page_in_a_completed_job(
    api: httpx.Client, fake: FakeLlamaCloud, examples_dir: Path
) -> None:
    fake.script_v2_parse_jobs(failed_pages=(2,), page_error="Page too complex", count=1)
    file_id = _file(api, "guide.pdf", (examples_dir / "llama-care-guide.pdf").read_bytes())
    answer = _get(api, _parse(api, "cost_effective", file_id), "markdown", "items", "text", "usage")
    assert answer["job"]["status"] == "COMPLETED"
    assert answer["markdown"]["pages"][1] == {"page_number": 2, "error": "Page too complex", "success": False}
    assert answer["markdown"]["pages"][0]["success"] is True
    assert answer["items"]["pages"][1] == {"page_number": 2, "error": "Page too complex", "success": False}
    assert answer["text"]["pages"][1] == {"page_number": 2, "text": ""}
    assert answer["usage"]["credits"] == 3  # the failed page is not billed


def test_an_unreadable_document_fails_the_job(api: httpx.Client) -> None:
    job_id = _parse(api, file_id=_file(api, "broken.pdf", b"%PDF-1.7 not really"))
    job = _get(api, job_id, "markdown")["job"]
    assert job["status"] == "FAILED" and "could not be parsed" in job["error_message"]


def test_scripted_extract_jobs_fail_and_hang(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fake.script_v2_extract_jobs("FAILED", error_message="schema too large", count=1)
    fake.script_v2_extract_jobs(running_polls=1, count=1)
    failed = api.get(f"/api/v2/extract/{_extract(api)}").json()
    assert failed["status"] == "FAILED" and failed["error_message"] == "schema too large"
    assert "extract_result" not in failed
    slow = _extract(api)
    assert [api.get(f"/api/v2/extract/{slow}").json()["status"] for _ in range(2)] == ["RUNNING", "COMPLETED"]


def test_a_script_must_end_in_a_v2_status(fake: FakeLlamaCloud) -> None:
    with pytest.raises(ValueError, match="COMPLETED, FAILED or CANCELLED"):
        fake.script_v2_parse_jobs("SUCCESS")


# --- served fixtures ----------------------------------------------------------------------------


def test_a_v2_parse_fixture_answers_the_sections_asked_for(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    markdown = {"pages": [{"page_number": 1, "markdown": "# Given", "success": True}]}
    fake.serve_v2_fixture({"markdown": markdown, "usage": {"credits": 99}}, count=1)
    job_id = _parse(api)
    answer = _get(api, job_id, "markdown", "usage", "text")
    assert answer["markdown"] == markdown and answer["usage"] == {"credits": 99}
    assert "text" not in answer  # the fixture has none
    assert answer["job"]["id"] == job_id and answer["job"]["status"] == "COMPLETED"
    computed = _get(api, _parse(api), "markdown")["markdown"]["pages"][0]["markdown"]
    assert "Llamas eat hay." in computed  # count=1: computed again


def test_a_v1_parse_fixture_is_served_in_v2_shapes(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    fixture = FIXTURES / "parse_result_tables_images.json"
    fake.serve_fixture(fixture, count=1)
    answer = _get(api, _parse(api), "markdown", "items")
    expected = json.loads(fixture.read_text())
    assert [p["markdown"] for p in answer["markdown"]["pages"]] == [p["md"] for p in expected["pages"]]
    table = next(i for i in answer["items"]["pages"][1]["items"] if i["type"] == "table")
    assert table["rows"][1][0] == "Adult llama"


def test_extract_fixtures_v2_and_v1(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    given = {"title": {"citation": [{"page": 3, "matching_text": "Given"}], "confidence": 0.7}}
    fake.serve_v2_fixture(
        {
            "extract_result": {"title": "Given"},
            "extract_metadata": {"field_metadata": {"document_metadata": given}},
        },
        kind="extract",
        count=1,
    )
    fake.serve_fixture(FIXTURES / "extract_run_citations.json", kind="extract", count=1)
    expand = [("expand", "extract_metadata")]
    first = api.get(f"/api/v2/extract/{_extract(api)}", params=expand).json()
    assert first["extract_result"] == {"title": "Given"}
    assert first["extract_metadata"]["field_metadata"]["document_metadata"] == given
    second = api.get(f"/api/v2/extract/{_extract(api)}", params=expand).json()
    assert second["extract_result"] == {"title": "Llama Care Guide", "adult_hay_kg": "2.0-3.5"}
    title = second["extract_metadata"]["field_metadata"]["document_metadata"]["title"]
    assert (
        title["citation"] == [{"page": 1, "matching_text": "Llama Care Guide"}]
        and title["confidence"] == 0.98
    )


def test_retrieve_fixtures_v2_and_v1(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    index_id = fake.add_v2_index("h", [{"text": "Llamas eat hay."}])["id"]
    served = {"results": [{"content": "Given passage", "score": 0.42, "metadata": {}, "static_fields": {}}]}
    fake.serve_v2_fixture(served, kind="retrieve", count=1)
    fake.serve_fixture(FIXTURES / "retrieve_image_nodes.json", kind="retrieve", count=1)
    body = {"index_id": index_id, "query": "hay", "rerank": {"enabled": False}}
    assert api.post("/api/v1/retrieval/retrieve", json=body).json() == served
    mapped = api.post("/api/v1/retrieval/retrieve", json=body).json()["results"][0]
    assert mapped["content"].startswith("Llamas are efficient grazers") and mapped["score"] == 0.8312
    assert mapped["static_fields"]["parsed_directory_file_id"] == "file-2a3b4c5d-6e7f-8091-a2b3-c4d5e6f7a8b9"
    computed = api.post("/api/v1/retrieval/retrieve", json=body).json()["results"][0]
    assert computed["content"] == "Llamas eat hay."


# --- what was sent ------------------------------------------------------------------------------


def test_the_log_keeps_json_bodies_and_jobs_keep_uploads_and_expands(
    api: httpx.Client, fake: FakeLlamaCloud
) -> None:
    body = {
        "tier": "agentic",
        "version": "latest",
        "file_id": _file(api),
        "disable_cache": False,
        "user_metadata": None,
    }
    job_id = api.post("/api/v2/parse", json=body).json()["id"]
    assert fake.sent_json("POST", "/api/v2/parse") == [body]
    configuration = {"tier": "fast", "version": "2026-06-15", "page_ranges": {"max_pages": 0}}
    uploaded = api.post(
        "/api/v2/parse/upload",
        data={"configuration": json.dumps(configuration)},
        files={"file": ("a.md", NOTES)},
    ).json()["id"]
    assert fake.v2.parse_jobs[uploaded].request == configuration
    _get(api, job_id)
    _get(api, job_id, "markdown", "metadata")
    assert fake.v2.parse_jobs[job_id].gets == [[], ["markdown", "metadata"]]


def test_reset_forgets_v2_jobs_scripts_and_fixtures(api: httpx.Client, fake: FakeLlamaCloud) -> None:
    _parse(api)
    fake.script_v2_parse_jobs("FAILED")
    fake.serve_v2_fixture({"markdown": {"pages": []}})
    fake.reset()
    assert fake.v2.parse_jobs == {}
    job = _get(api, _parse(api), "markdown")
    assert (
        job["job"]["status"] == "COMPLETED" and "Llamas eat hay." in job["markdown"]["pages"][0]["markdown"]
    )
