"""Structured extraction with any LlamaIndex LLM (the local backend), re-asking with the validation error.

Only JSON and validation errors are retried; the previous output and the error go into the
next prompt; exhaustion raises ExtractionError with ``attempts`` and ``last_output``. A file is
read by the local parser first (:func:`extract_document_with_llm`).

Example:
    >>> from llama_index.core.llms import MockLLM
    >>> class Answer(MockLLM):  # an LLM that always answers with the same JSON
    ...     def chat(self, messages, **kwargs):
    ...         return super().chat(messages, **kwargs).model_copy(
    ...             update={"message": ChatMessage(role="assistant", content='{"number": "42"}')})
    >>> schema = {"type": "object", "properties": {"number": {"type": "string"}}}
    >>> extract_with_llm(Answer(), schema, "Invoice 42")
    {'number': '42'}
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any, cast

from llama_index.core.llms import LLM, ChatMessage

from llama_index_cloudkit._imports import require
from llama_index_cloudkit._llama_settings import explicit_llm
from llama_index_cloudkit.errors import ConfigError, ExtractionError
from llama_index_cloudkit.extract.model import ExtractResult

__all__ = ["default_llm", "extract_document_with_llm", "extract_with_llm", "validate_against"]

_PROMPT = """Extract the data described by this JSON schema from the document below.
Answer with one JSON object that matches the schema exactly: every property present, null where
the document does not say, no other text.

JSON schema:
{schema}

Document:
{text}"""

_RETRY = """That answer was not valid: {error}
Your answer was:
{output}
Answer again with only the corrected JSON object."""

_FENCE = re.compile(r"```(?:json)?\s*(.*?)```", re.S)


def _json_from(text: str) -> Any:
    fenced = _FENCE.search(text)
    candidate = fenced.group(1) if fenced else text
    start, end = candidate.find("{"), candidate.rfind("}")
    if start == -1 or end < start:
        raise ValueError("no JSON object in the answer")
    return json.loads(candidate[start : end + 1])


def validate_against(schema: dict[str, Any], data: Any) -> None:
    """Raise ValueError when ``data`` does not match the JSON ``schema``.

    Example:
        >>> validate_against({"type": "object", "properties": {"a": {"type": "integer"}},
        ...                   "required": ["a"]}, {"a": 1})
    """
    jsonschema = require("jsonschema", "core")
    try:
        jsonschema.validate(data, schema)
    except jsonschema.ValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "(root)"
        raise ValueError(f"at {where}: {exc.message}") from exc


def extract_with_llm(llm: LLM, schema: dict[str, Any], text: str, *, max_retries: int = 2) -> Any:
    """Ask ``llm`` for JSON matching ``schema``; re-ask with the error up to ``max_retries``.

    Raises:
        ExtractionError: no valid answer after ``1 + max_retries`` attempts.

    Example:
        >>> from llama_index.core.llms import MockLLM
        >>> extract_with_llm(MockLLM(), {"type": "object", "required": ["number"]}, "Invoice", max_retries=0)
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ExtractionError: The LLM gave no valid answer after 1 attempt(s): ...
    """
    messages = [
        ChatMessage(role="user", content=_PROMPT.format(schema=json.dumps(schema, indent=1), text=text))
    ]
    output = ""
    for attempt in range(1, max_retries + 2):
        output = str(llm.chat(messages).message.content or "")
        try:
            data = _json_from(output)
            validate_against(schema, data)
            return data
        except ValueError as exc:  # JSONDecodeError is a ValueError too
            if attempt > max_retries:
                raise ExtractionError(
                    f"The LLM gave no valid answer after {attempt} attempt(s): {exc}",
                    attempts=attempt,
                    last_output=output,
                    hint="Try a stronger model, a simpler schema or a shorter document",
                ) from exc
            messages += [
                ChatMessage(role="assistant", content=output),
                ChatMessage(role="user", content=_RETRY.format(error=exc, output=output)),
            ]
    raise AssertionError("unreachable")


def extract_document_with_llm(
    llm: LLM, schema: dict[str, Any], *, file_path: Path | None, text: str | None, max_retries: int
) -> ExtractResult:
    """:func:`extract_with_llm` on a text, or on a file read by the local parser first.

    Example:
        >>> from llama_index.core.llms import MockLLM
        >>> schema = {"type": "object", "required": ["number"]}
        >>> extract_document_with_llm(MockLLM(), schema, file_path=None, text="Invoice", max_retries=0)
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ExtractionError: The LLM gave no valid answer after 1 attempt(s): ...
    """
    if file_path is not None:
        from llama_index_cloudkit.parse.reader import CloudKitReader

        docs = CloudKitReader(backend="local").load_data(file_path)
        text = "\n\n".join(d.text for d in docs)
    data = extract_with_llm(llm, schema, text or "", max_retries=max_retries)
    return ExtractResult(data, {"backend": "local"})


def default_llm() -> LLM:
    """``Settings.llm`` when set; else gpt-4o-mini with OPENAI_API_KEY; else ConfigError saying what to pass.

    Example:
        >>> from unittest import mock
        >>> with mock.patch.dict(os.environ, {"OPENAI_API_KEY": ""}):
        ...     default_llm()
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: Local extraction needs an LLM, and none is configured...
    """
    configured = explicit_llm()
    if configured is not None:
        return cast(LLM, configured)
    if not os.environ.get("OPENAI_API_KEY"):
        raise ConfigError(
            "Local extraction needs an LLM, and none is configured",
            hint="Pass llm=... (any LlamaIndex LLM), set Settings.llm, set OPENAI_API_KEY, or set "
            "LLAMA_CLOUD_API_KEY to use LlamaExtract",
        )
    from llama_index.llms.openai import OpenAI

    return OpenAI(model="gpt-4o-mini", temperature=0)
