"""Contract: index routes as the service answers them (filters, odd corpora, screenshot nodes)."""

from __future__ import annotations

from pathlib import Path

import httpx
from llama_cloud_services import LlamaCloudIndex
from llama_index.core import Document
from llama_index.core.schema import ImageNode

from llama_index_cloudkit.testing import FakeLlamaCloud


def _auth(fake: FakeLlamaCloud) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key}"}


def test_pipelines_are_listed_by_project_name_id_and_pipeline_name(fake_llamacloud: FakeLlamaCloud) -> None:
    base, auth = fake_llamacloud.base_url + "/api/v1/pipelines", _auth(fake_llamacloud)
    for name in ("handbook", "faq"):
        httpx.put(base, headers=auth, json={"name": name})

    def names(**params: str) -> list[str]:
        return sorted(p["name"] for p in httpx.get(base, headers=auth, params=params).json())

    assert names(project_name="Default") == ["faq", "handbook"]
    assert names(project_name="Elsewhere") == []
    assert names(project_id="proj-0000-default", pipeline_name="faq") == ["faq"]
    assert names(project_id="proj-other") == []
    assert names(pipeline_type="PLAYGROUND") == []


def test_retrieve_over_pages_of_digits_only_answers(fake_llamacloud: FakeLlamaCloud) -> None:
    docs = [Document(text="1 2 3", id_="d1"), Document(text="4 5", id_="d2")]
    index = LlamaCloudIndex.from_documents(docs, name="digits", verbose=False)
    hits = index.as_retriever().retrieve("2")
    assert {h.node.ref_doc_id for h in hits} <= {"d1", "d2"} and hits
    assert all(r.status == 200 for r in fake_llamacloud.requests if r.path.endswith("/retrieve"))


def test_screenshot_nodes_come_back_as_image_nodes(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    index = LlamaCloudIndex.create_index(name="guide", verbose=False)
    index.upload_file(str(examples_dir / "llama-care-guide.pdf"), verbose=False)
    hits = index.as_retriever(retrieve_page_screenshot_nodes=True).retrieve("how much hay")
    images = [h for h in hits if isinstance(h.node, ImageNode)]
    assert images and all(h.node.image for h in images)  # base64 of the page screenshot
    assert {h.node.metadata["file_name"] for h in images} == {"llama-care-guide.pdf"}
    assert fake_llamacloud.count("GET", r"/api/v1/files/[^/]+/page_screenshots/\d+", regex=True) == len(
        images
    )


def test_without_the_option_no_image_nodes(fake_llamacloud: FakeLlamaCloud, examples_dir: Path) -> None:
    index = LlamaCloudIndex.create_index(name="guide", verbose=False)
    index.upload_file(str(examples_dir / "llama-care-guide.pdf"), verbose=False)
    hits = index.as_retriever().retrieve("how much hay")
    assert hits and not any(isinstance(h.node, ImageNode) for h in hits)


def test_invalid_bodies_are_fastapi_shaped_422(fake_llamacloud: FakeLlamaCloud) -> None:
    base, auth = fake_llamacloud.base_url + "/api/v1/pipelines", _auth(fake_llamacloud)
    pipe = httpx.put(base, headers=auth, json={"name": "p"}).json()
    for response in (
        httpx.put(base, headers=auth, json={}),
        httpx.put(base, headers=auth, content=b"{not json", params={}),
        httpx.post(f"{base}/{pipe['id']}/retrieve", headers=auth, json={"dense_similarity_top_k": 2}),
        httpx.put(f"{base}/{pipe['id']}/documents", headers=auth, json={"text": "not a list"}),
    ):
        assert response.status_code == 422
        assert isinstance(response.json()["detail"], list)


def test_a_filter_of_the_wrong_type_is_a_422_not_a_500(fake_llamacloud: FakeLlamaCloud) -> None:
    docs = [Document(text="Llamas eat hay.", id_="d1", metadata={"year": 2024})]
    index = LlamaCloudIndex.from_documents(docs, name="typed", verbose=False)
    base, auth = fake_llamacloud.base_url + "/api/v1/pipelines", _auth(fake_llamacloud)
    body = {
        "query": "hay",
        "search_filters": {
            "filters": [{"key": "year", "value": "2024", "operator": "=="}],
            "condition": "and",
        },
    }
    response = httpx.post(f"{base}/{index.id}/retrieve", headers=auth, json=body)
    assert response.status_code == 422 and "year" in response.json()["detail"]
