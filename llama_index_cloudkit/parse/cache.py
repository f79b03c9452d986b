"""Nothing paid for twice: a content-addressed result cache and a job journal, on disk.

- :class:`ParseCache` keeps finished results as JSON files named by the parse key
  (sha256 of the bytes + preset + options).
- :class:`JobJournal` (sqlite) records each job id **before** it is polled, so that a re-run
  after a crash or a timeout re-attaches to the job instead of uploading (and paying) again.

Example:
    >>> key = parse_key(b"%PDF...", "agentic", {"max_pages": 2})
    >>> len(key)
    64
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import sqlite3
import tempfile
import threading
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

__all__ = ["JobJournal", "ParseCache", "parse_key"]

logger = logging.getLogger(__name__)

KEY_VERSION = "1"


def parse_key(data: bytes, preset: str, options: Mapping[str, Any]) -> str:
    """The cache key of a parse: sha256 over the file bytes, the preset and the options.

    Example:
        >>> parse_key(b"x", "agentic", {}) == parse_key(b"x", "agentic", {})
        True
        >>> parse_key(b"x", "agentic", {}) == parse_key(b"x", "agentic_plus", {})
        False
    """
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(data).digest())
    digest.update(
        json.dumps(
            {"v": KEY_VERSION, "preset": preset, "options": dict(options)}, sort_keys=True, default=str
        ).encode()
    )
    return digest.hexdigest()


class ParseCache:
    """Finished parse results as JSON files under ``root`` (written atomically).

    Example:
        >>> cache = ParseCache(Path(tempfile.mkdtemp()))
        >>> cache.put("k", {"pages": []}); cache.get("k")
        {'pages': []}
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached result, or None."""
        path = self._path(key)
        try:
            return dict(json.loads(path.read_text(encoding="utf-8")))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            logger.warning("dropping unreadable cache entry %s (%s); it will be parsed again", path, exc)
            path.unlink(missing_ok=True)
            return None

    def put(self, key: str, result: Mapping[str, Any]) -> None:
        """Store a result (atomic rename, so readers never see half a file)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(result, out)
        os.replace(temp, path)


class JobJournal:
    """Submitted jobs by parse key, in sqlite, safe across threads and processes.

    Statuses: ``PENDING`` (submitted, not known to be finished), ``SUCCESS`` (result cached),
    ``FAILED`` (the job failed; a later run submits again).

    Example:
        >>> journal = JobJournal(Path(tempfile.mkdtemp()) / "journal.sqlite")
        >>> journal.record("k", "job-1", "a.pdf")
        >>> journal.pending_job("k")
        'job-1'
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        with self._connect() as db:
            db.execute(
                "CREATE TABLE IF NOT EXISTS jobs (key TEXT PRIMARY KEY, job_id TEXT NOT NULL, "
                "file_name TEXT, status TEXT NOT NULL, created REAL, updated REAL)"
            )

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        try:
            db.execute("PRAGMA journal_mode=WAL")
            yield db
        finally:
            db.close()

    def record(self, key: str, job_id: str, file_name: str) -> None:
        """Write a submitted job (before polling it)."""
        now = time.time()
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO jobs VALUES (?, ?, ?, 'PENDING', ?, ?)",
                (key, job_id, file_name, now, now),
            )

    def pending_job(self, key: str) -> str | None:
        """The job id to re-attach to for ``key``, if one was submitted and not failed."""
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT job_id FROM jobs WHERE key = ? AND status != 'FAILED'", (key,)
            ).fetchone()
        return str(row[0]) if row else None

    def mark(self, key: str, status: str) -> None:
        """Set a job's status (``SUCCESS`` or ``FAILED``)."""
        with self._lock, self._connect() as db:
            db.execute("UPDATE jobs SET status = ?, updated = ? WHERE key = ?", (status, time.time(), key))

    def entries(self) -> list[dict[str, Any]]:
        """Every journal row, oldest first (for inspection and tests)."""
        with self._lock, self._connect() as db:
            rows = db.execute("SELECT key, job_id, file_name, status FROM jobs ORDER BY created").fetchall()
        return [{"key": k, "job_id": j, "file_name": f, "status": s} for k, j, f, s in rows]
