"""extraction_tool and ExtractionToolSpec: agents call them, JSON out, typed object kept."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.agent.workflow import FunctionAgent
from llama_index.core.tools import FunctionTool
from pydantic import BaseModel, Field

from llama_index_cloudkit import ConfigError, ExtractionError, SchemaError
from llama_index_cloudkit.extract.spec import ExtractionToolSpec
from llama_index_cloudkit.extract.tool import extraction_tool
from llama_index_cloudkit.testing import FakeLlamaCloud

from .conftest import agent_llm


class Shipping(BaseModel):
    """Shipping terms."""

    standard_days: str | None = Field(description="Standard delivery time")
    refund_window_days: int | None = Field(description="Days to return an item")


ANSWER = {"standard_days": "3-5", "refund_window_days": 30}


def _responder(schema: dict, config: dict, text: str) -> dict:
    assert "30 days" in text or "thirty" in text or text == "", text
    return dict(ANSWER)


def _run_agent(tool: FunctionTool, kwargs: dict[str, Any]) -> str:
    agent = FunctionAgent(tools=[tool], llm=agent_llm(tool.metadata.get_name(), kwargs))

    async def main() -> str:
        return str(await agent.run(user_msg="What are the shipping terms?"))

    return asyncio.run(main())


def test_function_agent_uses_the_cloud_tool_end_to_end(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    fake_llamacloud.on_extract(_responder)
    tool = extraction_tool(
        schema=Shipping, config={"extraction_mode": "FAST"}, backend="cloud", allowed_dirs=[examples_dir]
    )
    answer = _run_agent(tool, {"file_path": str(examples_dir / "shipping-policy.docx")})
    assert json.loads(answer) == ANSWER
    assert fake_llamacloud.count("POST", "/api/v1/extraction/run") == 1


def test_tool_content_parses_back_into_the_model(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    tool = extraction_tool(schema=Shipping, backend="cloud")
    output = tool.call(text="Returns within 30 days. Standard shipping 3-5 days.")
    assert not output.is_error
    assert Shipping.model_validate_json(output.content) == output.raw_output
    assert isinstance(output.raw_output, Shipping) and output.raw_output.refund_window_days == 30


def test_json_schema_tools_return_a_model_built_from_the_schema(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: {"title": "Llamas"})
    schema = {
        "type": "object",
        "title": "Title",
        "properties": {"title": {"type": "string"}},
        "required": ["title"],
    }
    output = extraction_tool(schema=schema, backend="cloud").call(text="Llamas")
    assert isinstance(output.raw_output, BaseModel) and output.raw_output.title == "Llamas"
    assert output.raw_output.model_dump() == {"title": "Llamas"} and output.tool_name == "extract_title"


def test_metadata_goes_under_a_stable_key_when_enabled(fake_llamacloud: FakeLlamaCloud) -> None:
    def responder(schema: dict, config: dict, text: str) -> dict:
        return dict(ANSWER)

    fake_llamacloud.on_extract(responder)
    tool = extraction_tool(
        schema=Shipping, backend="cloud", config={"extraction_mode": "MULTIMODAL", "cite_sources": True}
    )
    output = tool.call(text="x")
    payload = json.loads(output.content)
    sent = next(r.json for r in fake_llamacloud.requests if r.path == "/api/v1/extraction/run")
    assert sent["config"]["cite_sources"] is True
    assert set(payload) == {*ANSWER, "_metadata"} and payload["_metadata"]["emulated"]
    assert Shipping.model_validate_json(output.content) == Shipping(**ANSWER)


def test_path_outside_the_allow_list_is_an_error_and_sends_nothing(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    tool = extraction_tool(schema=Shipping, backend="cloud", allowed_dirs=[tmp_path / "inbox"])
    before = len(fake_llamacloud.requests)
    output = tool.call(file_path="/etc/passwd")
    assert output.is_error and "outside the directories" in output.content
    output = tool.call(file_path=str(tmp_path / "inbox" / ".." / "secret.txt"))
    assert output.is_error
    assert len(fake_llamacloud.requests) == before
    with pytest.raises(ConfigError):
        extraction_tool(schema=Shipping, backend="cloud", raise_errors=True, allowed_dirs=[tmp_path]).call(
            file_path="/etc/passwd"
        )


def test_exactly_one_input(fake_llamacloud: FakeLlamaCloud) -> None:
    tool = extraction_tool(schema=Shipping, backend="cloud")
    assert tool.call().is_error
    assert "exactly one" in tool.call(text="a", file_path="b").content


def test_failed_cloud_extraction_is_an_error_output(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.script_extract_jobs("ERROR", count=1, error_message="model refused")
    output = extraction_tool(schema=Shipping, backend="cloud").call(text="x")
    assert output.is_error and "model refused" in output.content


def test_agent_tool_takes_name_and_description_from_the_agent(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    from llama_cloud_services import LlamaExtract

    LlamaExtract(verbose=False).create_agent("Shipping Terms", Shipping)
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    tool = extraction_tool("Shipping Terms", allowed_dirs=[examples_dir])
    assert tool.metadata.name == "extract_shipping_terms"
    assert "refund_window_days (Days to return an item)" in tool.metadata.description
    output = tool.call(file_path=str(examples_dir / "shipping-policy.docx"))
    assert json.loads(output.content) == ANSWER
    custom = extraction_tool("Shipping Terms", name="terms", description="Get terms")
    assert (custom.metadata.name, custom.metadata.description) == ("terms", "Get terms")


def test_local_backend_with_any_llm_and_a_retry(scripted_llm: Any, examples_dir: Path) -> None:
    llm = scripted_llm(
        responses=[
            '{"standard_days": "3-5"}',
            '```json\n{"standard_days": "3-5", "refund_window_days": 30}\n```',
        ]
    )
    tool = extraction_tool(schema=Shipping, llm=llm, allowed_dirs=[examples_dir])
    output = tool.call(file_path=str(examples_dir / "shipping-policy.docx"))
    assert output.raw_output == Shipping(**ANSWER)
    assert "30 days" in llm.prompts[0]  # the document text went to the LLM
    assert "refund_window_days" in llm.prompts[1] and "not valid" in llm.prompts[1]


def test_local_backend_gives_up_after_bounded_retries(scripted_llm: Any) -> None:
    llm = scripted_llm(responses=["no json here", "{", "still nothing"])
    tool = extraction_tool(schema=Shipping, llm=llm, max_retries=2, raise_errors=True)
    with pytest.raises(ExtractionError) as info:
        tool.call(text="x")
    assert info.value.attempts == 3 and info.value.last_output == "still nothing"


def test_function_agent_uses_the_local_tool(scripted_llm: Any) -> None:
    llm = scripted_llm(responses=[json.dumps(ANSWER)])
    tool = extraction_tool(schema=Shipping, llm=llm)
    answer = _run_agent(tool, {"text": "Standard shipping 3-5 days; returns within 30 days."})
    assert json.loads(answer) == ANSWER


def test_local_backend_without_llm_says_what_to_configure() -> None:
    with pytest.raises(ConfigError, match="OPENAI_API_KEY"):
        extraction_tool(schema=Shipping, backend="local")


def test_async_call_does_not_block_the_loop(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    tool = extraction_tool(schema=Shipping, backend="cloud")

    async def main() -> Any:
        ticks = 0

        async def ticker() -> None:
            nonlocal ticks
            while True:
                ticks += 1
                await asyncio.sleep(0.01)

        task = asyncio.create_task(ticker())
        output = await tool.acall(text="x")
        task.cancel()
        return output, ticks

    output, ticks = asyncio.run(main())
    assert output.raw_output == Shipping(**ANSWER) and ticks > 1


def test_tool_spec_lists_queues_and_fetches(fake_llamacloud: FakeLlamaCloud, examples_dir: Path) -> None:
    from llama_cloud_services import LlamaExtract

    LlamaExtract(verbose=False).create_agent("shipping", Shipping)
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    spec = ExtractionToolSpec(allowed_dirs=[examples_dir])
    tools = {t.metadata.name: t for t in spec.to_tool_list()}
    assert set(tools) == {"extract_with_agent", "list_agents", "queue_extractions", "get_extraction_results"}
    assert json.loads(spec.list_agents())[0]["fields"] == ["refund_window_days", "standard_days"]
    assert json.loads(spec.extract_with_agent("shipping", text="x")) == ANSWER
    queued = json.loads(
        spec.queue_extractions(
            "shipping", [str(examples_dir / "faq.html"), str(examples_dir / "release-notes.md")]
        )
    )
    results = json.loads(spec.get_extraction_results("shipping", queued["job_ids"]))
    assert [r["status"] for r in results] == ["SUCCESS", "SUCCESS"]
    assert results[0]["data"] == ANSWER
    with pytest.raises(ConfigError):
        spec.queue_extractions("shipping", ["/etc/passwd"])


def test_bad_schema_fails_before_anything_else() -> None:
    with pytest.raises(SchemaError):
        extraction_tool(
            schema={
                "type": "object",
                "properties": {"a": {"type": "string", "pattern": "x"}},
                "required": ["a"],
            },
            backend="cloud",
        )


def test_local_backend_with_a_json_schema_returns_a_typed_object(scripted_llm: Any) -> None:
    schema = {
        "title": "Terms",
        "type": "object",
        "properties": {"days": {"anyOf": [{"type": "integer"}, {"type": "null"}]}},
        "required": ["days"],
    }
    tool = extraction_tool(schema=schema, llm=scripted_llm(responses=['{"days": 30}']))
    output = tool.call(text="Returns within 30 days")
    assert isinstance(output.raw_output, BaseModel) and output.raw_output.days == 30
    assert json.loads(output.content) == {"days": 30}
