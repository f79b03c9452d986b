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

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM
from llama_index.core.tools import ToolMetadata
from pydantic import BaseModel

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.extract.tool_runners import (
    cloud_runners,
    confine,
    connection_settings,
    default_llm,
    in_thread,
    local_runner,
    stateless_runners,
)
from llama_index_cloudkit.extract.tool_spec import ExtractionToolSpec
from llama_index_cloudkit.extract.tool_target import ExtractionTarget, saved_target, schema_target
from llama_index_cloudkit.extract.typed_tool import (
    AsyncRun,
    ExtractionInput,
    ExtractionOutput,
    ExtractionTool,
    SyncRun,
)
from llama_index_cloudkit.settings import CONNECTION_FIELDS, CloudKitSettings, check_keywords

__all__ = [
    "AsyncRun",
    "ExtractionInput",
    "ExtractionOutput",
    "ExtractionTool",
    "ExtractionToolSpec",
    "SyncRun",
    "confine",
    "extraction_tool",
]

_METADATA_FLAGS = ("cite_sources", "confidence_scores", "use_reasoning")

_ToolParts = tuple[ExtractionTarget, tuple[SyncRun, AsyncRun], Mapping[str, Any]]
"""What a tool is made of: its target, its sync and async runs, the config its flags are read from."""

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
    settings = connection_settings(settings, api_key, base_url, project_name, project_id, organization_id)
    folders = [Path(d) for d in (allowed_dirs or [Path.cwd()])]
    if settings.api_version == "v2":
        runs_on = "cloud" if agent is not None else backend or ("local" if llm is not None else None)
        if (runs_on or settings.resolved_backend()) == "cloud":
            parts = _v2_parts(agent, schema, config, settings, policy, folders)
            return _assemble(*parts, name=name, description=description, raise_errors=raise_errors)
    config_dict = _config_dict(config)
    if agent is not None:
        parts = _agent_parts(agent, schema, settings, policy, folders)
        return _assemble(*parts, name=name, description=description, raise_errors=raise_errors)
    if schema is None:
        raise ConfigError("extraction_tool needs an extraction agent or a schema")
    target = schema_target(schema)
    chosen = backend or ("local" if llm is not None else settings.resolved_backend())
    if chosen == "cloud":
        run, arun = stateless_runners(target.json_schema, config_dict, settings, policy, folders)
    else:
        run = local_runner(target.json_schema, llm or default_llm(), folders, max_retries)
        arun = in_thread(run)
    return _assemble(
        target,
        (run, arun),
        config_dict,
        name=name,
        description=description,
        raise_errors=raise_errors,
        backend=chosen,
    )


def _assemble(
    target: ExtractionTarget,
    runs: tuple[SyncRun, AsyncRun],
    flags: Mapping[str, Any],
    *,
    name: str | None,
    description: str | None,
    raise_errors: bool,
    backend: str = "cloud",
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


def _agent_parts(
    agent: Any,
    schema: type[BaseModel] | dict[str, Any] | None,
    settings: CloudKitSettings,
    policy: CloudPolicy | None,
    folders: list[Path],
) -> _ToolParts:
    """The tool with a saved LlamaExtract agent (v1): its schema, config and runs."""
    from llama_index_cloudkit.extract.cloud import ExtractClient, agent_info

    client = ExtractClient(settings, policy)
    info = client.agent(agent) if isinstance(agent, str) else agent_info(agent)
    target = saved_target(info.data_schema, info.name, schema)
    runs = cloud_runners(
        folders,
        lambda path, text: client.extract_with_agent(info, file_path=path, text=text),
        lambda path, text: client.aextract_with_agent(info, file_path=path, text=text),
    )
    # an agent's tool is described by the agent's own schema, even when schema= types its output
    described = ExtractionTarget(info.data_schema, target.model, info.name, target.default_name)
    return described, runs, info.config


def _v2_parts(
    agent: Any,
    schema: type[BaseModel] | dict[str, Any] | None,
    config: Any,
    settings: CloudKitSettings,
    policy: CloudPolicy | None,
    folders: list[Path],
) -> _ToolParts:
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
        target = saved_target(saved.data_schema, saved.name, schema)
        flags: Mapping[str, Any] = saved.parameters
        sent_schema: dict[str, Any] | None = None
    else:
        if schema is None:
            raise ConfigError("extraction_tool needs a saved configuration or a schema")
        target = schema_target(schema)
        flags, sent_schema = checked, target.json_schema
    runs = cloud_runners(
        folders,
        lambda path, text: client.extract(sent_schema, checked, file_path=path, text=text),
        lambda path, text: client.aextract(sent_schema, checked, file_path=path, text=text),
    )
    return target, runs, flags


def _config_dict(config: Any) -> dict[str, Any]:
    if config is None:
        return {"extraction_mode": "BALANCED"}
    if isinstance(config, dict):
        return dict(config)
    dump = getattr(config, "dict", None) or getattr(config, "model_dump", None)
    if dump is None:
        raise ConfigError(f"config must be an ExtractConfig or a dict, got {type(config).__name__}")
    return {k: getattr(v, "value", v) for k, v in dump(exclude_unset=True).items()}
