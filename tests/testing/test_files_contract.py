"""Contract: the files API as the SDK's own clients use it (presigned URLs, content, URL upload)."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import httpx
import pytest
from llama_cloud.client import AsyncLlamaCloud, LlamaCloud
from llama_cloud_services.files.client import FileClient

from llama_index_cloudkit.testing import FakeLlamaCloud


def _auth(fake: FakeLlamaCloud) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key}"}


def test_presigned_upload_then_read_back_through_the_sdk_file_client(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    data = (examples_dir / "llama-care-guide.pdf").read_bytes()

    async def round_trip() -> tuple[str, int | None, bytes]:
        client = AsyncLlamaCloud(token=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
        files = FileClient(client, use_presigned_url=True)
        stored = await files.upload_bytes(data, "guide.pdf")
        return stored.name, stored.file_size, await files.read_file_content(stored.id)

    name, size, content = asyncio.run(round_trip())
    assert (name, size, content) == ("guide.pdf", len(data), data)
    put = next(r for r in fake_llamacloud.requests if r.path.startswith("/_storage/"))
    assert put.method == "PUT" and "authorization" not in put.headers  # like S3: the URL signs


def test_presigned_url_answer_has_the_service_shape(fake_llamacloud: FakeLlamaCloud) -> None:
    answer = httpx.put(
        fake_llamacloud.base_url + "/api/v1/files",
        headers=_auth(fake_llamacloud),
        json={"name": "a.txt", "external_file_id": "a.txt", "file_size": 2},
    ).json()
    assert set(answer) >= {"file_id", "url", "expires_at"}
    assert answer["url"].startswith(fake_llamacloud.base_url)


def test_file_content_answers_a_presigned_get(fake_llamacloud: FakeLlamaCloud) -> None:
    stored = httpx.post(
        fake_llamacloud.base_url + "/api/v1/files",
        headers=_auth(fake_llamacloud),
        files={"upload_file": ("a.txt", b"hello", "text/plain")},
    ).json()
    answer = httpx.get(
        f"{fake_llamacloud.base_url}/api/v1/files/{stored['id']}/content", headers=_auth(fake_llamacloud)
    ).json()
    assert set(answer) >= {"url", "expires_at"}
    assert httpx.get(answer["url"]).content == b"hello"


def test_presigned_urls_are_bound_to_their_file_and_method(fake_llamacloud: FakeLlamaCloud) -> None:
    answer = httpx.put(
        fake_llamacloud.base_url + "/api/v1/files", headers=_auth(fake_llamacloud), json={"name": "a.txt"}
    ).json()
    assert httpx.get(answer["url"]).status_code == 403  # a PUT URL does not read
    forged = answer["url"].split("?")[0] + "?token=forged"
    assert httpx.put(forged, content=b"x").status_code == 403
    assert httpx.put(answer["url"], content=b"x").status_code == 200


def test_upload_from_url_stores_a_placeholder_and_says_it_did_not_fetch(
    fake_llamacloud: FakeLlamaCloud, caplog: pytest.LogCaptureFixture
) -> None:
    client = LlamaCloud(token=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
    with caplog.at_level(logging.WARNING):
        stored = client.files.upload_file_from_url(url="https://example.com/docs/report.pdf")
    assert stored.name == "report.pdf" and stored.file_size == 0
    assert "did not fetch https://example.com/docs/report.pdf" in caplog.text
    logged = fake_llamacloud.requests[-1]
    assert logged.note is not None and "did not fetch" in logged.note


def test_upload_from_url_stores_bytes_the_test_registered(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.serve_url("https://example.com/a.txt", b"llamas eat hay")
    client = LlamaCloud(token=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
    stored = client.files.upload_file_from_url(url="https://example.com/a.txt", name="notes.txt")
    assert stored.name == "notes.txt"
    assert fake_llamacloud.state.get_file(stored.id).data == b"llamas eat hay"


def test_unknown_file_is_a_json_404(fake_llamacloud: FakeLlamaCloud) -> None:
    response = httpx.get(
        fake_llamacloud.base_url + "/api/v1/files/missing/content", headers=_auth(fake_llamacloud)
    )
    assert response.status_code == 404 and response.json()["detail"].startswith("Not found")
