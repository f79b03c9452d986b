"""Tools for an agent that manages LlamaExtract work: extract with an agent, list, queue, fetch.

Extraction agents and their queue exist on LlamaExtract v1 only, so the spec always talks to
:class:`~llama_index_cloudkit.extract.llamacloud.llamaextract_v1.LlamaExtractV1`, whatever the
settings' API generation.

Example:
    >>> tools = ExtractionToolSpec(api_key="llx-test").to_tool_list()
    >>> [t.metadata.name for t in tools]
    ['extract_with_agent', 'list_agents', 'queue_extractions', 'get_extraction_results']
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from llama_index.core.tools.tool_spec.base import BaseToolSpec

from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.extract.llamacloud.llamaextract_v1 import LlamaExtractV1
from llama_index_cloudkit.extract.tool import checked_input, confine, connection_settings
from llama_index_cloudkit.settings import CONNECTION_FIELDS, CloudKitSettings, check_keywords

__all__ = ["ExtractionToolSpec"]


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
        >>> spec = ExtractionToolSpec(api_key="llx-test", allowed_dirs=["."])
        >>> spec.queue_extractions("terms", ["/etc/passwd"])
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: /etc/passwd is outside the directories this tool may read...
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
        check_keywords(unknown, _SPEC_KEYWORDS, "ExtractionToolSpec")
        settings = connection_settings(settings, api_key, base_url, project_name, project_id, organization_id)
        self._service = LlamaExtractV1(settings, policy)
        self._folders = [Path(d) for d in (allowed_dirs or [Path.cwd()])]

    def _path(self, file_path: str | None, text: str | None) -> str | None:
        path = checked_input(file_path, text, self._folders)
        return None if path is None else str(path)

    def extract_with_agent(
        self, agent_name: str, file_path: str | None = None, text: str | None = None
    ) -> str:
        """Extract structured data with the named extraction agent from a file or a text."""
        path = self._path(file_path, text)
        result = self._service.extract_saved(agent_name, file_path=path, text=text)
        return json.dumps(result.data, ensure_ascii=False, default=str)

    async def aextract_with_agent(
        self, agent_name: str, file_path: str | None = None, text: str | None = None
    ) -> str:
        """Extract structured data with the named extraction agent from a file or a text."""
        path = self._path(file_path, text)
        result = await self._service.aextract_saved(agent_name, file_path=path, text=text)
        return json.dumps(result.data, ensure_ascii=False, default=str)

    def list_agents(self) -> str:
        """List the extraction agents: their names and the fields each extracts."""
        return json.dumps(self._service.list_agents())

    async def alist_agents(self) -> str:
        """List the extraction agents: their names and the fields each extracts."""
        return json.dumps(await self._service.alist_agents())

    def queue_extractions(self, agent_name: str, file_paths: list[str]) -> str:
        """Queue extractions of several files with an agent; returns job ids to check later."""
        paths = [str(confine(p, self._folders)) for p in file_paths]
        return _queued(agent_name, self._service.queue(agent_name, paths))

    async def aqueue_extractions(self, agent_name: str, file_paths: list[str]) -> str:
        """Queue extractions of several files with an agent; returns job ids to check later."""
        paths = [str(confine(p, self._folders)) for p in file_paths]
        return _queued(agent_name, await self._service.aqueue(agent_name, paths))

    def get_extraction_results(self, agent_name: str, job_ids: list[str]) -> str:
        """Status of queued extraction jobs, with the data of those that finished."""
        return json.dumps(self._service.job_results(agent_name, job_ids), default=str)

    async def aget_extraction_results(self, agent_name: str, job_ids: list[str]) -> str:
        """Status of queued extraction jobs, with the data of those that finished."""
        return json.dumps(await self._service.ajob_results(agent_name, job_ids), default=str)


def _queued(agent_name: str, entries: list[dict[str, Any]]) -> str:
    answer: dict[str, Any] = {
        "agent": agent_name,
        "job_ids": [e["job_id"] for e in entries if "job_id" in e],
    }
    errors = [e for e in entries if "error" in e]
    if errors:
        answer["errors"] = errors
    return json.dumps(answer)
