"""The reader's cloud backend: inputs -> the engine's outcomes -> Documents and the report.

:class:`CloudKitReader` makes one :class:`CloudBackend` per call and asks it to :meth:`read
<CloudBackend.read>` (or :meth:`aread <CloudBackend.aread>`) its inputs; the backend gets what
it needs from the reader as arguments (the parse service, the policy, the budget and look-ahead
the reader keeps across calls, and how to report a failed file) and touches nothing else of it.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from llama_index.core.schema import Document

from llama_index_cloudkit.cloud.budget import Budget
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.events import ParseFileEndEvent, dispatcher
from llama_index_cloudkit.parse.cache import ParseCache
from llama_index_cloudkit.parse.cost import CostReport, estimate_costs
from llama_index_cloudkit.parse.inputs import FileInput, label_of, os_error, progress_bar, read_input
from llama_index_cloudkit.parse.llamacloud.engine import CloudEngine, CloudOutcome, ParseService
from llama_index_cloudkit.parse.llamacloud.lookahead import DirectoryPlan, Lookahead
from llama_index_cloudkit.parse.pages import page_documents
from llama_index_cloudkit.parse.report import BatchReport
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["CloudBackend", "CloudInput"]

logger = logging.getLogger(__name__)

Fail = Callable[[str, BaseException, BatchReport], None]
Result = tuple["CloudInput", list[Document] | BaseException, CloudOutcome]


@dataclass(frozen=True)
class CloudInput:
    """One file to parse: its bytes, name, path for metadata, and label for the report."""

    data: bytes
    file_name: str
    file_path: str
    label: str


class CloudBackend:
    """Reads a reader's inputs with LlamaParse, one concurrent batch per call.

    Args:
        settings: key, endpoint, project, cache directory.
        service: the parse service (API generation, preset, options).
        fail: how the reader raises or records a failed file (its ``on_error``).
        owner: the reader itself, only to recognise it in a SimpleDirectoryReader's mapping.
        lookahead: the files of the current SimpleDirectoryReader run submitted ahead of time;
            None turns the look-ahead off.
        policy, budget, use_cache, images_dir: see :class:`~.engine.CloudEngine`.
        tables_as_html: tables as HTML in the Documents.
        show_progress: a progress bar over the files.

    Example:
        >>> from llama_index_cloudkit.parse.llamacloud import parse_service
        >>> from llama_index_cloudkit.parse.presets import ParsePreset
        >>> settings = CloudKitSettings(api_key="llx-example")
        >>> backend = CloudBackend(settings, parse_service(settings, ParsePreset.AGENTIC, {}), fail=print)
        >>> backend.estimate([b"# notes"], {"file_name": "notes.md"}, None).total_credits
        10
    """

    def __init__(
        self,
        settings: CloudKitSettings,
        service: ParseService,
        *,
        fail: Fail,
        owner: Any = None,
        lookahead: Lookahead | None = None,
        policy: CloudPolicy | None = None,
        budget: Budget | None = None,
        use_cache: bool = True,
        images_dir: Path | None = None,
        tables_as_html: bool = False,
        show_progress: bool = False,
    ) -> None:
        self.settings, self.service = settings, service
        self.engine = CloudEngine(
            settings, service, policy=policy, budget=budget, use_cache=use_cache, images_dir=images_dir
        )
        self._fail, self._owner, self._lookahead = fail, owner, lookahead
        self._tables_as_html, self._show_progress = tables_as_html, show_progress

    def read(
        self,
        inputs: list[FileInput],
        extra_info: Mapping[str, Any] | None,
        fs: Any | None,
        report: BatchReport,
    ) -> Iterator[Document]:
        """Yield the Documents of ``inputs``, page by page; each input is reported.

        A file submitted with an earlier file of the same SimpleDirectoryReader run is answered
        from that submission; otherwise this call submits its inputs, and, when it is called
        with the first file of such a run, the files that run will hand over next.
        """
        info = dict(extra_info or {})
        planned = self._lookahead.pop(inputs) if self._lookahead is not None else None
        if planned is not None and isinstance(planned[1], asyncio.Future):
            planned = None  # submitted ahead by an async run of another event loop: parse it here
        if planned is not None and self._changed_since(planned[0], inputs[0], extra_info, fs):
            planned = None  # the file changed after it was submitted ahead: parse what is on disk
        if planned is not None:  # submitted with an earlier file of this SimpleDirectoryReader run
            entry, outcome = planned
            outcome.credits = 0.0  # counted in the report of the call that submitted it
            yield from self._report(self._documents([entry], [outcome], info), report)
            return
        batch, requested = self._batch(inputs, extra_info, fs, report)
        bar = progress_bar(requested, self._show_progress)
        outcomes = self.engine.parse_all(
            [(i.data, i.file_name, i.label) for i in batch], on_done=bar.update if bar is not None else None
        )
        if bar is not None:
            bar.close()
        if self._lookahead is not None:
            for entry, outcome in zip(batch[requested:], outcomes[requested:], strict=True):
                self._lookahead.keep(entry.label, (entry, outcome))
        results = self._documents(batch, outcomes, info)
        report.credits_estimated += sum(outcome.credits for _, _, outcome in results[requested:])
        yield from self._report(results[:requested], report)

    def _changed_since(
        self, entry: CloudInput, item: FileInput, extra_info: Mapping[str, Any] | None, fs: Any | None
    ) -> bool:
        """Whether the file handed over now holds other bytes than the ones submitted ahead."""
        try:
            data, _, _ = read_input(item, extra_info, fs)
        except (CloudKitError, OSError):
            return True  # read again below, where its failure is reported with its reason
        if data == entry.data:
            return False
        logger.info("%s changed after it was submitted ahead of time; parsing it again", entry.label)
        return True

    async def aread(
        self,
        inputs: list[FileInput],
        extra_info: Mapping[str, Any] | None,
        fs: Any | None,
        report: BatchReport,
    ) -> list[Document]:
        """Async :meth:`read`: awaits the core in the caller's event loop.

        Under ``SimpleDirectoryReader.aload_data(num_workers=N)``, the first call also starts the
        files that run will hand over after the N it lets in at once (see
        :mod:`~llama_index_cloudkit.parse.llamacloud.lookahead`); each is answered from its task
        when handed over. Not when the cache is off (a file handed over twice could be paid
        twice) or ``max_jobs`` bounds the jobs (one bound per call).
        """
        info = dict(extra_info or {})
        planned = self._lookahead.pop(inputs) if self._lookahead is not None else None
        if planned is not None:
            entry, outcome = planned
            if isinstance(outcome, asyncio.Future):
                outcome = (await asyncio.shield(outcome))[0]
            if not await asyncio.to_thread(self._changed_since, entry, inputs[0], extra_info, fs):
                return list(self._report(self._documents([entry], [outcome], info), report))
        batch, _ = await asyncio.to_thread(self._batch, inputs, extra_info, fs, report, lookahead=False)
        if self._lookahead is not None and len(inputs) == 1 and batch and self._plans_async():
            plan = self._lookahead.next_files(self._owner, inputs[0], in_event_loop=True)
            for ahead in await asyncio.to_thread(self._read_planned, plan):
                task = asyncio.ensure_future(
                    self.engine.aparse_all([(ahead.data, ahead.file_name, ahead.label)])
                )
                self._lookahead.keep(ahead.label, (ahead, task))
        outcomes = await self.engine.aparse_all([(i.data, i.file_name, i.label) for i in batch])
        return list(self._report(self._documents(batch, outcomes, info), report))

    def _plans_async(self) -> bool:
        return self.engine.use_cache and self.engine.policy.max_jobs is None

    def estimate(
        self, inputs: list[FileInput], extra_info: Mapping[str, Any] | None, fs: Any | None
    ) -> CostReport:
        """What parsing ``inputs`` would cost: no request, no upload, no credit.

        Inputs that cannot be read or parsed are listed with the reason and priced at nothing.
        """
        files = []
        unreadable: list[tuple[str, str]] = []
        for item in inputs:
            label = label_of(item, extra_info)
            try:
                data, file_name, _ = read_input(item, extra_info, fs)
            except OSError as exc:  # listed as unreadable, not priced (a real run reports it)
                unreadable.append((label, os_error(exc, label).message))
                continue
            files.append((data, file_name, label))
        use_cache = self.engine.use_cache
        cache = ParseCache(self.settings.cache_path("parse"))
        journal_path = self.settings.cache_path("journal.sqlite")
        journal = JobJournal.for_settings(self.settings) if use_cache and journal_path.is_file() else None
        return estimate_costs(
            files,
            self.service.preset,
            self.service.options,
            is_cached=(lambda key: cache.get(key) is not None) if use_cache else None,
            journal=journal,
            key=self.engine.key,
            presets=self.service.presets,
            unreadable=unreadable,
        )

    def _batch(
        self,
        inputs: list[FileInput],
        extra_info: Mapping[str, Any] | None,
        fs: Any | None,
        report: BatchReport,
        lookahead: bool = True,
    ) -> tuple[list[CloudInput], int]:
        """Read the inputs (failures go to the report) and add the planned files, if any."""
        batch: list[CloudInput] = []
        for item in inputs:
            label = label_of(item, extra_info)
            try:
                data, file_name, file_path = read_input(item, extra_info, fs)
            except (CloudKitError, OSError) as exc:
                self._fail(label, exc, report)
                continue
            batch.append(CloudInput(data, file_name, file_path, label))
        requested = len(batch)
        if lookahead and self._lookahead is not None and len(inputs) == 1 and batch:
            batch += self._read_planned(self._lookahead.next_files(self._owner, inputs[0]))
        return batch, requested

    def _read_planned(self, plan: DirectoryPlan) -> list[CloudInput]:
        """The files of a SimpleDirectoryReader run to submit ahead of time (those it can read)."""
        extra = []
        for path in plan.files:
            try:
                data, file_name, file_path = read_input(path, None, plan.fs)
            except (CloudKitError, OSError):
                continue  # it fails, with its reason, when SimpleDirectoryReader hands it over
            extra.append(CloudInput(data, file_name, file_path, path))
        if extra:
            logger.info("submitting %d file(s) of this SimpleDirectoryReader run ahead of time", len(extra))
        return extra

    def _documents(
        self, inputs: list[CloudInput], outcomes: list[CloudOutcome], extra_info: dict[str, Any]
    ) -> list[Result]:
        """Per input, its Documents (metadata from ``extra_info``) or its error, and its outcome."""
        results: list[Result] = []
        for item, outcome in zip(inputs, outcomes, strict=True):
            if outcome.error is not None:
                results.append((item, outcome.error, outcome))
                continue
            parsed = outcome.parsed
            if parsed is None or not parsed.pages:
                error = ParseError(
                    "LlamaParse returned no pages", file=item.label, hint="Check that the file has content"
                )
                results.append((item, error, outcome))
                continue
            documents = page_documents(
                parsed,
                backend="cloud",
                file_path=item.file_path,
                extra_info=extra_info,
                extra_metadata={"job_id": outcome.job_id, "preset": self.service.preset.value},
                tables_as_html=self._tables_as_html,
                sha256=hashlib.sha256(item.data).hexdigest(),
            )
            results.append((item, documents, outcome))
        return results

    def _report(self, results: list[Result], report: BatchReport) -> Iterator[Document]:
        """Report each input (success or failure) and yield its Documents."""
        report.credits_estimated += sum(outcome.credits for _, _, outcome in results)
        for entry, documents, outcome in results:
            if isinstance(documents, BaseException):
                self._fail(entry.label, documents, report)
                continue
            for doc in documents:  # pages LlamaParse could not parse: warnings, never silent
                for message in doc.metadata.get("parse_warnings") or []:
                    logger.warning("%s, page %s: %s", entry.label, doc.metadata.get("page_number"), message)
                    report.add_warning(entry.label, message, page=doc.metadata.get("page_number"))
            report.add_success(
                entry.label,
                pages=len(documents),
                documents=len(documents),
                cache_hit=outcome.cache_hit,
                job_id=outcome.job_id,
                pages_estimated=outcome.pages_estimated or None,
                credits_estimated=outcome.credits,
                pages_reported=outcome.pages_reported,
                credits_reported=outcome.credits_reported,
                credits_per_page=outcome.credits_per_page,
            )
            dispatcher.event(
                ParseFileEndEvent(
                    file=entry.label,
                    backend="cloud",
                    job_id=outcome.job_id,
                    pages=len(documents),
                    cache_hit=outcome.cache_hit,
                )
            )
            yield from documents
