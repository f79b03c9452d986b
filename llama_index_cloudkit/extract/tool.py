"""Structured extraction as an agent tool: JSON to the LLM, the typed object to the program.

Example:
    >>> from pydantic import BaseModel
    >>> class Invoice(BaseModel):
    ...     number: str
    ...     total: float | None
    >>> tool = extraction_tool(schema=Invoice, llm=my_llm)  # doctest: +SKIP
    >>> out = tool.call(text="Invoice 42, total 9.50")  # doctest: +SKIP
    >>> out.raw_output  # doctest: +SKIP
    Invoice(number='42', total=9.5)
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM
from llama_index.core.tools import FunctionTool, ToolMetadata, ToolOutput
from llama_index.core.tools.tool_spec.base import BaseToolSpec
from pydantic import BaseModel, Field

from llama_index_cloudkit.errors import CloudKitError, ConfigError
from llama_index_cloudkit.events import ExtractEndEvent, dispatcher
from llama_index_cloudkit.extract.schema import check_schema
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["ExtractionInput", "ExtractionTool", "ExtractionToolSpec", "extraction_tool"]

_METADATA_FLAGS = ("cite_sources", "confidence_scores", "use_reasoning")


class ExtractionInput(BaseModel):
    """What the agent passes: a file path or the text itself, exactly one."""

    file_path: str | None = Field(default=None, description="Path of the document to read.")
    text: str | None = Field(default=None, description="The document's text, when no file.")


class ExtractionTool(FunctionTool):
    """A FunctionTool whose output is JSON for the LLM and the typed object for the program.

    Failures come back as ``ToolOutput(is_error=True)`` with an actionable message, unless the
    tool was built with ``raise_errors=True``.
    """

    def __init__(
        self,
        run: Callable[[str | None, str | None], tuple[str, Any]],
        metadata: ToolMetadata,
        raise_errors: bool,
        backend: str = "cloud",
    ) -> None:
        self._run = run
        self._raise_errors = raise_errors
        self._backend = backend

        def extract(file_path: str | None = None, text: str | None = None) -> str:
            return self._run(file_path, text)[0]

        super().__init__(fn=extract, metadata=metadata)

    def _output(self, kwargs: dict[str, Any]) -> ToolOutput:
        name = self.metadata.get_name()
        try:
            content, raw = self._run(kwargs.get("file_path"), kwargs.get("text"))
        except (CloudKitError, ValueError, OSError) as exc:
            dispatcher.event(
                ExtractEndEvent(
                    tool=name,
                    backend=self._backend,
                    file=kwargs.get("file_path"),
                    ok=False,
                    job_id=getattr(exc, "job_id", None),
                    error=str(exc),
                )
            )
            if self._raise_errors:
                raise
            return ToolOutput(
                tool_name=name,
                content=f"Error: {exc}",
                raw_input=kwargs,
                raw_output=exc,
                is_error=True,
                exception=exc,
            )
        dispatcher.event(ExtractEndEvent(tool=name, backend=self._backend, file=kwargs.get("file_path")))
        return ToolOutput(tool_name=name, content=content, raw_input=kwargs, raw_output=raw)

    def call(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Extract; returns JSON content and the typed raw output."""
        return self._output(kwargs)

    async def acall(self, *args: Any, **kwargs: Any) -> ToolOutput:
        """Async extract, in a worker thread: never blocks the event loop."""
        return await asyncio.to_thread(self._output, kwargs)


def confine(path: str, allowed_dirs: Sequence[Path]) -> Path:
    """``path`` resolved, if it lies inside one of ``allowed_dirs``; else ConfigError.

    Example:
        >>> confine("/etc/passwd", [Path("/srv/docs")])
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: ...
    """
    resolved = Path(path).expanduser().resolve()
    for folder in allowed_dirs:
        if resolved.is_relative_to(folder.resolve()):
            if not resolved.is_file():
                raise ConfigError(f"No such file: {path}", file=path)
            return resolved
    raise ConfigError(
        f"{path} is outside the directories this tool may read",
        file=path,
        hint="Allowed: "
        + ", ".join(str(d) for d in allowed_dirs)
        + " (extraction_tool(allowed_dirs=[...]) to change)",
    )


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "document"


def _describe(schema: dict[str, Any], subject: str) -> str:
    fields = []
    for name, sub in schema.get("properties", {}).items():
        note = sub.get("description") or sub.get("title") or ""
        fields.append(f"{name} ({note})" if note else name)
    return (
        f"Extract {subject} as structured JSON from a document. Pass file_path (a file) "
        f"or text (the document's text), exactly one. Fields: {', '.join(fields)}."
    )


