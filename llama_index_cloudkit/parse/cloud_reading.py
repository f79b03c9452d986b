"""How CloudKitReader reads a batch with LlamaParse: inputs -> outcomes -> Documents.

Kept apart from the reader so that the reader stays a thin LlamaIndex contract. The functions
that take the reader are its cloud path (they use its settings, its report and the files
planned for the current SimpleDirectoryReader run); the others work on plain inputs.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from llama_index.core.schema import Document

from llama_index_cloudkit.cloud.cost import CostReport, estimate_costs
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.events import ParseFileEndEvent, dispatcher
from llama_index_cloudkit.parse.cache import ParseCache, parse_key
from llama_index_cloudkit.parse.cloud_api import key_options
from llama_index_cloudkit.parse.cloud_backend import CloudBackend, CloudOutcome
from llama_index_cloudkit.parse.inputs import FileInput, label_of, os_error, progress_bar, read_input
from llama_index_cloudkit.parse.pages import page_documents
from llama_index_cloudkit.parse.report import BatchReport
from llama_index_cloudkit.presets import ParsePreset
from llama_index_cloudkit.settings import CloudKitSettings

if TYPE_CHECKING:
    from llama_index_cloudkit.parse.reader import CloudKitReader

__all__ = [
    "CloudInput",
    "acloud_documents",
    "aload_cloud",
    "checked_parse_options",
    "cloud_batch",
    "cloud_documents",
    "cloud_results",
    "documents_from_outcomes",
    "estimate_inputs",
    "files_for_reader",
    "iter_cloud",
    "planned_batch",
    "planned_outcome",
]

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CloudInput:
    """One file to parse: its bytes, name, path for metadata, and label for the report."""

    data: bytes
    file_name: str
    file_path: str
    label: str


def cloud_documents(
    backend: CloudBackend,
    inputs: list[CloudInput],
    *,
    extra_info: dict[str, Any] | None,
    tables_as_html: bool,
    preset: str,
    on_done: Callable[[], None] | None = None,
) -> list[tuple[CloudInput, list[Document] | BaseException, dict[str, Any]]]:
    """Parse ``inputs`` in one concurrent batch; per input, its Documents or its error.

    The third item of each tuple has report details: ``cache_hit``, ``job_id``, ``credits``.
    """
    outcomes = backend.parse_all([(i.data, i.file_name, i.label) for i in inputs], on_done=on_done)
    return documents_from_outcomes(
        inputs, outcomes, extra_info=extra_info, tables_as_html=tables_as_html, preset=preset
    )


async def acloud_documents(
    backend: CloudBackend,
    inputs: list[CloudInput],
    *,
    extra_info: dict[str, Any] | None,
    tables_as_html: bool,
    preset: str,
    on_done: Callable[[], None] | None = None,
) -> list[tuple[CloudInput, list[Document] | BaseException, dict[str, Any]]]:
    """Async :func:`cloud_documents`: awaits the core in the caller's event loop."""
    outcomes = await backend.aparse_all([(i.data, i.file_name, i.label) for i in inputs], on_done=on_done)
    return documents_from_outcomes(
        inputs, outcomes, extra_info=extra_info, tables_as_html=tables_as_html, preset=preset
    )


def documents_from_outcomes(
    inputs: list[CloudInput],
    outcomes: list[CloudOutcome],
    *,
    extra_info: dict[str, Any] | None,
    tables_as_html: bool,
    preset: str,
) -> list[tuple[CloudInput, list[Document] | BaseException, dict[str, Any]]]:
    """Per input, its Documents (metadata from ``extra_info``) or its error, and report details."""
    results: list[tuple[CloudInput, list[Document] | BaseException, dict[str, Any]]] = []
    for item, outcome in zip(inputs, outcomes, strict=True):
        details = {
            "cache_hit": outcome.cache_hit,
            "job_id": outcome.job_id,
            "credits": outcome.credits,
            "pages_estimated": outcome.pages_estimated,
            "pages_reported": outcome.pages_reported,
            "credits_reported": outcome.credits_reported,
            "credits_per_page": outcome.credits_per_page,
        }
        if outcome.error is not None:
            results.append((item, outcome.error, details))
            continue
        parsed = outcome.parsed
        if parsed is None or not parsed.pages:
            error: CloudKitError = ParseError(
                "LlamaParse returned no pages", file=item.label, hint="Check that the file has content"
            )
            results.append((item, error, details))
            continue
        documents = page_documents(
            parsed,
            backend="cloud",
            file_path=item.file_path,
            extra_info=extra_info,
            extra_metadata={"job_id": outcome.job_id, "preset": preset},
            tables_as_html=tables_as_html,
            sha256=hashlib.sha256(item.data).hexdigest(),
        )
        results.append((item, documents, details))
    return results


