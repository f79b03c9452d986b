"""Shared pieces of the emulator's state: ids, scripts that say how a job behaves."""

from __future__ import annotations

import time
from dataclasses import dataclass

__all__ = ["DEFAULT_PROJECT", "JobScript", "NotFound", "ScriptedJob"]

DEFAULT_PROJECT = {"id": "proj-0000-default", "name": "Default", "organization_id": "org-0000-fake"}


class NotFound(KeyError):
    """An unknown id; the app answers 404."""


@dataclass(frozen=True)
class JobScript:
    """How a job behaves: its final status and how long it stays PENDING first.

    Args:
        status: SUCCESS, ERROR, CANCELED (parse) / CANCELLED (extract), PARTIAL_SUCCESS.
        pending_polls: status polls answered PENDING before the final status.
        pending_seconds: seconds after creation during which polls answer PENDING.
        stuck: stay PENDING forever.
        error_code: reported with a failed status.
        error_message: reported with a failed status.

    Example:
        >>> JobScript(status="ERROR", error_code="PDF_IS_BROKEN").status
        'ERROR'
    """

    status: str = "SUCCESS"
    pending_polls: int = 0
    pending_seconds: float = 0.0
    stuck: bool = False
    error_code: str | None = None
    error_message: str | None = None


@dataclass
class ScriptedJob:
    id: str
    script: JobScript
    created: float
    polls: int = 0

    def current_status(self) -> str:
        self.polls += 1
        if self.script.stuck:
            return "PENDING"
        if self.polls <= self.script.pending_polls:
            return "PENDING"
        if time.monotonic() - self.created < self.script.pending_seconds:
            return "PENDING"
        return self.script.status
