"""The job journal: every submitted job, written before it is polled, in sqlite.

A re-run after a crash, a timeout or a stopped service re-attaches to the journaled job instead of
submitting (and paying) again. Rows are keyed by the content key of what was submitted (the parse
cache key, an extraction key), so parse, extract and ingestion share one journal.

Statuses: ``CLAIMED`` (being submitted by its ``owner``, no job id yet), ``PENDING`` (submitted,
not known to be finished), ``SUCCESS`` (result stored), ``FAILED`` (the job failed; a later run
submits again), ``LOST`` (the service forgot the job). ``resubmissions`` counts submissions after a
lost job, so the bound holds across runs too.

**Claims** make the journal the single-flight authority across threads and processes sharing a
cache directory (:meth:`JobJournal.claim`, under ``BEGIN IMMEDIATE``): the first caller of a key
claims it and submits; the others wait for its job id and re-attach instead of paying again. A
claim whose owner is provably dead (same host, its process gone) or that is older than
``stale_after`` seconds (another host) is taken over. The cache directory must be on a local
filesystem (sqlite locking is unreliable on NFS).

**Scope**: rows are keyed by the scope (base URL, project, organization; see
:meth:`JobJournal.for_settings`) as well as the content key, so a job id of one region or project
is never re-attached in another.

A journal file that is not sqlite (or is damaged) is reported once (WARNING), renamed aside
(``journal.sqlite.corrupt-<time>``) and rebuilt empty.

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
import os
import random
import socket
import sqlite3
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

if TYPE_CHECKING:
    from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["Claim", "JobJournal", "claim_owner"]

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


def _add_column(db: sqlite3.Connection, column: str) -> None:
    """Migrate an older journal; another thread or process may be doing the same right now."""
    try:
        db.execute(f"ALTER TABLE jobs ADD COLUMN {column}")
    except sqlite3.OperationalError as exc:
        if "duplicate column" not in str(exc):
            raise
        logger.debug("the journal at %s was migrated by another reader meanwhile", db)


def _process_start(pid: int) -> str:
    """The start time of ``pid`` in clock ticks since boot ('' where /proc is missing)."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    return stat.rsplit(")", 1)[-1].split()[19]


_HOST = socket.gethostname()


def claim_owner() -> str:
    """A new owner token for one claim: ``host|pid|process start|unique``.

    Example:
        >>> claim_owner().count("|")
        3
    """
    pid = os.getpid()
    return f"{_HOST}|{pid}|{_process_start(pid)}|{uuid.uuid4().hex[:12]}"


def _owner_dead(owner: str) -> bool:
    """Whether the owner of a claim is provably gone (only provable on this host)."""
    host, pid_text, start, _ = [*owner.split("|"), "", "", ""][:4]
    if host != _HOST or not pid_text.isdigit():
        return False
    pid = int(pid_text)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return bool(start) and _process_start(pid) not in ("", start)  # the pid was reused


@dataclass(frozen=True)
class Claim:
    """What :meth:`JobJournal.claim` decided for a key.

    ``action``: ``submit`` (the caller owns the key and must submit), ``reattach`` (poll
    ``job_id``, submitted by someone else or earlier), ``wait`` (another live caller is
    submitting; ask again shortly).

    Example:
        >>> Claim("reattach", "job-1").job_id
        'job-1'
    """

    action: Literal["submit", "reattach", "wait"]
    job_id: str | None = None


