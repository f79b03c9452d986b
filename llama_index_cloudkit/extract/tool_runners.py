"""How each backend runs one extraction for the tool: LlamaExtract (v1 or v2) or any LLM.

A run takes ``(file_path, text)``, exactly one of them, reads a file only inside the tool's
allowed directories (:func:`confine`), and returns a
:class:`~llama_index_cloudkit.extract.typed_tool.RawExtraction`.

Example:
    >>> run, arun = stateless_runners(schema, {}, settings, None, [Path(".")])  # doctest: +SKIP
    >>> run(None, "Invoice 42").data  # doctest: +SKIP
    {'number': '42'}
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any

from llama_index.core.llms import LLM

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.extract.typed_tool import AsyncRun, RawExtraction, SyncRun
from llama_index_cloudkit.extract.wire import ExtractResult
from llama_index_cloudkit.settings import CloudKitSettings, settings_with

__all__ = [
    "cloud_runners",
    "confine",
    "connection_settings",
    "default_llm",
    "exactly_one",
    "from_cloud",
    "in_thread",
    "local_runner",
    "stateless_runners",
]


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
        >>> connection_settings(None, "llx-...", None, None, None, None).api_key  # doctest: +SKIP
        SecretStr('**********')
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


def exactly_one(file_path: str | None, text: str | None) -> None:
    """ConfigError unless exactly one of ``file_path`` and ``text`` is given.

    Example:
        >>> exactly_one(None, "Invoice 42")
    """
    if (file_path is None) == (text is None):
        raise ConfigError("Pass exactly one of file_path and text")


def from_cloud(result: ExtractResult) -> RawExtraction:
    """What a LlamaExtract call produced, with run id, re-attachment, usage and metadata.

    Example:
        >>> from_cloud(ExtractResult({"a": 1}, job_id="j", run_id="r")).info
        {'run_id': 'r', 'reattached': False}
    """
    info: dict[str, Any] = {"run_id": result.run_id, "reattached": result.reattached}
    if result.usage:
        info["usage"] = result.usage
    if result.metadata:
        info["extraction_metadata"] = result.metadata
    return RawExtraction(result.data, result.metadata, result.job_id, info)


def cloud_runners(
    folders: list[Path],
    extract: Callable[[str | None, str | None], ExtractResult],
    aextract: Callable[[str | None, str | None], Awaitable[ExtractResult]],
) -> tuple[SyncRun, AsyncRun]:
    """Sync and async runs around a LlamaExtract call taking ``(file_path, text)``.

    The inputs are checked (exactly one; a file inside ``folders``) before anything is sent.

    Example:
        >>> run, arun = cloud_runners(
        ...     [Path(".")],
        ...     lambda p, t: client.extract(schema, {}, file_path=p, text=t),
        ...     lambda p, t: client.aextract(schema, {}, file_path=p, text=t),
        ... )  # doctest: +SKIP
    """

    def inputs(file_path: str | None, text: str | None) -> str | None:
        exactly_one(file_path, text)
        return str(confine(file_path, folders)) if file_path is not None else None

    def run(file_path: str | None, text: str | None) -> RawExtraction:
        return from_cloud(extract(inputs(file_path, text), text))

    async def arun(file_path: str | None, text: str | None) -> RawExtraction:
        path = inputs(file_path, text)
        return from_cloud(await aextract(path, text))

    return run, arun


def stateless_runners(
    schema: dict[str, Any],
    config: dict[str, Any],
    settings: CloudKitSettings,
    policy: CloudPolicy | None,
    folders: list[Path],
) -> tuple[SyncRun, AsyncRun]:
    """Runs of stateless LlamaExtract (v1) with a JSON schema; the config is checked first.

    Example:
        >>> run, arun = stateless_runners(schema, {}, settings, None, [Path(".")])  # doctest: +SKIP
    """
    from llama_index_cloudkit.extract.cloud import ExtractClient, check_config

    checked = check_config(config)
    client = ExtractClient(settings, policy)
    return cloud_runners(
        folders,
        lambda path, text: client.extract(schema, checked, file_path=path, text=text),
        lambda path, text: client.aextract(schema, checked, file_path=path, text=text),
    )


def local_runner(schema: dict[str, Any], llm: LLM, folders: list[Path], max_retries: int) -> SyncRun:
    """A run with any LlamaIndex LLM: a file is read by the local parser first.

    Example:
        >>> run = local_runner(schema, my_llm, [Path(".")], max_retries=2)  # doctest: +SKIP
        >>> run(None, "Invoice 42").data  # doctest: +SKIP
        {'number': '42'}
    """
    from llama_index_cloudkit.extract.local import extract_with_llm

    def run(file_path: str | None, text: str | None) -> RawExtraction:
        exactly_one(file_path, text)
        if file_path is not None:
            from llama_index_cloudkit.parse.reader import CloudKitReader

            path = confine(file_path, folders)
            docs = CloudKitReader(backend="local").load_data(path)
            text = "\n\n".join(d.text for d in docs)
        data = extract_with_llm(llm, schema, text or "", max_retries=max_retries)
        return RawExtraction(data, {"backend": "local"})

    return run


def in_thread(run: SyncRun) -> AsyncRun:
    """A sync run (a local LLM and parser) as an async one, in a worker thread.

    Example:
        >>> arun = in_thread(local_runner(schema, my_llm, [Path(".")], 2))  # doctest: +SKIP
    """

    async def arun(file_path: str | None, text: str | None) -> RawExtraction:
        return await asyncio.to_thread(run, file_path, text)  # a local LLM and parser, not the cloud

    return arun


def default_llm() -> LLM:
    """OpenAI's gpt-4o-mini when OPENAI_API_KEY is set; else ConfigError saying what to pass.

    Example:
        >>> default_llm().model  # doctest: +SKIP
        'gpt-4o-mini'
    """
    if not os.environ.get("OPENAI_API_KEY"):
        raise ConfigError(
            "Local extraction needs an LLM, and none is configured",
            hint="Pass llm=... (any LlamaIndex LLM), set OPENAI_API_KEY, or set "
            "LLAMA_CLOUD_API_KEY to use LlamaExtract",
        )
    from llama_index.llms.openai import OpenAI

    return OpenAI(model="gpt-4o-mini", temperature=0)
