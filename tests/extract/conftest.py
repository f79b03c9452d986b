"""Scripted LLMs: one that drives a FunctionAgent to call a tool, one that answers extraction."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from llama_index.core.base.llms.types import (
    ChatMessage,
    CompletionResponse,
    LLMMetadata,
    MessageRole,
    ToolCallBlock,
)
from llama_index.core.llms import CustomLLM
from llama_index.core.llms.mock import MockFunctionCallingLLM
from pydantic import PrivateAttr


def agent_llm(tool_name: str, tool_kwargs: dict[str, Any]) -> MockFunctionCallingLLM:
    """Calls ``tool_name`` once, then answers with the tool's output verbatim."""

    def respond(messages: Sequence[ChatMessage], **kwargs: Any) -> ChatMessage:
        results = [m for m in messages if m.role == MessageRole.TOOL]
        if results:
            return ChatMessage(role=MessageRole.ASSISTANT, content=str(results[-1].content))
        return ChatMessage(
            role=MessageRole.ASSISTANT,
            blocks=[ToolCallBlock(tool_call_id="call-1", tool_name=tool_name, tool_kwargs=tool_kwargs)],
        )

    return MockFunctionCallingLLM(response_generator=respond)


class ScriptedLLM(CustomLLM):
    """Answers with the given texts in order and records every prompt."""

    responses: list[str]
    _prompts: list[str] = PrivateAttr(default_factory=list)

    @property
    def metadata(self) -> LLMMetadata:
        return LLMMetadata(model_name="scripted")

    @property
    def prompts(self) -> list[str]:
        return self._prompts

    def complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> CompletionResponse:
        self._prompts.append(prompt)
        return CompletionResponse(text=self.responses.pop(0))

    def stream_complete(self, prompt: str, formatted: bool = False, **kwargs: Any) -> Any:
        raise NotImplementedError


@pytest.fixture()
def scripted_llm() -> type[ScriptedLLM]:
    return ScriptedLLM
