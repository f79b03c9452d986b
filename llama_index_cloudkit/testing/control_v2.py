"""FakeLlamaCloud's controls for the current API (v2): its state, job scripts, fixtures, indexes.

Example:
    >>> fake.script_v2_parse_jobs("FAILED", count=1, error_message="PDF is broken")  # doctest: +SKIP
    >>> fake.add_v2_index("handbook", [{"text": "Llamas eat hay."}])["id"]  # doctest: +SKIP
    'pipe-...'
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llama_index_cloudkit.testing.state import EmulatorState
from llama_index_cloudkit.testing.v2_jobs import V2JobScript
from llama_index_cloudkit.testing.v2_retrieval import index_json
from llama_index_cloudkit.testing.v2_state import V2State, v2_state_of

__all__ = ["V2Controls"]


class V2Controls:
    """The v2 side of the emulator (a base of :class:`FakeLlamaCloud`; needs its ``state``).

    Example:
        >>> job = next(iter(fake.v2.parse_jobs.values()))  # doctest: +SKIP
    """

    state: EmulatorState

    @property
    def v2(self) -> V2State:
        """The v2 state: ``parse_jobs`` / ``extract_jobs`` (each with ``request``, what the client
        sent, and for parse jobs ``gets``, the ``expand`` list of each GET), ``configurations``.

        Example:
            >>> job = next(iter(fake.v2.parse_jobs.values()))  # doctest: +SKIP
            >>> job.request["tier"], job.gets[-1]  # doctest: +SKIP
            ('agentic', ['markdown', 'metadata'])
        """
        return v2_state_of(self.state)

    def script_v2_parse_jobs(
        self,
        status: str = "COMPLETED",
        *,
        count: int | None = None,
        pending_polls: int = 0,
        running_polls: int = 0,
        running_seconds: float = 0.0,
        stuck: bool = False,
        error_message: str | None = None,
        failed_pages: tuple[int, ...] = (),
        page_error: str = "Emulated page failure",
    ) -> None:
        """How the next ``count`` Parse v2 jobs (every later one when None) behave.

        Args:
            status: the final status: ``COMPLETED``, ``FAILED`` or ``CANCELLED``.
            count: how many jobs follow the script; None for every later job.
            pending_polls: GETs answered ``PENDING`` first.
            running_polls: GETs answered ``RUNNING`` next.
            running_seconds: seconds after creation during which GETs answer ``RUNNING``.
            stuck: ``RUNNING`` forever (until cancelled).
            error_message: the job's ``error_message`` when it ends ``FAILED``.
            failed_pages: 1-based pages reported ``success: false`` in a ``COMPLETED`` job.
            page_error: the ``error`` of those pages.

        Example:
            >>> fake.script_v2_parse_jobs("FAILED", count=1, error_message="PDF is broken")  # doctest: +SKIP
            >>> fake.script_v2_parse_jobs(failed_pages=(2,))  # doctest: +SKIP
        """
        script = V2JobScript(
            status,
            pending_polls,
            running_polls,
            running_seconds,
            stuck,
            error_message,
            tuple(failed_pages),
            page_error,
        )
        self.v2.script_jobs("parse", script, count)

    def script_v2_extract_jobs(
        self,
        status: str = "COMPLETED",
        *,
        count: int | None = None,
        pending_polls: int = 0,
        running_polls: int = 0,
        running_seconds: float = 0.0,
        stuck: bool = False,
        error_message: str | None = None,
    ) -> None:
        """How the next ``count`` Extract v2 jobs (every later one when None) behave.

        Same arguments as :meth:`script_v2_parse_jobs` (there are no pages to fail).

        Example:
            >>> fake.script_v2_extract_jobs(stuck=True, count=1)  # doctest: +SKIP
        """
        script = V2JobScript(status, pending_polls, running_polls, running_seconds, stuck, error_message)
        self.v2.script_jobs("extract", script, count)

    def serve_v2_fixture(
        self, body: Mapping[str, Any] | str | Path, *, kind: str = "parse", count: int | None = None
    ) -> None:
        """Answer the next ``count`` v2 jobs of ``kind`` (every later one when None) with ``body``.

        - ``parse``: the sections of a ``GET /api/v2/parse/{job_id}`` answer (``markdown``,
          ``text``, ``items``, ``metadata``, ``job_metadata``, ``usage``, ...); each GET answers
          the live ``job`` plus the sections its ``expand`` names that the body has.
        - ``extract``: ``{extract_result, extract_metadata?, usage?}`` of the ExtractV2Job.
        - ``retrieve``: a whole ``{results: [...]}`` answer of ``POST /api/v1/retrieval/retrieve``.

        v1 fixtures (:meth:`serve_fixture`) apply to v2 jobs as well when no v2 fixture is queued:
        a parse ``result/json`` body is mapped to v2 sections, an extract run's ``data`` and
        ``extraction_metadata.field_metadata`` become ``extract_result`` and
        ``document_metadata``, a retrieve body's ``retrieval_nodes`` become ``results``.

        Example:
            >>> fake.serve_v2_fixture({"markdown": {"pages": [  # doctest: +SKIP
            ...     {"page_number": 1, "markdown": "# Hi", "success": True}]}}, count=1)
        """
        self.v2.fixtures.add(kind, body, count=count)

    def add_v2_index(
        self, name: str, documents: list[Mapping[str, Any]], *, project_id: str | None = None
    ) -> dict[str, Any]:
        """An Index v2 index (an emulated pipeline) holding ``documents``; returns the index object.

        Each document is ``{"text": ..., "metadata": {...}, "id": ...?}``; give ``file_id`` and
        ``page_number`` in the metadata to see them as ``parsed_directory_file_id`` and
        ``page_range_start`` in results. An index of that name in the project is extended.

        Example:
            >>> index = fake.add_v2_index("handbook", [{"text": "Llamas eat hay.",  # doctest: +SKIP
            ...                                         "metadata": {"topic": "food"}}])
            >>> index["id"]  # doctest: +SKIP
            'pipe-...'
        """
        store = self.state.pipelines
        pipeline = store.upsert_pipeline(name, project_id or self.state.projects[0]["id"])
        store.upsert_documents(pipeline["id"], [dict(d) for d in documents])
        return index_json(pipeline, self.v2.index_meta.get(pipeline["id"]))
