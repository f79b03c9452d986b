"""LlamaExtract over the cloud core: plain HTTP for the v1 extraction routes, loop-safe.

Every request goes through :class:`~llama_index_cloudkit.cloud.CloudSession` (one AsyncClient
per event loop, retries, typed errors) and every job through
:func:`~llama_index_cloudkit.cloud.run_job` (submit once, journal before polling, a deadline
that never restarts, one resubmission of a lost job). Routes, as numbered in the reference:

| call | requests |
|---|---|
| stateless extraction | E1 (once per schema) -> E2 (file as base64 + mime type, or text) -> E3... -> E4 |
| agent by name / id / list | E6 / E7 / E8 |
| agent extraction | F1 (``upload_file``) -> E11 -> E3... -> E4 |
| queue | F1 -> E11 per file (journaled); results: E3 (+ E4 when done) |

With ``settings.api_version == "v2"``, :meth:`ExtractClient.extract` goes to Extract v2
(:mod:`.cloud_v2`: a file upload, then ``POST /api/v2/extract``); config is then an Extract v2
configuration. Agents, queues and job results stay on the v1 routes (v2 has no agent routes).

Paid submissions (E2, E11) are never repeated when their outcome is unknown
(:class:`SubmissionUnknownError`); for E11 the agent's runs are listed (E12) first, and a run
made from our upload is re-attached instead. Jobs are journaled under a content key (sha256 of
schema, config, agent and input), so a re-run re-attaches instead of paying again.

The SDK is used for one thing only: checking an ExtractConfig's values before anything is sent.
Request and answer shapes (inputs, agents, content keys, usage) live in :mod:`.wire`; what
every v1 call needs (project parameters, polls, results) in :mod:`.v1_core`; agents in
:mod:`.agents`; the queue in :mod:`.agent_queue`.

Example:
    >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
    >>> client.extract(schema, {"extraction_mode": "FAST"}, text="Invoice 42 ...").data  # doctest: +SKIP
    {'number': '42'}
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import ConfigError
from llama_index_cloudkit.extract.agent_queue import QueuedExtraction
from llama_index_cloudkit.extract.wire import (
    MIME_TYPES,
    AgentInfo,
    ExtractInput,
    ExtractResult,
    agent_info,
    content_key,
    job_id_of,
)
from llama_index_cloudkit.settings import check_keywords

__all__ = [
    "MIME_TYPES",
    "AgentInfo",
    "ExtractClient",
    "ExtractResult",
    "agent_info",
    "check_config",
    "content_key",
]


def check_config(config: Mapping[str, Any]) -> dict[str, Any]:
    """An ExtractConfig as a dict, its keys and values checked before anything is sent.

    Raises:
        ConfigError: an unknown key ("did you mean ...?") or a value LlamaExtract refuses.

    Example:
        >>> check_config({"extraction_mode": "FAST"})
        {'extraction_mode': 'FAST'}
    """
    model = require("llama_cloud.types", "core", package="llama-cloud").ExtractConfig
    check_keywords(config, model.__fields__, "ExtractConfig")
    try:
        model(**config)
    except ValueError as exc:  # pydantic.v1's ValidationError
        text = " ".join(str(exc).split())
        raise ConfigError(
            f"ExtractConfig refused: {text[:400]}", hint="Fix config=...; nothing was sent"
        ) from None
    return {str(k): getattr(v, "value", v) for k, v in config.items()}


class ExtractClient(QueuedExtraction):
    """LlamaExtract calls with our settings, our transport, our journal and our errors.

    Each public coroutine opens its own :class:`CloudSession` in the running loop; each sync
    method runs the coroutine on a fresh loop (safe inside a running one). No client outlives
    its loop, so calls from any number of event loops and threads work.

    Args:
        settings: key, endpoint, project and organization.
        policy: retries, timeouts, job deadline and polling (default: :class:`CloudPolicy`).
        journal: where job ids are written before polling (default: ``journal.sqlite`` in the
            cache directory; None disables re-attaching).
        transport: the HTTP transport under the core's resilient one (tests:
            ``httpx.MockTransport``); default: a real connection pool per event loop.

    Example:
        >>> client = ExtractClient(CloudKitSettings(api_key="llx-..."))  # doctest: +SKIP
        >>> client.list_agents()  # doctest: +SKIP
        [{'name': 'terms', 'id': 'agent-...', 'fields': ['days']}]
    """

    _v2: Any = None  # the Extract v2 client, made on first use when settings.api_version == "v2"

    # --- stateless extraction ------------------------------------------------------------------

    async def _extract(
        self,
        session: CloudSession,
        schema: dict[str, Any],
        config: Mapping[str, Any],
        source: ExtractInput,
    ) -> ExtractResult:
        if self.settings.api_version == "v2":  # Extract v2: same call, the v2 routes
            from llama_index_cloudkit.extract.cloud_v2 import ExtractV2Client

            if self._v2 is None:
                self._v2 = ExtractV2Client(self.settings, self.policy, journal=self.journal)
            return await self._v2.extract_in_session(session, schema, config, source)
        body: dict[str, Any] = {"config": dict(config)}
        if source.is_text:
            body["text"] = source.data.decode()
        else:
            body["file"] = {"data": base64.b64encode(source.data).decode(), "mime_type": source.mime_type()}
        key = content_key("stateless", schema, config, source.data)
        file = source.label

        async def submit() -> str:
            body["data_schema"] = await self._validated_schema(session, schema)
            answer = await session.json(
                "POST",
                "/api/v1/extraction/run",
                what="Submitting the extraction",
                file=file,
                idempotent=False,  # paid: never repeated blindly
                rate_limited=True,
                json=body,
                params=await self._params(session),
            )
            return job_id_of(answer, "Submitting the extraction", source.label)

        return await self._extract_job(
            session, submit, key=key, label=source.label, reattach=self._reattach(config)
        )
