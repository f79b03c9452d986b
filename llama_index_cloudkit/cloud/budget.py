"""Credits before they are spent: page estimates from the file itself, and a budget that holds.

:func:`estimate_pages` counts what LlamaParse bills: PDF pages, PPTX slides, XLSX sheets, DOCX
pages (when the file records them), with ``target_pages`` / ``max_pages`` applied; anything else
counts as one page. :class:`Budget` is owned by a reader instance, so that SimpleDirectoryReader's
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

import io
import re
import threading
import zipfile
from collections.abc import Mapping
from typing import Any

from llama_index_cloudkit.errors import CloudKitError, CreditLimitError

__all__ = ["Budget", "count_file_pages", "estimate_pages", "pages_after_options"]

_PDF_PAGE = re.compile(rb"/Type\s*/Page(?![a-zA-Z])")
_DOCX_PAGES = re.compile(r"<Pages>(\d+)</Pages>")
_SLIDE = re.compile(r"^ppt/slides/slide\d+\.xml$")
_SHEET = re.compile(r"^xl/worksheets/sheet\d+\.xml$")


def _zip_names(data: bytes) -> list[str]:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            return archive.namelist()
    except (zipfile.BadZipFile, OSError, ValueError):
        return []


def _docx_pages(data: bytes) -> int:
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as archive:
            text = archive.read("docProps/app.xml").decode("utf-8", "replace")
    except (zipfile.BadZipFile, KeyError, OSError, ValueError):
        return 1
    match = _DOCX_PAGES.search(text)
    return max(1, int(match.group(1))) if match else 1


def _pdf_pages(data: bytes, file_name: str) -> int:
    try:
        from llama_index_cloudkit.parse.local.pdf import count_pdf_pages

        return max(1, count_pdf_pages(data, file_name))
    except (CloudKitError, ImportError):
        return max(1, len(_PDF_PAGE.findall(data)))


def count_file_pages(data: bytes, file_name: str) -> int:
    """Pages in the file as LlamaParse counts them (at least 1).

    Example:
        >>> count_file_pages(b"plain text", "a.txt")
        1
    """
    suffix = file_name.lower().rsplit(".", 1)[-1] if "." in file_name else ""
    if suffix == "pdf":
        return _pdf_pages(data, file_name)
    if suffix in ("pptx", "ppsx", "potx"):
        return max(1, sum(1 for n in _zip_names(data) if _SLIDE.match(n)))
    if suffix in ("xlsx", "xlsm"):
        return max(1, sum(1 for n in _zip_names(data) if _SHEET.match(n)))
    if suffix == "docx":
        return _docx_pages(data)
    return 1


def _target_page_count(spec: str, total: int) -> int:
    """How many of ``total`` pages a ``target_pages`` spec such as ``"0,2-4"`` selects (0-based)."""
    chosen: set[int] = set()
    for part in str(spec).split(","):
        part = part.strip()
        if not part:
            continue
        start, _, end = part.partition("-")
        try:
            first = int(start)
            last = int(end) if end else first
        except ValueError:
            continue
        chosen.update(p for p in range(first, last + 1) if 0 <= p < total)
    return len(chosen) or total


def pages_after_options(pages: int, options: Mapping[str, Any]) -> int:
    """Apply ``target_pages`` and ``max_pages`` to a page count.

    Example:
        >>> pages_after_options(10, {"target_pages": "0,2-4"}), pages_after_options(10, {"max_pages": 3})
        (4, 3)
    """
    if options.get("target_pages"):
        pages = _target_page_count(str(options["target_pages"]), pages)
    max_pages = options.get("max_pages")
    if isinstance(max_pages, int) and max_pages > 0:
        pages = min(pages, max_pages)
    return max(1, pages)


def estimate_pages(data: bytes, file_name: str, options: Mapping[str, Any] | None = None) -> int:
    """Pages LlamaParse will bill for this file under these options.

    Example:
        >>> estimate_pages(b"plain text", "a.txt")
        1
    """
    return pages_after_options(count_file_pages(data, file_name), options or {})


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