class JobJournal:
    """Submitted jobs by content key, in sqlite, safe across threads and processes.

    Example:
        >>> import tempfile
        >>> journal = JobJournal(Path(tempfile.mkdtemp()) / "j.sqlite")
        >>> journal.record("k", "job-1", "a.pdf"); journal.mark("k", "FAILED")
        >>> journal.pending_job("k") is None
        True
    """

    def __init__(self, path: Path, *, scope: str = "", stale_after: float = 900.0) -> None:
        self.path = Path(path)
        self.scope = scope
        self.stale_after = stale_after
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        try:
            self._db = self._open()
        except sqlite3.DatabaseError as exc:
            if isinstance(exc, sqlite3.OperationalError) and "locked" in str(exc):
                raise
            self._set_aside(exc)
            self._db = self._open()

    @classmethod
    def for_settings(cls, settings: CloudKitSettings) -> JobJournal:
        """The journal in ``settings``' cache directory, scoped to its base URL and project.

        Example:
            >>> import tempfile
            >>> from llama_index_cloudkit.settings import CloudKitSettings
            >>> eu = CloudKitSettings(cache_dir=tempfile.mkdtemp(), base_url="https://api.cloud.eu.llamaindex.ai")
            >>> JobJournal.for_settings(eu).scope
            'https://api.cloud.eu.llamaindex.ai|Default||'
        """
        scope = "|".join(
            [
                settings.base_url,
                settings.project_name or "",
                settings.project_id or "",
                settings.organization_id or "",
            ]
        )
        return cls(settings.cache_path("journal.sqlite"), scope=scope)

    def _open(self) -> sqlite3.Connection:
        # One connection, shared by this journal's threads under the lock. WAL with
        # synchronous=NORMAL survives a crash of the process (the case the journal is for)
        # without an fsync per row, which serialized whole batches on the event loop.
        db = sqlite3.connect(self.path, timeout=30, isolation_level=None, check_same_thread=False)
        try:
            _use_wal(db)
            db.execute("PRAGMA synchronous=NORMAL")
            db.execute(
                "CREATE TABLE IF NOT EXISTS jobs (key TEXT PRIMARY KEY, job_id TEXT NOT NULL, "
                "file_name TEXT, status TEXT NOT NULL, created REAL, updated REAL, "
                "resubmissions INTEGER NOT NULL DEFAULT 0, owner TEXT)"
            )
            columns = {row[1] for row in db.execute("PRAGMA table_info(jobs)")}
            if "resubmissions" not in columns:  # journals written by 0.1.0
                _add_column(db, "resubmissions INTEGER NOT NULL DEFAULT 0")
            if "owner" not in columns:  # journals written before claims
                _add_column(db, "owner TEXT")
        except BaseException:
            db.close()
            raise
        return db

    def _set_aside(self, exc: sqlite3.DatabaseError) -> None:
        aside = self.path.with_name(f"{self.path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        logger.warning(
            "The job journal %s is not a usable sqlite database (%s); it was renamed to %s and a "
            "new one started (jobs it held will not be re-attached)",
            self.path,
            exc,
            aside.name,
        )
        os.replace(self.path, aside)
        for suffix in ("-wal", "-shm"):
            with contextlib.suppress(FileNotFoundError):
                os.replace(self.path.with_name(self.path.name + suffix), aside.with_name(aside.name + suffix))

    def _k(self, key: str) -> str:
        return f"{self.scope}\x1f{key}" if self.scope else key

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
        """Write a submitted job (before polling it); keeps the key's resubmission count.

        This also ends the key's claim: waiters re-attach to ``job_id``.
        """
        now = time.time()
        count = self.resubmissions(key) if resubmissions is None else resubmissions
        with self._lock, self._connect() as db:
            db.execute(
                "INSERT OR REPLACE INTO jobs (key, job_id, file_name, status, created, updated, "
                "resubmissions, owner) VALUES (?, ?, ?, 'PENDING', ?, ?, ?, NULL)",
                (self._k(key), job_id, file_name, now, now, count),
            )

    def claim(self, key: str, file_name: str, owner: str) -> Claim:
        """Decide, atomically across processes, who submits ``key`` (see :class:`Claim`).

        Args:
            key: the content key.
            file_name: for the row (inspection).
            owner: the caller's token (:func:`claim_owner`); the same token may claim again.

        Example:
            >>> import tempfile
            >>> journal = JobJournal(Path(tempfile.mkdtemp()) / "j.sqlite")
            >>> me, other = claim_owner(), claim_owner()
            >>> journal.claim("k", "a.pdf", me).action, journal.claim("k", "a.pdf", other).action
            ('submit', 'wait')
            >>> journal.record("k", "job-1", "a.pdf"); journal.claim("k", "a.pdf", other)
            Claim(action='reattach', job_id='job-1')
        """
        now = time.time()
        with self._lock, self._connect() as db:
            db.execute("BEGIN IMMEDIATE")
            try:
                row = db.execute(
                    "SELECT job_id, status, owner, updated FROM jobs WHERE key = ?", (self._k(key),)
                ).fetchone()
                if row is not None:
                    job_id, status, holder, updated = row
                    if status in ("PENDING", "SUCCESS"):
                        db.execute("COMMIT")
                        return Claim("reattach", str(job_id))
                    if status == "CLAIMED" and holder != owner:
                        stale = now - float(updated or 0) > self.stale_after
                        if not (stale or _owner_dead(str(holder or ""))):
                            db.execute("COMMIT")
                            return Claim("wait")
                        logger.warning("taking over the claim on %s of a process that is gone", file_name)
                    db.execute(
                        "UPDATE jobs SET status = 'CLAIMED', owner = ?, updated = ? WHERE key = ?",
                        (owner, now, self._k(key)),
                    )
                else:
                    db.execute(
                        "INSERT INTO jobs (key, job_id, file_name, status, created, updated, resubmissions, "
                        "owner) VALUES (?, '', ?, 'CLAIMED', ?, ?, 0, ?)",
                        (self._k(key), file_name, now, now, owner),
                    )
                db.execute("COMMIT")
            except BaseException:
                db.execute("ROLLBACK")
                raise
        return Claim("submit")

    def release(self, key: str, owner: str) -> None:
        """Give up ``owner``'s claim on ``key`` without a job (the submission failed or stopped).

        Waiters then claim it themselves. A row that never had a job is removed; one that had
        (a failed or lost job) becomes ``FAILED`` again, its resubmission count kept.
        """
        with self._lock, self._connect() as db:
            db.execute(
                "DELETE FROM jobs WHERE key = ? AND status = 'CLAIMED' AND owner = ? AND job_id = ''",
                (self._k(key), owner),
            )
            db.execute(
                "UPDATE jobs SET status = 'FAILED', owner = NULL, updated = ? "
                "WHERE key = ? AND status = 'CLAIMED' AND owner = ?",
                (time.time(), self._k(key), owner),
            )

    def pending_job(self, key: str) -> str | None:
        """The job id to re-attach to for ``key``: submitted, and neither failed nor lost."""
        with self._lock, self._connect() as db:
            row = db.execute(
                "SELECT job_id FROM jobs WHERE key = ? AND status IN ('PENDING', 'SUCCESS')", (self._k(key),)
            ).fetchone()
        return str(row[0]) if row else None

    def resubmissions(self, key: str) -> int:
        """How many times ``key`` was submitted again after the service lost its job."""
        with self._lock, self._connect() as db:
            row = db.execute("SELECT resubmissions FROM jobs WHERE key = ?", (self._k(key),)).fetchone()
        return int(row[0]) if row else 0

    def mark(self, key: str, status: str, *, job_id: str | None = None) -> None:
        """Set a job's status (``SUCCESS``, ``FAILED`` or ``LOST``).

        With ``job_id``, only if the row still holds that job (another process may have
        submitted the key again meanwhile).
        """
        with self._lock, self._connect() as db:
            if job_id is None:
                db.execute(
                    "UPDATE jobs SET status = ?, updated = ? WHERE key = ? AND status != 'CLAIMED'",
                    (status, time.time(), self._k(key)),
                )
            else:
                db.execute(
                    "UPDATE jobs SET status = ?, updated = ? "
                    "WHERE key = ? AND job_id = ? AND status != 'CLAIMED'",
                    (status, time.time(), self._k(key), job_id),
                )

    def entries(self) -> list[dict[str, Any]]:
        """Every journal row of this scope, oldest first (for inspection and tests)."""
        prefix = f"{self.scope}\x1f" if self.scope else ""
        with self._lock, self._connect() as db:
            rows = db.execute(
                "SELECT key, job_id, file_name, status, resubmissions FROM jobs ORDER BY created"
            ).fetchall()
        return [
            {"key": k[len(prefix) :], "job_id": j, "file_name": f, "status": s, "resubmissions": r}
            for k, j, f, s, r in rows
            if k.startswith(prefix) and (prefix or "\x1f" not in k)
        ]
