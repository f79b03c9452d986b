"""Served fixtures: given response bodies the emulator answers with instead of computing them.

``FakeLlamaCloud.serve_fixture`` queues them here. A parse fixture is a whole ``result/json``
body (its images are served too); an extract fixture is an ExtractRun-shaped body whose ``data``
and ``extraction_metadata`` the run reports; a retrieve fixture is a RetrieveResults body.

Example:
    >>> fixtures = ServedFixtures()
    >>> fixtures.add("parse", {"pages": []}, count=1)
    >>> fixtures.next("parse").body, fixtures.next("parse")
    ({'pages': []}, None)

A parse fixture saved from ``LlamaParse.get_json_result`` carries ``job_id`` and ``file_path``,
which the SDK adds on the client; they are dropped, since the SDK rejects them from the service.
"""

from __future__ import annotations

import copy
import json
import threading
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["CLIENT_SIDE_PARSE_KEYS", "FIXTURE_KINDS", "ServedFixture", "ServedFixtures", "load_body"]

FIXTURE_KINDS = ("parse", "extract", "retrieve")

# Keys the SDK adds to a parse result on the client (``get_json_result``) and rejects when the
# service sends them (``JobResult`` takes job_id and file_name itself): dropped from fixtures.
CLIENT_SIDE_PARSE_KEYS = ("job_id", "file_name", "file_path")


def load_body(body: Mapping[str, Any] | str | Path) -> dict[str, Any]:
    """A fixture body: a mapping (copied), or the path of a JSON file holding one.

    Example:
        >>> load_body({"pages": []})
        {'pages': []}
    """
    if isinstance(body, (str, Path)):
        loaded = json.loads(Path(body).read_text(encoding="utf-8"))
    else:
        loaded = copy.deepcopy(dict(body))
    if not isinstance(loaded, dict):
        raise TypeError(f"a fixture body must be a JSON object, got {type(loaded).__name__}")
    return loaded


@dataclass(frozen=True)
class ServedFixture:
    """One fixture: the body, and bytes for image names the body lists (parse only).

    Example:
        >>> ServedFixture({"pages": []}).fresh() == {"pages": []}
        True
    """

    body: dict[str, Any]
    images: dict[str, bytes] = field(default_factory=dict)

    def fresh(self) -> dict[str, Any]:
        """A deep copy of the body, so a job never shares it with the next one."""
        return copy.deepcopy(self.body)


class ServedFixtures:
    """Per kind, a queue of fixtures for the next jobs and one for all later jobs; thread-safe.

    Example:
        >>> fixtures = ServedFixtures()
        >>> fixtures.add("retrieve", {"retrieval_nodes": []})
        >>> fixtures.next("retrieve") is fixtures.next("retrieve")  # every later retrieval
        True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._queues: dict[str, deque[ServedFixture]] = {kind: deque() for kind in FIXTURE_KINDS}
        self._always: dict[str, ServedFixture | None] = dict.fromkeys(FIXTURE_KINDS)
        self.file_ids: set[str] = set()  # files named by served image / figure nodes

    def add(
        self,
        kind: str,
        body: Mapping[str, Any] | str | Path,
        *,
        count: int | None = None,
        images: Mapping[str, bytes] | None = None,
    ) -> None:
        """Serve ``body`` for the next ``count`` jobs of ``kind`` (every later one when None)."""
        if kind not in FIXTURE_KINDS:
            raise ValueError(f"kind must be one of {', '.join(FIXTURE_KINDS)}, not {kind!r}")
        loaded = load_body(body)
        if kind == "parse":
            for key in CLIENT_SIDE_PARSE_KEYS:
                loaded.pop(key, None)
        fixture = ServedFixture(loaded, dict(images or {}))
        if kind == "retrieve":
            named = [*(fixture.body.get("image_nodes") or []), *(fixture.body.get("page_figure_nodes") or [])]
            for node in named:
                file_id = (node.get("node") or {}).get("file_id") if isinstance(node, dict) else None
                if isinstance(file_id, str):
                    self.file_ids.add(file_id)
        with self._lock:
            if count is None:
                self._always[kind] = fixture
            else:
                self._queues[kind].extend([fixture] * count)

    def next(self, kind: str) -> ServedFixture | None:
        """The fixture the next job of ``kind`` answers with, or None to compute it."""
        with self._lock:
            queue = self._queues[kind]
            return queue.popleft() if queue else self._always[kind]

    def clear(self) -> None:
        """Serve computed answers again."""
        with self._lock:
            for kind in FIXTURE_KINDS:
                self._queues[kind].clear()
                self._always[kind] = None
            self.file_ids.clear()
