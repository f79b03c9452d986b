"""What a parse will cost before anything is paid: pages as LlamaParse bills them, per preset.

:func:`estimate_pages` counts what LlamaParse bills: PDF pages, PPTX slides, XLSX sheets, DOCX
pages (when the file records them), with ``target_pages`` / ``max_pages`` applied; anything else
counts as one page. The cloud backend reserves that many pages times the price per page from its
:class:`~llama_index_cloudkit.cloud.budget.Budget` before each submission.

:func:`estimate_costs` reads nothing but the bytes it is given and the local cache and journal:
no request, no upload, no credit. Credits come from each preset's price per page. A file is free
when its result is cached, or when a journaled job for it can be re-attached.

Example:
    >>> report = estimate_costs([(b"# notes", "notes.md", "notes.md")], "agentic", {})
    >>> report.files[0].pages, report.files[0].credits, report.total_credits
    (1, 10, 10)
"""

from __future__ import annotations

import io
import re
import zipfile
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.errors import CloudKitError, ParseError
from llama_index_cloudkit.parse.llamacloud.preflight import refuse_unparseable
from llama_index_cloudkit.parse.presets import ParsePreset

__all__ = [
    "CostReport",
    "FileCost",
    "count_file_pages",
    "estimate_costs",
    "estimate_pages",
    "pages_after_options",
]

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


@dataclass(frozen=True)
class FileCost:
    """The estimated cost of parsing one file.

    Attributes:
        file: the file's label (its path, or its name for bytes).
        pages: pages LlamaParse will bill (``target_pages`` / ``max_pages`` applied).
        cached: the result is in the cache (free).
        reattach: a journaled job can be re-attached (free).
        credits: what the chosen preset costs for this file (0 when free).
        credits_by_preset: what each preset would cost, ignoring what is free.
        problem: why the file cannot be parsed (unreadable, empty, not what its suffix says);
            such a file is never uploaded, so it costs nothing.
    """

    file: str
    pages: int
    cached: bool
    reattach: bool
    credits: int
    credits_by_preset: dict[str, int] = field(default_factory=dict)
    problem: str | None = None

    @property
    def free(self) -> bool:
        """Whether parsing it again costs nothing."""
        return self.cached or self.reattach


@dataclass(frozen=True)
class CostReport:
    """Per-file estimates and totals, for one preset and options.

    Example:
        >>> CostReport("agentic", []).summary()
        '0 file(s), 0 page(s), 0 free, about 0 credits (agentic)'
    """

    preset: str
    files: list[FileCost]
    presets: tuple[str, ...] = ("cost_effective", "agentic", "agentic_plus")

    @property
    def total_pages(self) -> int:
        """Pages over every file."""
        return sum(f.pages for f in self.files)

    @property
    def total_credits(self) -> int:
        """Credits the chosen preset would spend (free files count 0)."""
        return sum(f.credits for f in self.files)

    def total_for(self, preset: str) -> int:
        """Credits ``preset`` would spend on the files that are not free for it.

        Cache entries are per preset, so a file cached under the chosen preset is counted
        here at full price for the other presets.
        """
        return sum(
            0 if (f.free and preset == self.preset) else f.credits_by_preset.get(preset, 0)
            for f in self.files
        )

    def summary(self) -> str:
        """One line for logs and the CLI."""
        free = sum(1 for f in self.files if f.free)
        unreadable = sum(1 for f in self.files if f.problem)
        refused = f", {unreadable} unreadable" if unreadable else ""
        return (
            f"{len(self.files)} file(s), {self.total_pages} page(s), {free} free{refused}, "
            f"about {self.total_credits} credits ({self.preset})"
        )

    def _cell(self, cost: FileCost, preset: str) -> str:
        if cost.problem:
            return "-"
        if cost.free and preset == self.preset:  # cached or journaled under this very preset
            return "0"
        return str(cost.credits_by_preset.get(preset, 0))

    def table(self) -> str:
        """A plain-text table: file, pages, free, credits for each preset."""
        presets = list(self.presets)
        header = ["file", "pages", "free", *presets]
        rows = [
            [
                f.file,
                "-" if f.problem else str(f.pages),
                "cached" if f.cached else ("journal" if f.reattach else ""),
                *(self._cell(f, p) for p in presets),
            ]
            for f in self.files
        ]
        rows.append(["total", str(self.total_pages), "", *(str(self.total_for(p)) for p in presets)])
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]
        ]
        lines += [f"unreadable: {f.file}: {f.problem}" for f in self.files if f.problem]
        return "\n".join(line.rstrip() for line in lines)


def estimate_costs(
    files: Iterable[tuple[bytes, str, str]],
    preset: str | ParsePreset,
    options: Mapping[str, Any],
    *,
    is_cached: Callable[[str], bool] | None = None,
    journal: JobJournal | None = None,
    key: Callable[[bytes], str] | None = None,
    presets: Sequence[ParsePreset] | None = None,
    unreadable: Sequence[tuple[str, str]] = (),
) -> CostReport:
    """Estimate ``(bytes, file name, label)`` inputs; no request, no upload.

    Args:
        files: the inputs.
        preset: the preset that would be used.
        options: the LlamaParse options (``target_pages``, ``max_pages`` change the count).
        is_cached: ``is_cached(key) -> bool`` for the result cache (None: nothing cached).
        journal: the job journal (None: nothing to re-attach).
        key: ``key(data) -> str``, the parse key under this preset and options.
        presets: the presets to price each file under (None: those of LlamaParse v1).
        unreadable: ``(label, reason)`` of inputs that could not be read: listed, never priced.
    """
    chosen = ParsePreset.from_name(preset)
    offered = tuple(presets) if presets is not None else tuple(p for p in ParsePreset if p.on_v1)
    if chosen not in offered:  # the chosen preset always has its column
        offered = (*offered, chosen)
    estimates = [FileCost(label, 0, False, False, 0, problem=reason) for label, reason in unreadable]
    for data, file_name, label in files:
        try:
            refuse_unparseable(data, file_name, label)  # what the real run refuses before uploading
        except ParseError as exc:
            estimates.append(FileCost(label, 0, False, False, 0, problem=exc.message))
            continue
        pages = estimate_pages(data, file_name, options)
        content_key = key(data) if key is not None else None
        cached = bool(content_key and is_cached is not None and is_cached(content_key))
        reattach = bool(
            content_key and not cached and journal is not None and journal.pending_job(content_key)
        )
        by_preset = {p.value: pages * p.credits_per_page for p in offered}
        estimates.append(
            FileCost(
                file=label,
                pages=pages,
                cached=cached,
                reattach=reattach,
                credits=0 if (cached or reattach) else pages * chosen.credits_per_page,
                credits_by_preset=by_preset,
            )
        )
    return CostReport(chosen.value, estimates, tuple(p.value for p in offered))
