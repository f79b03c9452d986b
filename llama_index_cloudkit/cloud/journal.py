"""The job journal: every submitted job, written before it is polled, in sqlite.

A re-run after a crash, a timeout or a stopped service re-attaches to the journaled job instead of
submitting (and paying) again. Rows are keyed by the content key of what was submitted (the parse
cache key, an extraction key), so parse, extract and ingestion share one journal.

Statuses: ``PENDING`` (submitted, not known to be finished), ``SUCCESS`` (result stored),
``FAILED`` (the job failed; a later run submits again), ``LOST`` (the service forgot the job).
``resubmissions`` counts submissions after a lost job, so the bound holds across runs too.

Example:
    >>> import tempfile
    >>> journal = JobJournal(Path(tempfile.mkdtemp()) / "journal.sqlite")
    >>> journal.record("k", "job-1", "a.pdf")
    >>> journal.pending_job("k"), journal.resubmissions("k")
    ('job-1', 0)
"""

from __future__ import annotations

import contextlib
import logging
import random
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["JobJournal"]

logger = logging.getLogger(__name__)


def _use_wal(db: sqlite3.Connection, attempts: int = 100) -> None:
    """Switch the file to WAL once (it stays so); readers opening it at once may have to wait.

    Changing the journal mode takes a lock that sqlite's busy timeout does not wait for, so
    several readers opening a new journal at the same moment retry here for a few seconds.
    """
    for attempt in range(attempts):
        try:
            mode = str(db.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            if mode != "wal":
                db.execute("PRAGMA journal_mode=WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or attempt == attempts - 1:
                raise
            time.sleep(0.02 + 0.03 * random.random())


def _add_resubmissions_column(db: sqlite3.Connection) -> None:
    """Migrate a 0.1.0 journal; another thread or process may be doing the same right now."""
    try:
        db.execute("ALTER TABLE jobs ADD COLUMN resubmissions INTEGER NOT NULL DEFAULT 0")
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc):
            raise
        logger.debug("the journal at %s was migrated by another reader meanwhile", db)


class JobJournal:
    """Submitted jobs by content key, in sqlite, safe across threads and processes.

    Example:
        >>> import tempfile
        >>> journal = JobJournal(Path(tempfile.mkdtemp()) / "j.sqlite")
        >>> journal.record("k", "job-1", "a.pdf"); journal.mark("k", "FAILED")
        >>> journal.pending_job("k") is None
        True
    """

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        # One connection, shared by this journal's threads under the lock. WAL with
        # synchronous=NORMAL survives a crash of the process (the case the journal is for)
        # without an fsync per row, which serialized whole batches on the event loop.
        self._db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        with self._connect() as db:
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS jobs (key TEXT PRIMARY KEY, job_id TEXT NOT NULL, "
                "file_name TEXT, status TEXT NOT NULL, created REAL, updated REAL, "
                "resubmissions INTEGER NOT NULL DEFAULT 0)"
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
            if "resubmissions" not in columns:  # journals written by 0.1.0
                _add_resubmissions_column(db)

    @contextlib.contextmanager
    def _connect(self) -> Iterator[sqlite3.Connection]:
        yield self._db

    def close(self) -> None:
        """Close the database connection (also done when the journal is collected)."""
        with self._lock:
            self._db.close()

    def __del__(self) -> None:
        db = getattr(self, "_db", None)
        if db is not None:
            db.close()

    def record(self, key: str, job_id: str, file_name: str, *, resubmissions: int | None = None) -> None:
        """Write a submitted job (before polling it); keeps the key's resubmission count."""
        now = time.time()
        count = self.resubmissions(key) if resubmissions is None else resubmissions
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO jobs (key, job_id, file_name, status, created, updated, "
                "resubmissions) VALUES (?, ?, ?, 'PENDING', ?, ?, ?)",
                (key, job_id, file_name, now, now, count),
            )

    def pending_job(self, key: str) -> str | None:
        """The job id to re-attach to for ``key``: submitted, and neither failed nor lost."""
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT job_id FROM jobs WHERE key = ? AND status IN ('PENDING', 'SUCCESS')", (key,)
            ).fetchone()
        return str(row[0]) if row else None

    def resubmissions(self, key: str) -> int:
        """How many times ``key`` was submitted again after the service lost its job."""
        with self._lock, self._connect() as db:
            row = db.execute("SELECT resubmissions FROM jobs WHERE key = ?", (key,)).fetchone()
        return int(row[0]) if row else 0

    def mark(self, key: str, status: str) -> None:
        """Set a job's status (``SUCCESS``, ``FAILED`` or ``LOST``)."""
        with self._lock, self._connect() as db:
            db.execute("UPDATE jobs SET status = ?, updated = ? WHERE key = ?", (status, time.time(), key))

    def forget(self, key: str) -> None:
        """Drop ``key``'s row (a submission the service certainly did not accept)."""
        with self._lock, self._connect() as db:
            db.execute("DELETE FROM jobs WHERE key = ?", (key,))

    def entries(self) -> list[dict[str, Any]]:
        """Every journal row, oldest first (for inspection and tests)."""
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT key, job_id, file_name, status, resubmissions FROM jobs ORDER BY created"
            ).fetchall()
        return [
            {"key": k, "job_id": j, "file_name": f, "status": s, "resubmissions": r} for k, j, f, s, r in rows
        ]