def cloud_batch(
    reader: CloudKitReader,
    inputs: list[FileInput],
    extra_info: Mapping[str, Any] | None,
    fs: Any | None,
    report: BatchReport,
) -> tuple[list[Any], int]:
    """Read the inputs (failures go to the report) and add the planned files, if any."""
    batch: list[CloudInput] = []
    for item in inputs:
        label = label_of(item, extra_info)
        try:
            data, file_name, file_path = read_input(item, extra_info, fs)
        except (CloudKitError, OSError) as exc:
            reader._fail(label, exc, report)
            continue
        batch.append(CloudInput(data, file_name, file_path, label))
    requested = len(batch)
    if reader.batch_directory_reads and len(inputs) == 1 and batch:
        batch += planned_batch(reader, inputs[0])
    return batch, requested


def _record_page_warnings(label: str, documents: list[Document], report: BatchReport) -> None:
    """Pages LlamaParse could not parse (v2 partial results) are warnings, never silent."""
    for doc in documents:
        for message in doc.metadata.get("parse_warnings") or []:
            logger.warning("%s, page %s: %s", label, doc.metadata.get("page_number"), message)
            report.add_warning(label, message, page=doc.metadata.get("page_number"))


def cloud_results(
    reader: CloudKitReader, results: list[Any], requested: int, report: BatchReport
) -> Iterator[Document]:
    """Report each requested input (success or failure) and yield its Documents."""
    report.credits_estimated += sum(details["credits"] for _, _, details in results[:requested])
    for entry, documents, details in results[:requested]:
        if isinstance(documents, BaseException):
            reader._fail(entry.label, documents, report)
            continue
        _record_page_warnings(entry.label, documents, report)
        report.add_success(
            entry.label,
            pages=len(documents),
            documents=len(documents),
            cache_hit=details["cache_hit"],
            job_id=details["job_id"],
            pages_estimated=details["pages_estimated"] or None,
            credits_estimated=details["credits"],
            pages_reported=details["pages_reported"],
            credits_reported=details["credits_reported"],
            credits_per_page=details["credits_per_page"],
        )
        dispatcher.event(
            ParseFileEndEvent(
                file=entry.label,
                backend="cloud",
                job_id=details["job_id"],
                pages=len(documents),
                cache_hit=details["cache_hit"],
            )
        )
        yield from documents
    for entry, outcome, _ in results[requested:]:
        if isinstance(outcome, BaseException):
            logger.info("early submission of %s failed: %s", entry.label, outcome)


def iter_cloud(
    reader: CloudKitReader,
    inputs: list[FileInput],
    extra_info: Mapping[str, Any] | None,
    fs: Any | None,
    report: BatchReport,
) -> Iterator[Document]:
    info = dict(extra_info or {})
    html, preset = reader.output_tables_as_HTML, reader.preset.value
    planned = planned_outcome(reader, inputs)
    if planned is not None:  # submitted with an earlier file of this SimpleDirectoryReader run
        entry, outcome = planned
        outcome.credits = 0.0  # counted in the report of the call that submitted it
        yield from cloud_results(
            reader,
            documents_from_outcomes([entry], [outcome], extra_info=info, tables_as_html=html, preset=preset),
            1,
            report,
        )
        return
    batch, requested = cloud_batch(reader, inputs, extra_info, fs, report)
    bar = progress_bar(requested, reader.show_progress)
    outcomes = reader._cloud_backend().parse_all(
        [(i.data, i.file_name, i.label) for i in batch], on_done=bar.update if bar is not None else None
    )
    if bar is not None:
        bar.close()
    for entry, outcome in zip(batch[requested:], outcomes[requested:], strict=True):
        reader._planned[entry.label] = (entry, outcome)
    results = documents_from_outcomes(batch, outcomes, extra_info=info, tables_as_html=html, preset=preset)
    report.credits_estimated += sum(details["credits"] for _, _, details in results[requested:])
    yield from cloud_results(reader, results[:requested], requested, report)


