"""A FunctionAgent that calls a structured-extraction tool; offline by default.

Run: python examples/extraction_agent_tool.py

With OPENAI_API_KEY set, a real OpenAI agent extracts locally with the same model. Without keys,
the example runs LlamaExtract's flow against the bundled emulator (which answers with a small
rule-based responder) and drives the agent with a scripted LLM that calls the tool once: the
wiring is real, only the models are stand-ins.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from pathlib import Path
from typing import Any

from llama_index.core.agent.workflow import FunctionAgent
from pydantic import BaseModel, Field

from llama_index_cloudkit import CloudKitSettings, extraction_tool

DATA = Path(__file__).parent / "data"


class ShippingTerms(BaseModel):
    """Shipping and returns terms of a shop."""

    standard_delivery: str | None = Field(description="Standard delivery time")
    refund_window_days: int | None = Field(description="Days within which items can be returned")


def rule_based_responder(schema: dict, config: dict, text: str) -> dict[str, Any]:
    """Stands in for LlamaExtract's model in the emulator."""
    days = re.search(r"within (\d+) days", text)
    standard = re.search(r"Standard shipping takes ([^;.]+)", text)
    return {
        "standard_delivery": standard.group(1) if standard else None,
        "refund_window_days": int(days.group(1)) if days else None,
    }


def scripted_agent_llm(tool_name: str, path: str) -> Any:
    from llama_index.core.base.llms.types import ChatMessage, MessageRole, ToolCallBlock
    from llama_index.core.llms.mock import MockFunctionCallingLLM

    def respond(messages: list[ChatMessage], **kwargs: Any) -> ChatMessage:
        results = [m for m in messages if m.role == MessageRole.TOOL]
        if results:
            return ChatMessage(role=MessageRole.ASSISTANT, content=f"The terms are: {results[-1].content}")
        return ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[ToolCallBlock(tool_call_id="1", tool_name=tool_name, tool_kwargs={"file_path": path})],
        )

    return MockFunctionCallingLLM(response_generator=respond)


async def run(agent: FunctionAgent) -> str:
    return str(await agent.run(user_msg="What are the shipping terms in shipping-policy.docx?"))


def main() -> None:
    path = str(DATA / "shipping-policy.docx")
    if os.environ.get("OPENAI_API_KEY"):
        from llama_index.llms.openai import OpenAI

        llm = OpenAI(model="gpt-4o-mini")
        tool = extraction_tool(schema=ShippingTerms, llm=llm, allowed_dirs=[DATA])
        print(asyncio.run(run(FunctionAgent(tools=[tool], llm=llm))))
        return
    from llama_index_cloudkit.testing import FakeLlamaCloud

    with FakeLlamaCloud() as fake:
        fake.on_extract(rule_based_responder)
        settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url)
        tool = extraction_tool(schema=ShippingTerms, backend="cloud", settings=settings, allowed_dirs=[DATA])
        agent = FunctionAgent(tools=[tool], llm=scripted_agent_llm(tool.metadata.name, path))
        print(asyncio.run(run(agent)))
        typed = tool.call(file_path=path).raw_output
        print("typed:", repr(typed))
        print("json :", json.dumps(typed.model_dump()))


if __name__ == "__main__":
    main()