def extraction_tool(
    agent: Any = None,
    *,
    schema: type[BaseModel] | dict[str, Any] | None = None,
    config: Any = None,
    llm: LLM | None = None,
    backend: str | None = None,
    name: str | None = None,
    description: str | None = None,
    allowed_dirs: Sequence[str | os.PathLike[str]] | None = None,
    raise_errors: bool = False,
    settings: CloudKitSettings | None = None,
    max_retries: int = 2,
) -> FunctionTool:
    """An extraction FunctionTool from an extraction agent, or from a schema.

    Args:
        agent: a LlamaExtract ExtractionAgent, or an agent's name (cloud).
        schema: a pydantic model class or JSON-schema dict (checked before any request).
        config: an ExtractConfig or dict (extraction_mode FAST / BALANCED / MULTIMODAL /
            PREMIUM, extraction_target PER_DOC / PER_PAGE, system_prompt, page_range,
            chunk_mode, high_resolution_mode, invalidate_cache, cite_sources, use_reasoning,
            confidence_scores) for stateless LlamaExtract.
        llm: any LlamaIndex LLM, for the local backend (default: OpenAI when OPENAI_API_KEY is
            set).
        backend: ``cloud`` or ``local``; default: the settings (cloud with a key) unless an
            ``llm`` is given.
        name: the tool name (default from the agent's name or the schema's title).
        description: the tool description (default lists the fields and their descriptions).
        allowed_dirs: directories the agent may read files from (default: the working one).
        raise_errors: raise instead of returning an error ToolOutput.
        settings: key and endpoint.
        max_retries: local backend: re-asks after an invalid answer.

    Raises:
        SchemaError: the schema breaks LlamaExtract's rules (nothing is sent).
        ConfigError: no agent and no schema, or no backend that can run.
    """
    settings = settings or CloudKitSettings()
    folders = [Path(d) for d in (allowed_dirs or [Path.cwd()])]
    model = schema if isinstance(schema, type) and issubclass(schema, BaseModel) else None
    config_dict = _config_dict(config)
    if agent is not None:
        run, json_schema, subject, default_name = _agent_runner(agent, settings, folders)
        model = None
        chosen_backend = "cloud"
    elif schema is not None:
        json_schema = check_schema(schema)
        subject = json_schema.get("title") or "the requested data"
        default_name = f"extract_{_snake(str(json_schema.get('title', 'data')))}"
        chosen = backend or ("local" if llm is not None else settings.resolved_backend())
        chosen_backend = chosen
        if chosen == "cloud":
            run = _stateless_runner(json_schema, config_dict, settings, folders)
        else:
            run = _local_runner(json_schema, llm or _default_llm(), folders, max_retries)
    else:
        raise ConfigError("extraction_tool needs an extraction agent or a schema")

    def finish(file_path: str | None, text: str | None) -> tuple[str, Any]:
        data, metadata = run(file_path, text)
        payload = data
        if any(config_dict.get(flag) for flag in _METADATA_FLAGS) and isinstance(data, dict):
            # citations, confidence and reasoning, as LlamaExtract reports them
            payload = {**data, "_metadata": metadata}
        typed = _typed(model, data)
        return json.dumps(payload, ensure_ascii=False, default=str), typed

    metadata = ToolMetadata(
        name=name or default_name,
        description=description or _describe(json_schema, subject),
        fn_schema=ExtractionInput,
    )
    return ExtractionTool(finish, metadata, raise_errors, backend=chosen_backend)


def _typed(model: type[BaseModel] | None, data: Any) -> Any:
    if model is None:
        return data
    if isinstance(data, list):
        return [model.model_validate(item) for item in data]
    return model.model_validate(data)


def _config_dict(config: Any) -> dict[str, Any]:
    if config is None:
        return {"extraction_mode": "BALANCED"}
    if isinstance(config, dict):
        return dict(config)
    dump = getattr(config, "dict", None) or getattr(config, "model_dump", None)
    if dump is None:
        raise ConfigError(f"config must be an ExtractConfig or a dict, got {type(config).__name__}")
    return {k: getattr(v, "value", v) for k, v in dump(exclude_unset=True).items()}


def _exactly_one(file_path: str | None, text: str | None) -> None:
    if (file_path is None) == (text is None):
        raise ConfigError("Pass exactly one of file_path and text")


Runner = Callable[[str | None, str | None], tuple[Any, dict[str, Any]]]


