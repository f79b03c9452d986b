"""What a batch did: documents and pages per file, each failure with its reason, and warnings.

A failure is a file that gave no Documents; a warning is a file that was read, but not fully
(for example a scanned page that needed OCR and got none): it still counts as read.

Example:
    >>> report = BatchReport()
    >>> report.add_success("a.pdf", pages=3, documents=3)
    >>> report.add_failure("b.pdf", ValueError("corrupt"))
    >>> report.add_warning("a.pdf", "needs OCR, and no OCR engine is installed", page=2)
    >>> report.ok, report.total_pages, [f.file for f in report.failures], len(report.warnings)
    (False, 3, ['b.pdf'], 1)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from llama_index_cloudkit.errors import CloudKitError

__all__ = ["BatchReport", "FileReport", "ReportWarning"]


@dataclass(frozen=True)
class FileReport:
    """The outcome for one file: pages and documents, or the error that stopped it.

    Example:
        >>> FileReport("a.pdf", pages=2, documents=2).ok
        True
    """

    file: str
    pages: int = 0
    documents: int = 0
    error: str | None = None
    error_type: str | None = None
    cache_hit: bool = False
    job_id: str | None = None
    pages_estimated: int | None = None
    credits_estimated: float = 0.0
    pages_reported: int | None = None
    credits_reported: float | None = None
    credits_per_page: float | None = None

    @property
    def ok(self) -> bool:
        """Whether the file was read."""
        return self.error is None

    @property
    def billing_surprise(self) -> bool:
        """The service reported more than one page's worth of credits away from the estimate.

        Example:
            >>> FileReport("a.pdf", credits_estimated=30, credits_reported=50, credits_per_page=10,
            ...            pages_estimated=3).billing_surprise
            True
        """
        if self.credits_reported is None or self.credits_per_page is None or self.pages_estimated is None:
            return False
        return (
            abs(self.credits_reported - self.pages_estimated * self.credits_per_page) > self.credits_per_page
        )


@dataclass(frozen=True)
class ReportWarning:
    """Something a user should know about a file that was read: which file, which page, what.

    Example:
        >>> str(ReportWarning("scan.pdf", "needs OCR, and OCR is off", page=3))
        'scan.pdf, page 3: needs OCR, and OCR is off'
    """

    file: str
    message: str
    page: int | None = None

    def __str__(self) -> str:
        where = self.file if self.page is None else f"{self.file}, page {self.page}"
        return f"{where}: {self.message}"


@dataclass
class BatchReport:
    """Per-file outcomes of one ``load_data`` call, in input order.

    Example:
        >>> BatchReport().ok
        True
    """

    files: list[FileReport] = field(default_factory=list)
    credits_estimated: float = 0.0
    warnings: list[ReportWarning] = field(default_factory=list)

    def add_success(
        self,
        file: str,
        *,
        pages: int,
        documents: int,
        cache_hit: bool = False,
        job_id: str | None = None,
        **cost: Any,
    ) -> None:
        """Record a file that was read; ``cost`` takes FileReport's estimate and usage fields."""
        self.files.append(
            FileReport(file, pages=pages, documents=documents, cache_hit=cache_hit, job_id=job_id, **cost)
        )

    def add_failure(self, file: str, error: BaseException) -> None:
        """Record a file that failed, with the error's type, message and job id."""
        self.files.append(
            FileReport(
                file, error=str(error), error_type=type(error).__name__, job_id=getattr(error, "job_id", None)
            )
        )

    def add_warning(self, file: str, message: str, *, page: int | None = None) -> None:
        """Record a warning about a file that was read (it is not a failure).

        Example:
            >>> report = BatchReport()
            >>> report.add_warning("scan.pdf", "needs OCR", page=1)
            >>> report.ok, str(report.warnings[0])
            (True, 'scan.pdf, page 1: needs OCR')
        """
        self.warnings.append(ReportWarning(file, message, page))

    @property
    def credits_reported(self) -> float | None:
        """Credits LlamaCloud reported for the jobs of this call, where it reported them."""
        reported = [f.credits_reported for f in self.files if f.credits_reported is not None]
        return sum(reported) if reported else None

    @property
    def billing_surprises(self) -> list[FileReport]:
        """Files whose reported credits differ from the estimate by more than one page's worth."""
        return [f for f in self.files if f.billing_surprise]

    def cost_summary(self) -> str:
        """One line: files, pages, cache hits, credits estimated and reported.

        Example:
            >>> BatchReport().cost_summary()
            '0 file(s), 0 page(s), 0 cache hit(s), about 0 credits estimated, none reported'
        """
        reported = self.credits_reported
        line = (
            f"{len(self.files)} file(s), {self.total_pages} page(s), {self.cache_hits} cache hit(s), "
            f"about {self.credits_estimated:g} credits estimated, "
            + (f"{reported:g} reported by LlamaCloud" if reported is not None else "none reported")
        )
        surprises = self.billing_surprises
        if surprises:
            line += f"; {len(surprises)} file(s) billed differently than estimated: " + ", ".join(
                f.file for f in surprises
            )
        return line

    @property
    def cache_hits(self) -> int:
        """Files answered from the cache, without a request."""
        return sum(1 for f in self.files if f.cache_hit)

    @property
    def failures(self) -> list[FileReport]:
        """The files that failed."""
        return [f for f in self.files if not f.ok]

    @property
    def ok(self) -> bool:
        """Whether every file was read."""
        return not self.failures

    @property
    def total_pages(self) -> int:
        """Pages read, over all files."""
        return sum(f.pages for f in self.files)

    @property
    def total_documents(self) -> int:
        """Documents produced, over all files."""
        return sum(f.documents for f in self.files)

    def raise_on_failure(self) -> None:
        """Raise a CloudKitError listing every failure, if there was any.

        Example:
            >>> BatchReport().raise_on_failure()  # nothing failed: returns None
        """
        if self.failures:
            lines = "; ".join(f"{f.file}: {f.error_type}: {f.error}" for f in self.failures)
            raise CloudKitError(f"{len(self.failures)} of {len(self.files)} file(s) failed: {lines}")

    def summary(self) -> str:
        """One line: files read, pages, documents, failures (and warnings, when there are some).

        Example:
            >>> BatchReport().summary()
            '0/0 file(s) read, 0 page(s), 0 document(s), 0 failure(s)'
        """
        read = sum(1 for f in self.files if f.ok)
        line = (
            f"{read}/{len(self.files)} file(s) read, {self.total_pages} page(s), "
            f"{self.total_documents} document(s), {len(self.failures)} failure(s)"
        )
        if self.warnings:
            line += f", {len(self.warnings)} warning(s)"
        return line
