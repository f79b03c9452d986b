"""Extraction with saved LlamaExtract agents (v1 routes): look up, list, upload, submit.

| call | requests |
|---|---|
| agent by name / id / list | E6 / E7 / E8 |
| agent extraction | F1 (``upload_file``) -> E11 -> E3... -> E4 |

The submission (E11) is paid and never repeated when its outcome is unknown
(:class:`~llama_index_cloudkit.errors.SubmissionUnknownError`): the agent's runs are listed
(E12) first, and a run made from our upload is re-attached instead.

Example:
    >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
    >>> client.extract_with_agent("terms", text="Returns within 30 days").data  # doctest: +SKIP
    {'refund_window_days': 30}
"""

from __future__ import annotations

import logging
import os
import re
from collections.abc import Mapping
from typing import Any

from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import CloudKitError, ConfigError, ServiceError, SubmissionUnknownError
from llama_index_cloudkit.extract.v1_core import RUNS, ExtractV1Core
from llama_index_cloudkit.extract.wire import (
    AgentInfo,
    ExtractInput,
    ExtractResult,
    agent_info,
    agent_summary,
    content_key,
    job_id_of,
)

__all__ = ["AgentExtraction"]

# The name these messages were always logged under (the code moved here from .cloud).
logger = logging.getLogger("llama_index_cloudkit.extract.cloud")

_ID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)


