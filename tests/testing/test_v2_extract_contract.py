"""Contract: the Extract v2 routes, saved configurations and the agent list, over real HTTP.

One test per route of the reference's route table; shapes as ../shared/reference/llamacloud-api-v2.md
gives them (section 3a).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from llama_index_cloudkit.testing import FakeLlamaCloud

SCHEMA = {"type": "object", "properties": {"animal": {"type": "string"}, "hay_kg": {"type": "number"}}}
NOTES = b"# Feeding\n\nAn adult llama eats 2.5 kg of hay a day."


@pytest.fixture()
def fake_llamacloud(module_fake_llamacloud: FakeLlamaCloud) -> FakeLlamaCloud:
    """This module's tests share one emulator, reset before each (see conftest)."""
    return module_fake_llamacloud


@pytest.fixture(autouse=True)
def _fresh(fake_llamacloud: FakeLlamaCloud) -> None:
    """Every test starts on a reset emulator."""


def _file(api: httpx.Client, name: str = "notes.md", data: bytes = NOTES) -> str:
    answer = api.post("/api/v1/beta/files", files={"file": (name, data)}, data={"purpose": "extract"})
    assert answer.status_code == 200, answer.text
    file_id: str = answer.json()["id"]
    return file_id


def _create(api: httpx.Client, body: dict[str, Any]) -> dict[str, Any]:
    response = api.post("/api/v2/extract", json=body)
    assert response.status_code == 200, response.text
    job: dict[str, Any] = response.json()
    return job


def _expand(*values: str) -> list[tuple[str, str]]:
    return [("expand", v) for v in values]


def test_create_answers_a_pending_job_with_the_file_input(api: httpx.Client) -> None:
    file_id = _file(api)
    job = _create(api, {"file_input": file_id, "configuration": {"data_schema": SCHEMA}})
    assert job["status"] == "PENDING" and job["file_input"] == file_id
    assert {"id", "project_id", "created_at", "updated_at"} <= set(job)


def test_get_answers_the_result_and_only_the_expanded_parts(
    api: httpx.Client, fake_llamacloud: FakeLlamaCloud
) -> None:
    fake_llamacloud.on_extract(lambda schema, config, text: {"animal": "llama", "hay_kg": 2.5})
    config = {"data_schema": SCHEMA, "tier": "agentic", "cite_sources": True, "confidence_scores": True}
    job_id = _create(api, {"file_input": _file(api), "configuration": config})["id"]
    plain = api.get(f"/api/v2/extract/{job_id}").json()
    assert plain["status"] == "COMPLETED"
    assert plain["extract_result"] == {"animal": "llama", "hay_kg": 2.5}
    assert "extract_metadata" not in plain and "usage" not in plain and "configuration" not in plain
    full = api.get(
        f"/api/v2/extract/{job_id}", params=_expand("extract_metadata", "usage", "configuration")
    ).json()
    animal = full["extract_metadata"]["field_metadata"]["document_metadata"]["animal"]
    assert animal["citation"][0]["page"] == 1 and animal["citation"][0]["matching_text"] == "llama"
    assert {"bounding_boxes", "page_dimensions"} <= set(animal["citation"][0])
    assert animal["confidence"] == 0.95 and "parsing_confidence" in animal
    # one page: agentic extraction (10) plus the default parse tier, cost_effective (3)
    assert full["usage"] == {"credits": 13, "extract_credits": 10, "parse_credits": 3}
    assert full["configuration"] == config


def test_a_completed_parse_job_is_a_file_input(api: httpx.Client) -> None:
    parse = api.post("/api/v2/parse", json={"tier": "agentic", "version": "latest", "file_id": _file(api)})
    parse_id = parse.json()["id"]
    api.get(f"/api/v2/parse/{parse_id}")
    config = {"data_schema": SCHEMA, "cite_sources": True}
    job_id = _create(api, {"file_input": parse_id, "configuration": config})["id"]
    job = api.get(f"/api/v2/extract/{job_id}", params=_expand("extract_metadata", "usage")).json()
    assert job["extract_metadata"]["parse_job_id"] == parse_id
    assert job["usage"]["parse_credits"] == 0  # the parse is reused, not paid again


