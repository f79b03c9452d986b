"""The lifecycle of the emulator's v2 jobs (Parse v2, Extract v2), cursor pages and timestamps.

A v2 job answers ``PENDING`` when created; each status poll (``GET`` of the job) then advances
its :class:`V2JobScript`: ``pending_polls`` answers ``PENDING``, ``running_polls`` answers
``RUNNING`` (or ``RUNNING`` forever when ``stuck``), then the final status (``COMPLETED`` by
default, ``FAILED`` with ``error_message``, or ``CANCELLED``). A cancelled job stays
``CANCELLED``. Listing jobs never advances them.

Example:
    >>> job = V2Job("pjb-1", V2JobScript(running_polls=1))
    >>> job.peek(), job.poll(), job.poll()
    ('PENDING', 'RUNNING', 'COMPLETED')
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from llama_index_cloudkit.testing.wire import BadRequest, detail

__all__ = [
    "TERMINAL",
    "V2_STATUSES",
    "JobStateError",
    "V2Job",
    "V2JobScript",
    "cursor_page",
    "install_v2_error_handlers",
    "now_iso",
]

V2_STATUSES = ("PENDING", "RUNNING", "COMPLETED", "FAILED", "CANCELLED")
TERMINAL = ("COMPLETED", "FAILED", "CANCELLED")
DEFAULT_PAGE_SIZE = 50
MAX_PAGE_SIZE = 1000


class JobStateError(ValueError):
    """A request the job's state forbids (cancel an ended job, delete a running one): 400.

    Example:
        >>> str(JobStateError("Job pjb-1 is RUNNING"))
        'Job pjb-1 is RUNNING'
    """


def install_v2_error_handlers(app: FastAPI) -> None:
    """Answer :class:`JobStateError` as ``400 {"detail": ...}``.

    Example:
        >>> app = FastAPI()
        >>> install_v2_error_handlers(app)
        >>> JobStateError in app.exception_handlers
        True
    """

    @app.exception_handler(JobStateError)
    async def _job_state(request: Request, exc: JobStateError) -> JSONResponse:
        return detail(str(exc), 400)


def now_iso() -> str:
    """The current UTC time in ISO-8601, as the service writes ``created_at``.

    Example:
        >>> now_iso().endswith("Z")
        True
    """
    return dt.datetime.now(dt.timezone.utc).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class V2JobScript:
    """How a v2 job behaves: its final status, how long it runs, and which pages fail.

    Args:
        status: the final status, ``COMPLETED``, ``FAILED`` or ``CANCELLED``.
        pending_polls: polls answered ``PENDING`` first.
        running_polls: polls answered ``RUNNING`` next.
        running_seconds: seconds after creation during which polls answer ``RUNNING``.
        stuck: answer ``RUNNING`` forever (until cancelled).
        error_message: the ``error_message`` of a ``FAILED`` (or ``CANCELLED``) job.
        failed_pages: 1-based page numbers a completed parse reports with ``success: false``.
        page_error: the ``error`` of those pages.

    Example:
        >>> V2JobScript(status="FAILED", error_message="PDF is broken").status
        'FAILED'
    """

    status: str = "COMPLETED"
    pending_polls: int = 0
    running_polls: int = 0
    running_seconds: float = 0.0
    stuck: bool = False
    error_message: str | None = None
    failed_pages: tuple[int, ...] = ()
    page_error: str = "Emulated page failure"

    def __post_init__(self) -> None:
        if self.status not in TERMINAL:
            raise ValueError(f"a v2 job script ends COMPLETED, FAILED or CANCELLED, not {self.status!r}")


@dataclass
class V2Job:
    """One v2 job's lifecycle (the routes keep the rest of the job beside it).

    Example:
        >>> V2Job("pjb-1", V2JobScript(stuck=True)).poll()
        'RUNNING'
    """

    id: str
    script: V2JobScript
    created: float = field(default_factory=time.monotonic)
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    polls: int = 0
    cancelled: bool = False
    status: str = "PENDING"

    def _status_after(self, polls: int) -> str:
        if self.cancelled:
            return "CANCELLED"
        if polls == 0 or polls <= self.script.pending_polls:
            return "PENDING"
        if self.script.stuck or polls <= self.script.pending_polls + self.script.running_polls:
            return "RUNNING"
        if time.monotonic() - self.created < self.script.running_seconds:
            return "RUNNING"
        return self.script.status

    def poll(self) -> str:
        """Advance the job by one status poll and return its status."""
        self.polls += 1
        return self.set_status(self._status_after(self.polls))

    def peek(self) -> str:
        """The status a listing shows (no poll is counted)."""
        return self.status

    def cancel(self) -> str:
        """Cancel a job that has not ended; JobStateError (400) when it has."""
        if self.status in TERMINAL:
            raise JobStateError(
                f"Job {self.id} already ended {self.status}; only a running job can be cancelled"
            )
        self.cancelled = True
        return self.set_status("CANCELLED")

    @property
    def error_message(self) -> str | None:
        """The error reported with a FAILED or CANCELLED status."""
        if self.status == "FAILED":
            return self.script.error_message or "Emulated job failure"
        if self.status == "CANCELLED":
            return self.script.error_message if not self.cancelled else "Cancelled by the user"
        return None

    def set_status(self, status: str) -> str:
        """Set the status (and ``updated_at`` when it changes)."""
        if status != self.status:
            self.status, self.updated_at = status, now_iso()
        return status


def _decode_token(token: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(token.encode()).decode()
        offset = int(raw.removeprefix("offset:"))
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise BadRequest(["query", "page_token"], "Invalid page token", "value_error") from None
    if not raw.startswith("offset:") or offset < 0:
        raise BadRequest(["query", "page_token"], "Invalid page token", "value_error")
    return offset


def _encode_token(offset: int) -> str:
    return base64.urlsafe_b64encode(f"offset:{offset}".encode()).decode()


def cursor_page(
    items: Sequence[Any], page_size: int | str | None, page_token: str | None, where: str = "query"
) -> dict[str, Any]:
    """A cursor page ``{items, next_page_token}`` (the token is opaque; None on the last page).

    Raises:
        BadRequest: a page size out of 1..1000, or a token this emulator did not hand out.

    Example:
        >>> page = cursor_page([1, 2, 3], 2, None)
        >>> page["items"], cursor_page([1, 2, 3], 2, page["next_page_token"])
        ([1, 2], {'items': [3], 'next_page_token': None})
    """
    try:
        size = DEFAULT_PAGE_SIZE if page_size in (None, "") else int(page_size)
    except ValueError:
        raise BadRequest([where, "page_size"], "Input should be a valid integer", "int_parsing") from None
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise BadRequest(
            [where, "page_size"], f"Input should be between 1 and {MAX_PAGE_SIZE}", "value_error"
        )
    start = _decode_token(page_token) if page_token else 0
    end = start + size
    return {
        "items": list(items[start:end]),
        "next_page_token": _encode_token(end) if end < len(items) else None,
    }