def planned_outcome(reader: CloudKitReader, inputs: list[FileInput]) -> tuple[Any, Any] | None:
    if len(inputs) != 1 or not isinstance(inputs[0], (str, os.PathLike)):
        return None
    return reader._planned.pop(os.fspath(inputs[0]), None)


async def aload_cloud(
    reader: CloudKitReader, inputs: list[FileInput], extra_info: Mapping[str, Any] | None, fs: Any | None
) -> list[Document]:
    report = BatchReport()
    reader._last_report = report
    batch, requested = await asyncio.to_thread(cloud_batch, reader, inputs, extra_info, fs, report)
    results = await acloud_documents(
        reader._cloud_backend(),
        batch,
        extra_info=dict(extra_info or {}),
        tables_as_html=reader.output_tables_as_HTML,
        preset=reader.preset.value,
    )
    return list(cloud_results(reader, results, requested, report))


def planned_batch(reader: CloudKitReader, current: FileInput) -> list[CloudInput]:
    """The files the calling SimpleDirectoryReader run will hand over next (read once)."""
    from llama_index_cloudkit.parse.batching import planned_directory_batch

    plan = planned_directory_batch(reader, current)
    if not plan.files or plan.run_id in reader._planned_runs:
        return []
    reader._planned_runs = {plan.run_id or 0}
    reader._planned.clear()  # what an earlier, unfinished run left
    extra = []
    for path in plan.files:
        try:
            data, file_name, file_path = read_input(path, None, plan.fs)
        except (CloudKitError, OSError):
            continue  # it fails, with its reason, when SimpleDirectoryReader hands it over
        extra.append(CloudInput(data, file_name, file_path, path))
    logger.info("submitting %d file(s) of this SimpleDirectoryReader run ahead of time", len(extra))
    return extra


def estimate_inputs(
    reader: CloudKitReader,
    inputs: list[FileInput],
    extra_info: Mapping[str, Any] | None,
    fs: Any | None,
) -> CostReport:
    """The reader's cost estimate of ``inputs`` (see :meth:`CloudKitReader.estimate`)."""
    files = []
    for item in inputs:
        label = label_of(item, extra_info)
        try:
            data, file_name, _ = read_input(item, extra_info, fs)
        except OSError as exc:
            raise os_error(exc, label) from exc
        files.append((data, file_name, label))
    cache = ParseCache(reader.settings.cache_path("parse"))
    journal_path = reader.settings.cache_path("journal.sqlite")
    journal = JobJournal.for_settings(reader.settings) if journal_path.is_file() else None
    return estimate_costs(
        files,
        reader.preset,
        reader.parse_options,
        is_cached=(lambda key: cache.get(key) is not None) if reader.use_cache else None,
        journal=journal if reader.use_cache else None,
        key=lambda data: parse_key(
            data, reader.preset.value, key_options(reader.settings, reader.preset, reader.parse_options)
        ),
        api_version=reader.settings.api_version,
    )


def files_for_reader(reader: CloudKitReader, directory_reader: Any) -> list[FileInput]:
    """The files a SimpleDirectoryReader would hand to ``reader``: those its mapping gives it.

    Example:
        >>> files_for_reader(object(), object())  # doctest: +SKIP
        []
    """
    mapping = getattr(directory_reader, "file_extractor", None) or {}
    return [
        str(f)
        for f in getattr(directory_reader, "input_files", [])
        if mapping.get(os.path.splitext(str(f))[1].lower()) is reader
    ]


def checked_parse_options(
    preset: ParsePreset, options: dict[str, Any], settings: CloudKitSettings
) -> dict[str, Any]:
    """The reader's LlamaParse options, checked for its API generation when it is built.

    Raises:
        ConfigError: ``fast`` on v1, an unknown option or value, or one v2 cannot carry.

    Example:
        >>> checked_parse_options(ParsePreset.AGENTIC, {"max_pages": 2}, CloudKitSettings())  # doctest: +SKIP
        {'max_pages': 2}
    """
    if settings.api_version == "v2":
        from llama_index_cloudkit.parse.cloud_v2 import check_preset_for_api

        check_preset_for_api(preset, "v2")
        return options
    from llama_index_cloudkit.parse.cloud import validate_options

    preset.llamaparse_kwargs()  # fast: a ConfigError that says it is v2 only
    return validate_options(options)
