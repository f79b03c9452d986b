"""The cloud backend's engine: the parse service protocol, cache, in-flight claims, jobs, images.

The engine knows no route, body field or status word: it talks to a :class:`ParseService`
(:mod:`.llamaparse_v1` or :mod:`.llamaparse_v2`, chosen by :func:`~.parse_service`), which
returns neutral pages with the usage the service reported.

For each file: a cache hit costs nothing (no event loop, no request); a file whose content is
already being parsed in this process waits for that job; otherwise the cloud core's
:class:`~llama_index_cloudkit.cloud.jobs.JobRun` re-attaches to a journaled job or submits once,
journals the job id before polling, polls to a deadline that never restarts and resubmits a lost
job at most once. Only a result with pages is cached; images are downloaded per run into the
run's ``download_images_to`` and never stored in the cache.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, Protocol

from pydantic import BaseModel, Field, StrictInt, ValidationError

from llama_index_cloudkit._loop import sync_runner
from llama_index_cloudkit.cloud.budget import Budget
from llama_index_cloudkit.cloud.deadline import deadline_scope
from llama_index_cloudkit.cloud.errors import JobState
from llama_index_cloudkit.cloud.inflight import INFLIGHT
from llama_index_cloudkit.cloud.jobs import JobRun, raise_for_state
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.session import CloudSession
from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.parse.cache import ParseCache, parse_key
from llama_index_cloudkit.parse.cost import estimate_pages
from llama_index_cloudkit.parse.llamacloud.preflight import refuse_unparseable
from llama_index_cloudkit.parse.local import mime_type
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage
from llama_index_cloudkit.parse.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["CloudEngine", "CloudOutcome", "ParseService", "safe_file_name"]

logger = logging.getLogger(__name__)

CACHE_FORMAT = 3  # 3: neutral pages; 2 and bare entries: a LlamaParse v1-shaped result


class ParseService(Protocol):
    """What the engine needs from an API generation's parse adapter (one preset and options).

    Adapters validate their options when they are made, and know their routes, body fields and
    status words; the engine only sees this.
    """

    preset: ParsePreset
    options: dict[str, Any]
    """The LlamaParse-named options (``target_pages`` / ``max_pages`` change the page count)."""
    presets: tuple[ParsePreset, ...]
    """The presets this generation offers."""

    @property
    def credits_per_page(self) -> int:
        """What one page costs (on v2, the price of the tier actually asked for)."""
        ...

    def key_options(self) -> dict[str, Any]:
        """What, beside the bytes and the preset, makes a result (part of the cache key)."""
        ...

    async def submit(self, session: CloudSession, data: bytes, file_name: str) -> str:
        """Submit the file once; the job id."""
        ...

    async def state(
        self, session: CloudSession, job_id: str, file_name: str
    ) -> tuple[JobState, dict[str, Any]]:
        """One status poll (404: JobLostError)."""
        ...

    async def result(self, session: CloudSession, job_id: str, file_name: str) -> ParsedFile:
        """The finished job's pages, with the usage the service reported."""
        ...

    async def image(self, session: CloudSession, job_id: str, name: str, file_name: str) -> bytes:
        """One image of the finished job, by the name its pages list."""
        ...


_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_file_name(name: str, limit: int = 120) -> str:
    """A file name that cannot leave its folder: no separators, no leading dots, bounded length.

    Example:
        >>> safe_file_name("../../etc/passwd"), safe_file_name("C:\\\\x\\\\img 1.png")
        ('passwd', 'img_1.png')
    """
    base = name.replace("\\", "/").rsplit("/", 1)[-1]
    base = _UNSAFE.sub("_", base).lstrip(".")[:limit]
    return base or "image"


def _safe_job_id(job_id: str) -> str:
    """A job id as a file name prefix: every character but letters, digits, ``._-`` replaced
    (whole, not cut at a separator, so two ids never share a prefix by accident)."""
    return _UNSAFE.sub("_", job_id).lstrip(".")[:80] or "job"