class AgentExtraction(ExtractV1Core):
    """Saved extraction agents: lookup by name or id, the list, and extraction with one.

    :class:`~llama_index_cloudkit.extract.cloud.ExtractClient` builds on it; the arguments are
    those of :class:`~llama_index_cloudkit.extract.client_base.ExtractClientBase`.

    Example:
        >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
        >>> client.agent("terms").name  # doctest: +SKIP
        'terms'
    """

    async def _agent(self, session: CloudSession, name_or_id: str) -> AgentInfo:
        by_id = bool(_ID.search(name_or_id))
        path = "/api/v1/extraction/extraction-agents/" + (name_or_id if by_id else f"by-name/{name_or_id}")
        params = {} if by_id else await self._params(session)
        try:
            body = await session.json(
                "GET", path, what=f"Looking up extraction agent {name_or_id!r}", params=params
            )
        except CloudKitError as exc:
            if getattr(exc, "status_code", None) != 404:
                raise
            known = [a.name for a in await self._agents(session)]
            raise ConfigError(
                f"No extraction agent named {name_or_id!r}",
                hint=("Known agents: " + ", ".join(known))
                if known
                else "The project has no extraction agents",
            ) from None
        return agent_info(body)

    async def _agents(self, session: CloudSession) -> list[AgentInfo]:
        bodies = await session.json_list(
            "GET",
            "/api/v1/extraction/extraction-agents",
            what="Listing extraction agents",
            params=await self._params(session),
        )
        return [agent_info(b) for b in bodies if isinstance(b, Mapping)]

    def agent(self, name_or_id: str) -> AgentInfo:
        """The extraction agent with this name (or id).

        Raises:
            ConfigError: no such agent (the message lists the known ones).

        Example:
            >>> client.agent("terms").id  # doctest: +SKIP
            'agent-...'
        """
        return self._sync(lambda s: self._agent(s, name_or_id))

    async def aagent(self, name_or_id: str) -> AgentInfo:
        """:meth:`agent` in the running event loop."""
        return await self._async(lambda s: self._agent(s, name_or_id))

    def list_agents(self) -> list[dict[str, Any]]:
        """Every agent of the project: name, id and field names."""
        return [agent_summary(a) for a in self._sync(self._agents)]

    async def alist_agents(self) -> list[dict[str, Any]]:
        """:meth:`list_agents` in the running event loop."""
        return [agent_summary(a) for a in await self._async(self._agents)]

    async def _upload(self, session: CloudSession, source: ExtractInput) -> str:
        """F1: one file, multipart part ``upload_file``; returns the file id.

        An upload is free and creates nothing billable, so it is retried like a read.
        """
        params = await self._params(session)
        params["external_file_id"] = source.file_name if source.is_text else source.label
        body = await session.json(
            "POST",
            "/api/v1/files",
            what="Uploading the file for extraction",
            file=source.label,
            idempotent=True,
            files={"upload_file": (source.file_name, source.data)},
            params=params,
        )
        file_id = body.get("id")
        if not isinstance(file_id, str) or not file_id:
            raise ServiceError("The upload was answered without a file id", file=source.label)
        return file_id

    async def _agent_job(self, session: CloudSession, agent: AgentInfo, source: ExtractInput) -> str:
        """F1 + E11: submit one agent extraction; an unknown outcome is looked up (E12) first."""
        file_id = await self._upload(session, source)
        file = source.label
        try:
            answer = await session.json(
                "POST",
                "/api/v1/extraction/jobs",
                what=f"Submitting the extraction with agent {agent.name!r}",
                file=file,
                idempotent=False,  # paid: never repeated blindly
                rate_limited=True,
                json={
                    "extraction_agent_id": agent.id,
                    "file_id": file_id,
                    "config_override": agent.config,
                    "data_schema_override": agent.data_schema,
                },
            )
        except SubmissionUnknownError:
            found = await self._job_for_file(session, agent, file_id)
            if found is None:
                raise
            logger.info("the lost answer's job %s was found among the agent's runs", found)
            return found
        return job_id_of(answer, "Submitting the extraction", source.label)

    async def _job_for_file(self, session: CloudSession, agent: AgentInfo, file_id: str) -> str | None:
        """The job an agent made from ``file_id``, if the service has one (E12)."""
        try:
            page = await session.json(
                "GET",
                RUNS,
                what="Looking for the submitted extraction",
                params={"extraction_agent_id": agent.id, "skip": 0, "limit": 100},
            )
        except CloudKitError:
            return None
        for run in page.get("items") or []:
            if isinstance(run, Mapping) and run.get("file_id") == file_id and run.get("job_id"):
                return str(run["job_id"])
        return None

    def _agent_key(self, agent: AgentInfo, source: ExtractInput) -> str:
        return content_key(f"agent:{agent.id}", agent.data_schema, agent.config, source.data)

    async def _extract_with_agent(
        self, session: CloudSession, agent: AgentInfo, source: ExtractInput
    ) -> ExtractResult:
        key = self._agent_key(agent, source)
        return await self._extract_job(
            session,
            lambda: self._agent_job(session, agent, source),
            key=key,
            label=source.label,
            reattach=self._reattach(agent.config),
        )

    def extract_with_agent(
        self, agent: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """Extraction with a saved agent (an AgentInfo, an SDK ExtractionAgent, or a name).

        Example:
            >>> client.extract_with_agent("terms", text="Returns within 30 days").data  # doctest: +SKIP
            {'refund_window_days': 30}
        """
        source = ExtractInput.of(file_path, text)
        return self._sync(lambda s: self._with_agent(s, agent, source))

    async def aextract_with_agent(
        self, agent: Any, *, file_path: str | os.PathLike[str] | None = None, text: str | None = None
    ) -> ExtractResult:
        """:meth:`extract_with_agent` in the running event loop."""
        source = ExtractInput.of(file_path, text)
        return await self._async(lambda s: self._with_agent(s, agent, source))

    async def _with_agent(self, session: CloudSession, agent: Any, source: ExtractInput) -> ExtractResult:
        return await self._extract_with_agent(session, await self._agent_of(session, agent), source)

    async def _agent_of(self, session: CloudSession, agent: Any) -> AgentInfo:
        """An agent given by name (looked up), or as an AgentInfo, SDK agent or dict."""
        return await self._agent(session, agent) if isinstance(agent, str) else agent_info(agent)
