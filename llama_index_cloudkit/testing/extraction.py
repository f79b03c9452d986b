"""The emulator's extraction state: agents, jobs and runs (part of EmulatorState)."""

from __future__ import annotations

import threading
import time
import uuid
from collections import deque
from collections.abc import Callable
from typing import Any

from llama_index_cloudkit.testing.fixtures import ServedFixtures
from llama_index_cloudkit.testing.jobs import DEFAULT_PROJECT, JobScript, NotFound, ScriptedJob

__all__ = ["ExtractResponder", "ExtractionState", "empty_like", "field_metadata"]

ExtractResponder = Callable[[dict[str, Any], dict[str, Any], str], Any]


def empty_like(schema: dict[str, Any]) -> Any:
    """Data shaped like a JSON schema: objects with every property, empty lists, nulls.

    Example:
        >>> empty_like({"type": "object", "properties": {"a": {"type": "array"}, "b": {}}})
        {'a': [], 'b': None}
    """
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        return {name: empty_like(sub) for name, sub in schema.get("properties", {}).items()}
    if kind == "array":
        return []
    for key in ("anyOf", "oneOf"):
        options = [s for s in schema.get(key, []) if s.get("type") != "null"]
        if options and len(options) == len(schema[key]):
            return empty_like(options[0])
    return None


def _citation(value: Any, pages: list[str]) -> list[dict[str, Any]]:
    if value is None or isinstance(value, (dict, list)) or str(value).strip() == "":
        return []
    needle = str(value).strip().lower()
    for number, page in enumerate(pages, start=1):
        if needle in page.lower():
            return [{"page": number, "matching_text": str(value).strip()}]
    return []


def field_metadata(data: Any, pages: list[str], config: dict[str, Any]) -> dict[str, Any]:
    """``extraction_metadata.field_metadata`` as LlamaExtract reports it, for the flags set.

    Per top-level field: ``citation`` (``cite_sources``: the page where the value's text
    occurs), ``confidence`` and ``extraction_confidence`` (``confidence_scores``: 0.95 when the
    value is found in the document, else 0.5) and ``reasoning`` (``use_reasoning``).

    Example:
        >>> field_metadata({"title": "Care"}, ["Llama Care"], {"cite_sources": True})
        {'title': {'citation': [{'page': 1, 'matching_text': 'Care'}]}}
    """
    if not isinstance(data, dict):
        return {}
    answer: dict[str, Any] = {}
    for name, value in data.items():
        found = _citation(value, pages)
        entry: dict[str, Any] = {}
        if config.get("cite_sources"):
            entry["citation"] = found
        if config.get("confidence_scores"):
            entry["confidence"] = entry["extraction_confidence"] = 0.95 if found else 0.5
        if config.get("use_reasoning"):
            where = f"page {found[0]['page']}" if found else "no page of the document"
            entry["reasoning"] = f"Emulated: the value was found on {where}."
        answer[name] = entry
    return answer


_METADATA_FLAGS = ("cite_sources", "confidence_scores", "use_reasoning")


class ExtractionState:
    """Extraction agents, jobs and runs; mixed into EmulatorState, which sets the fields."""

    _lock: threading.RLock
    agents: dict[str, dict[str, Any]]
    extract_jobs: dict[str, dict[str, Any]]
    extract_runs: dict[str, dict[str, Any]]
    extract_script: JobScript
    _extract_queue: deque[JobScript]
    extract_responder: ExtractResponder | None
    _scripts: dict[str, ScriptedJob]
    fixtures: ServedFixtures

    def create_agent(
        self, name: str, schema: dict[str, Any], config: dict[str, Any], project_id: str | None
    ) -> dict[str, Any]:
        """Create an extraction agent; a duplicate name raises ValueError (409)."""
        with self._lock:
            if any(a["name"] == name for a in self.agents.values()):
                raise ValueError(f"An extraction agent named {name!r} already exists")
            agent_id = f"agent-{uuid.uuid4()}"
            agent: dict[str, Any] = {
                "id": agent_id,
                "name": name,
                "data_schema": schema,
                "config": config,
                "project_id": project_id or DEFAULT_PROJECT["id"],
            }
            self.agents[agent_id] = agent
            return agent

    def get_agent(self, agent_id: str) -> dict[str, Any]:
        """An agent by id, or NotFound."""
        try:
            return self.agents[agent_id]
        except KeyError:
            raise NotFound(agent_id) from None

    def agent_by_name(self, name: str) -> dict[str, Any]:
        """An agent by name, or NotFound."""
        for agent in self.agents.values():
            if agent["name"] == name:
                return agent
        raise NotFound(name)

    def create_extract_job(
        self,
        agent: dict[str, Any],
        schema: dict[str, Any],
        config: dict[str, Any],
        text: str,
        file_id: str | None,
        pages: list[str] | None = None,
    ) -> dict[str, Any]:
        """Register an extraction job and its run; the run's data comes from the responder.

        ``pages`` (the document's pages, default ``[text]``) place citations on pages.
        """
        with self._lock:
            script = self._extract_queue.popleft() if self._extract_queue else self.extract_script
            job_id = f"exjob-{uuid.uuid4()}"
            job = {
                "id": job_id,
                "status": "PENDING",
                "extraction_agent": agent,
                "file_id": file_id,
                "error": None,
            }
            self.extract_jobs[job_id] = job
            self._scripts[job_id] = ScriptedJob(id=job_id, script=script, created=time.monotonic())
            data: Any
            metadata: dict[str, Any]
            fixture = self.fixtures.next("extract")
            if fixture is not None:
                body = fixture.fresh()
                data = body.get("data")
                metadata = dict(body.get("extraction_metadata") or {})
            elif self.extract_responder is not None:
                data = self.extract_responder(schema, config, text)
                metadata = {"emulated": True, "responder": True}
            else:
                data = empty_like(schema)
                metadata = {
                    "emulated": True,
                    "note": "llama_index_cloudkit emulator: data shaped like the schema",
                }
            if fixture is None and any(config.get(flag) for flag in _METADATA_FLAGS):
                metadata["field_metadata"] = field_metadata(data, pages or [text], config)
            run = {
                "id": f"run-{uuid.uuid4()}",
                "extraction_agent_id": agent["id"],
                "project_id": agent.get("project_id", DEFAULT_PROJECT["id"]),
                "config": config,
                "data_schema": schema,
                "from_ui": False,
                "status": "PENDING",
                "data": data,
                "extraction_metadata": metadata,
                "job_id": job_id,
                "file_id": file_id,
                "error": None,
            }
            self.extract_runs[run["id"]] = run
            return job

    def poll_extract_job(self, job_id: str) -> dict[str, Any]:
        """The ExtractJob answer for one poll."""
        with self._lock:
            if job_id not in self.extract_jobs:
                raise NotFound(job_id)
            job = self.extract_jobs[job_id]
            status = self._scripts[job_id].current_status()
            job["status"] = status
            if status not in ("PENDING", "SUCCESS"):
                job["error"] = self._scripts[job_id].script.error_message or f"Job {status}"
            return job

    def run_for_job(self, job_id: str) -> dict[str, Any]:
        """The ExtractRun of a job, with its status following the job's."""
        with self._lock:
            for run in self.extract_runs.values():
                if run["job_id"] == job_id:
                    job_status = self.extract_jobs[job_id]["status"]
                    run["status"] = {"SUCCESS": "SUCCESS", "PENDING": "PENDING"}.get(job_status, "ERROR")
                    if run["status"] == "ERROR":
                        run["error"] = self.extract_jobs[job_id]["error"]
                        run["data"] = None
                    return run
            raise NotFound(job_id)
