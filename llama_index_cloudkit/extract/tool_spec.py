"""Tools for an agent that manages LlamaExtract work: extract with an agent, list, queue, fetch.

Example:
    >>> tools = ExtractionToolSpec(allowed_dirs=["./inbox"]).to_tool_list()  # doctest: +SKIP
    >>> [t.metadata.name for t in tools]  # doctest: +SKIP
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
from llama_index_cloudkit.extract.tool_runners import confine, connection_settings, exactly_one
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
        settings = connection_settings(settings, api_key, base_url, project_name, project_id, organization_id)
        self._client = ExtractClient(settings, policy)
        self._folders = [Path(d) for d in (allowed_dirs or [Path.cwd()])]

    def _path(self, file_path: str | None, text: str | None) -> str | None:
        exactly_one(file_path, text)
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
