"""What a batch did: documents and pages per file, and each failure with its reason.

Example:
    >>> report = BatchReport()
    >>> report.add_success("a.pdf", pages=3, documents=3)
    >>> report.add_failure("b.pdf", ValueError("corrupt"))
    >>> report.ok, report.total_pages, [f.file for f in report.failures]
    (False, 3, ['b.pdf'])
"""

from __future__ import annotations

from dataclasses import dataclass, field

from llama_index_cloudkit.errors import CloudKitError

__all__ = ["BatchReport", "FileReport"]


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

    @property
    def ok(self) -> bool:
        """Whether the file was read."""
        return self.error is None


@dataclass
class BatchReport:
    """Per-file outcomes of one ``load_data`` call, in input order.

    Example:
        >>> BatchReport().ok
        True
    """

    files: list[FileReport] = field(default_factory=list)
    credits_estimated: float = 0.0

    def add_success(
        self,
        file: str,
        *,
        pages: int,
        documents: int,
        cache_hit: bool = False,
        job_id: str | None = None,
    ) -> None:
        """Record a file that was read."""
        self.files.append(
            FileReport(file, pages=pages, documents=documents, cache_hit=cache_hit, job_id=job_id)
        )

    def add_failure(self, file: str, error: BaseException) -> None:
        """Record a file that failed, with the error's type, message and job id."""
        self.files.append(
            FileReport(
                file, error=str(error), error_type=type(error).__name__, job_id=getattr(error, "job_id", None)
            )
        )

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
        """One line: files read, pages, documents, failures.

        Example:
            >>> BatchReport().summary()
            '0/0 file(s) read, 0 page(s), 0 document(s), 0 failure(s)'
        """
        read = sum(1 for f in self.files if f.ok)
        return (
            f"{read}/{len(self.files)} file(s) read, {self.total_pages} page(s), "
            f"{self.total_documents} document(s), {len(self.failures)} failure(s)"
        )
