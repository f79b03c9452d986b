"""The control plane: what a test tells the emulator and asks it, apart from the emulated API.

:class:`ControlPlane` owns the emulator's state and its :class:`~.gatekeeper.Gatekeeper`, and is
what tests drive: the request log (``requests``, ``count``, ``sent_json``, ``unexpected``),
faults (``add_fault``, ``fail``, ``drop``, ``rate_limit``), how jobs behave
(``script_parse_jobs``, ``script_v2_parse_jobs``...), what they answer (``serve_fixture``,
``on_extract``, ``add_v2_index``...) and ``reset``. :class:`~.server.FakeLlamaCloud` serves it
over HTTP on 127.0.0.1.

Answers a fault rule injects are marked as such in the request log, so the ``fake_llamacloud``
fixture's teardown does not fail a test for them.

Example:
    >>> plane = ControlPlane()
    >>> plane.fail("GET", r"/api/parsing/job/.*", 503, times=2).remaining
    2
    >>> plane.script_parse_jobs("ERROR", count=1, error_code="PDF_IS_BROKEN")
    >>> job = plane.state.create_parse_job(b"hello", "a.txt", form={}, query={})
    >>> plane.state.poll_parse_job(job.id)["error_code"]
    'PDF_IS_BROKEN'
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

from llama_index_cloudkit.testing.app import build_app
from llama_index_cloudkit.testing.gatekeeper import FaultRule, Gatekeeper, RateLimiter, RecordedRequest
from llama_index_cloudkit.testing.jobs import JobScript
from llama_index_cloudkit.testing.state import EmulatorState
from llama_index_cloudkit.testing.v1.extract import ExtractResponder
from llama_index_cloudkit.testing.v2.jobs import V2JobScript
from llama_index_cloudkit.testing.v2.retrieval import index_json
from llama_index_cloudkit.testing.v2.state import V2State

__all__ = ["ControlPlane"]


class ControlPlane:
    """The emulator's state and gatekeeper, and the controls tests use on them.

    Args:
        api_key: the key clients must send as ``Authorization: Bearer ...``.
        connection_close: answer ``Connection: close`` on every response.

    Example:
        >>> plane = ControlPlane()
        >>> plane.count("POST", "/api/parsing/upload"), plane.unexpected()
        (0, [])
    """

    def __init__(self, api_key: str = "llx-fake-emulator-key", connection_close: bool = False) -> None:
        self.api_key = api_key
        self.state = EmulatorState()
        self._gate = Gatekeeper(build_app(self.state), api_key=api_key, connection_close=connection_close)

    def reset(self) -> None:
        """Forget all state (v1 and v2), faults, rate limits, served fixtures and the request log.

        Example:
            >>> plane = ControlPlane()
            >>> _ = plane.fail()
            >>> plane.reset()
            >>> plane._gate.faults
            []
        """
        self.state.reset()
        self._gate.faults.clear()
        self._gate.rate_limiter = None
        self._gate.clear_log()

    # --- the request log -----------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (the key is redacted in the headers).

        Example:
            >>> import httpx
            >>> from llama_index_cloudkit.testing.server import FakeLlamaCloud
            >>> with FakeLlamaCloud() as fake:
            ...     _ = httpx.get(fake.base_url + "/api/v1/projects")  # no key: 401
            >>> fake.requests[-1].path, fake.requests[-1].status, fake.requests[-1].source
            ('/api/v1/projects', 401, 'auth')
        """
        return list(self._gate.requests)

    def _matching(self, method: str, path: str, regex: bool) -> Iterator[RecordedRequest]:
        """The logged requests with ``method`` and ``path`` (exact, or a full regex match)."""
        pattern = re.compile(path) if regex else None
        for r in self._gate.requests:
            if r.method == method.upper() and (pattern.fullmatch(r.path) if pattern else r.path == path):
                yield r

    def sent_json(self, method: str, path: str, *, regex: bool = False) -> list[Any]:
        """The JSON bodies of the requests that matched ``method`` and ``path``, in order, as sent.

        Bodies are parsed from the bytes on the wire, so ``0``, ``0.0``, ``False`` and ``null``
        keep their types (a multipart body is None: see :attr:`v2` for a v2 upload's
        configuration).

        Example:
            >>> import httpx
            >>> from llama_index_cloudkit.testing.server import FakeLlamaCloud
            >>> with FakeLlamaCloud() as fake:
            ...     _ = httpx.put(fake.base_url + "/api/v1/pipelines", json={"name": "docs", "n": 0.0},
            ...                   headers={"Authorization": f"Bearer {fake.api_key}"})
            >>> fake.sent_json("PUT", "/api/v1/pipelines")
            [{'name': 'docs', 'n': 0.0}]
        """
        return [r.json for r in self._matching(method, path, regex)]

    def count(self, method: str, path: str, *, regex: bool = False) -> int:
        """How many requests matched ``method`` and ``path`` (exact, or a full regex match).

        Example:
            >>> import httpx
            >>> from llama_index_cloudkit.testing.server import FakeLlamaCloud
            >>> with FakeLlamaCloud() as fake:
            ...     for job in ("a", "b"):
            ...         _ = httpx.get(f"{fake.base_url}/api/parsing/job/{job}")
            >>> fake.count("GET", r"/api/parsing/job/[^/]+", regex=True)
            2
        """
        return sum(1 for _ in self._matching(method, path, regex))

    def unexpected(
        self, *, allow_not_emulated: bool = False, allow_errors: bool = False
    ) -> list[RecordedRequest]:
        """Requests a test did not ask for: 5xx answers no fault rule injected, and 501s.

        The ``fake_llamacloud`` fixture fails a test whose log holds any (see its marker).

        Example:
            >>> import httpx
            >>> from llama_index_cloudkit.testing.server import FakeLlamaCloud
            >>> with FakeLlamaCloud() as fake:
            ...     _ = httpx.get(fake.base_url + "/api/v1/organizations",
            ...                   headers={"Authorization": f"Bearer {fake.api_key}"})
            >>> [(r.path, r.status) for r in fake.unexpected()]
            [('/api/v1/organizations', 501)]
        """
        found = []
        for request in self._gate.requests:
            if request.status is None or request.injected:
                continue
            if request.source == "not_emulated":
                if not allow_not_emulated:
                    found.append(request)
            elif request.status >= 500 and not allow_errors:
                found.append(request)
        return found

    # --- faults --------------------------------------------------------------------------------

    def add_fault(
        self,
        method: str = "*",
        path: str = ".*",
        *,
        status: int | None = None,
        body: Any = None,
        times: int | None = None,
        delay: float = 0.0,
        retry_after: float | None = None,
        drop: bool = False,
        trickle: float = 0.0,
        malformed: dict[str, Any] | None = None,
    ) -> FaultRule:
        """Inject a fault for requests matching ``method`` and the ``path`` regex.

        Example:
            >>> import httpx
            >>> from llama_index_cloudkit.testing.server import FakeLlamaCloud
            >>> with FakeLlamaCloud() as fake:
            ...     rule = fake.add_fault("GET", "/api/v1/projects", status=429, retry_after=2, times=1)
            ...     answer = httpx.get(fake.base_url + "/api/v1/projects",
            ...                        headers={"Authorization": f"Bearer {fake.api_key}"})
            >>> answer.status_code, answer.headers["retry-after"], rule.remaining
            (429, '2', 0)
        """
        rule = FaultRule(
            method=method.upper(),
            path=path,
            status=status,
            body=body,
            times=times,
            delay=delay,
            retry_after=retry_after,
            drop=drop,
            trickle=trickle,
            malformed=malformed,
        )
        self._gate.faults.append(rule)
        return rule

    def fail(
        self,
        method: str = "*",
        path: str = ".*",
        status: int = 500,
        *,
        times: int | None = 1,
        body: Any = None,
        retry_after: float | None = None,
    ) -> FaultRule:
        """Answer the next ``times`` matching requests (every one when None) with ``status``.

        A shorthand for :meth:`add_fault`; the answers count as injected, so the fixture's
        teardown does not fail the test for them.

        Example:
            >>> ControlPlane().fail("GET", r"/api/parsing/job/.*", 503, times=2).remaining
            2
        """
        return self.add_fault(method, path, status=status, body=body, times=times, retry_after=retry_after)

    def drop(self, method: str = "*", path: str = ".*", *, times: int | None = 1) -> FaultRule:
        """Close the connection without an answer on the next ``times`` matching requests.

        Example:
            >>> ControlPlane().drop("POST", "/api/parsing/upload").drop
            True
        """
        return self.add_fault(method, path, drop=True, times=times)

    def clear_faults(self) -> None:
        """Remove every fault rule.

        Example:
            >>> plane = ControlPlane()
            >>> _ = plane.fail()
            >>> plane.clear_faults()
            >>> plane.fail().remaining  # only the new rule is left
            1
        """
        self._gate.faults.clear()

    def rate_limit(self, limit: int, window: float) -> None:
        """Answer 429 with Retry-After past ``limit`` requests per ``window`` seconds.

        Example:
            >>> import httpx
            >>> from llama_index_cloudkit.testing.server import FakeLlamaCloud
            >>> with FakeLlamaCloud() as fake:
            ...     fake.rate_limit(1, window=60.0)
            ...     headers = {"Authorization": f"Bearer {fake.api_key}"}
            ...     codes = [httpx.get(fake.base_url + "/api/v1/projects", headers=headers).status_code
            ...              for _ in range(2)]
            >>> codes
            [200, 429]
        """
        self._gate.rate_limiter = RateLimiter(limit, window)

    # --- v1 jobs, answers, projects and fixtures ----------------------------------------------

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
            >>> plane = ControlPlane()
            >>> plane.script_parse_jobs("ERROR", count=1, error_code="PDF_IS_BROKEN")
            >>> job = plane.state.create_parse_job(b"hello", "a.txt", form={}, query={})
            >>> plane.state.poll_parse_job(job.id)["error_code"]
            'PDF_IS_BROKEN'
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
            >>> plane = ControlPlane()
            >>> plane.script_extract_jobs("ERROR", count=1, error_message="Bad schema")
            >>> extraction = plane.state.extraction
            >>> agent = extraction.create_agent("a", {"type": "object"}, {}, None)
            >>> job = extraction.create_extract_job(agent, {"type": "object"}, {}, "text", None)
            >>> extraction.poll_extract_job(job["id"])["error"]
            'Bad schema'
        """
        self.state.extraction.script_jobs(
            JobScript(status, pending_polls, pending_seconds, stuck, None, error_message), count
        )

    def on_extract(self, responder: ExtractResponder | None) -> None:
        """Answer extractions with ``responder(schema, config, document_text)``'s return value.

        Example:
            >>> plane = ControlPlane()
            >>> plane.on_extract(lambda schema, config, text: {"title": text.split()[0]})
            >>> extraction = plane.state.extraction
            >>> agent = extraction.create_agent("a", {"type": "object"}, {}, None)
            >>> job = extraction.create_extract_job(agent, {}, {}, "Llama care", None)
            >>> extraction.run_for_job(job["id"])["data"]
            {'title': 'Llama'}
        """
        self.state.extraction.responder = responder

    # --- projects ------------------------------------------------------------------------------

    def add_project(self, name: str, project_id: str | None = None) -> dict[str, Any]:
        """Add a project beside ``Default`` (for code that opens indexes by ``project_name``).

        Example:
            >>> ControlPlane().add_project("framework_integration_test")["organization_id"]
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
            >>> plane = ControlPlane()
            >>> plane.serve_fixture({"pages": [{"page": 1, "md": "# Served", "text": "Served"}]}, count=1)
            >>> job = plane.state.create_parse_job(b"ignored", "a.txt", form={}, query={})
            >>> plane.state.parse_result(job.id)["pages"][0]["md"]
            '# Served'
        """
        self.state.fixtures.add(kind, body, count=count, images=images)

    def serve_url(self, url: str, data: bytes) -> None:
        """The bytes ``PUT /api/v1/files/upload_from_url`` stores for ``url`` (nothing is fetched).

        Example:
            >>> plane = ControlPlane()
            >>> plane.serve_url("https://example.com/a.txt", b"Llamas eat hay.")
            >>> plane.state.url_contents["https://example.com/a.txt"]
            b'Llamas eat hay.'
        """
        self.state.url_contents[url] = bytes(data)

    # --- v2 ---------------------------------------------------------------------------------------

    @property
    def v2(self) -> V2State:
        """The v2 state: ``parse_jobs`` / ``extract_jobs`` (each with ``request``, what the client
        sent, and for parse jobs ``gets``, the ``expand`` list of each GET), ``configurations``.

        Example:
            >>> plane = ControlPlane()
            >>> request = {"tier": "agentic", "version": "latest"}
            >>> job = plane.v2.create_parse_job(request, b"hi", "a.txt", None)
            >>> _ = plane.v2.poll_parse_job(job.id, ["markdown", "metadata"])
            >>> job.request["tier"], job.gets[-1]
            ('agentic', ['markdown', 'metadata'])
        """
        return self.state.v2

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
            >>> plane = ControlPlane()
            >>> plane.script_v2_parse_jobs("FAILED", count=1, error_message="PDF is broken")
            >>> job = plane.v2.create_parse_job({"tier": "fast", "version": "latest"}, b"hi", "a.txt", None)
            >>> plane.v2.poll_parse_job(job.id, []).job_json()["error_message"]
            'PDF is broken'
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
            >>> plane = ControlPlane()
            >>> plane.script_v2_extract_jobs(stuck=True, count=1)
            >>> job = plane.v2.add_extract_job({}, None, "dfl-1", {}, None)
            >>> [job.life.poll() for _ in range(3)]  # until cancelled
            ['RUNNING', 'RUNNING', 'RUNNING']
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
            >>> plane = ControlPlane()
            >>> plane.serve_v2_fixture({"markdown": {"pages": [
            ...     {"page_number": 1, "markdown": "# Hi", "success": True}]}}, count=1)
            >>> job = plane.v2.create_parse_job({"tier": "fast", "version": "latest"}, b"hi", "a.txt", None)
            >>> job.v2_fixture.body["markdown"]["pages"][0]["markdown"]
            '# Hi'
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
            >>> index = ControlPlane().add_v2_index("handbook", [{"text": "Llamas eat hay.",
            ...                                                    "metadata": {"topic": "food"}}])
            >>> index["name"], index["id"].startswith("pipe-")
            ('handbook', True)
        """
        store = self.state.pipelines
        pipeline = store.upsert_pipeline(name, project_id or self.state.projects[0]["id"])
        store.upsert_documents(pipeline["id"], [dict(d) for d in documents])
        return index_json(pipeline, self.v2.index_meta.get(pipeline["id"]))