@dataclass
class CloudOutcome:
    """What happened to one input: the parsed file or the error, and bookkeeping.

    ``credits`` is the estimate of what this input's submission cost (0 for a cache hit, a
    re-attached job, or an input that waited for an identical one).
    """

    parsed: ParsedFile | None = None
    error: BaseException | None = None
    job_id: str | None = None
    cache_hit: bool = False
    reattached: bool = False
    credits: float = 0.0
    pages_estimated: int = 0
    resubmissions: int = 0
    pages_reported: int | None = None
    credits_reported: float | None = None
    credits_per_page: float | None = None


@dataclass(frozen=True)
class _Fetched:
    """A finished job's result, shared with every caller that waited for the same content."""

    result: ParsedFile
    job_id: str | None
    reattached: bool
    credits: float
    pages_estimated: int
    resubmissions: int


def _to_cache(parsed: ParsedFile, job_id: str | None) -> dict[str, Any]:
    pages = [
        {
            "number": p.number,
            "markdown": p.markdown(),
            "width": p.width,
            "height": p.height,
            "table_count": p.table_count,
            "warnings": p.warnings,
            "images": p.images,
        }
        for p in parsed.pages
    ]
    return {"format": CACHE_FORMAT, "job_id": job_id, "pages": pages}


class _CachedPage(BaseModel):
    number: StrictInt
    markdown: str = ""
    width: float | None = None
    height: float | None = None
    table_count: StrictInt | None = None
    warnings: list[str] = []
    images: list[str] = []


class _CacheEntry(BaseModel):
    """A cache entry of this format: at least one page (an empty result is never cached)."""

    format: Literal[3]
    job_id: str | None = None
    pages: list[_CachedPage] = Field(min_length=1)


def _from_cache(entry: Mapping[str, Any]) -> tuple[ParsedFile, str | None]:
    """(pages, job id) of a cache entry; older entries hold a LlamaParse v1-shaped result.

    Raises:
        ValueError, CloudKitError: an entry that is not a result (the caller sets it aside).
    """
    if entry.get("format") == CACHE_FORMAT:
        valid = _CacheEntry.model_validate(entry)
        pages = [
            ParsedPage(
                number=p.number,
                blocks=[p.markdown] if p.markdown else [],
                width=p.width,
                height=p.height,
                table_count=p.table_count,
                warnings=list(p.warnings),
                images=list(p.images),
            )
            for p in valid.pages
        ]
        return ParsedFile(file_name="", pages=pages, parser="llamaparse"), valid.job_id
    from llama_index_cloudkit.parse.llamacloud.llamaparse_v1 import parsed_from_result

    if entry.get("format") == 2 and isinstance(entry.get("result"), dict):
        parsed, job_id = parsed_from_result(entry["result"], ""), entry.get("job_id")
    else:
        parsed, job_id = parsed_from_result(entry, ""), None
    if not parsed.pages:
        raise ValueError("a result without pages")
    return parsed, job_id if isinstance(job_id, str) else None


EMPTY_PAGE = (
    "LlamaParse returned no text for this page (a blank or image-only page, or text it could not "
    "read); try the agentic_plus preset, or check the page"
)


def _flag_empty_pages(result: ParsedFile) -> None:
    """A page with no text and no other warning gets one, like the local backend's empty pages."""
    for page in result.pages:
        if not page.warnings and not page.markdown().strip():
            page.warnings.append(EMPTY_PAGE)


def _why(exc: BaseException) -> str:
    if isinstance(exc, ValidationError):
        first = exc.errors(include_url=False, include_input=False)[0]
        return f"{'.'.join(str(p) for p in first['loc']) or 'entry'}: {first['msg']}"
    return str(exc).splitlines()[0]


