"""What a parse will cost before anything is paid: per file, per preset, with what is free.

:func:`estimate_costs` reads nothing but the bytes it is given and the local cache and journal:
no request, no upload, no credit. Pages come from :func:`~llama_index_cloudkit.cloud.budget.
estimate_pages` (the same count the budget uses), credits from each preset's price per page. A
file is free when its result is cached, or when a journaled job for it can be re-attached.

Example:
    >>> report = estimate_costs([(b"# notes", "notes.md", "notes.md")], "agentic", {})
    >>> report.files[0].pages, report.files[0].credits, report.total_credits
    (1, 10, 10)
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from llama_index_cloudkit.cloud.budget import estimate_pages
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.presets import ParsePreset

__all__ = ["CostReport", "FileCost", "estimate_costs"]


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
    """

    file: str
    pages: int
    cached: bool
    reattach: bool
    credits: int
    credits_by_preset: dict[str, int] = field(default_factory=dict)

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
        return (
            f"{len(self.files)} file(s), {self.total_pages} page(s), {free} free, "
            f"about {self.total_credits} credits ({self.preset})"
        )

    def table(self) -> str:
        """A plain-text table: file, pages, free, credits for each preset."""
        presets = list(self.presets)
        header = ["file", "pages", "free", *presets]
        rows = [
            [
                f.file,
                str(f.pages),
                "cached" if f.cached else ("journal" if f.reattach else ""),
                *(str(f.credits_by_preset[p]) for p in presets),
            ]
            for f in self.files
        ]
        rows.append(["total", str(self.total_pages), "", *(str(self.total_for(p)) for p in presets)])
        widths = [max(len(r[i]) for r in [header, *rows]) for i in range(len(header))]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in [header, *rows]
        ]
        return "\n".join(line.rstrip() for line in lines)


def estimate_costs(
    files: Iterable[tuple[bytes, str, str]],
    preset: str | ParsePreset,
    options: Mapping[str, Any],
    *,
    is_cached: Any = None,
    journal: JobJournal | None = None,
    key: Any = None,
    api_version: str = "v1",
) -> CostReport:
    """Estimate ``(bytes, file name, label)`` inputs; no request, no upload.

    Args:
        files: the inputs.
        preset: the preset that would be used.
        options: the LlamaParse options (``target_pages``, ``max_pages`` change the count).
        is_cached: ``is_cached(key) -> bool`` for the result cache (None: nothing cached).
        journal: the job journal (None: nothing to re-attach).
        key: ``key(data) -> str``, the parse key under this preset and options.
        api_version: which presets exist (``fast`` is v2 only).
    """
    chosen = ParsePreset.from_name(preset)
    estimates = []
    for data, file_name, label in files:
        pages = estimate_pages(data, file_name, options)
        content_key = key(data) if key is not None else None
        cached = bool(content_key and is_cached is not None and is_cached(content_key))
        reattach = bool(
            content_key and not cached and journal is not None and journal.pending_job(content_key)
        )
        by_preset = {p.value: pages * p.credits_per_page for p in ParsePreset.for_api(api_version)}
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
    return CostReport(chosen.value, estimates, tuple(p.value for p in ParsePreset.for_api(api_version)))
