"""The cloud backend's batch engine: cache, journal, dedupe, credits, concurrency, deadlines.

For each file: a cache hit costs nothing; a journaled job is re-attached; otherwise the file is
uploaded once (identical files in a batch share one job), its job id is journaled **before**
polling, and the job is polled until it succeeds, fails (JobFailedError) or passes its deadline
(JobTimeoutError, the job kept in the journal for the next run).

Example:
    >>> backend = CloudBackend(settings, ParsePreset.AGENTIC, options={})  # doctest: +SKIP
    >>> outcomes = backend.parse_all([(data, "a.pdf")])  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from llama_index_cloudkit._http import RateLimiter, RetryPolicy, resilient_client
from llama_index_cloudkit._loop import run_sync
from llama_index_cloudkit.errors import CloudKitError, CreditLimitError, JobTimeoutError
from llama_index_cloudkit.parse.cache import JobJournal, ParseCache, parse_key
from llama_index_cloudkit.parse.cloud import (
    LlamaParseAdapter,
    parsed_from_result,
    raise_for_job_status,
)
from llama_index_cloudkit.parse.local import mime_type
from llama_index_cloudkit.parse.model import ParsedFile
from llama_index_cloudkit.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["CloudBackend", "CloudOutcome", "estimate_pages", "safe_file_name", "upload_limiter"]

logger = logging.getLogger(__name__)

_LIMITERS: dict[tuple[int, float], RateLimiter] = {}
_LIMITERS_LOCK = threading.Lock()


def upload_limiter(limit: int, window: float) -> RateLimiter:
    """The process-wide upload limiter for ``limit`` uploads per ``window`` seconds.

    Readers with the same limit share one limiter, across threads and event loops.

    Example:
        >>> upload_limiter(50, 10.0) is upload_limiter(50, 10.0)
        True
    """
    with _LIMITERS_LOCK:
        return _LIMITERS.setdefault((limit, window), RateLimiter(limit, window))


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str, limit: int = 120) -> str:
    """A file name that cannot leave its folder: no separators, no leading dots, bounded length.

    Example:
        >>> safe_file_name("../../etc/passwd"), safe_file_name("C:\\x\\img 1.png")
        ('passwd', 'img_1.png')
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).lstrip(".")[:limit]
    return base or "image"


def estimate_pages(data: bytes, file_name: str) -> int:
    """Pages we expect to be billed for: a PDF's page count, else 1.

    Example:
        >>> estimate_pages(b"plain text", "a.txt")
        1
    """
    if file_name.lower().endswith(".pdf"):
        try:
            from llama_index_cloudkit.parse.local.pdf import count_pdf_pages

            return max(1, count_pdf_pages(data, file_name))
        except (CloudKitError, ImportError):
            return 1
    return 1


@dataclass
class CloudOutcome:
    """What happened to one input: the parsed file or the error, and bookkeeping."""

    parsed: ParsedFile | None = None
    error: BaseException | None = None
    job_id: str | None = None
    cache_hit: bool = False
    reattached: bool = False
    credits: float = 0.0


@dataclass
class _Run:
    credits_spent: float = 0.0
    in_flight: dict[str, asyncio.Future[CloudOutcome]] = field(default_factory=dict)


