"""FakeLlamaCloud's v1 controls: job scripts, extraction answers, projects and served fixtures.

Example:
    >>> fake.script_parse_jobs("ERROR", count=1, error_code="PDF_IS_BROKEN")  # doctest: +SKIP
    >>> fake.serve_fixture("tests/fixtures/llamacloud/parse_tables.json")  # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from llama_index_cloudkit.testing.extraction import ExtractResponder
from llama_index_cloudkit.testing.jobs import JobScript
from llama_index_cloudkit.testing.state import EmulatorState

__all__ = ["V1Controls"]


class V1Controls:
    """How v1 jobs behave and what they answer (a base of :class:`FakeLlamaCloud`; needs ``state``).

    Example:
        >>> fake.on_extract(lambda schema, config, text: {"title": text.split()[0]})  # doctest: +SKIP
    """

    state: EmulatorState

    def script_parse_jobs(
        self,
        status: str = "SUCCESS",
        *,
        count: int | None = None,
        pending_polls: int = 0,
        pending_seconds: float = 0.0,
        stuck: bool = False,
        error_code: str | None = None,
        error_message: str | None = None,
    ) -> None:
        """How the next ``count`` parse jobs (all future ones when None) behave.

        Example:
            >>> fake.script_parse_jobs("ERROR", count=1, error_code="PDF_IS_BROKEN")  # doctest: +SKIP
        """
        self.state.script_parse_jobs(
            JobScript(status, pending_polls, pending_seconds, stuck, error_code, error_message),
            count,
        )

    def script_extract_jobs(
        self,
        status: str = "SUCCESS",
        *,
        count: int | None = None,
        pending_polls: int = 0,
        pending_seconds: float = 0.0,
        stuck: bool = False,
        error_message: str | None = None,
    ) -> None:
        """How the next ``count`` extraction jobs (all future ones when None) behave.

        Example:
            >>> fake.script_extract_jobs("ERROR", count=1, error_message="Bad schema")  # doctest: +SKIP
        """
        self.state.script_extract_jobs(
            JobScript(status, pending_polls, pending_seconds, stuck, None, error_message), count
        )

    def on_extract(self, responder: ExtractResponder | None) -> None:
        """Answer extractions with ``responder(schema, config, document_text)``'s return value.

        Example:
            >>> fake.on_extract(lambda schema, config, text: {"title": text.split()[0]})  # doctest: +SKIP
        """
        self.state.extract_responder = responder

    # --- projects ------------------------------------------------------------------------------

    def add_project(self, name: str, project_id: str | None = None) -> dict[str, Any]:
        """Add a project beside ``Default`` (for code that opens indexes by ``project_name``).

        Example:
            >>> fake.add_project("framework_integration_test")["organization_id"]  # doctest: +SKIP
            'org-0000-fake'
        """
        return self.state.add_project(name, project_id)

    # --- served fixtures -----------------------------------------------------------------------

    def serve_fixture(
        self,
        body: Mapping[str, Any] | str | Path,
        *,
        kind: str = "parse",
        count: int | None = None,
        images: Mapping[str, bytes] | None = None,
    ) -> None:
        """Answer the next ``count`` jobs (every later one when None) with ``body``.

        Args:
            body: the response body, or the path of a JSON file holding it.
            kind: ``"parse"``: a ``result/json`` body (pages, items, images...); the job
                still follows its script (``script_parse_jobs``), the local parser is not run,
                and the markdown / text results are joined from the body's pages. Keys the SDK
                adds on the client (``job_id``, ``file_path`` from ``get_json_result``) are dropped.
                ``"extract"``: an ExtractRun-shaped body; the run reports its ``data`` and
                ``extraction_metadata`` (citations, for example). ``"retrieve"``: a
                RetrieveResults body, answered for the pipeline that was asked.
            count: how many jobs (or retrievals) answer with it; None for all later ones.
            images: bytes for image names the body lists (the others are served as a 1x1 PNG).

        Example:
            >>> fake.serve_fixture("tests/fixtures/llamacloud/parse_tables.json")  # doctest: +SKIP
            >>> docs = CloudKitReader().load_data("report.pdf")  # built from the fixture  # doctest: +SKIP
        """
        self.state.fixtures.add(kind, body, count=count, images=images)

    def serve_url(self, url: str, data: bytes) -> None:
        """The bytes ``PUT /api/v1/files/upload_from_url`` stores for ``url`` (nothing is fetched).

        Example:
            >>> fake.serve_url("https://example.com/a.pdf", pdf_bytes)  # doctest: +SKIP
        """
        self.state.url_contents[url] = bytes(data)