def _stateless_runner(
    schema: dict[str, Any], config: dict[str, Any], settings: CloudKitSettings, folders: list[Path]
) -> Runner:
    from llama_index_cloudkit.extract.cloud import ExtractClient

    client = ExtractClient(settings)

    def run(file_path: str | None, text: str | None) -> tuple[Any, dict[str, Any]]:
        _exactly_one(file_path, text)
        path = str(confine(file_path, folders)) if file_path is not None else None
        result = client.extract(schema, config, file_path=path, text=text)
        return result.data, result.metadata

    return run


def _agent_runner(
    agent: Any, settings: CloudKitSettings, folders: list[Path]
) -> tuple[Runner, dict[str, Any], str, str]:
    from llama_index_cloudkit.extract.cloud import ExtractClient

    client = ExtractClient(settings)
    resolved = client.agent(agent) if isinstance(agent, str) else agent
    schema = dict(resolved.data_schema or {})

    def run(file_path: str | None, text: str | None) -> tuple[Any, dict[str, Any]]:
        _exactly_one(file_path, text)
        path = str(confine(file_path, folders)) if file_path is not None else None
        result = client.extract_with_agent(resolved, file_path=path, text=text)
        return result.data, result.metadata

    return run, schema, resolved.name, f"extract_{_snake(resolved.name)}"


def _local_runner(schema: dict[str, Any], llm: LLM, folders: list[Path], max_retries: int) -> Runner:
    from llama_index_cloudkit.extract.local import extract_with_llm

    def run(file_path: str | None, text: str | None) -> tuple[Any, dict[str, Any]]:
        _exactly_one(file_path, text)
        if file_path is not None:
            from llama_index_cloudkit.parse.reader import CloudKitReader

            path = confine(file_path, folders)
            docs = CloudKitReader(backend="local").load_data(path)
            text = "\n\n".join(d.text for d in docs)
        data = extract_with_llm(llm, schema, text or "", max_retries=max_retries)
        return data, {"backend": "local"}

    return run


def _default_llm() -> LLM:
    if not os.environ.get("OPENAI_API_KEY"):
        raise ConfigError(
            "Local extraction needs an LLM, and none is configured",
            hint="Pass llm=... (any LlamaIndex LLM), set OPENAI_API_KEY, or set "
            "LLAMA_CLOUD_API_KEY to use LlamaExtract",
        )
    from llama_index.llms.openai import OpenAI

    return OpenAI(model="gpt-4o-mini", temperature=0)


class ExtractionToolSpec(BaseToolSpec):
    """Tools for an agent that manages LlamaExtract work: extract, list, queue, fetch.

    Example:
        >>> tools = ExtractionToolSpec(allowed_dirs=["./inbox"]).to_tool_list()  # doctest: +SKIP
    """

    spec_functions: list[str | tuple[str, str]] = [  # noqa: RUF012 - BaseToolSpec's contract
        "extract_with_agent",
        "list_agents",
        "queue_extractions",
        "get_extraction_results",
    ]

    def __init__(
        self,
        settings: CloudKitSettings | None = None,
        allowed_dirs: Sequence[str | os.PathLike[str]] | None = None,
    ) -> None:
        from llama_index_cloudkit.extract.cloud import ExtractClient

        self._client = ExtractClient(settings or CloudKitSettings())
        self._folders = [Path(d) for d in (allowed_dirs or [Path.cwd()])]

    def extract_with_agent(
        self, agent_name: str, file_path: str | None = None, text: str | None = None
    ) -> str:
        """Extract structured data with the named extraction agent from a file or a text."""
        _exactly_one(file_path, text)
        path = str(confine(file_path, self._folders)) if file_path else None
        result = self._client.extract_with_agent(self._client.agent(agent_name), file_path=path, text=text)
        return json.dumps(result.data, ensure_ascii=False, default=str)

    def list_agents(self) -> str:
        """List the extraction agents: their names and the fields each extracts."""
        return json.dumps(self._client.list_agents())

    def queue_extractions(self, agent_name: str, file_paths: list[str]) -> str:
        """Queue extractions of several files with an agent; returns job ids to check later."""
        paths = [str(confine(p, self._folders)) for p in file_paths]
        job_ids = self._client.queue(self._client.agent(agent_name), paths)
        return json.dumps({"agent": agent_name, "job_ids": job_ids})

    def get_extraction_results(self, agent_name: str, job_ids: list[str]) -> str:
        """Status of queued extraction jobs, with the data of those that finished."""
        agent = self._client.agent(agent_name)
        return json.dumps([self._client.job_result(agent, j) for j in job_ids], default=str)
