"""Contract: the Parse v2 and v2 Files routes of the reference's route table, over real HTTP.

One test per route; shapes and status words as ../shared/reference/llamacloud-api-v2.md gives
them. The client keeps its connection alive, as the real SDK does.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from llama_index_cloudkit.testing import FakeLlamaCloud

NOTES = b"# Llama notes\n\nLlamas eat hay.\n\n| Animal | Hay (kg) |\n| --- | --- |\n| Adult | 2.5 |\n"


@pytest.fixture()
def fake_llamacloud(module_fake_llamacloud: FakeLlamaCloud) -> FakeLlamaCloud:
    """This module's tests share one emulator, reset before each (see conftest)."""
    return module_fake_llamacloud


@pytest.fixture(autouse=True)
def _fresh(fake_llamacloud: FakeLlamaCloud) -> None:
    """Every test starts on a reset emulator."""


@pytest.fixture()
def guide(examples_dir: Path) -> bytes:
    return (examples_dir / "llama-care-guide.pdf").read_bytes()


def _upload(api: httpx.Client, name: str, data: bytes, purpose: str = "parse") -> dict[str, Any]:
    response = api.post("/api/v1/beta/files", files={"file": (name, data)}, data={"purpose": purpose})
    assert response.status_code == 200, response.text
    answer: dict[str, Any] = response.json()
    return answer


def _expand(*values: str) -> list[tuple[str, str]]:
    return [("expand", v) for v in values]


def test_beta_file_upload_answers_a_dfl_id_with_its_purpose(api: httpx.Client) -> None:
    answer = _upload(api, "notes.md", NOTES, purpose="extract")
    assert answer["id"].startswith("dfl-")
    assert answer["name"] == "notes.md"
    assert answer["project_id"] == "proj-0000-default"
    assert answer["purpose"] == "extract"


def test_beta_file_content_is_a_presigned_download_of_the_bytes(api: httpx.Client) -> None:
    file_id = _upload(api, "notes.md", NOTES)["id"]
    answer = api.get(f"/api/v1/beta/files/{file_id}/content").json()
    assert set(answer) >= {"url", "expires_at"}
    assert httpx.get(answer["url"]).content == NOTES  # no bearer key: the URL carries its token


def test_parse_from_file_id_answers_a_pending_job(api: httpx.Client) -> None:
    file_id = _upload(api, "notes.md", NOTES)["id"]
    response = api.post("/api/v2/parse", json={"tier": "agentic", "version": "latest", "file_id": file_id})
    job = response.json()
    assert response.status_code == 200
    assert job["id"].startswith("pjb-") and job["status"] == "PENDING"
    assert job["project_id"] == "proj-0000-default" and job["tier"] == "agentic"


def test_parse_upload_reads_the_configuration_part_as_sent(
    api: httpx.Client, fake_llamacloud: FakeLlamaCloud
) -> None:
    configuration = {"tier": "fast", "version": "latest", "page_ranges": {"max_pages": 1}}
    response = api.post(
        "/api/v2/parse/upload",
        data={"configuration": json.dumps(configuration)},
        files={"file": ("notes.md", NOTES)},
    )
    job = response.json()
    assert response.status_code == 200 and job["status"] == "PENDING"
    assert fake_llamacloud.v2.parse_jobs[job["id"]].request == configuration


def test_get_answers_the_job_alone_without_expand(api: httpx.Client) -> None:
    file_id = _upload(api, "notes.md", NOTES)["id"]
    job_id = api.post(
        "/api/v2/parse", json={"tier": "agentic", "version": "latest", "file_id": file_id}
    ).json()["id"]
    answer = api.get(f"/api/v2/parse/{job_id}").json()
    assert list(answer) == ["job"]
    assert answer["job"]["status"] == "COMPLETED"


def test_get_with_expand_answers_v2_sections_from_the_local_parser(
    api: httpx.Client, guide: bytes, fake_llamacloud: FakeLlamaCloud
) -> None:
    file_id = _upload(api, "guide.pdf", guide)["id"]
    job_id = api.post(
        "/api/v2/parse", json={"tier": "cost_effective", "version": "latest", "file_id": file_id}
    ).json()["id"]
    values = ("markdown", "text", "items", "metadata", "job_metadata", "usage", "markdown_full", "text_full")
    answer = api.get(f"/api/v2/parse/{job_id}", params=_expand(*values)).json()
    assert answer["job"]["status"] == "COMPLETED"
    pages = answer["markdown"]["pages"]
    assert [(p["page_number"], p["success"]) for p in pages] == [(1, True), (2, True)]
    assert "| Adult llama | 140-200 |" in pages[1]["markdown"]
    assert [p["page_number"] for p in answer["text"]["pages"]] == [1, 2]
    assert "Adult llama" in answer["text"]["pages"][1]["text"]
    table = next(i for i in answer["items"]["pages"][1]["items"] if i["type"] == "table")
    assert table["rows"][1][:2] == ["Adult llama", "140-200"] and {"md", "html", "csv"} <= set(table)
    assert answer["items"]["pages"][0]["page_width"] > 0
    assert [p["page_number"] for p in answer["metadata"]["pages"]] == [1, 2]
    assert answer["job_metadata"]["version"] == "2026-09-28"  # latest, resolved
    assert answer["usage"]["credits"] == 2 * 3  # two pages on cost_effective
    assert answer["markdown_full"].startswith("Llama Care Guide")
    assert fake_llamacloud.v2.parse_jobs[job_id].gets == [list(values)]


