"""Contract: Index v2 retrieval and the index routes, over real HTTP, on the emulated pipelines.

One test per route of the reference's route table (section 4), and the promise the issue makes:
``alpha=0.0``, reranking off and filters arrive at the emulator exactly as sent, on v1 and on v2.
"""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from llama_index_cloudkit.testing import FakeLlamaCloud

DOCS = [
    {"id": "hay", "text": "Llamas eat grass hay every day.", "metadata": {"topic": "food", "year": 2021}},
    {
        "id": "shear",
        "text": "Shear the fleece once a year in spring.",
        "metadata": {"topic": "care", "year": 2019},
    },
    {
        "id": "water",
        "text": "Fresh water matters more than grain.",
        "metadata": {"topic": "food", "year": 2023},
    },
]
RETRIEVE = "/api/v1/retrieval/retrieve"


@pytest.fixture()
def fake_llamacloud(module_fake_llamacloud: FakeLlamaCloud) -> FakeLlamaCloud:
    """This module's tests share one emulator, reset before each (see conftest)."""
    return module_fake_llamacloud


@pytest.fixture()
def index_id(fake_llamacloud: FakeLlamaCloud) -> str:
    index: dict[str, Any] = fake_llamacloud.add_v2_index("handbook", DOCS)
    return str(index["id"])


def _retrieve(api: httpx.Client, body: dict[str, Any]) -> list[dict[str, Any]]:
    response = api.post(RETRIEVE, json=body)
    assert response.status_code == 200, response.text
    results: list[dict[str, Any]] = response.json()["results"]
    return results


def test_retrieve_answers_results_with_content_metadata_and_static_fields(
    api: httpx.Client, index_id: str
) -> None:
    results = _retrieve(api, {"index_id": index_id, "query": "what do llamas eat", "top_k": 2})
    first = results[0]
    assert first["content"] == "Llamas eat grass hay every day."
    assert first["metadata"] == {"topic": "food", "year": 2021}
    assert first["static_fields"]["parsed_directory_file_id"] == "hay"  # no file_id: the document id
    assert first["static_fields"]["chunk_index"] == 0
    assert isinstance(first["score"], float) and isinstance(
        first["rerank_score"], float
    )  # rerank is on by default


def test_zero_weight_and_reranking_off_arrive_as_sent_and_act(
    api: httpx.Client, index_id: str, fake_llamacloud: FakeLlamaCloud
) -> None:
    body = {
        "index_id": index_id,
        "query": "llamas hay",
        "top_k": 3,
        "vector_pipeline_weight": 0.0,
        "full_text_pipeline_weight": 1.0,
        "rerank": {"enabled": False},
    }
    results = _retrieve(api, body)
    sent = fake_llamacloud.sent_json("POST", RETRIEVE)[-1]
    assert sent == body
    assert sent["vector_pipeline_weight"] == 0.0 and sent["rerank"]["enabled"] is False
    # full text only: only the passage sharing a word with the query; no reranker score
    assert [r["content"] for r in results] == ["Llamas eat grass hay every day."]
    assert "rerank_score" not in results[0]


def test_dense_only_returns_top_k_passages(api: httpx.Client, index_id: str) -> None:
    body = {"index_id": index_id, "query": "llamas hay", "top_k": 2, "vector_pipeline_weight": 1.0}
    results = _retrieve(api, {**body, "full_text_pipeline_weight": 0.0, "rerank": {"enabled": False}})
    assert len(results) == 2  # every passage is a dense candidate


def test_rerank_top_n_is_the_final_count(api: httpx.Client, index_id: str) -> None:
    body = {
        "index_id": index_id,
        "query": "llamas water hay",
        "top_k": 3,
        "rerank": {"enabled": True, "top_n": 1},
    }
    results = _retrieve(api, body)
    assert len(results) == 1 and "rerank_score" in results[0]


def test_score_threshold_drops_weaker_results(api: httpx.Client, index_id: str) -> None:
    body = {"index_id": index_id, "query": "llamas hay", "top_k": 3, "rerank": {"enabled": False}}
    everything = _retrieve(api, body)
    cut = sorted(r["score"] for r in everything)[-1]
    assert [r["content"] for r in _retrieve(api, {**body, "score_threshold": cut})] == [
        everything[0]["content"]
    ]


def test_custom_filters_and_every_condition(api: httpx.Client, index_id: str) -> None:
    body = {
        "index_id": index_id,
        "query": "food",
        "top_k": 3,
        "rerank": {"enabled": False},
        "vector_pipeline_weight": 1.0,
        "custom_filters": {
            "topic": {"operator": "eq", "value": "food"},
            "year": [{"operator": "gte", "value": 2022}, {"operator": "lte", "value": 2024}],
        },
    }
    assert [r["content"] for r in _retrieve(api, body)] == ["Fresh water matters more than grain."]
    body["custom_filters"] = {"topic": {"operator": "in", "value": ["care"]}}
    assert [r["metadata"]["topic"] for r in _retrieve(api, body)] == ["care"]


