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
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM
from llama_index.core.tools import FunctionTool, ToolMetadata, ToolOutput
from llama_index.core.tools.tool_spec.base import BaseToolSpec
from pydantic import BaseModel, Field, ValidationError

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import CloudKitError, ConfigError, ExtractionError
from llama_index_cloudkit.events import ExtractEndEvent, dispatcher
from llama_index_cloudkit.extract.model import model_from_schema
from llama_index_cloudkit.extract.schema import check_schema
from llama_index_cloudkit.settings import CONNECTION_FIELDS, CloudKitSettings, check_keywords, settings_with

__all__ = [
    "ExtractionInput",
    "ExtractionOutput",
    "ExtractionTool",
    "ExtractionToolSpec",
    "extraction_tool",
]

_METADATA_FLAGS = ("cite_sources", "confidence_scores", "use_reasoning")


class ExtractionInput(BaseModel):
    """What the agent passes: a file path or the text itself, exactly one."""

    file_path: str | None = Field(default=None, description="Path of the document to read.")
    text: str | None = Field(default=None, description="The document's text, when no file.")


class ExtractionOutput(ToolOutput):
    """A ToolOutput that also carries what the service said about the extraction.

    ``content`` is the JSON the LLM reads; ``raw_output`` is the typed pydantic object (a list of
    them for per-page targets); ``metadata`` holds ``backend``, ``job_id``, ``run_id``,
    ``reattached`` and, when LlamaExtract reports them, ``usage`` (credits, pages, tokens) and its
    ``extraction_metadata``.

    Example:
        >>> out = tool.call(text="Invoice 42")  # doctest: +SKIP
        >>> out.metadata["job_id"]  # doctest: +SKIP
        'exjob-...'
    """

    metadata: dict[str, Any] = Field(default_factory=dict)

    def __init__(
        self,
        tool_name: str,
        content: str | None = None,
        *,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(tool_name=tool_name, content=content, **kwargs)
        self.metadata = dict(metadata or {})


@dataclass
class _Extracted:
    """What one backend run produced, before it is typed and rendered."""

    data: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


SyncRun = Callable[[str | None, str | None], _Extracted]
AsyncRun = Callable[[str | None, str | None], Awaitable[_Extracted]]


class ExtractionTool(FunctionTool):
    """A FunctionTool whose output is JSON for the LLM and the typed object for the program.

    Failures come back as ``ToolOutput(is_error=True)`` whose content names the typed error,
    unless the tool was built with ``raise_errors=True`` (then the typed error is raised).
    ``call`` runs on a fresh event loop (safe inside a running one); ``acall`` awaits the
    backend in the running loop.

    Example:
        >>> tool = extraction_tool(schema=Invoice, backend="cloud")  # doctest: +SKIP
        >>> tool.call(text="Invoice 42").raw_output  # doctest: +SKIP
        Invoice(number='42', total=None)
    """

    def __init__(
        self,
        run: SyncRun,
        arun: AsyncRun,
        metadata: ToolMetadata,
        raise_errors: bool,
        *,
        model: type[BaseModel],
        show_metadata: bool = False,
        backend: str = "cloud",
    ) -> None:
        self._run = run
        self._arun = arun
        self._model = model
        self._show_metadata = show_metadata
        self._raise_errors = raise_errors
        self._backend = backend

        def extract(file_path: str | None = None, text: str | None = None) -> str:
            return self.call(file_path=file_path, text=text).content

        async def aextract(file_path: str | None = None, text: str | None = None) -> str:
            return (await self.acall(file_path=file_path, text=text)).content

        super().__init__(fn=extract, async_fn=aextract, metadata=metadata)

    @property
    def output_model(self) -> type[BaseModel]:
        """The pydantic model ``raw_output`` is an instance of."""
        return self._model

    def _typed(self, extracted: _Extracted, file: str | None) -> Any:
        try:
            if isinstance(extracted.data, list):
                return [self._model.model_validate(item) for item in extracted.data]
            return self._model.model_validate(extracted.data)
        except ValidationError as exc:
            raise ExtractionError(
                f"The extracted data does not match {self._model.__name__}: "
                f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']} at "
                f"{'/'.join(str(p) for p in exc.errors()[0]['loc']) or '(root)'}",
                last_output=json.dumps(extracted.data, ensure_ascii=False, default=str)[:2000],
                file=file,
                job_id=extracted.job_id,
                hint="The raw data is in the error's last_output; make the schema's fields nullable "
                "where a document may not say",
            ) from None

    def _output(self, kwargs: dict[str, Any], extracted: _Extracted | BaseException) -> ExtractionOutput:
        name = self.metadata.get_name()
        file = kwargs.get("file_path")
        if isinstance(extracted, _Extracted):
            try:
                typed = self._typed(extracted, file)
            except ExtractionError as exc:
                extracted = exc
        if not isinstance(extracted, _Extracted):
            error = extracted
            dispatcher.event(
                ExtractEndEvent(
                    tool=name,
                    backend=self._backend,
                    file=file,
                    ok=False,
                    job_id=getattr(error, "job_id", None),
                    error=str(error),
                )
            )
            if self._raise_errors:
                raise error
            return ExtractionOutput(
                tool_name=name,
                content=f"Error: {type(error).__name__}: {error}",
                raw_input=kwargs,
                raw_output=error,
                is_error=True,
                exception=error,
                metadata={"backend": self._backend, "job_id": getattr(error, "job_id", None)},
            )
        payload = extracted.data
        if self._show_metadata and isinstance(payload, dict):
            # citations, confidence and reasoning, as LlamaExtract reports them
            payload = {**payload, "_metadata": extracted.metadata}
        dispatcher.event(
            ExtractEndEvent(tool=name, backend=self._backend, file=file, job_id=extracted.job_id)
        )
        return ExtractionOutput(
            tool_name=name,
            content=json.dumps(payload, ensure_ascii=False, default=str),
            raw_input=kwargs,
            raw_output=typed,
            metadata={"backend": self._backend, "job_id": extracted.job_id, **extracted.info},
        )

    @staticmethod
    def _inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:  # a positional argument is the file path, as FunctionTool's fn takes it
            kwargs = {"file_path": args[0], **kwargs}
        return {k: kwargs.get(k) for k in ("file_path", "text")}

    def call(self, *args: Any, **kwargs: Any) -> ExtractionOutput:
        """Extract; returns JSON content, the typed raw output and the job's metadata."""
        inputs = self._inputs(args, kwargs)
        try:
            extracted: _Extracted | BaseException = self._run(inputs["file_path"], inputs["text"])
        except (CloudKitError, ValueError, OSError) as exc:
            extracted = exc
        return self._output(inputs, extracted)

    async def acall(self, *args: Any, **kwargs: Any) -> ExtractionOutput:
        """Extract in the running event loop; never blocks it."""
        inputs = self._inputs(args, kwargs)
        try:
            extracted: _Extracted | BaseException = await self._arun(inputs["file_path"], inputs["text"])
        except (CloudKitError, ValueError, OSError) as exc:
            extracted = exc
        return self._output(inputs, extracted)


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


_TOOL_KEYWORDS = (
    "agent",
    "schema",
    "config",
    "llm",
    "backend",
    "name",
    "description",
    "allowed_dirs",
    "raise_errors",
    "settings",
    "max_retries",
    "policy",
    *CONNECTION_FIELDS,
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
    policy: CloudPolicy | None = None,
    api_key: str | None = None,
    base_url: str | None = None,
    project_name: str | None = None,
    project_id: str | None = None,
    organization_id: str | None = None,
    **unknown: Any,
) -> ExtractionTool:
    """An extraction FunctionTool from an extraction agent, or from a schema.

    The tool gives the LLM JSON (``content``) and the program a typed pydantic object
    (``raw_output``) on every path: the ``schema`` model when one is given, else a model built
    from the JSON schema (an agent's saved schema included).

    With ``settings.api_version == "v2"`` the cloud path is Extract v2: ``config`` is an Extract
    v2 configuration (``tier``, ``version``, ``cite_sources``, ``confidence_scores``,
    ``system_prompt``, ``target_pages``, ``max_pages``, ``parse_tier``, ...; a v1 key is refused
    with its v2 name), ``agent`` names a saved configuration (name or id; or pass
    ``config={"configuration_id": ...}``), and a text is sent as a file. Citations and
    confidence come back under the same ``_metadata`` key as on v1.

    Args:
        agent: a LlamaExtract ExtractionAgent (or any object with ``id``, ``name``,
            ``data_schema`` and ``config``), or an agent's name or id (cloud); on v2, a saved
            configuration's name or id (or a SavedConfiguration).
        schema: a pydantic model class or JSON-schema dict (checked before any request). Beside
            an agent it only types ``raw_output``.
        config: an ExtractConfig or dict (extraction_mode FAST / BALANCED / MULTIMODAL /
            PREMIUM, extraction_target PER_DOC / PER_PAGE, system_prompt, page_range,
            chunk_mode, high_resolution_mode, invalidate_cache, cite_sources, use_reasoning,
            confidence_scores) for stateless LlamaExtract; checked before any request.
        llm: any LlamaIndex LLM, for the local backend (default: OpenAI when OPENAI_API_KEY is
            set).
        backend: ``cloud`` or ``local``; default: the settings (cloud with a key) unless an
            ``llm`` is given.
        name: the tool name (default from the agent's name or the schema's title).
        description: the tool description (default lists the fields and their descriptions).
        allowed_dirs: directories the agent may read files from (default: the working one).
        raise_errors: raise the typed error instead of returning an error ToolOutput.
        settings: key, endpoint, project and cache directory.
        max_retries: local backend: re-asks after an invalid answer.
        policy: retries, timeouts and the job deadline of the cloud path (default
            :class:`~llama_index_cloudkit.cloud.CloudPolicy`).
        api_key, base_url, project_name, project_id, organization_id: like the SDK's
            constructors; they override ``settings``. The key is never shown or serialized.

    Raises:
        SchemaError: the schema breaks LlamaExtract's rules (nothing is sent).
        ConfigError: no agent and no schema, an unknown keyword ("did you mean ...?"), a bad
            config value, or no backend that can run.

    Example:
        >>> tool = extraction_tool(schema=Invoice, api_key="llx-...")  # doctest: +SKIP
        >>> tool.call(file_path="invoice.pdf").raw_output  # doctest: +SKIP
        Invoice(number='42', total=9.5)
    """
    check_keywords(unknown, _TOOL_KEYWORDS, "extraction_tool")
    settings = settings_with(
        settings,
        {
            "api_key": api_key,
            "base_url": base_url,
            "project_name": project_name,
            "project_id": project_id,
            "organization_id": organization_id,
        },
    )
    folders = [Path(d) for d in (allowed_dirs or [Path.cwd()])]
    if settings.api_version == "v2":
        runs_on = "cloud" if agent is not None else backend or ("local" if llm is not None else None)
        if (runs_on or settings.resolved_backend()) == "cloud":
            return _v2_tool(
                agent,
                schema,
                config,
                settings,
                policy,
                folders,
                name=name,
                description=description,
                raise_errors=raise_errors,
            )
    config_dict = _config_dict(config)
    if agent is not None:
        return _agent_tool(
            agent,
            schema,
            settings,
            policy,
            folders,
            name=name,
            description=description,
            raise_errors=raise_errors,
        )
    if schema is None:
        raise ConfigError("extraction_tool needs an extraction agent or a schema")
    json_schema = check_schema(schema)
    model = _model_of(schema, json_schema)
    subject = json_schema.get("title") or "the requested data"
    default_name = f"extract_{_snake(str(json_schema.get('title', 'data')))}"
    chosen = backend or ("local" if llm is not None else settings.resolved_backend())
    if chosen == "cloud":
        run, arun = _stateless_runner(json_schema, config_dict, settings, policy, folders)
    else:
        run = _local_runner(json_schema, llm or _default_llm(), folders, max_retries)
        arun = _in_thread(run)
    metadata = ToolMetadata(
        name=name or default_name,
        description=description or _describe(json_schema, subject),
        fn_schema=ExtractionInput,
    )
    return ExtractionTool(
        run,
        arun,
        metadata,
        raise_errors,
        model=model,
        show_metadata=any(config_dict.get(flag) for flag in _METADATA_FLAGS),
        backend=chosen,
    )


def _model_of(schema: type[BaseModel] | dict[str, Any], json_schema: dict[str, Any]) -> type[BaseModel]:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    return model_from_schema(json_schema)


def _agent_tool(
    agent: Any,
    schema: type[BaseModel] | dict[str, Any] | None,
    settings: CloudKitSettings,
    policy: CloudPolicy | None,
    folders: list[Path],
    *,
    name: str | None,
    description: str | None,
    raise_errors: bool,
) -> ExtractionTool:
    from llama_index_cloudkit.extract.cloud import ExtractClient, agent_info

    client = ExtractClient(settings, policy)
    info = client.agent(agent) if isinstance(agent, str) else agent_info(agent)
    if schema is not None:
        model = _model_of(schema, check_schema(schema))
    else:
        model = model_from_schema(info.data_schema, name=info.data_schema.get("title") or _camel(info.name))

    def inputs(file_path: str | None, text: str | None) -> str | None:
        _exactly_one(file_path, text)
        return str(confine(file_path, folders)) if file_path is not None else None

    def run(file_path: str | None, text: str | None) -> _Extracted:
        return _from_cloud(client.extract_with_agent(info, file_path=inputs(file_path, text), text=text))

    async def arun(file_path: str | None, text: str | None) -> _Extracted:
        path = inputs(file_path, text)
        return _from_cloud(await client.aextract_with_agent(info, file_path=path, text=text))

    metadata = ToolMetadata(
        name=name or f"extract_{_snake(info.name)}",
        description=description or _describe(info.data_schema, info.name),
        fn_schema=ExtractionInput,
    )
    show = any(info.config.get(flag) for flag in _METADATA_FLAGS)
    return ExtractionTool(run, arun, metadata, raise_errors, model=model, show_metadata=show, backend="cloud")


def _v2_tool(
    agent: Any,
    schema: type[BaseModel] | dict[str, Any] | None,
    config: Any,
    settings: CloudKitSettings,
    policy: CloudPolicy | None,
    folders: list[Path],
    *,
    name: str | None,
    description: str | None,
    raise_errors: bool,
) -> ExtractionTool:
    """The tool on Extract v2: an inline configuration, or a saved one (``agent=`` its name or
    id, or ``config={"configuration_id": ...}``); a text is sent as a file."""
    from llama_index_cloudkit.extract.cloud_v2 import ExtractV2Client, SavedConfiguration, check_v2_config

    checked = check_v2_config({} if config is None else _config_dict(config))
    client = ExtractV2Client(settings, policy)
    saved_ref = agent if agent is not None else checked.get("configuration_id")
    if saved_ref is not None:
        saved = (
            saved_ref if isinstance(saved_ref, SavedConfiguration) else client.configuration(str(saved_ref))
        )
        checked = {"configuration_id": saved.id}
        json_schema = check_schema(schema) if schema is not None else saved.data_schema
        model = (
            _model_of(schema, json_schema)
            if schema is not None
            else model_from_schema(
                saved.data_schema, name=saved.data_schema.get("title") or _camel(saved.name)
            )
        )
        subject, default_name = saved.name, f"extract_{_snake(saved.name)}"
        flags = saved.parameters
        sent_schema: dict[str, Any] | None = None
    else:
        if schema is None:
            raise ConfigError("extraction_tool needs a saved configuration or a schema")
        json_schema = check_schema(schema)
        model = _model_of(schema, json_schema)
        subject = json_schema.get("title") or "the requested data"
        default_name = f"extract_{_snake(str(json_schema.get('title', 'data')))}"
        flags, sent_schema = checked, json_schema

    def inputs(file_path: str | None, text: str | None) -> str | None:
        _exactly_one(file_path, text)
        return str(confine(file_path, folders)) if file_path is not None else None

    def run(file_path: str | None, text: str | None) -> _Extracted:
        return _from_cloud(client.extract(sent_schema, checked, file_path=inputs(file_path, text), text=text))

    async def arun(file_path: str | None, text: str | None) -> _Extracted:
        path = inputs(file_path, text)
        return _from_cloud(await client.aextract(sent_schema, checked, file_path=path, text=text))

    metadata = ToolMetadata(
        name=name or default_name,
        description=description or _describe(json_schema, subject),
        fn_schema=ExtractionInput,
    )
    show = any(flags.get(flag) for flag in _METADATA_FLAGS)
    return ExtractionTool(run, arun, metadata, raise_errors, model=model, show_metadata=show, backend="cloud")


def _camel(text: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", text)) or "ExtractedData"


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


def _from_cloud(result: Any) -> _Extracted:
    info: dict[str, Any] = {"run_id": result.run_id, "reattached": result.reattached}
    if result.usage:
        info["usage"] = result.usage
    if result.metadata:
        info["extraction_metadata"] = result.metadata
    return _Extracted(result.data, result.metadata, result.job_id, info)


def _stateless_runner(
    schema: dict[str, Any],
    config: dict[str, Any],
    settings: CloudKitSettings,
    policy: CloudPolicy | None,
    folders: list[Path],
) -> tuple[SyncRun, AsyncRun]:
    from llama_index_cloudkit.extract.cloud import ExtractClient, check_config

    checked = check_config(config)
    client = ExtractClient(settings, policy)

    def inputs(file_path: str | None, text: str | None) -> str | None:
        _exactly_one(file_path, text)
        return str(confine(file_path, folders)) if file_path is not None else None

    def run(file_path: str | None, text: str | None) -> _Extracted:
        return _from_cloud(client.extract(schema, checked, file_path=inputs(file_path, text), text=text))

    async def arun(file_path: str | None, text: str | None) -> _Extracted:
        path = inputs(file_path, text)
        return _from_cloud(await client.aextract(schema, checked, file_path=path, text=text))

    return run, arun


def _local_runner(schema: dict[str, Any], llm: LLM, folders: list[Path], max_retries: int) -> SyncRun:
    from llama_index_cloudkit.extract.local import extract_with_llm

    def run(file_path: str | None, text: str | None) -> _Extracted:
        _exactly_one(file_path, text)
        if file_path is not None:
            from llama_index_cloudkit.parse.reader import CloudKitReader

            path = confine(file_path, folders)
            docs = CloudKitReader(backend="local").load_data(path)
            text = "\n\n".join(d.text for d in docs)
        data = extract_with_llm(llm, schema, text or "", max_retries=max_retries)
        return _Extracted(data, {"backend": "local"})

    return run


def _in_thread(run: SyncRun) -> AsyncRun:
    async def arun(file_path: str | None, text: str | None) -> _Extracted:
        return await asyncio.to_thread(run, file_path, text)  # a local LLM and parser, not the cloud

    return arun


def _default_llm() -> LLM:
    if not os.environ.get("OPENAI_API_KEY"):
        raise ConfigError(
            "Local extraction needs an LLM, and none is configured",
            hint="Pass llm=... (any LlamaIndex LLM), set OPENAI_API_KEY, or set "
            "LLAMA_CLOUD_API_KEY to use LlamaExtract",
        )
    from llama_index.llms.openai import OpenAI

    return OpenAI(model="gpt-4o-mini", temperature=0)


_SPEC_KEYWORDS = ("settings", "allowed_dirs", "policy", *CONNECTION_FIELDS)


class ExtractionToolSpec(BaseToolSpec):
    """Tools for an agent that manages LlamaExtract work: extract, list, queue, fetch.

    Every tool has a sync and an async variant (``to_tool_list()`` wires both), each a plain
    HTTP call through the cloud core, so they work from any number of event loops and threads.
    Queued jobs are journaled: queueing the same file again returns the same job, and a job the
    service lost is submitted again once when its results are asked for.

    Args:
        settings: key, endpoint, project and cache directory.
        allowed_dirs: directories the agent may read files from (default: the working one).
        policy: retries, timeouts and the job deadline.
        api_key, base_url, project_name, project_id, organization_id: like the SDK's
            constructors; they override ``settings``.

    Example:
        >>> tools = ExtractionToolSpec(allowed_dirs=["./inbox"]).to_tool_list()  # doctest: +SKIP
    """

    spec_functions: list[str | tuple[str, str]] = [  # noqa: RUF012 - BaseToolSpec's contract
        ("extract_with_agent", "aextract_with_agent"),
        ("list_agents", "alist_agents"),
        ("queue_extractions", "aqueue_extractions"),
        ("get_extraction_results", "aget_extraction_results"),
    ]

    def __init__(
        self,
        settings: CloudKitSettings | None = None,
        allowed_dirs: Sequence[str | os.PathLike[str]] | None = None,
        *,
        policy: CloudPolicy | None = None,
        api_key: str | None = None,
        base_url: str | None = None,
        project_name: str | None = None,
        project_id: str | None = None,
        organization_id: str | None = None,
        **unknown: Any,
    ) -> None:
        from llama_index_cloudkit.extract.cloud import ExtractClient

        check_keywords(unknown, _SPEC_KEYWORDS, "ExtractionToolSpec")
        settings = settings_with(
            settings,
            {
                "api_key": api_key,
                "base_url": base_url,
                "project_name": project_name,
                "project_id": project_id,
                "organization_id": organization_id,
            },
        )
        self._client = ExtractClient(settings, policy)
        self._folders = [Path(d) for d in (allowed_dirs or [Path.cwd()])]

    def _path(self, file_path: str | None, text: str | None) -> str | None:
        _exactly_one(file_path, text)
        return str(confine(file_path, self._folders)) if file_path else None

    def extract_with_agent(
        self, agent_name: str, file_path: str | None = None, text: str | None = None
    ) -> str:
        """Extract structured data with the named extraction agent from a file or a text."""
        path = self._path(file_path, text)
        result = self._client.extract_with_agent(agent_name, file_path=path, text=text)
        return json.dumps(result.data, ensure_ascii=False, default=str)

    async def aextract_with_agent(
        self, agent_name: str, file_path: str | None = None, text: str | None = None
    ) -> str:
        """Extract structured data with the named extraction agent from a file or a text."""
        path = self._path(file_path, text)
        result = await self._client.aextract_with_agent(agent_name, file_path=path, text=text)
        return json.dumps(result.data, ensure_ascii=False, default=str)

    def list_agents(self) -> str:
        """List the extraction agents: their names and the fields each extracts."""
        return json.dumps(self._client.list_agents())

    async def alist_agents(self) -> str:
        """List the extraction agents: their names and the fields each extracts."""
        return json.dumps(await self._client.alist_agents())

    def queue_extractions(self, agent_name: str, file_paths: list[str]) -> str:
        """Queue extractions of several files with an agent; returns job ids to check later."""
        paths = [str(confine(p, self._folders)) for p in file_paths]
        return _queued(agent_name, self._client.queue(agent_name, paths))

    async def aqueue_extractions(self, agent_name: str, file_paths: list[str]) -> str:
        """Queue extractions of several files with an agent; returns job ids to check later."""
        paths = [str(confine(p, self._folders)) for p in file_paths]
        return _queued(agent_name, await self._client.aqueue(agent_name, paths))

    def get_extraction_results(self, agent_name: str, job_ids: list[str]) -> str:
        """Status of queued extraction jobs, with the data of those that finished."""
        return json.dumps(self._client.job_results(agent_name, job_ids), default=str)

    async def aget_extraction_results(self, agent_name: str, job_ids: list[str]) -> str:
        """Status of queued extraction jobs, with the data of those that finished."""
        return json.dumps(await self._client.ajob_results(agent_name, job_ids), default=str)


def _queued(agent_name: str, entries: list[dict[str, Any]]) -> str:
    answer: dict[str, Any] = {
        "agent": agent_name,
        "job_ids": [e["job_id"] for e in entries if "job_id" in e],
    }
    errors = [e for e in entries if "error" in e]
    if errors:
        answer["errors"] = errors
    return json.dumps(answer)