@pytest.mark.parametrize(
    ("tier", "credits"), [("fast", 1), ("cost_effective", 3), ("agentic", 10), ("agentic_plus", 45)]
)
def test_usage_counts_credits_per_page_by_tier(api: httpx.Client, tier: str, credits: int) -> None:
    file_id = _upload(api, "notes.md", NOTES)["id"]
    job_id = api.post("/api/v2/parse", json={"tier": tier, "version": "latest", "file_id": file_id}).json()[
        "id"
    ]
    assert api.get(f"/api/v2/parse/{job_id}", params=_expand("usage")).json()["usage"]["credits"] == credits


def test_target_pages_are_one_based_and_win_over_max_pages(api: httpx.Client, guide: bytes) -> None:
    file_id = _upload(api, "guide.pdf", guide)["id"]
    body = {
        "tier": "agentic",
        "version": "latest",
        "file_id": file_id,
        "page_ranges": {"target_pages": "2", "max_pages": 1},
    }
    job_id = api.post("/api/v2/parse", json=body).json()["id"]
    pages = api.get(f"/api/v2/parse/{job_id}", params=_expand("markdown")).json()["markdown"]["pages"]
    assert [p["page_number"] for p in pages] == [2]
    assert pages[0]["markdown"].startswith("Feeding")


def test_screenshots_are_listed_with_presigned_urls(api: httpx.Client, guide: bytes) -> None:
    file_id = _upload(api, "guide.pdf", guide)["id"]
    body = {
        "tier": "agentic",
        "version": "latest",
        "file_id": file_id,
        "output_options": {"images_to_save": ["screenshot"]},
    }
    job_id = api.post("/api/v2/parse", json=body).json()["id"]
    params = [*_expand("images_content_metadata"), ("image_filenames", "page_2.jpg")]
    listed = api.get(f"/api/v2/parse/{job_id}", params=params).json()["images_content_metadata"]
    assert listed["total_count"] == 1
    image = listed["images"][0]
    assert (image["filename"], image["category"]) == ("page_2.jpg", "screenshot")
    assert httpx.get(image["presigned_url"]).content[:2] == b"\xff\xd8"  # a JPEG


def test_fast_tier_has_no_markdown(api: httpx.Client) -> None:
    file_id = _upload(api, "notes.md", NOTES)["id"]
    job_id = api.post("/api/v2/parse", json={"tier": "fast", "version": "latest", "file_id": file_id}).json()[
        "id"
    ]
    refused = api.get(f"/api/v2/parse/{job_id}", params=_expand("markdown"))
    assert refused.status_code == 400 and "fast tier" in refused.json()["detail"]
    text = api.get(f"/api/v2/parse/{job_id}", params=_expand("text")).json()["text"]["pages"]
    assert "Llamas eat hay." in text[0]["text"]


def test_list_jobs_is_a_cursor_page(api: httpx.Client) -> None:
    file_id = _upload(api, "notes.md", NOTES)["id"]
    ids = [
        api.post("/api/v2/parse", json={"tier": "fast", "version": "latest", "file_id": file_id}).json()["id"]
        for _ in range(3)
    ]
    first = api.get("/api/v2/parse", params={"page_size": 2}).json()
    assert [j["id"] for j in first["items"]] == ids[:2] and first["next_page_token"]
    rest = api.get("/api/v2/parse", params={"page_size": 2, "page_token": first["next_page_token"]}).json()
    assert [j["id"] for j in rest["items"]] == ids[2:] and rest["next_page_token"] is None
    api.get(f"/api/v2/parse/{ids[0]}")
    done = api.get("/api/v2/parse", params={"status": "COMPLETED"}).json()["items"]
    assert [j["id"] for j in done] == [ids[0]]
    picked = api.get("/api/v2/parse", params=[("job_ids", ids[1]), ("job_ids", ids[2])]).json()["items"]
    assert [j["id"] for j in picked] == ids[1:]


