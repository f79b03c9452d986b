"""What goes over the wire for LlamaExtract: inputs, agents, results, content keys, usage.

Plain data and pure functions, no HTTP: :mod:`.cloud` sends them through the cloud core.

Example:
    >>> ExtractInput.of(None, "Invoice 42").file_name.startswith("text_input_")
    True
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index_cloudkit.errors import ConfigError, ServiceError, UnsupportedFileError

__all__ = [
    "MIME_TYPES",
    "AgentInfo",
    "ExtractInput",
    "ExtractResult",
    "agent_info",
    "agent_summary",
    "content_key",
    "job_id_of",
    "usage_of",
]

# What stateless LlamaExtract accepts inline (the SDK's own map).
MIME_TYPES = {
    ".txt": "text/plain",
    ".csv": "text/csv",
    ".json": "application/json",
    ".html": "text/html",
    ".htm": "text/html",
    ".md": "text/markdown",
    ".pdf": "application/pdf",
    ".docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    ".xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    ".png": "image/png",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
}


@dataclass
class ExtractResult:
    """What an extraction produced: the data and what LlamaExtract said about it.

    Example:
        >>> ExtractResult({"a": 1}, job_id="j").data
        {'a': 1}
    """

    data: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    run_id: str | None = None
    reattached: bool = False
    usage: dict[str, Any] | None = None


@dataclass(frozen=True)
class AgentInfo:
    """A saved extraction agent: what this package needs of it.

    Example:
        >>> AgentInfo("agent-1", "terms", {"type": "object"}, {}).name
        'terms'
    """

    id: str
    name: str
    data_schema: dict[str, Any]
    config: dict[str, Any]


def _plain(value: Any) -> Any:
    """An SDK model, enum or mapping as plain JSON-ready data."""
    for method in ("model_dump", "dict"):
        dump = getattr(value, method, None)
        if callable(dump) and not isinstance(value, dict):
            try:
                return _plain(dump(exclude_unset=True))
            except TypeError:
                return _plain(dump())
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return getattr(value, "value", value)


def agent_info(agent: Any) -> AgentInfo:
    """An :class:`AgentInfo` from an SDK ExtractionAgent, an ExtractAgent body or a dict.

    Raises:
        ConfigError: the object has no agent id.

    Example:
        >>> agent_info({"id": "agent-1", "name": "terms", "data_schema": {}, "config": {}}).id
        'agent-1'
    """
    if isinstance(agent, AgentInfo):
        return agent

    def read(name: str) -> Any:
        return agent.get(name) if isinstance(agent, Mapping) else getattr(agent, name, None)

    agent_id = read("id")
    if not agent_id:
        raise ConfigError(
            f"{type(agent).__name__} is not an extraction agent (it has no id)",
            hint="Pass an ExtractionAgent, an agent's name, or schema=...",
        )
    schema = _plain(read("data_schema") or {})
    config = _plain(read("config") or {})
    return AgentInfo(str(agent_id), str(read("name") or agent_id), dict(schema), dict(config))


def content_key(kind: str, schema: Mapping[str, Any], config: Mapping[str, Any], payload: bytes) -> str:
    """The journal key of one extraction: sha256 of what decides its result.

    Example:
        >>> content_key("text", {}, {}, b"x") == content_key("text", {}, {}, b"x")
        True
    """
    head = json.dumps({"kind": kind, "schema": schema, "config": config}, sort_keys=True, default=str)
    digest = hashlib.sha256(head.encode() + b"\0" + payload).hexdigest()
    return f"extract:{digest}"


@dataclass(frozen=True)
class ExtractInput:
    """One extraction input: a file (path and bytes) or a text (sent as ``text_input_<8hex>.txt``).

    Example:
        >>> ExtractInput.of(None, "x").label
        'text input'
    """

    label: str
    data: bytes
    file_name: str
    is_text: bool

    @classmethod
    def of(cls, file_path: str | os.PathLike[str] | None, text: str | None) -> ExtractInput:
        """Read exactly one of a file and a text (ConfigError otherwise)."""
        if (file_path is None) == (text is None):
            raise ConfigError("Pass exactly one of file_path and text")
        if text is not None:
            digest = hashlib.sha256(text.encode()).hexdigest()[:8]
            return cls("text input", text.encode(), f"text_input_{digest}.txt", True)
        path = Path(file_path)  # type: ignore[arg-type]
        try:
            data = path.read_bytes()
        except OSError as exc:
            raise ConfigError(f"Cannot read the file: {exc.strerror or exc}", file=path) from None
        return cls(os.fspath(path), data, path.name, False)

    def mime_type(self) -> str:
        """The mime type stateless LlamaExtract needs (UnsupportedFileError for other suffixes)."""
        suffix = Path(self.file_name).suffix.lower()
        if suffix not in MIME_TYPES:
            raise UnsupportedFileError(
                f"LlamaExtract does not read {suffix or 'files without a suffix'} inline",
                file=self.label,
                hint="Supported: " + ", ".join(sorted(s[1:] for s in MIME_TYPES)),
            )
        return MIME_TYPES[suffix]


def job_id_of(body: Mapping[str, Any], what: str, label: str) -> str:
    """The job id of a submission's answer; an answer without one is a ServiceError.

    Example:
        >>> job_id_of({"id": "job-1"}, "Submitting", "a.pdf")
        'job-1'
    """
    job_id = body.get("id")
    if not isinstance(job_id, str) or not job_id:
        raise ServiceError(f"{what} got an answer without a job id", file=label)
    return job_id


def usage_of(run: Mapping[str, Any]) -> dict[str, Any] | None:
    """Usage and credits the service reported for a run (``usage`` merged with credit fields).

    Example:
        >>> usage_of({"extraction_metadata": {"usage": {"num_pages_extracted": 2}}, "credits": 3})
        {'num_pages_extracted': 2, 'credits': 3}
    """
    metadata = run.get("extraction_metadata")
    sources = [run, metadata] if isinstance(metadata, Mapping) else [run]
    found: dict[str, Any] = {}
    for source in sources:
        usage = source.get("usage")
        if isinstance(usage, Mapping):
            found.update(usage)
    for source in sources:
        for key in ("credits", "credits_used", "num_pages_extracted"):
            if source.get(key) is not None:
                found[key] = source[key]
    return found or None


def agent_summary(agent: AgentInfo) -> dict[str, Any]:
    """An agent as the LLM sees it in a listing: name, id, field names.

    Example:
        >>> agent_summary(AgentInfo("a-1", "terms", {"properties": {"days": {}}}, {}))
        {'name': 'terms', 'id': 'a-1', 'fields': ['days']}
    """
    fields = agent.data_schema.get("properties", {}) if isinstance(agent.data_schema, dict) else {}
    return {"name": agent.name, "id": agent.id, "fields": sorted(fields)}