class CloudBackend:
    """Parses batches with LlamaParse without paying twice, hanging, or losing a file.

    Args:
        settings: key, endpoint, project, cache directory.
        preset: the parse preset.
        options: validated extra LlamaParse options.
        max_concurrency: HTTP requests to LlamaCloud in flight at once (uploads, polls,
            downloads). Jobs run on LlamaCloud's side meanwhile; submissions are paced by the
            upload limiter.
        upload_limit: uploads allowed per ``upload_window`` seconds (LlamaCloud documents 50
            per 10 s).
        upload_window: the window of ``upload_limit``, in seconds.
        job_timeout: seconds a job may stay PENDING before JobTimeoutError.
        max_credits: stop submitting once the estimated credits would pass this.
        use_cache: read and write the on-disk result cache.
        poll_interval: first wait between status polls (grows by 1.5x up to 5 s).
        retry_policy: the HTTP retry policy.
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        preset: ParsePreset,
        options: Mapping[str, Any],
        *,
        max_concurrency: int = 8,
        upload_limit: int = 50,
        upload_window: float = 10.0,
        job_timeout: float = 1800.0,
        max_credits: float | None = None,
        use_cache: bool = True,
        poll_interval: float = 1.0,
        retry_policy: RetryPolicy | None = None,
        images_dir: Path | None = None,
    ) -> None:
        self.settings, self.preset, self.options = settings, preset, dict(options)
        self.max_concurrency, self.job_timeout = max_concurrency, job_timeout
        self.max_credits, self.use_cache = max_credits, use_cache
        self.poll_interval = poll_interval
        self.retry_policy = retry_policy or RetryPolicy()
        self.limiter = upload_limiter(upload_limit, upload_window)
        self.cache = ParseCache(settings.cache_path("parse"))
        self._journal: JobJournal | None = None
        self.images_dir = images_dir

    @property
    def journal(self) -> JobJournal:
        """The job journal (opened on first use: cache hits never touch it)."""
        if self._journal is None:
            self._journal = JobJournal(self.settings.cache_path("journal.sqlite"))
        return self._journal

    def key(self, data: bytes) -> str:
        """The parse key of ``data`` under this preset and these options."""
        return parse_key(data, self.preset.value, self.options)

    def _from_cache(self, data: bytes, file_name: str) -> CloudOutcome | None:
        if not self.use_cache:
            return None
        result = self.cache.get(self.key(data))
        if result is None:
            return None
        return CloudOutcome(
            parsed=parsed_from_result(result, file_name, mime_type(file_name)), cache_hit=True
        )

    def parse_all(
        self,
        files: Sequence[tuple[bytes, str] | tuple[bytes, str, str]],
        on_done: Callable[[], None] | None = None,
    ) -> list[CloudOutcome]:
        """Parse ``(bytes, file name[, label])`` inputs; one outcome each, in order. Loop-safe.

        Cache hits are answered here, with no event loop, client or request.
        """
        outcomes: list[CloudOutcome | None] = []
        missing = []
        for index, item in enumerate(files):
            hit = self._from_cache(item[0], item[1])
            outcomes.append(hit)
            if hit is None:
                missing.append(index)
            elif on_done is not None:
                on_done()
        if missing:
            fetched = run_sync(lambda: self.aparse_all([files[i] for i in missing], on_done))
            for index, outcome in zip(missing, fetched, strict=True):
                outcomes[index] = outcome
        return [o for o in outcomes if o is not None]

    async def aparse_all(
        self,
        files: Sequence[tuple[bytes, str] | tuple[bytes, str, str]],
        on_done: Callable[[], None] | None = None,
    ) -> list[CloudOutcome]:
        """Async :meth:`parse_all`; the HTTP client lives and dies inside this call."""
        run = _Run()
        client = resilient_client(
            self.settings.base_url, self.settings.require_key(), self.retry_policy, self.limiter
        )
        async with client:
            adapter = LlamaParseAdapter(
                self.settings,
                self.preset,
                self.options,
                client,
                slots=asyncio.Semaphore(self.max_concurrency),
            )

            async def one(data: bytes, file_name: str, label: str | None = None) -> CloudOutcome:
                try:
                    return await self._parse_one(adapter, run, data, file_name, label or file_name)
                except (CloudKitError, OSError, ValueError) as exc:
                    return CloudOutcome(error=exc)
                finally:
                    if on_done is not None:
                        on_done()

            return list(await asyncio.gather(*(one(*f) for f in files)))

    async def _parse_one(
        self, adapter: LlamaParseAdapter, run: _Run, data: bytes, file_name: str, label: str
    ) -> CloudOutcome:
        hit = self._from_cache(data, file_name)
        if hit is not None:
            return hit
        key = self.key(data)
        shared = run.in_flight.get(key)
        first = shared is None
        if shared is None:  # the first of identical inputs does the work; the others wait
            shared = asyncio.get_running_loop().create_future()
            run.in_flight[key] = shared
            try:
                shared.set_result(await self._fetch(adapter, run, key, data, file_name, label))
            except (CloudKitError, OSError, ValueError) as exc:
                shared.set_exception(exc)
        outcome = await asyncio.shield(shared)
        parsed = outcome.parsed
        if parsed is not None and parsed.file_name != file_name:
            parsed = ParsedFile(file_name, parsed.pages, parsed.parser, mime_type(file_name))
        return CloudOutcome(
            parsed=parsed,
            job_id=outcome.job_id,
            reattached=outcome.reattached,
            credits=outcome.credits if first else 0.0,
        )

    async def _fetch(
        self, adapter: LlamaParseAdapter, run: _Run, key: str, data: bytes, file_name: str, label: str
    ) -> CloudOutcome:
        job_id = self.journal.pending_job(key)
        reattached = job_id is not None
        credits = 0.0
        if job_id is None:
            credits = estimate_pages(data, file_name) * self.preset.credits_per_page
            if self.max_credits is not None and run.credits_spent + credits > self.max_credits:
                raise CreditLimitError(
                    f"Parsing would spend about {run.credits_spent + credits:g} credits, "
                    f"over max_credits={self.max_credits:g}; not submitted",
                    file=label,
                )
            run.credits_spent += credits
            job_id = await adapter.submit(data, file_name)
            self.journal.record(key, job_id, label)  # before the first poll
        else:
            logger.info("re-attaching %s to job %s", label, job_id)
        try:
            result = await self._wait(adapter, job_id, label)
        except _UnknownJob:
            logger.warning("journaled job for %s is unknown to LlamaCloud; submitting again", label)
            self.journal.mark(key, "FAILED")
            return await self._fetch(adapter, run, key, data, file_name, label)
        except JobTimeoutError:
            raise  # stays PENDING in the journal: the next run re-attaches
        except CloudKitError:
            self.journal.mark(key, "FAILED")
            raise
        if self.images_dir is not None:
            await self._save_images(adapter, job_id, result)
        if self.use_cache:
            self.cache.put(key, result)
        self.journal.mark(key, "SUCCESS")
        return CloudOutcome(
            parsed=parsed_from_result(result, file_name, mime_type(file_name)),
            job_id=job_id,
            reattached=reattached,
            credits=credits,
        )

    async def _save_images(self, adapter: LlamaParseAdapter, job_id: str, result: dict[str, Any]) -> None:
        """Download each page's images under sanitized names; paths go into the result."""
        assert self.images_dir is not None
        folder = self.images_dir.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        for page in result.get("pages") or []:
            saved = []
            for image in page.get("images") or []:
                name = str(image.get("name") or "")
                if not name:
                    continue
                target = folder / f"{job_id}-{safe_file_name(name)}"
                if not target.resolve().is_relative_to(folder):  # belt and braces
                    raise CloudKitError(f"Refusing to write image {name!r} outside {folder}", job_id=job_id)
                target.write_bytes(await adapter.image(job_id, name))
                saved.append(str(target))
            page["saved_images"] = saved

    async def _wait(self, adapter: LlamaParseAdapter, job_id: str, label: str) -> dict[str, Any]:
        deadline = time.monotonic() + self.job_timeout
        interval = self.poll_interval
        while True:
            status_code, body = await adapter.status(job_id)
            if status_code == 404:
                raise _UnknownJob(job_id)
            if status_code >= 400:
                raise CloudKitError(
                    f"Status poll answered HTTP {status_code}: {body}", file=label, job_id=job_id
                )
            if raise_for_job_status(body, job_id, label):
                return await adapter.result(job_id)
            if time.monotonic() + interval > deadline:
                raise JobTimeoutError(
                    f"LlamaParse job still PENDING after {self.job_timeout:g} s", file=label, job_id=job_id
                )
            await asyncio.sleep(interval)
            interval = min(interval * 1.5, 5.0)


class _UnknownJob(Exception):
    """The journal's job id is unknown to the service (expired or another account)."""