def test_static_filters_select_a_file(api: httpx.Client, fake_llamacloud: FakeLlamaCloud) -> None:
    docs = [
        {"text": "Llamas hum.", "metadata": {"file_id": "dfl-a", "page_number": 1}},
        {"text": "Llamas spit.", "metadata": {"file_id": "dfl-b", "page_number": 3}},
    ]
    index_id = fake_llamacloud.add_v2_index("files", docs)["id"]
    body = {
        "index_id": index_id,
        "query": "llamas",
        "vector_pipeline_weight": 1.0,
        "static_filters": {"parsed_directory_file_id": {"operator": "eq", "value": "dfl-b"}},
    }
    results = _retrieve(api, body)
    assert [r["content"] for r in results] == ["Llamas spit."]
    static = results[0]["static_fields"]
    assert (static["parsed_directory_file_id"], static["page_range_start"], static["page_range_end"]) == (
        "dfl-b",
        3,
        3,
    )


@pytest.mark.parametrize(
    "extra",
    [
        {
            "custom_filters": {
                "filters": [{"key": "topic", "value": "food", "operator": "=="}],
                "condition": "or",
            }
        },
        {"custom_filters": {"topic": {"operator": "==", "value": "food"}}},
        {"alpha": 0.0},  # a v1 name: no such v2 field
        {"rerank": {"enabled": False, "rerank_top_n": 2}},
        {"vector_pipeline_weight": 0.0, "full_text_pipeline_weight": 0.0},
        {"top_k": 501},
    ],
)
def test_a_request_v2_cannot_express_is_a_422(
    api: httpx.Client, index_id: str, extra: dict[str, Any]
) -> None:
    response = api.post(RETRIEVE, json={"index_id": index_id, "query": "food", **extra})
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_unknown_index_is_a_404(api: httpx.Client) -> None:
    response = api.post(RETRIEVE, json={"index_id": "pipe-nope", "query": "x"})
    assert response.status_code == 404 and "pipe-nope" in response.json()["detail"]


def test_a_v1_pipeline_answers_v2_retrieval(api: httpx.Client) -> None:
    pipeline = api.put("/api/v1/pipelines", json={"name": "v1-made"}).json()
    api.put(f"/api/v1/pipelines/{pipeline['id']}/documents", json=DOCS[:1])
    results = _retrieve(api, {"index_id": pipeline["id"], "query": "hay", "rerank": {"enabled": False}})
    assert results[0]["content"] == DOCS[0]["text"]


def test_v1_nested_or_filter_arrives_as_sent_and_acts(
    api: httpx.Client, index_id: str, fake_llamacloud: FakeLlamaCloud
) -> None:
    body = {
        "query": "llamas",
        "alpha": 0.0,
        "enable_reranking": False,
        "dense_similarity_top_k": 3,
        "sparse_similarity_top_k": 3,
        "search_filters": {
            "filters": [
                {"key": "year", "value": 2020, "operator": ">"},
                {
                    "filters": [
                        {"key": "topic", "value": "care", "operator": "=="},
                        {"key": "topic", "value": "food", "operator": "=="},
                    ],
                    "condition": "or",
                },
            ],
            "condition": "and",
        },
    }
    response = api.post(f"/api/v1/pipelines/{index_id}/retrieve", json=body)
    assert response.status_code == 200
    assert fake_llamacloud.sent_json("POST", f"/api/v1/pipelines/{index_id}/retrieve") == [body]
    texts = [n["node"]["text"] for n in response.json()["retrieval_nodes"]]
    assert texts == ["Llamas eat grass hay every day."]  # 2019 is filtered out, water shares no word


def test_create_index_needs_a_source_directory(api: httpx.Client) -> None:
    created = api.post("/api/v1/indexes", json={"source_directory_id": "dir-1", "name": "docs"})
    index = created.json()
    assert created.status_code == 200
    assert {"id", "name", "project_id", "source_directory_id", "output_directory_id"} <= set(index)
    assert {"sync_config_id", "export_config_id"} <= set(index)
    assert (index["name"], index["source_directory_id"], index["sync_in_progress"]) == (
        "docs",
        "dir-1",
        False,
    )
    missing = api.post("/api/v1/indexes", json={"name": "docs"})
    assert missing.status_code == 422 and missing.json()["detail"][0]["loc"] == [
        "body",
        "source_directory_id",
    ]


def test_list_indexes_is_a_cursor_page_of_every_pipeline(api: httpx.Client, index_id: str) -> None:
    api.post("/api/v1/indexes", json={"source_directory_id": "dir-1", "name": "docs"})
    first = api.get("/api/v1/indexes", params={"page_size": 1}).json()
    rest = api.get("/api/v1/indexes", params={"page_size": 1, "page_token": first["next_page_token"]}).json()
    assert [i["name"] for i in first["items"] + rest["items"]] == ["handbook", "docs"]
    assert rest["next_page_token"] is None


def test_get_and_delete_an_index(api: httpx.Client, index_id: str) -> None:
    assert api.get(f"/api/v1/indexes/{index_id}").json()["name"] == "handbook"
    assert api.delete(f"/api/v1/indexes/{index_id}").status_code == 204
    assert api.get(f"/api/v1/indexes/{index_id}").status_code == 404


def test_sync_and_cancel_end_at_once(api: httpx.Client, index_id: str) -> None:
    synced = api.post(f"/api/v1/indexes/{index_id}/sync").json()
    assert synced["sync_in_progress"] is False and synced["last_synced_at"]
    assert api.post(f"/api/v1/indexes/{index_id}/sync/cancel").json()["id"] == index_id
