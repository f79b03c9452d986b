"""Gatekeeper: the ASGI middleware in front of the emulated API, and the faults it injects.

It records every request (key redacted, JSON bodies kept), checks the bearer key, applies fault
rules (:class:`FaultRule`: errors, delays, dropped connections) and the rate limiter
(:class:`RateLimiter`), and can answer ``Connection: close``. Every fault the emulator can inject
is here. Each
recorded request says where its answer came from (``source``), so a test can tell an injected
fault from an emulator bug or a route the emulator does not have.

Paths under ``/_storage`` stand for the object store behind presigned URLs: like S3 they need no
bearer key (the URL carries its own token) and no API rate limit, but fault rules apply.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import json
import logging
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from llama_index_cloudkit.testing.app import CONTROL_PREFIX
from llama_index_cloudkit.testing.storage import STORAGE_PREFIX

__all__ = ["SOURCES", "FaultRule", "Gatekeeper", "RateLimiter", "RecordedRequest"]

logger = logging.getLogger(__name__)

# Where an answer came from: the emulated service, an injected fault, the rate limiter, the key
# check, a route the emulator does not have (501), or an unexpected error in the emulator (500).
SOURCES = ("emulator", "fault", "rate_limit", "auth", "not_emulated", "error", "control")


@dataclass
class FaultRule:
    """Answer matching requests with an error, a delay or a dropped connection.

    Args:
        method: HTTP method, or ``"*"`` for any.
        path: a regular expression that must match the whole path.
        status: the status to answer with (None: pass through after ``delay``).
        body: the JSON body for ``status`` (default ``{"detail": "injected fault"}``).
        times: how many requests the rule applies to; None for every one.
        delay: seconds to wait before answering (or passing through).
        retry_after: a ``Retry-After`` header value, in seconds.
        drop: close the connection without answering.
        trickle: pass through, but send the answer's body one byte every ``trickle`` seconds.
        malformed: pass through, but set these fields (name -> value) on every page of the JSON
            answer (each mapping in a list named ``pages``, at any depth): a result of the
            service's shape whose pages hold values of the wrong type.

    Example:
        >>> FaultRule(path=r"/api/v1/.*", status=500, times=1).remaining
        1
    """

    method: str = "*"
    path: str = ".*"
    status: int | None = None
    body: Any = None
    times: int | None = None
    delay: float = 0.0
    retry_after: float | None = None
    drop: bool = False
    trickle: float = 0.0
    malformed: dict[str, Any] | None = None
    hits: int = 0
    _pattern: re.Pattern[str] = field(init=False, repr=False)

    def __post_init__(self) -> None:
        self._pattern = re.compile(self.path)

    @property
    def remaining(self) -> int | None:
        """How many more requests the rule applies to (None: unlimited)."""
        return None if self.times is None else max(self.times - self.hits, 0)

    def matches(self, method: str, path: str) -> bool:
        """Whether this rule applies to the request (ignores ``times``)."""
        return self.method in ("*", method.upper()) and bool(self._pattern.fullmatch(path))


class RateLimiter:
    """At most ``limit`` requests per ``window`` seconds; past that, 429 with Retry-After.

    Example:
        >>> limiter = RateLimiter(limit=1, window=10)
        >>> limiter.check(now=0.0), limiter.check(now=1.0) > 0
        (0.0, True)
    """

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._times: deque[float] = deque()
        self._lock = threading.Lock()

    def check(self, now: float | None = None) -> float:
        """Record a request; return 0 if allowed, else the seconds to wait."""
        now = time.monotonic() if now is None else now
        with self._lock:
            while self._times and now - self._times[0] >= self.window:
                self._times.popleft()
            if len(self._times) >= self.limit:
                return self.window - (now - self._times[0])
            self._times.append(now)
            return 0.0


@dataclass(frozen=True)
class RecordedRequest:
    """One request the emulator received (the Authorization header is redacted).

    ``status`` is None while the answer is pending and 0 for a dropped connection; ``source``
    is one of :data:`SOURCES`; ``note`` is what the emulator said about it (for example that
    it did not fetch a URL).

    Example:
        >>> RecordedRequest("GET", "/api/v1/projects", {}, {}, status=200).injected
        False
    """

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    status: int | None = None
    time: float = field(default_factory=time.time)
    json: Any = None
    body_size: int = 0
    source: str = "emulator"
    note: str | None = None

    @property
    def injected(self) -> bool:
        """Whether the test asked for this answer (a fault rule or the rate limiter)."""
        return self.source in ("fault", "rate_limit")


class Gatekeeper:
    """ASGI middleware: request log, bearer auth, faults, rate limit, connection handling.

    Example:
        >>> from llama_index_cloudkit.testing.app import build_app
        >>> from llama_index_cloudkit.testing.state import EmulatorState
        >>> gate = Gatekeeper(build_app(EmulatorState()), api_key="llx-fake")
        >>> gate.requests
        []
    """

    def __init__(self, app: Any, api_key: str, connection_close: bool = False) -> None:
        self.app = app
        self.api_key = api_key
        self.connection_close = connection_close
        self.requests: list[RecordedRequest] = []
        self.faults: list[FaultRule] = []
        self.rate_limiter: RateLimiter | None = None
        self._lock = threading.Lock()
        self._cleared = 0  # requests dropped from the log so far (answers still in flight skip)

    def _matching_fault(self, method: str, path: str) -> FaultRule | None:
        with self._lock:
            for rule in self.faults:
                if rule.matches(method, path) and (rule.remaining is None or rule.remaining > 0):
                    rule.hits += 1
                    return rule
        return None

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method, path = scope["method"], scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        query = dict(parse_qsl(scope.get("query_string", b"").decode("latin-1")))
        shown = dict(headers)
        if "authorization" in shown:
            shown["authorization"] = (
                "Bearer ***" if shown["authorization"] == (f"Bearer {self.api_key}") else "<wrong key>"
            )
        body = await _read_body(receive)
        parsed = None
        if body and "json" in headers.get("content-type", ""):
            try:
                parsed = json.loads(body)
            except ValueError:
                parsed = None
        index = self._record(RecordedRequest(method, path, query, shown, json=parsed, body_size=len(body)))
        receive = _replay(body)

        started = False

        async def send_and_record(message: dict[str, Any]) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                marks = {
                    k.decode("latin-1").lower(): v.decode("latin-1") for k, v in message.get("headers", [])
                }
                self._set_status(
                    index,
                    message["status"],
                    source=_SOURCE_OF_MARK.get(marks.get("x-emulator", "")),
                    note=marks.get("x-emulator-note"),
                )
                if self.connection_close:
                    message.setdefault("headers", [])
                    message["headers"] = [*message["headers"], (b"connection", b"close")]
            await send(message)

        storage = path.startswith(STORAGE_PREFIX + "/")  # presigned URLs carry no key, like S3's
        if not storage and headers.get("authorization") != f"Bearer {self.api_key}":
            self._set_status(index, None, source="auth")  # control routes too: a reset needs the key
            await _json(send_and_record, 401, {"detail": "Invalid or missing API key"})
            return
        if path.startswith(CONTROL_PREFIX):
            self._set_status(index, None, source="control")
            await self.app(scope, receive, send_and_record)
            return
        if self.rate_limiter is not None and not storage:
            wait = self.rate_limiter.check()
            if wait > 0:
                self._set_status(index, None, source="rate_limit")
                await _json(send_and_record, 429, {"detail": "Too many requests"}, retry_after=wait)
                return
        rule = self._matching_fault(method, path)
        if rule is not None:
            if rule.delay:
                await asyncio.sleep(rule.delay)
            if rule.drop:
                _drop_connection(send)
                self._set_status(index, 0, source="fault")
                return
            if rule.status is not None:
                self._set_status(index, None, source="fault")
                answer = rule.body if rule.body is not None else {"detail": "injected fault"}
                await _json(send_and_record, rule.status, answer, retry_after=rule.retry_after)
                return
        answer_send = send_and_record
        if rule is not None and rule.trickle > 0:
            answer_send = _trickling(send_and_record, rule.trickle)
        if rule is not None and rule.malformed:
            answer_send = _malforming(answer_send, rule.malformed)
        try:
            await self.app(scope, receive, answer_send)
        except Exception as exc:  # the app answered JSON already (see wire.py); record it
            logger.exception("LlamaCloud emulator error on %s %s", method, path)
            if not started:
                await _json(
                    send_and_record,
                    500,
                    {"detail": f"Internal Server Error (emulator bug): {type(exc).__name__}: {exc}"},
                )
            self._set_status(index, None, source="error")

    def clear_log(self) -> None:
        """Forget the request log (answers still in flight are not recorded)."""
        with self._lock:
            self._cleared += len(self.requests)
            self.requests.clear()

    def _record(self, request: RecordedRequest) -> int:
        with self._lock:
            self.requests.append(request)
            return self._cleared + len(self.requests) - 1

    def _set_status(
        self, index: int, status: int | None, source: str | None = None, note: str | None = None
    ) -> None:
        with self._lock:
            index -= self._cleared
            if not 0 <= index < len(self.requests):  # the log was cleared meanwhile
                return
            old = self.requests[index]
            changes: dict[str, Any] = {}
            if status is not None:
                changes["status"] = status
            if source is not None and old.source == "emulator":
                changes["source"] = source
            if note is not None:
                changes["note"] = note
            self.requests[index] = dataclasses.replace(old, **changes)


_SOURCE_OF_MARK = {"not-emulated": "not_emulated", "error": "error"}


async def _read_body(receive: Any) -> bytes:
    chunks = []
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def _replay(body: bytes) -> Any:
    sent = False

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        await asyncio.sleep(3600)  # nothing more will come; the app never waits for it
        return {"type": "http.disconnect"}

    return receive


async def _json(send: Any, status: int, body: Any, retry_after: float | None = None) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if retry_after is not None:
        headers.append((b"retry-after", str(max(1, round(retry_after))).encode()))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


def _trickling(send: Any, every: float) -> Any:
    """A ``send`` that delivers each body one byte every ``every`` seconds."""

    async def trickle(message: dict[str, Any]) -> None:
        if message["type"] != "http.response.body":
            await send(message)
            return
        body, more = message.get("body", b""), message.get("more_body", False)
        for index in range(len(body)):
            await send({"type": "http.response.body", "body": body[index : index + 1], "more_body": True})
            await asyncio.sleep(every)
        await send({"type": "http.response.body", "body": b"", "more_body": more})

    return trickle


def _malform_pages(body: Any, fields: dict[str, Any]) -> Any:
    """``body`` with ``fields`` set on every page (each mapping in a list named ``pages``)."""
    if isinstance(body, list):
        return [_malform_pages(item, fields) for item in body]
    if not isinstance(body, dict):
        return body
    out = {}
    for key, value in body.items():
        if key == "pages" and isinstance(value, list):
            out[key] = [{**p, **fields} if isinstance(p, dict) else p for p in value]
        else:
            out[key] = _malform_pages(value, fields)
    return out


def _malforming(send: Any, fields: dict[str, Any]) -> Any:
    """A ``send`` that holds the whole answer, then sends it with its pages malformed."""
    start: dict[str, Any] = {}
    chunks: list[bytes] = []

    async def malform(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            start.update(message)
            return
        if message["type"] != "http.response.body":
            await send(message)
            return
        chunks.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        body = b"".join(chunks)
        with contextlib.suppress(ValueError):  # not JSON: sent as it was
            body = json.dumps(_malform_pages(json.loads(body), fields)).encode()
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(body)).encode()))
        await send({**start, "headers": headers})
        await send({"type": "http.response.body", "body": body, "more_body": False})

    return malform


def _drop_connection(send: Any) -> None:
    """Close the TCP connection without an answer (uvicorn's send is bound to its cycle)."""
    cycle = getattr(send, "__self__", None)
    transport = getattr(cycle, "transport", None)
    if transport is None:
        raise RuntimeError("dropping connections needs the uvicorn server of FakeLlamaCloud")
    transport.abort()