def test_cancel_ends_a_running_job_cancelled(api: httpx.Client, fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.script_v2_parse_jobs(stuck=True, count=1)
    file_id = _upload(api, "notes.md", NOTES)["id"]
    job_id = api.post("/api/v2/parse", json={"tier": "fast", "version": "latest", "file_id": file_id}).json()[
        "id"
    ]
    assert api.get(f"/api/v2/parse/{job_id}").json()["job"]["status"] == "RUNNING"
    cancelled = api.post(f"/api/v2/parse/{job_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "CANCELLED"
    assert api.get(f"/api/v2/parse/{job_id}").json()["job"]["status"] == "CANCELLED"
    again = api.post(f"/api/v2/parse/{job_id}/cancel")
    assert again.status_code == 400 and "CANCELLED" in again.json()["detail"]


def test_delete_forgets_an_ended_job_and_refuses_a_running_one(
    api: httpx.Client, fake_llamacloud: FakeLlamaCloud
) -> None:
    fake_llamacloud.script_v2_parse_jobs(stuck=True, count=1)
    file_id = _upload(api, "notes.md", NOTES)["id"]
    running = api.post(
        "/api/v2/parse", json={"tier": "fast", "version": "latest", "file_id": file_id}
    ).json()["id"]
    api.get(f"/api/v2/parse/{running}")
    assert api.delete(f"/api/v2/parse/{running}").status_code == 400
    ended = api.post("/api/v2/parse", json={"tier": "fast", "version": "latest", "file_id": file_id}).json()[
        "id"
    ]
    api.get(f"/api/v2/parse/{ended}")
    deleted = api.delete(f"/api/v2/parse/{ended}")
    assert deleted.status_code == 200 and deleted.json() == {"id": ended, "project_id": "proj-0000-default"}
    assert api.get(f"/api/v2/parse/{ended}").status_code == 404


def test_versions_lists_pins_per_tier_and_latest(api: httpx.Client) -> None:
    answer = api.get("/api/v2/parse/versions").json()
    assert set(answer) == {"fast", "cost_effective", "agentic", "agentic_plus", "latest"}
    assert answer["latest"] == {
        "fast": "2026-06-15",
        "cost_effective": "2026-09-28",
        "agentic": "2026-10-16",
        "agentic_plus": "2026-09-28",
    }
    assert all(answer["latest"][tier] in answer[tier] for tier in answer["latest"])


def test_a_pinned_version_is_kept_and_an_unknown_one_refused(api: httpx.Client) -> None:
    file_id = _upload(api, "notes.md", NOTES)["id"]
    body = {"tier": "agentic", "version": "2026-10-16", "file_id": file_id}
    job_id = api.post("/api/v2/parse", json=body).json()["id"]
    meta = api.get(f"/api/v2/parse/{job_id}", params=_expand("job_metadata")).json()["job_metadata"]
    assert meta["version"] == "2026-10-16"
    refused = api.post("/api/v2/parse", json={**body, "version": "1999-01-01"})
    assert refused.status_code == 422 and refused.json()["detail"][0]["loc"] == ["body", "version"]


@pytest.mark.parametrize(
    ("body", "loc"),
    [
        ({"version": "latest", "file_id": "dfl-x"}, ["body", "tier"]),
        ({"tier": "fast", "file_id": "dfl-x"}, ["body", "version"]),
        ({"tier": "fast", "version": "latest"}, ["body"]),
        ({"tier": "turbo", "version": "latest", "file_id": "dfl-x"}, ["body", "tier"]),
    ],
)
def test_a_bad_create_body_is_a_fastapi_422(api: httpx.Client, body: dict[str, Any], loc: list[str]) -> None:
    response = api.post("/api/v2/parse", json=body)
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == loc


def test_unknown_file_and_job_ids_are_json_404s(api: httpx.Client) -> None:
    missing_file = api.post(
        "/api/v2/parse", json={"tier": "fast", "version": "latest", "file_id": "dfl-nope"}
    )
    assert missing_file.status_code == 404 and "dfl-nope" in missing_file.json()["detail"]
    assert api.get("/api/v2/parse/pjb-nope").status_code == 404


def test_source_url_reads_only_registered_bytes(api: httpx.Client, fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.serve_url("https://example.com/notes.md", NOTES)
    body = {"tier": "fast", "version": "latest", "source_url": "https://example.com/notes.md"}
    job_id = api.post("/api/v2/parse", json=body).json()["id"]
    text = api.get(f"/api/v2/parse/{job_id}", params=_expand("text_full")).json()["text_full"]
    assert "Llamas eat hay." in text
