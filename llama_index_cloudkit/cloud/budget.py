"""Credits before they are spent: a budget that holds across threads and event loops.

A part reserves its own estimate (parse: pages times the price per page) before each paid
submission. :class:`Budget` is owned by a reader instance, so that SimpleDirectoryReader's
one call per file still adds up to one budget, and every submitted file counts.

Example:
    >>> budget = Budget(max_credits=15)
    >>> budget.reserve(10, file="a.pdf")
    >>> budget.reserve(10, file="b.pdf")
    Traceback (most recent call last):
    ...
    llama_index_cloudkit.errors.CreditLimitError: Parsing b.pdf would bring the estimate to 20 ...
"""

from __future__ import annotations

import threading
from typing import Any

from llama_index_cloudkit.errors import CreditLimitError

__all__ = ["Budget"]


class Budget:
    """A credit budget shared by every call of its owner, across threads and event loops.

    Args:
        max_credits: the most credits to spend; None means no limit (still counted).

    Example:
        >>> budget = Budget(None)
        >>> budget.reserve(45, file="a.pdf"); budget.spent
        45.0
    """

    def __init__(self, max_credits: float | None) -> None:
        self.max_credits = max_credits
        self.spent = 0.0
        self._lock = threading.Lock()

    def __getstate__(self) -> dict[str, Any]:
        # Readers are pickled into SimpleDirectoryReader's worker processes: each worker then
        # holds a copy of what was spent so far (a budget is per process).
        return {"max_credits": self.max_credits, "spent": self.spent}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.max_credits, self.spent = state["max_credits"], state["spent"]
        self._lock = threading.Lock()

    def reserve(self, credits: float, *, file: str | None = None) -> None:
        """Count ``credits`` before a submission; raise CreditLimitError if they do not fit."""
        with self._lock:
            total = self.spent + credits
            if self.max_credits is not None and total > self.max_credits:
                raise CreditLimitError(
                    f"Parsing {file or 'this input'} would bring the estimate to {total:g} credits, "
                    f"over max_credits={self.max_credits:g} ({self.spent:g} already spent); "
                    "not submitted",
                    file=file,
                )
            self.spent = total

    def release(self, credits: float) -> None:
        """Give back credits of a submission the service certainly did not accept."""
        with self._lock:
            self.spent = max(0.0, self.spent - credits)
