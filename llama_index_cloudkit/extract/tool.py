"""Structured extraction as an agent tool: JSON to the LLM, the typed object to the program.

:func:`extraction_tool` builds an :class:`ExtractionTool` (a FunctionTool) from a schema or a
saved setup: what it extracts (:class:`ExtractionTarget`: the JSON schema, the typed model, the
tool's default name and description), and one backend run, LlamaExtract through
:func:`~llama_index_cloudkit.extract.llamacloud.extraction_service` or any LlamaIndex LLM
(:mod:`.llm`). Every run checks its input first: exactly one of a file and a text, a file only
inside the tool's allowed directories (:func:`confine`).

Example:
    >>> from llama_index.core.llms import ChatMessage, ChatResponse, MockLLM
    >>> class Answer(MockLLM):  # an LLM that always answers with the same JSON
    ...     def chat(self, messages, **kwargs):
    ...         content = '{"number": "42", "total": 9.5}'
    ...         return ChatResponse(message=ChatMessage(role="assistant", content=content))
    >>> class Invoice(BaseModel):
    ...     number: str
    ...     total: float | None
    >>> tool = extraction_tool(schema=Invoice, llm=Answer())
    >>> out = tool.call(text="Invoice 42, total 9.50")
    >>> out.raw_output
    Invoice(number='42', total=9.5)
    >>> out.content
    '{"number": "42", "total": 9.5}'
"""

from __future__ import annotations

import asyncio
import json
import os
import re
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM
from llama_index.core.tools import FunctionTool, ToolMetadata, ToolOutput
from pydantic import BaseModel, Field, ValidationError

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import CloudKitError, ConfigError, ExtractionError
from llama_index_cloudkit.events import ExtractEndEvent, dispatcher
from llama_index_cloudkit.extract.llamacloud import extraction_service
from llama_index_cloudkit.extract.llm import default_llm, extract_document_with_llm
from llama_index_cloudkit.extract.model import ExtractResult, model_from_schema
from llama_index_cloudkit.extract.schema import check_schema
from llama_index_cloudkit.settings import CONNECTION_FIELDS, CloudKitSettings, check_keywords, settings_with

__all__ = [
    "AsyncRun",
    "ExtractionInput",
    "ExtractionOutput",
    "ExtractionTarget",
    "ExtractionTool",
    "SyncRun",
    "confine",
    "connection_settings",
    "describe",
    "extraction_tool",
    "saved_target",
    "schema_target",
]

_METADATA_FLAGS = ("cite_sources", "confidence_scores", "use_reasoning")
_NO_TARGET = "extraction_tool needs an extraction agent (on v2 a saved configuration) or a schema"

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


# --- what the agent passes, and which files it may read ----------------------------------------


class ExtractionInput(BaseModel):
    """What the agent passes: a file path or the text itself, exactly one.

    Example:
        >>> ExtractionInput(text="Invoice 42").file_path is None
        True
    """

    file_path: str | None = Field(default=None, description="Path of the document to read.")
    text: str | None = Field(default=None, description="The document's text, when no file.")


