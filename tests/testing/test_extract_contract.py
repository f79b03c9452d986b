"""Contract: the unmodified LlamaExtract SDK against the emulator."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from llama_cloud.core.api_error import ApiError
from llama_cloud_services import LlamaExtract, SourceText
from llama_cloud_services.extract import ExtractConfig, ExtractMode
from pydantic import BaseModel

from llama_index_cloudkit.testing import FakeLlamaCloud


class Shipping(BaseModel):
    """What a shipping policy says."""

    standard_days: str | None
    refund_window_days: int | None
    methods: list[str]


JSON_SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "tags": {"type": "array", "items": {"type": "string"}}},
    "required": ["title", "tags"],
}


@pytest.fixture()
def extract(fake_llamacloud: FakeLlamaCloud) -> LlamaExtract:
    return LlamaExtract(
        api_key=fake_llamacloud.api_key,
        base_url=fake_llamacloud.base_url,
        check_interval=0,
        max_timeout=30,
        verbose=False,
    )


CONFIG = ExtractConfig(extraction_mode=ExtractMode.FAST)


def test_default_answer_is_shaped_like_the_schema(extract: LlamaExtract, examples_dir: Path) -> None:
    run = extract.extract(Shipping, CONFIG, str(examples_dir / "shipping-policy.docx"))
    assert run.status == "SUCCESS"
    assert run.data == {"standard_days": None, "refund_window_days": None, "methods": []}
    assert run.extraction_metadata["emulated"] is True


def test_responder_sees_schema_config_and_document_text(
    fake_llamacloud: FakeLlamaCloud, extract: LlamaExtract, examples_dir: Path
) -> None:
    seen: dict[str, Any] = {}

    def responder(schema: dict[str, Any], config: dict[str, Any], text: str) -> dict[str, Any]:
        seen.update(schema=schema, config=config, text=text)
        return {"standard_days": "3-5", "refund_window_days": 30, "methods": ["Standard"]}

    fake_llamacloud.on_extract(responder)
    run = extract.extract(Shipping, CONFIG, str(examples_dir / "shipping-policy.docx"))
    assert Shipping.model_validate(run.data).refund_window_days == 30
    assert "30 days" in seen["text"]
    assert seen["config"]["extraction_mode"] == "FAST"
    assert set(seen["schema"]["properties"]) == {"standard_days", "refund_window_days", "methods"}


def test_json_schema_with_text_and_bytes_sources(
    fake_llamacloud: FakeLlamaCloud, extract: LlamaExtract, examples_dir: Path
) -> None:
    fake_llamacloud.on_extract(lambda schema, config, text: {"title": text[:14], "tags": []})
    run = extract.extract(JSON_SCHEMA, CONFIG, SourceText(text_content="Llama handbook text"))
    assert run.data == {"title": "Llama handbook", "tags": []}
    pdf = (examples_dir / "llama-care-guide.pdf").read_bytes()
    run = extract.extract(JSON_SCHEMA, CONFIG, SourceText(file=pdf, filename="guide.pdf"))
    assert run.data["title"] == "Llama Care Gui"


def test_aextract_and_queue_extraction(fake_llamacloud: FakeLlamaCloud, extract: LlamaExtract) -> None:
    async def main() -> tuple[Any, Any]:
        sources = [SourceText(text_content="a"), SourceText(text_content="b")]
        runs = await extract.aextract(JSON_SCHEMA, CONFIG, sources)
        job = await extract.queue_extraction(JSON_SCHEMA, CONFIG, SourceText(text_content="c"))
        return runs, job

    runs, job = asyncio.run(main())
    assert [r.status for r in runs] == ["SUCCESS", "SUCCESS"]
    assert job.id.startswith("exjob-")
    assert fake_llamacloud.count("POST", "/api/v1/extraction/run") == 3


def test_agent_lifecycle(fake_llamacloud: FakeLlamaCloud, extract: LlamaExtract, examples_dir: Path) -> None:
    agent = extract.create_agent("shipping", Shipping)
    assert extract.get_agent(name="shipping").id == agent.id
    assert extract.get_agent(id=agent.id).name == "shipping"
    assert [a.name for a in extract.list_agents()] == ["shipping"]
    with pytest.raises(ApiError) as duplicate:
        extract.create_agent("shipping", Shipping)
    assert duplicate.value.status_code == 409

    fake_llamacloud.on_extract(
        lambda s, c, t: {"standard_days": "3-5", "refund_window_days": 30, "methods": []}
    )
    run = agent.extract(str(examples_dir / "shipping-policy.docx"))
    assert run.data["refund_window_days"] == 30
    job = asyncio.run(agent.queue_extraction(str(examples_dir / "faq.html")))
    assert agent.get_extraction_job(job.id).status == "SUCCESS"
    assert agent.get_extraction_run_for_job(job.id).job_id == job.id
    agent.save()
    assert len(agent.list_extraction_runs().items) == 2

    extract.delete_agent(agent.id)
    with pytest.raises(ApiError) as missing:
        extract.get_agent(name="shipping")
    assert missing.value.status_code == 404


def test_failed_job_ends_in_an_error_run(fake_llamacloud: FakeLlamaCloud, extract: LlamaExtract) -> None:
    fake_llamacloud.script_extract_jobs("ERROR", count=1, error_message="model refused")
    with pytest.warns(UserWarning):
        run = extract.extract(JSON_SCHEMA, CONFIG, SourceText(text_content="x"))
    assert run.status == "ERROR" and run.data is None


def test_metadata_flags_give_citations_on_pages(
    fake_llamacloud: FakeLlamaCloud, extract: LlamaExtract, examples_dir: Path
) -> None:
    fake_llamacloud.on_extract(
        lambda s, c, t: {"title": "Llama Care Guide", "animal": "Adult llama", "x": "absent"}
    )
    config = ExtractConfig(cite_sources=True, confidence_scores=True, use_reasoning=True)
    run = extract.extract(JSON_SCHEMA, config, str(examples_dir / "llama-care-guide.pdf"))
    fields = run.extraction_metadata["field_metadata"]
    assert fields["title"]["citation"] == [{"page": 1, "matching_text": "Llama Care Guide"}]
    assert fields["animal"]["citation"][0]["page"] == 2
    assert fields["x"]["citation"] == [] and fields["x"]["confidence"] < fields["title"]["confidence"]
    assert "page 1" in fields["title"]["reasoning"]


def test_without_metadata_flags_no_field_metadata(
    fake_llamacloud: FakeLlamaCloud, extract: LlamaExtract
) -> None:
    run = extract.extract(JSON_SCHEMA, CONFIG, SourceText(text_content="x"))
    assert "field_metadata" not in run.extraction_metadata