class CloudEngine:
    """Parses batches with LlamaParse without paying twice, hanging, or losing a file.

    Args:
        settings: key, endpoint, project, cache directory.
        service: the parse service of the configured API generation (preset and options).
        policy: retries, concurrency, upload limit, job deadline, polling.
        budget: the credit budget, shared by every call of the reader that owns it.
        use_cache: read and write the result cache, and re-attach to journaled jobs; False
            means a fresh job for every file.
        images_dir: download page images (and screenshots) here, for this run.

    Example:
        >>> from llama_index_cloudkit.parse.llamacloud import parse_service
        >>> settings = CloudKitSettings(api_key="llx-example")
        >>> engine = CloudEngine(settings, parse_service(settings, ParsePreset.AGENTIC, {}))
        >>> engine.credits_per_page
        10
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        service: ParseService,
        *,
        policy: CloudPolicy | None = None,
        budget: Budget | None = None,
        use_cache: bool = True,
        images_dir: Path | None = None,
    ) -> None:
        self.settings, self.service = settings, service
        self.policy = policy or CloudPolicy()
        self.budget = budget or Budget(None)
        self.use_cache = use_cache
        self.images_dir = images_dir
        self.cache = ParseCache(settings.cache_path("parse"))
        self._journal: JobJournal | None = None

    @property
    def journal(self) -> JobJournal:
        """The job journal (opened on first use: cache hits never touch it)."""
        if self._journal is None:
            self._journal = JobJournal.for_settings(self.settings)
        return self._journal

    @property
    def credits_per_page(self) -> int:
        """What one page costs under this service's preset and options."""
        return self.service.credits_per_page

    def key(self, data: bytes) -> str:
        """The parse key of ``data`` under this preset, these options and this API generation."""
        return parse_key(data, self.service.preset.value, self.service.key_options())

    def _cached(self, key: str, label: str) -> tuple[ParsedFile, str | None] | None:
        if not self.use_cache:
            return None
        entry = self.cache.get(key)
        if entry is None:
            return None
        try:
            found = _from_cache(entry)
        except (ValueError, CloudKitError) as exc:  # pydantic's ValidationError is a ValueError
            self.cache.set_aside(key, _why(exc))
            return None
        logger.debug("cache hit for %s (job %s): no request, no credit", label, found[1])
        return found

    def parse_all(
        self,
        files: Sequence[tuple[bytes, str] | tuple[bytes, str, str]],
        on_done: Callable[[], None] | None = None,
    ) -> list[CloudOutcome]:
        """Parse ``(bytes, file name[, label])`` inputs; one outcome each, in order. Loop-safe.

        Cache hits (without image downloads) are answered here, with no event loop or request.
        """
        outcomes: list[CloudOutcome | None] = []
        missing = []
        for index, item in enumerate(files):
            hit = None
            if self.images_dir is None:
                cached = self._cached(self.key(item[0]), item[-1])
                if cached is not None:
                    hit = self._outcome(cached[0], cached[1], item[1], cache_hit=True)
            outcomes.append(hit)
            if hit is None:
                missing.append(index)
            elif on_done is not None:
                on_done()
        if missing:
            fetched = sync_runner()(self.aparse_all([files[i] for i in missing], on_done))
            for index, outcome in zip(missing, fetched, strict=True):
                outcomes[index] = outcome
        return [o for o in outcomes if o is not None]

    async def aparse_all(
        self,
        files: Sequence[tuple[bytes, str] | tuple[bytes, str, str]],
        on_done: Callable[[], None] | None = None,
    ) -> list[CloudOutcome]:
        """Async :meth:`parse_all`; the HTTP client lives and dies inside this call."""
        async with CloudSession(self.settings, self.policy) as session:
            jobs = asyncio.Semaphore(self.policy.max_jobs or max(len(files), 1))  # num_workers

            async def one(data: bytes, file_name: str, label: str | None = None) -> CloudOutcome:
                try:
                    async with jobs:
                        return await self._parse_one(session, data, file_name, label or file_name)
                except (CloudKitError, OSError) as exc:
                    return CloudOutcome(error=exc)
                finally:
                    if on_done is not None:
                        on_done()

            return list(await asyncio.gather(*(one(*f) for f in files)))

    def _outcome(
        self,
        result: ParsedFile,
        job_id: str | None,
        file_name: str,
        *,
        cache_hit: bool = False,
        fetched: _Fetched | None = None,
        owner: bool = True,
        image_paths: Mapping[int, list[str]] | None = None,
    ) -> CloudOutcome:
        parsed = dataclasses.replace(result, file_name=file_name, file_type=mime_type(file_name), usage=None)
        if image_paths:
            parsed = dataclasses.replace(
                parsed,
                pages=[
                    dataclasses.replace(page, image_paths=image_paths.get(page.number, []))
                    for page in parsed.pages
                ],
            )
        outcome = CloudOutcome(
            parsed=parsed,
            job_id=job_id,
            cache_hit=cache_hit,
            credits_per_page=self.service.credits_per_page,
        )
        if fetched is not None and owner and not fetched.reattached and result.usage is not None:
            outcome.pages_reported, outcome.credits_reported = result.usage.pages, result.usage.credits
        if fetched is not None:
            outcome.reattached = fetched.reattached
            outcome.resubmissions = fetched.resubmissions
            outcome.pages_estimated = fetched.pages_estimated
            outcome.credits = fetched.credits if owner else 0.0
        return outcome

    async def _parse_one(
        self, session: CloudSession, data: bytes, file_name: str, label: str
    ) -> CloudOutcome:
        refuse_unparseable(data, file_name, label)  # before the cache, the journal and any upload
        key = self.key(data)
        cached = self._cached(key, label)
        if cached is not None:
            result, job_id = cached
            images = await self._save_images(session, job_id, result, label)
            return self._outcome(result, job_id, file_name, cache_hit=True, image_paths=images)
        shared = f"{self.journal.scope}\x1f{key}"  # one region/project's job is not another's
        fetched, owner = await INFLIGHT.share(
            shared, lambda: self._fetch(session, key, data, file_name, label)
        )
        images = await self._save_images(session, fetched.job_id, fetched.result, label)
        return self._outcome(
            fetched.result, fetched.job_id, file_name, fetched=fetched, owner=owner, image_paths=images
        )

    async def _fetch(
        self, session: CloudSession, key: str, data: bytes, file_name: str, label: str
    ) -> _Fetched:
        pages = estimate_pages(data, file_name, self.service.options)
        credits = pages * self.service.credits_per_page
        run = JobRun(
            key,
            label=label,
            policy=self.policy,
            journal=self.journal,
            budget=self.budget,
            credits=credits,
            reattach=self.use_cache,
            what="LlamaParse job",
        )
        async for step in run:  # the core decides each step; the adapter makes the call
            async with step:
                if step.submits:
                    step.answer(await self.service.submit(session, data, file_name))
                else:
                    assert step.job_id is not None
                    step.answer(await self.service.state(session, step.job_id, label))
        outcome = run.outcome
        assert outcome is not None
        raise_for_state(outcome, what="LlamaParse job", file=label)
        try:
            with deadline_scope(outcome.deadline):  # the job's deadline bounds the download too
                result = await self.service.result(session, outcome.job_id, label)
            if not result.pages:
                raise ParseError(
                    "LlamaParse returned no pages",
                    file=label,
                    job_id=outcome.job_id,
                    hint="Check that the file has content; the empty result was not cached",
                )
        except CloudKitError:
            self.journal.mark(key, "FAILED")
            raise
        _flag_empty_pages(result)
        if self.use_cache:
            self.cache.put(key, _to_cache(result, outcome.job_id))
        self.journal.mark(key, "SUCCESS")
        return _Fetched(
            result=result,
            job_id=outcome.job_id,
            reattached=outcome.reattached,
            credits=credits if outcome.submitted else 0.0,
            pages_estimated=pages,
            resubmissions=outcome.resubmissions,
        )

    async def _save_images(
        self, session: CloudSession, job_id: str | None, result: ParsedFile, label: str
    ) -> dict[int, list[str]]:
        """Download each page's images under sanitized names (job id and image name) into this run's folder.

        A file already there from an earlier run of the same job is kept, not fetched again.
        """
        if self.images_dir is None:
            return {}
        if job_id is None:
            logger.warning("%s was cached by an older version without its job id; no images saved", label)
            return {}
        folder = self.images_dir.resolve()
        folder.mkdir(parents=True, exist_ok=True)
        saved: dict[int, list[str]] = {}
        for page in result.pages:
            for name in page.images:
                target = folder / f"{_safe_job_id(job_id)}-{safe_file_name(name)}"
                if not target.resolve().is_relative_to(folder):  # belt and braces
                    raise CloudKitError(f"Refusing to write image {name!r} outside {folder}", job_id=job_id)
                if not (target.is_file() and target.stat().st_size > 0):
                    target.write_bytes(await self.service.image(session, job_id, name, label))
                saved.setdefault(page.number, []).append(str(target))
        return saved