def confine(path: str, allowed_dirs: Sequence[Path]) -> Path:
    """``path`` resolved, if it lies inside one of ``allowed_dirs``; else ConfigError.

    Example:
        >>> confine("/etc/passwd", [Path("/srv/docs")])
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: /etc/passwd is outside the directories this tool may read...
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


def checked_input(file_path: str | None, text: str | None, allowed_dirs: Sequence[Path]) -> Path | None:
    """The file to read (confined to ``allowed_dirs``), or None for a text; ConfigError unless
    exactly one of ``file_path`` and ``text`` is given.

    Example:
        >>> checked_input(None, "Invoice 42", [Path(".")]) is None
        True
    """
    if (file_path is None) == (text is None):
        raise ConfigError("Pass exactly one of file_path and text")
    return confine(file_path, allowed_dirs) if file_path is not None else None


def connection_settings(
    settings: CloudKitSettings | None,
    api_key: str | None,
    base_url: str | None,
    project_name: str | None,
    project_id: str | None,
    organization_id: str | None,
) -> CloudKitSettings:
    """``settings`` (or the environment's) with the connection values given, like the SDK's
    constructors take them; None leaves a value as it is.

    Example:
        >>> connection_settings(None, "llx-test", "http://127.0.0.1:9", None, None, None).base_url
        'http://127.0.0.1:9'
    """
    return settings_with(
        settings,
        {
            "api_key": api_key,
            "base_url": base_url,
            "project_name": project_name,
            "project_id": project_id,
            "organization_id": organization_id,
        },
    )


# --- what a tool extracts: schema, typed model, subject and names --------------------------------


@dataclass(frozen=True)
class ExtractionTarget:
    """What a tool extracts: the schema it describes, the model it types with, subject and name.

    Example:
        >>> schema_target({"title": "Terms", "type": "object", "properties": {}}).subject
        'Terms'
    """

    json_schema: dict[str, Any]
    model: type[BaseModel]
    subject: str
    default_name: str

    def description(self) -> str:
        """The default tool description: what to pass, and the fields with their descriptions."""
        return describe(self.json_schema, self.subject)


def _snake(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "_", text.lower()).strip("_") or "document"


def _camel(text: str) -> str:
    return "".join(w[:1].upper() + w[1:] for w in re.findall(r"[A-Za-z0-9]+", text)) or "ExtractedData"


def describe(schema: dict[str, Any], subject: str) -> str:
    """A tool description that lists the schema's fields and their descriptions.

    Example:
        >>> describe({"properties": {"total": {"description": "amount due"}}}, "an invoice")[-27:]
        'Fields: total (amount due).'
    """
    fields = []
    for name, sub in schema.get("properties", {}).items():
        note = sub.get("description") or sub.get("title") or ""
        fields.append(f"{name} ({note})" if note else name)
    return (
        f"Extract {subject} as structured JSON from a document. Pass file_path (a file) "
        f"or text (the document's text), exactly one. Fields: {', '.join(fields)}."
    )


def _model_of(schema: type[BaseModel] | dict[str, Any], json_schema: dict[str, Any]) -> type[BaseModel]:
    if isinstance(schema, type) and issubclass(schema, BaseModel):
        return schema
    return model_from_schema(json_schema)


def schema_target(schema: type[BaseModel] | dict[str, Any]) -> ExtractionTarget:
    """The target of a schema, checked against LlamaExtract's rules before any request.

    Raises:
        SchemaError: the schema breaks LlamaExtract's rules.

    Example:
        >>> schema_target({"type": "object", "properties": {}}).default_name
        'extract_data'
    """
    json_schema = check_schema(schema)
    return ExtractionTarget(
        json_schema,
        _model_of(schema, json_schema),
        json_schema.get("title") or "the requested data",
        f"extract_{_snake(str(json_schema.get('title', 'data')))}",
    )


def saved_target(
    saved_schema: dict[str, Any], saved_name: str, schema: type[BaseModel] | dict[str, Any] | None
) -> ExtractionTarget:
    """The target of a saved agent or configuration: described by its own schema, typed by a
    given ``schema`` (checked first) or else by a model built from the saved one.

    Example:
        >>> saved_target({"type": "object", "properties": {}}, "refund terms", None).model.__name__
        'RefundTerms'
    """
    if schema is not None:
        model = _model_of(schema, check_schema(schema))
    else:
        model = model_from_schema(saved_schema, name=saved_schema.get("title") or _camel(saved_name))
    return ExtractionTarget(saved_schema, model, saved_name, f"extract_{_snake(saved_name)}")


# --- the tool ------------------------------------------------------------------------------------


class ExtractionOutput(ToolOutput):
    """A ToolOutput that also carries what the service said about the extraction.

    ``content`` is the JSON the LLM reads; ``raw_output`` is the typed pydantic object (a list of
    them for per-page targets); ``metadata`` holds ``backend``, ``job_id``, ``run_id``,
    ``reattached`` and, when LlamaExtract reports them, ``usage`` (credits, pages, tokens) and its
    ``extraction_metadata``.

    Example:
        >>> output = ExtractionOutput(
        ...     "extract_invoice", '{"number": "42"}', raw_input={}, metadata={"backend": "local"}
        ... )
        >>> output.metadata
        {'backend': 'local'}
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


SyncRun = Callable[[str | None, str | None], ExtractResult]
"""One backend run: ``(file_path, text)`` to what it produced (inputs checked, a file confined)."""
AsyncRun = Callable[[str | None, str | None], Awaitable[ExtractResult]]
"""One backend run in the running event loop."""


class ExtractionTool(FunctionTool):
    """A FunctionTool whose output is JSON for the LLM and the typed object for the program.

    Failures come back as ``ToolOutput(is_error=True)`` whose content names the typed error,
    unless the tool was built with ``raise_errors=True`` (then the typed error is raised).
    ``call`` runs on a fresh event loop (safe inside a running one); ``acall`` awaits the
    backend in the running loop.

    Example:
        >>> from llama_index.core.tools import ToolMetadata
        >>> class Invoice(BaseModel):
        ...     number: str
        >>> def run(file_path, text):
        ...     return ExtractResult({"number": "42"})
        >>> async def arun(file_path, text):
        ...     return run(file_path, text)
        >>> metadata = ToolMetadata(name="extract_invoice", description="Extract an invoice")
        >>> tool = ExtractionTool(run, arun, metadata, False, model=Invoice, backend="local")
        >>> tool.call(text="Invoice 42").raw_output
        Invoice(number='42')
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

    def _typed(self, extracted: ExtractResult, file: str | None) -> Any:
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

    def _output(self, kwargs: dict[str, Any], extracted: ExtractResult | BaseException) -> ExtractionOutput:
        name = self.metadata.get_name()
        file = kwargs.get("file_path")
        if isinstance(extracted, ExtractResult):
            try:
                typed = self._typed(extracted, file)
            except ExtractionError as exc:
                extracted = exc
        if not isinstance(extracted, ExtractResult):
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
            metadata={"backend": self._backend, "job_id": extracted.job_id, **self._info(extracted)},
        )

    def _info(self, extracted: ExtractResult) -> dict[str, Any]:
        """What LlamaExtract said about a run: run id, re-attachment, usage and its metadata."""
        if self._backend != "cloud":
            return {}
        info: dict[str, Any] = {"run_id": extracted.run_id, "reattached": extracted.reattached}
        if extracted.usage:
            info["usage"] = extracted.usage
        if extracted.metadata:
            info["extraction_metadata"] = extracted.metadata
        return info

    @staticmethod
    def _inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:  # a positional argument is the file path, as FunctionTool's fn takes it
            kwargs = {"file_path": args[0], **kwargs}
        return {k: kwargs.get(k) for k in ("file_path", "text")}

    def call(self, *args: Any, **kwargs: Any) -> ExtractionOutput:
        """Extract; returns JSON content, the typed raw output and the job's metadata."""
        inputs = self._inputs(args, kwargs)
        try:
            extracted: ExtractResult | BaseException = self._run(inputs["file_path"], inputs["text"])
        except (CloudKitError, ValueError, OSError) as exc:
            extracted = exc
        return self._output(inputs, extracted)

    async def acall(self, *args: Any, **kwargs: Any) -> ExtractionOutput:
        """Extract in the running event loop; never blocks it."""
        inputs = self._inputs(args, kwargs)
        try:
            extracted: ExtractResult | BaseException = await self._arun(inputs["file_path"], inputs["text"])
        except (CloudKitError, ValueError, OSError) as exc:
            extracted = exc
        return self._output(inputs, extracted)


# --- building a tool -------------------------------------------------------------------------------


def _runs(
    folders: Sequence[Path],
    extract: Callable[[Path | None, str | None], ExtractResult],
    aextract: Callable[[Path | None, str | None], Awaitable[ExtractResult]],
) -> tuple[SyncRun, AsyncRun]:
    """Sync and async runs around a backend call; the input is checked before anything is sent."""

    def run(file_path: str | None, text: str | None) -> ExtractResult:
        return extract(checked_input(file_path, text, folders), text)

    async def arun(file_path: str | None, text: str | None) -> ExtractResult:
        return await aextract(checked_input(file_path, text, folders), text)

    return run, arun


def _config_dict(config: Any) -> dict[str, Any] | None:
    """A config as a plain dict (an SDK ExtractConfig's set fields); None stays None."""
    if config is None or isinstance(config, dict):
        return None if config is None else dict(config)
    dump = getattr(config, "dict", None) or getattr(config, "model_dump", None)
    if dump is None:
        raise ConfigError(f"config must be an ExtractConfig or a dict, got {type(config).__name__}")
    return {k: getattr(v, "value", v) for k, v in dump(exclude_unset=True).items()}


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
    """An extraction FunctionTool from a saved extraction setup, or from a schema.

    The tool gives the LLM JSON (``content``) and the program a typed pydantic object
    (``raw_output``) on every path: the ``schema`` model when one is given, else a model built
    from the JSON schema (a saved setup's schema included).

    On the cloud backend the settings' API generation decides the service
    (:func:`~llama_index_cloudkit.extract.llamacloud.extraction_service`). On Extract v2,
    ``config`` is an Extract v2 configuration (``tier``, ``version``, ``cite_sources``,
    ``confidence_scores``, ``system_prompt``, ``target_pages``, ``max_pages``, ``parse_tier``,
    ...; a v1 key is refused with its v2 name), ``agent`` names a saved configuration (name or
    id; or pass ``config={"configuration_id": ...}``), and a text is sent as a file. Citations
    and confidence come back under the same ``_metadata`` key as on v1.

    Args:
        agent: a LlamaExtract ExtractionAgent (or any object with ``id``, ``name``,
            ``data_schema`` and ``config``), or an agent's name or id (cloud); on v2, a saved
            configuration's name or id (or a SavedExtraction).
        schema: a pydantic model class or JSON-schema dict (checked before any request). Beside
            a saved setup it only types ``raw_output``.
        config: an ExtractConfig or dict (extraction_mode FAST / BALANCED / MULTIMODAL /
            PREMIUM, extraction_target PER_DOC / PER_PAGE, system_prompt, page_range,
            chunk_mode, high_resolution_mode, invalidate_cache, cite_sources, use_reasoning,
            confidence_scores) for stateless LlamaExtract; checked before any request.
        llm: any LlamaIndex LLM, for the local backend (default: OpenAI when OPENAI_API_KEY is
            set).
        backend: ``cloud`` or ``local``; default: the settings (cloud with a key) unless an
            ``llm`` is given. A saved setup always runs on the cloud.
        name: the tool name (default from the saved setup's name or the schema's title).
        description: the tool description (default lists the fields and their descriptions).
        allowed_dirs: directories the agent may read files from (default: the working one).
        raise_errors: raise the typed error instead of returning an error ToolOutput.
        settings: key, endpoint, project, API generation and cache directory.
        max_retries: local backend: re-asks after an invalid answer.
        policy: retries, timeouts and the job deadline of the cloud path (default
            :class:`~llama_index_cloudkit.cloud.CloudPolicy`).
        api_key, base_url, project_name, project_id, organization_id: like the SDK's
            constructors; they override ``settings``. The key is never shown or serialized.

    Raises:
        SchemaError: the schema breaks LlamaExtract's rules (nothing is sent).
        ConfigError: no saved setup and no schema, an unknown keyword ("did you mean ...?"), a
            bad config value, or no backend that can run.

    Example:
        >>> extraction_tool(schema={"title": "Invoice", "type": "object", "properties": {}},
        ...                 backend="cloud", api_key="llx-test").metadata.name
        'extract_invoice'
    """
    check_keywords(unknown, _TOOL_KEYWORDS, "extraction_tool")
    settings = connection_settings(settings, api_key, base_url, project_name, project_id, organization_id)
    folders = [Path(d) for d in (allowed_dirs or [Path.cwd()])]
    plain = _config_dict(config)
    runs_on = "cloud" if agent is not None else backend or ("local" if llm is not None else None)
    given = schema_target(schema) if schema is not None else None  # checked before any request
    if (runs_on or settings.resolved_backend()) == "cloud":
        service = extraction_service(settings, policy)
        checked = service.check_config(plain)
        ref = agent if agent is not None else checked.get("configuration_id")
        if ref is not None:
            saved = service.saved(ref)
            target = saved_target(saved.data_schema, saved.name, schema)
            runs = _runs(
                folders,
                lambda path, text: service.extract_saved(saved, file_path=path, text=text),
                lambda path, text: service.aextract_saved(saved, file_path=path, text=text),
            )
            return _assemble(target, runs, saved.config, name, description, raise_errors, "cloud")
        if given is None:
            raise ConfigError(_NO_TARGET)
        target = given
        runs = _runs(
            folders,
            lambda path, text: service.extract(target.json_schema, checked, file_path=path, text=text),
            lambda path, text: service.aextract(target.json_schema, checked, file_path=path, text=text),
        )
        return _assemble(target, runs, checked, name, description, raise_errors, "cloud")
    if given is None:
        raise ConfigError(_NO_TARGET)
    target = given
    chosen_llm = llm or default_llm()

    def local(path: Path | None, text: str | None) -> ExtractResult:
        return extract_document_with_llm(
            chosen_llm, target.json_schema, file_path=path, text=text, max_retries=max_retries
        )

    async def alocal(path: Path | None, text: str | None) -> ExtractResult:
        return await asyncio.to_thread(local, path, text)  # a local LLM and parser, not the cloud

    runs = _runs(folders, local, alocal)
    return _assemble(target, runs, plain or {}, name, description, raise_errors, "local")


def _assemble(
    target: ExtractionTarget,
    runs: tuple[SyncRun, AsyncRun],
    flags: Mapping[str, Any],
    name: str | None,
    description: str | None,
    raise_errors: bool,
    backend: str,
) -> ExtractionTool:
    """The tool: its runs, its name and description (given, or from the target), its model;
    the service's metadata is shown when the configuration asks for citations, confidence or
    reasoning."""
    run, arun = runs
    metadata = ToolMetadata(
        name=name or target.default_name,
        description=description or target.description(),
        fn_schema=ExtractionInput,
    )
    show = any(flags.get(flag) for flag in _METADATA_FLAGS)
    return ExtractionTool(
        run, arun, metadata, raise_errors, model=target.model, show_metadata=show, backend=backend
    )
