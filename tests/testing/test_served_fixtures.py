"""``fake.serve_fixture``: jobs answered with a given body instead of the local parser's output."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
from llama_cloud_services import LlamaCloudIndex, LlamaExtract, LlamaParse, SourceText
from llama_cloud_services.extract import ExtractConfig
from llama_index.core import Document
from llama_index.core.schema import ImageNode

from llama_index_cloudkit.testing import FakeLlamaCloud

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "llamacloud"
TABLES = FIXTURES / "parse_result_tables_images.json"


def test_parse_job_answers_the_fixture(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], examples_dir: Path
) -> None:
    fake_llamacloud.serve_fixture(TABLES, count=1)
    result = LlamaParse(**parser_kwargs).parse(str(examples_dir / "faq.html"))
    expected = json.loads(TABLES.read_text())
    assert [p.md for p in result.pages] == [p["md"] for p in expected["pages"]]
    assert result.pages[1].items[2].rows[1][0] == "Adult llama"
    later = LlamaParse(**parser_kwargs).parse(str(examples_dir / "faq.html"))  # count=1: computed again
    assert "Frequently asked questions" in later.pages[0].md


def test_fixture_images_are_served(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], examples_dir: Path
) -> None:
    fake_llamacloud.serve_fixture(TABLES, images={"img_p0_1.png": b"\x89PNG given"})
    LlamaParse(**parser_kwargs).parse(str(examples_dir / "faq.html"))
    job_id = next(iter(fake_llamacloud.state.parse_jobs))
    auth = {"Authorization": f"Bearer {fake_llamacloud.api_key}"}
    base = f"{fake_llamacloud.base_url}/api/v1/parsing/job/{job_id}/result"
    assert httpx.get(f"{base}/image/img_p0_1.png", headers=auth).content == b"\x89PNG given"
    assert httpx.get(f"{base}/image/page_2.jpg", headers=auth).status_code == 200  # a placeholder
    markdown = httpx.get(f"{base}/markdown", headers=auth).json()["markdown"]
    assert markdown.startswith("# Llama Care Guide") and "\n---\n## Feeding" in markdown


def test_fixture_jobs_still_follow_their_script(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], examples_dir: Path
) -> None:
    fake_llamacloud.serve_fixture(FIXTURES / "parse_result_partial_success.json")
    fake_llamacloud.script_parse_jobs("PARTIAL_SUCCESS", count=1, error_message="page 2 failed")
    failed = LlamaParse(**parser_kwargs).parse(str(examples_dir / "faq.html"))
    assert failed.status == "PARTIAL_SUCCESS"
    job_id = next(iter(fake_llamacloud.state.parse_jobs))
    assert [p["status"] for p in fake_llamacloud.state.parse_result(job_id)["pages"]] == ["OK", "ERROR", "OK"]


def test_extraction_run_reports_the_fixture_with_citations(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.serve_fixture(FIXTURES / "extract_run_citations.json", kind="extract")
    extract = LlamaExtract(
        api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url, check_interval=0, verbose=False
    )
    schema = {"type": "object", "properties": {"title": {"type": "string"}}}
    run = extract.extract(schema, ExtractConfig(cite_sources=True), SourceText(text_content="x"))
    assert run.data == {"title": "Llama Care Guide", "adult_hay_kg": "2.0-3.5"}
    citation = run.extraction_metadata["field_metadata"]["title"]["citation"][0]
    assert citation == {"page": 1, "matching_text": "Llama Care Guide"}


def test_retrieval_answers_the_fixture_with_its_image_nodes(fake_llamacloud: FakeLlamaCloud) -> None:
    index = LlamaCloudIndex.from_documents([Document(text="hay", id_="d")], name="idx", verbose=False)
    fake_llamacloud.serve_fixture(FIXTURES / "retrieve_image_nodes.json", kind="retrieve", count=1)
    hits = index.as_retriever().retrieve("hay")
    assert hits[0].node.metadata["file_name"] == "llama-care-guide.pdf"
    assert any(isinstance(h.node, ImageNode) for h in hits)  # its screenshot was fetched
    assert index.as_retriever().retrieve("hay")[0].node.text == "hay"  # count=1: computed again


def test_a_body_saved_from_get_json_result_can_be_served(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], examples_dir: Path
) -> None:
    saved = LlamaParse(**parser_kwargs).get_json_result(str(examples_dir / "faq.html"))[0]
    assert {"job_id", "file_path"} <= set(saved)  # added by the SDK on the client
    fake_llamacloud.serve_fixture(saved, count=1)
    again = LlamaParse(**parser_kwargs).parse(str(examples_dir / "release-notes.md"))
    assert [p.md for p in again.pages] == [p["md"] for p in saved["pages"]]
