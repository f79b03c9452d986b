"""Stored files and the object store behind their presigned URLs (what S3 is behind LlamaCloud's files).

A :class:`StoredFile` is one upload, shared by Files v1 and v2 (``EmulatorState.files``).

``PUT /api/v1/files`` and ``GET /api/v1/files/{id}/content`` answer a URL under
:data:`STORAGE_PREFIX` that carries a signed token, like an S3 presigned URL: the client sends
no bearer key there, the token says which file and which method, and it expires.

Example:
    >>> store = PresignedUrls()
    >>> token, expires_at = store.sign("file-1", "PUT", seconds=60, now=0.0)
    >>> store.check(token, "file-1", "PUT", now=30.0), store.check(token, "file-1", "PUT", now=61.0)
    (True, False)
"""

from __future__ import annotations

import datetime as dt
import secrets
import threading
import time
from dataclasses import dataclass
from typing import Any

__all__ = ["DEFAULT_EXPIRY_SECONDS", "STORAGE_PREFIX", "PresignedUrls", "StoredFile", "iso_after"]

STORAGE_PREFIX = "/_storage"
DEFAULT_EXPIRY_SECONDS = 3600


@dataclass
class StoredFile:
    """An uploaded file (``uploaded`` is False until a presigned upload has sent its bytes).

    Example:
        >>> StoredFile("file-1", "a.pdf", b"%PDF", "proj-1").to_json()["file_type"]
        'pdf'
    """

    id: str
    name: str
    data: bytes
    project_id: str
    external_file_id: str | None = None
    uploaded: bool = True
    source_url: str | None = None

    def to_json(self) -> dict[str, Any]:
        """The File model the SDK reads."""
        suffix = self.name.rsplit(".", 1)[-1].lower() if "." in self.name else None
        answer: dict[str, Any] = {
            "id": self.id,
            "name": self.name,
            "project_id": self.project_id,
            "external_file_id": self.external_file_id,
            "file_size": len(self.data) if self.uploaded else None,
            "file_type": suffix,
        }
        if self.source_url is not None:
            answer["resource_info"] = {"url": self.source_url}
        return answer


def iso_after(seconds: float) -> str:
    """An ISO-8601 UTC timestamp ``seconds`` from now (the ``expires_at`` of presigned URLs).

    Example:
        >>> iso_after(0).endswith("+00:00")
        True
    """
    return (dt.datetime.now(dt.timezone.utc) + dt.timedelta(seconds=seconds)).isoformat()


class PresignedUrls:
    """Tokens for presigned URLs: one file, one method, until they expire; thread-safe.

    Example:
        >>> PresignedUrls().check("unknown", "file-1", "GET")
        False
    """

    def __init__(self) -> None:
        self._tokens: dict[str, tuple[str, str, float]] = {}
        self._lock = threading.Lock()

    def sign(
        self, file_id: str, method: str, seconds: float = DEFAULT_EXPIRY_SECONDS, now: float | None = None
    ) -> tuple[str, str]:
        """A new token for ``method`` on ``file_id``, and its ``expires_at`` (ISO-8601)."""
        now = time.monotonic() if now is None else now
        token = secrets.token_urlsafe(16)
        with self._lock:
            self._tokens[token] = (file_id, method.upper(), now + seconds)
        return token, iso_after(seconds)

    def check(self, token: str, file_id: str, method: str, now: float | None = None) -> bool:
        """Whether ``token`` allows ``method`` on ``file_id`` now (a GET token also allows HEAD)."""
        now = time.monotonic() if now is None else now
        with self._lock:
            signed = self._tokens.get(token)
        if signed is None:
            return False
        signed_file, signed_method, expires = signed
        methods = {signed_method, "HEAD"} if signed_method == "GET" else {signed_method}
        return signed_file == file_id and method.upper() in methods and now < expires
