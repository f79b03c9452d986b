"""FakeLlamaCloud's request log: what a test asserts was sent, how often, and what went wrong.

Every request is recorded by the gatekeeper (key redacted, JSON bodies parsed from the bytes on
the wire); these methods read that log.

Example:
    >>> with FakeLlamaCloud() as fake:  # doctest: +SKIP
    ...     ...
    ...     fake.count("POST", "/api/parsing/upload"), fake.unexpected()
    (1, [])
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from llama_index_cloudkit.testing.gatekeeper import Gatekeeper, RecordedRequest

__all__ = ["RequestLogControls"]


class RequestLogControls:
    """Reading the request log (a base of :class:`FakeLlamaCloud`; needs its ``_gate``).

    Example:
        >>> fake.sent_json("POST", "/api/v1/retrieval/retrieve")[-1]["rerank"]  # doctest: +SKIP
        {'enabled': False}
    """

    _gate: Gatekeeper

    @property
    def requests(self) -> list[RecordedRequest]:
        """Every request received, in order (the key is redacted in the headers).

        Example:
            >>> fake.requests[-1].method, fake.requests[-1].path  # doctest: +SKIP
            ('POST', '/api/parsing/upload')
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
            >>> fake.sent_json("POST", "/api/v1/retrieval/retrieve")[-1]["rerank"]  # doctest: +SKIP
            {'enabled': False}
        """
        return [r.json for r in self._matching(method, path, regex)]

    def count(self, method: str, path: str, *, regex: bool = False) -> int:
        """How many requests matched ``method`` and ``path`` (exact, or a full regex match).

        Example:
            >>> fake.count("GET", r"/api/parsing/job/[^/]+", regex=True)  # doctest: +SKIP
            3
        """
        return sum(1 for _ in self._matching(method, path, regex))

    def unexpected(
        self, *, allow_not_emulated: bool = False, allow_errors: bool = False
    ) -> list[RecordedRequest]:
        """Requests a test did not ask for: 5xx answers no fault rule injected, and 501s.

        The ``fake_llamacloud`` fixture fails a test whose log holds any (see its marker).

        Example:
            >>> fake.unexpected()  # doctest: +SKIP
            []
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