@pytest.mark.parametrize(
    "body",
    [
        {"file_input": "dfl-x"},
        {"file_input": "dfl-x", "configuration": {"data_schema": SCHEMA}, "configuration_id": "cfg-1"},
        {"file_input": "dfl-x", "configuration": {"tier": "agentic"}},
        {"file_input": "dfl-x", "configuration": {"data_schema": SCHEMA, "tier": "premium"}},
        {"configuration": {"data_schema": SCHEMA}},
    ],
)
def test_a_bad_create_body_is_a_fastapi_422(api: httpx.Client, body: dict[str, Any]) -> None:
    response = api.post("/api/v2/extract", json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_a_schema_whose_root_is_no_object_is_refused_at_create(api: httpx.Client) -> None:
    body = {"file_input": _file(api), "configuration": {"data_schema": {"type": "array"}}}
    refused = api.post("/api/v2/extract", json=body)
    assert refused.status_code == 400 and "object" in refused.json()["detail"]


def test_list_jobs_is_a_cursor_page(api: httpx.Client) -> None:
    file_id = _file(api)
    ids = [
        _create(api, {"file_input": file_id, "configuration": {"data_schema": SCHEMA}})["id"]
        for _ in range(3)
    ]
    first = api.get("/api/v2/extract", params={"page_size": 2}).json()
    assert [j["id"] for j in first["items"]] == ids[:2]
    rest = api.get("/api/v2/extract", params={"page_size": 2, "page_token": first["next_page_token"]}).json()
    assert [j["id"] for j in rest["items"]] == ids[2:] and rest["next_page_token"] is None


def test_cancel_and_delete(api: httpx.Client, fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.script_v2_extract_jobs(stuck=True, count=1)
    file_id = _file(api)
    job_id = _create(api, {"file_input": file_id, "configuration": {"data_schema": SCHEMA}})["id"]
    assert api.get(f"/api/v2/extract/{job_id}").json()["status"] == "RUNNING"
    assert api.delete(f"/api/v2/extract/{job_id}").status_code == 400  # still running
    cancelled = api.post(f"/api/v2/extract/{job_id}/cancel").json()
    assert cancelled["status"] == "CANCELLED" and "extract_result" not in cancelled
    deleted = api.delete(f"/api/v2/extract/{job_id}")
    assert deleted.status_code == 200 and deleted.json()["id"] == job_id
    assert api.get(f"/api/v2/extract/{job_id}").status_code == 404


def test_schema_validation_normalises_and_refuses_a_non_object_root(api: httpx.Client) -> None:
    bare = {"properties": {"a": {"type": "string"}}}
    answer = api.post("/api/v2/extract/schema/validation", json={"data_schema": bare})
    assert answer.status_code == 200 and answer.json()["data_schema"] == {**bare, "type": "object"}
    refused = api.post("/api/v2/extract/schema/validation", json={"data_schema": {"type": "array"}})
    assert refused.status_code == 400 and "object" in refused.json()["detail"]
    missing = api.post("/api/v2/extract/schema/validation", json={})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == ["body", "data_schema"]


def test_schema_generate_answers_a_configuration_create(api: httpx.Client) -> None:
    answer = api.post(
        "/api/v2/extract/schema/generate", json={"data_schema": SCHEMA, "name": "feeding"}
    ).json()
    assert answer == {"name": "feeding", "parameters": {"product_type": "extract_v2", "data_schema": SCHEMA}}
    empty = api.post("/api/v2/extract/schema/generate", json={"prompt": "animals"}).json()
    assert empty["parameters"]["data_schema"]["type"] == "object"


def test_saved_configuration_is_upserted_by_name_and_used_by_id(api: httpx.Client) -> None:
    parameters = {
        "product_type": "extract_v2",
        "data_schema": SCHEMA,
        "tier": "agentic",
        "cite_sources": True,
    }
    saved = api.post("/api/v1/beta/configurations", json={"name": "feeding", "parameters": parameters}).json()
    assert set(saved) >= {"id", "name", "product_type", "version", "parameters"}
    assert saved["product_type"] == "extract_v2"
    again = api.post("/api/v1/beta/configurations", json={"name": "feeding", "parameters": parameters}).json()
    assert again["id"] == saved["id"] and again["version"] == saved["version"] + 1
    job_id = _create(api, {"file_input": _file(api), "configuration_id": saved["id"]})["id"]
    job = api.get(f"/api/v2/extract/{job_id}", params=_expand("configuration", "extract_metadata")).json()
    assert job["configuration_id"] == saved["id"]
    assert job["configuration"]["tier"] == "agentic"
    assert "citation" in job["extract_metadata"]["field_metadata"]["document_metadata"]["animal"]


def test_configurations_get_list_put_delete(api: httpx.Client) -> None:
    parameters = {"product_type": "extract_v2", "data_schema": SCHEMA}
    saved = api.post("/api/v1/beta/configurations", json={"name": "a", "parameters": parameters}).json()
    assert api.get(f"/api/v1/beta/configurations/{saved['id']}").json()["name"] == "a"
    listed = api.get("/api/v1/beta/configurations").json()
    assert [c["id"] for c in listed["items"]] == [saved["id"]] and listed["next_page_token"] is None
    renamed = api.put(f"/api/v1/beta/configurations/{saved['id']}", json={"name": "b"}).json()
    assert renamed["name"] == "b"
    assert api.delete(f"/api/v1/beta/configurations/{saved['id']}").status_code == 200
    assert api.get(f"/api/v1/beta/configurations/{saved['id']}").status_code == 404


def test_extraction_agents_list_is_a_cursor_page_of_agents(api: httpx.Client) -> None:
    created = api.post(
        "/api/v1/extraction/extraction-agents", json={"name": "feeding", "data_schema": SCHEMA, "config": {}}
    ).json()
    page = api.get("/api/v1/beta/extraction-agents", params={"include_default": "false"}).json()
    assert page["next_page_token"] is None
    assert page["items"] == [
        {
            "id": created["id"],
            "name": "feeding",
            "project_id": created["project_id"],
            "data_schema": SCHEMA,
            "config": {},
        }
    ]


def test_unknown_inputs_are_404s(api: httpx.Client) -> None:
    config = {"data_schema": SCHEMA}
    assert (
        api.post("/api/v2/extract", json={"file_input": "dfl-nope", "configuration": config}).status_code
        == 404
    )
    assert (
        api.post("/api/v2/extract", json={"file_input": "pjb-nope", "configuration": config}).status_code
        == 404
    )
    assert (
        api.post("/api/v2/extract", json={"file_input": "x", "configuration_id": "cfg-nope"}).status_code
        == 404
    )
    assert api.get("/api/v2/extract/exj-nope").status_code == 404


def test_extraction_reads_only_the_target_pages(api: httpx.Client, examples_dir: Path) -> None:
    file_id = _file(api, "guide.pdf", (examples_dir / "llama-care-guide.pdf").read_bytes())
    config = {"data_schema": {"type": "object", "properties": {"x": {"type": "string"}}}, "target_pages": "2"}
    job_id = _create(api, {"file_input": file_id, "configuration": config})["id"]
    job = api.get(f"/api/v2/extract/{job_id}").json()
    assert job["metadata"]["usage"] == {"num_pages_billed": 1, "num_pages_extracted": 1}


def test_lists_keep_to_the_project_asked_for(api: httpx.Client) -> None:
    parameters = {"product_type": "extract_v2", "data_schema": SCHEMA}
    api.post("/api/v1/beta/configurations", json={"name": "a", "parameters": parameters})
    _create(api, {"file_input": _file(api), "configuration": {"data_schema": SCHEMA}})
    for path in ("/api/v1/beta/configurations", "/api/v2/extract"):
        assert len(api.get(path, params={"project_id": "proj-0000-default"}).json()["items"]) == 1
        assert api.get(path, params={"project_id": "proj-other"}).json()["items"] == []
