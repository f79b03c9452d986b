"""Credits before they are spent: a budget that holds across threads, event loops and processes.

A part reserves its own estimate (parse: pages times the price per page) before each paid
submission. :class:`Budget` is owned by a reader instance, so that SimpleDirectoryReader's
one call per file still adds up to one budget, and every submitted file counts.

Where the count lives:

- in this process (the default), under a lock;
- in a **ledger**, a small sqlite file where each reservation is one ``BEGIN IMMEDIATE``
  transaction, so it is atomic across processes. A budget that is pickled (SimpleDirectoryReader's
  ``load_data(num_workers=N)`` pickles its readers into worker processes) moves its count into a
  private ledger first, so the workers and the parent spend one budget and the parent's
  :attr:`Budget.spent` is the true total. :meth:`Budget.shared` names a budget kept in the cache
  directory's ``budget.sqlite``: every process using the same cache directory and name spends
  one total, which also carries over to later runs (a new name starts from zero).

Example:
    >>> budget = Budget(max_credits=15)
    >>> budget.reserve(10, file="a.pdf")
    >>> budget.reserve(10, file="b.pdf")
    Traceback (most recent call last):
    ...
    llama_index_cloudkit.errors.CreditLimitError: Parsing b.pdf would bring the estimate to 20 ...
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import tempfile
import threading
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any

from llama_index_cloudkit.errors import CreditLimitError

if TYPE_CHECKING:
    from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["Budget"]


class _Ledger:
    """One budget's total in a sqlite file, changed only inside ``BEGIN IMMEDIATE`` transactions.

    One connection, used under the owning budget's lock (from any thread).
    """

    def __init__(self, path: Path, name: str) -> None:
        self.path, self.name = path, name
        self._conn: sqlite3.Connection | None = None

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            db = sqlite3.connect(self.path, timeout=60, isolation_level=None, check_same_thread=False)
            db.execute("CREATE TABLE IF NOT EXISTS budgets (name TEXT PRIMARY KEY, spent REAL NOT NULL)")
            self._conn = db
        return self._conn

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None

    def __del__(self) -> None:
        self.close()

    def spent(self) -> float:
        row = self._db().execute("SELECT spent FROM budgets WHERE name = ?", (self.name,)).fetchone()
        return float(row[0]) if row else 0.0

    def add(self, credits: float, limit: float | None) -> tuple[bool, float]:
        """Add ``credits`` unless the total would pass ``limit``: (added, total before)."""
        db = self._db()
        db.execute("BEGIN IMMEDIATE")  # the write lock first: no two processes read the same total
        try:
            row = db.execute("SELECT spent FROM budgets WHERE name = ?", (self.name,)).fetchone()
            before = float(row[0]) if row else 0.0
            total = max(0.0, before + credits)
            if credits > 0 and limit is not None and total > limit:
                db.execute("ROLLBACK")
                return False, before
            db.execute(
                "INSERT INTO budgets (name, spent) VALUES (?, ?) "
                "ON CONFLICT(name) DO UPDATE SET spent = excluded.spent",
                (self.name, total),
            )
            db.execute("COMMIT")
        except BaseException:
            if db.in_transaction:
                db.execute("ROLLBACK")
            raise
        return True, before


def _remove(path: Path, ledger: _Ledger) -> None:
    ledger.close()
    for suffix in ("", "-journal", "-wal", "-shm"):
        with contextlib.suppress(FileNotFoundError):
            os.remove(f"{path}{suffix}")


class Budget:
    """A credit budget shared by every call of its owner, across threads, loops and processes.

    Args:
        max_credits: the most credits to spend; None means no limit (still counted).

    Example:
        >>> budget = Budget(None)
        >>> budget.reserve(45, file="a.pdf"); budget.spent
        45.0
    """

    def __init__(self, max_credits: float | None) -> None:
        self.max_credits = max_credits
        self._spent = 0.0
        self._lock = threading.Lock()
        self._ledger: _Ledger | None = None

    @classmethod
    def shared(cls, max_credits: float | None, settings: CloudKitSettings, name: str) -> Budget:
        """A budget named ``name``, kept in the cache directory's ``budget.sqlite``.

        Every process (and every later run) using the same cache directory and ``name`` spends
        one total; ``max_credits`` is checked against that total. A new name starts from zero.

        Example:
            >>> import tempfile
            >>> from llama_index_cloudkit.settings import CloudKitSettings
            >>> settings = CloudKitSettings(api_key="llx-example", cache_dir=tempfile.mkdtemp())
            >>> Budget.shared(100, settings, "nightly").reserve(30, file="a.pdf")
            >>> Budget.shared(100, settings, "nightly").spent
            30.0
        """
        budget = cls(max_credits)
        budget._ledger = _Ledger(settings.cache_path("budget.sqlite"), name)
        return budget

    @property
    def spent(self) -> float:
        """Credits reserved so far (in a ledger: by every process spending it)."""
        with self._lock:
            return self._ledger.spent() if self._ledger is not None else self._spent

    def __getstate__(self) -> dict[str, Any]:
        # Readers are pickled into SimpleDirectoryReader's worker processes: the count moves
        # into a ledger first, so that the copies and this budget spend one total.
        with self._lock:
            if self._ledger is None:
                handle, name = tempfile.mkstemp(prefix="cloudkit-budget-", suffix=".sqlite")
                os.close(handle)
                path = Path(name)
                ledger = _Ledger(path, "budget")
                ledger.add(self._spent, None)
                self._ledger = ledger
                weakref.finalize(self, _remove, path, ledger)  # the owner's ledger goes with it
            ledger = self._ledger
        return {"max_credits": self.max_credits, "ledger": (str(ledger.path), ledger.name)}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.max_credits = state["max_credits"]
        self._spent = float(state.get("spent", 0.0))
        self._lock = threading.Lock()
        ledger = state.get("ledger")
        self._ledger = _Ledger(Path(ledger[0]), ledger[1]) if ledger else None

    def reserve(self, credits: float, *, file: str | None = None) -> None:
        """Count ``credits`` before a submission; raise CreditLimitError if they do not fit."""
        with self._lock:
            if self._ledger is not None:
                added, before = self._ledger.add(credits, self.max_credits)
            else:
                before = self._spent
                added = self.max_credits is None or before + credits <= self.max_credits
                if added:
                    self._spent = before + credits
        if not added:
            assert self.max_credits is not None
            raise CreditLimitError(
                f"Parsing {file or 'this input'} would bring the estimate to {before + credits:g} "
                f"credits, over max_credits={self.max_credits:g} ({before:g} already spent); "
                "not submitted",
                file=file,
            )

    def release(self, credits: float) -> None:
        """Give back credits of a submission the service certainly did not accept."""
        with self._lock:
            if self._ledger is not None:
                self._ledger.add(-credits, None)
            else:
                self._spent = max(0.0, self._spent - credits)
