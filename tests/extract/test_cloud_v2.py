"""Extract v2 through extraction_tool(api_version="v2") and ExtractClient, against the emulator."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from pydantic import BaseModel, Field

from llama_index_cloudkit import CloudKitSettings, ConfigError, SchemaError
from llama_index_cloudkit.extract.llamacloud import extraction_service
from llama_index_cloudkit.extract.llamacloud.llamaextract_v2 import LlamaExtractV2
from llama_index_cloudkit.extract.tool import extraction_tool
from llama_index_cloudkit.testing import FakeLlamaCloud

EXTRACT = "/api/v2/extract"
VALIDATION = "/api/v2/extract/schema/validation"
FILES = "/api/v1/beta/files"
TEXT = "Returns are accepted within 30 days. Standard shipping takes 3-5 days."


class Shipping(BaseModel):
    """Shipping terms."""

    standard_days: str | None = Field(description="Standard delivery time")
    refund_window_days: int | None = Field(description="Days to return an item")


ANSWER = {"standard_days": "3-5", "refund_window_days": 30}


def _answer(schema: dict[str, Any], config: dict[str, Any], text: str) -> dict[str, Any]:
    return dict(ANSWER)


@pytest.fixture()
def v2(fake_llamacloud: FakeLlamaCloud) -> CloudKitSettings:
    fake_llamacloud.on_extract(_answer)
    return CloudKitSettings(api_version="v2")


def _sent(fake: FakeLlamaCloud) -> dict[str, Any]:
    (body,) = [r.json for r in fake.requests if r.method == "POST" and r.path == EXTRACT]
    return body


def test_the_tool_extracts_a_text_on_v2_by_sending_it_as_a_file(
    fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings
) -> None:
    output = extraction_tool(schema=Shipping, settings=v2, config={"tier": "agentic"}).call(text=TEXT)

    assert not output.is_error, output.content
    assert output.raw_output == Shipping(**ANSWER)
    body = _sent(fake_llamacloud)
    assert body["file_input"].startswith("dfl-")
    assert fake_llamacloud.v2.file_purposes[body["file_input"]]["purpose"] == "extract"
    assert body["configuration"]["tier"] == "agentic"
    assert body["configuration"]["data_schema"]["properties"].keys() == {
        "standard_days",
        "refund_window_days",
    }
    assert fake_llamacloud.count("POST", VALIDATION) == 1
    assert fake_llamacloud.count("POST", "/api/v1/extraction/run") == 0


def test_the_tool_extracts_a_file_on_v2(
    fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings, tmp_path: Path
) -> None:
    path = tmp_path / "policy.md"
    path.write_text(TEXT)
    tool = extraction_tool(schema=Shipping, settings=v2, allowed_dirs=[tmp_path])
    output = tool.call(file_path=str(path))

    assert output.raw_output == Shipping(**ANSWER)
    assert _sent(fake_llamacloud)["configuration"] == {
        "data_schema": _sent(fake_llamacloud)["configuration"]["data_schema"]
    }  # no v1 default (extraction_mode) leaks into a v2 configuration
    assert output.metadata["job_id"]


def test_citations_and_confidence_read_the_same_on_v1_and_v2(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(_answer)

    def metadata(version: str, config: dict[str, Any]) -> dict[str, Any]:
        tool = extraction_tool(schema=Shipping, settings=CloudKitSettings(api_version=version), config=config)
        output = tool.call(text=TEXT)
        assert not output.is_error, output.content
        return json.loads(output.content)["_metadata"]

    on_v1 = metadata("v1", {"cite_sources": True, "confidence_scores": True})
    on_v2 = metadata("v2", {"cite_sources": True, "confidence_scores": True})

    for found in (on_v1, on_v2):
        field = found["field_metadata"]["refund_window_days"]
        assert field["citation"][0]["page"] == 1
        assert "30" in field["citation"][0]["matching_text"]
        assert "confidence" in field
    sent = _sent(fake_llamacloud)["configuration"]
    assert sent["cite_sources"] is True and sent["confidence_scores"] is True


def _save_configuration(fake: FakeLlamaCloud, name: str) -> dict[str, Any]:
    schema = {
        "type": "object",
        "title": "Shipping",
        "properties": {"standard_days": {"type": "string"}, "refund_window_days": {"type": "integer"}},
        "required": ["standard_days", "refund_window_days"],
    }
    response = httpx.post(
        f"{fake.base_url}/api/v1/beta/configurations",
        headers={"Authorization": f"Bearer {fake.api_key}"},
        json={"name": name, "parameters": {"product_type": "extract_v2", "data_schema": schema}},
    )
    response.raise_for_status()
    saved: dict[str, Any] = response.json()
    return saved


def test_a_saved_configuration_by_name_is_sent_as_its_id(
    fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings
) -> None:
    saved = _save_configuration(fake_llamacloud, "shipping-terms")
    tool = extraction_tool("shipping-terms", settings=v2)
    output = tool.call(text=TEXT)

    assert not output.is_error, output.content
    assert tool.metadata.get_name() == "extract_shipping_terms"
    assert output.raw_output.model_dump() == ANSWER
    assert _sent(fake_llamacloud) == {
        "file_input": _sent(fake_llamacloud)["file_input"],
        "configuration_id": saved["id"],
    }


def test_a_saved_configuration_by_id_in_config(fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings) -> None:
    saved = _save_configuration(fake_llamacloud, "shipping-terms")
    output = extraction_tool(schema=Shipping, settings=v2, config={"configuration_id": saved["id"]}).call(
        text=TEXT
    )

    assert output.raw_output == Shipping(**ANSWER)
    assert _sent(fake_llamacloud)["configuration_id"] == saved["id"]


def test_an_unknown_saved_configuration_names_the_known_ones(
    fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings
) -> None:
    _save_configuration(fake_llamacloud, "shipping-terms")
    with pytest.raises(ConfigError, match="shiping") as info:
        extraction_tool("shiping", settings=v2)
    assert "shipping-terms" in str(info.value)


def test_a_v1_setting_on_v2_names_its_v2_equivalent_and_sends_nothing(
    fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings
) -> None:
    with pytest.raises(ConfigError, match="extraction_mode") as info:
        extraction_tool(schema=Shipping, settings=v2, config={"extraction_mode": "FAST"})
    assert "tier" in str(info.value)
    assert fake_llamacloud.requests == []


def test_the_service_schema_check_refuses_a_schema_as_a_schema_error(
    fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings
) -> None:
    with pytest.raises(SchemaError):
        LlamaExtractV2(v2).validate_schema({"type": "array", "items": {"type": "string"}})
    assert fake_llamacloud.count("POST", EXTRACT) == 0


def test_the_extraction_service_follows_the_api_version(
    fake_llamacloud: FakeLlamaCloud, v2: CloudKitSettings
) -> None:
    schema = {"type": "object", "properties": {"refund_window_days": {"type": "integer"}}}
    result = extraction_service(v2).extract(schema, {"tier": "cost_effective"}, text=TEXT)

    assert result.data == ANSWER and result.job_id
    assert result.usage and "credits" in result.usage
    assert _sent(fake_llamacloud)["configuration"]["tier"] == "cost_effective"
