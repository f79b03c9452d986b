"""Which files a command reads, and reading them into one Document per page."""

from __future__ import annotations

import collections
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import click

from llama_index_cloudkit.cli._errors import EXIT_OK, EXIT_PARTIAL, cli_syntax
from llama_index_cloudkit.cli._group import fail_usage
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = ["describe_skipped", "gather_files", "read_files", "report_problems"]


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _folder_files(folder: Path) -> list[Path]:
    """Every file SimpleDirectoryReader would list under ``folder`` (hidden files left out)."""
    from llama_index.core import SimpleDirectoryReader

    try:
        return sorted(Path(f) for f in SimpleDirectoryReader(str(folder), recursive=True).input_files)
    except ValueError:  # SimpleDirectoryReader refuses a folder with no file at all
        return []


def describe_skipped(skipped: Sequence[Path]) -> str:
    """How many files were skipped, by suffix, most common first.

    Example:
        >>> describe_skipped([Path("a.rtf"), Path("b.rtf"), Path("c")])
        'skipped 3 file(s) of unsupported types: .rtf x2, (no suffix) x1'
    """
    counts = collections.Counter(p.suffix.lower() or "(no suffix)" for p in skipped)
    kinds = ", ".join(f"{suffix} x{count}" for suffix, count in counts.most_common())
    return f"skipped {len(skipped)} file(s) of unsupported types: {kinds}"


def gather_files(paths: Iterable[str], *, exclude: Path | None = None) -> list[Path]:
    """The readable files under ``paths`` (folders are walked), each once, in a stable order.

    Files of a type no backend reads are counted and named by suffix on stderr (``skipped 2
    file(s) of unsupported types: .rtf x2``).

    Args:
        paths: files and folders as the user typed them.
        exclude: a folder whose files are never read (the output folder of ``parse --out``).

    Raises:
        click.UsageError: a path that does not exist, or no readable file at all (exit 2).
    """
    from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES

    supported = {suffix.lower() for suffix in SUPPORTED_SUFFIXES}
    left_out = Path(os.path.abspath(exclude)) if exclude is not None else None
    files: list[Path] = []
    skipped: list[Path] = []
    seen: set[Path] = set()
    for raw in paths:
        path = Path(raw)
        if path.is_dir():
            found = _folder_files(path)
        elif path.is_file():
            found = [path]
        else:
            fail_usage(f"{raw} is neither a file nor a folder")
        for file in found:
            absolute = Path(os.path.abspath(file))
            if absolute in seen or (left_out is not None and _inside(absolute, left_out)):
                continue
            seen.add(absolute)
            if path.is_dir() and file.suffix.lower() not in supported:
                skipped.append(file)
            else:
                files.append(file)
    if not files:
        found_only = f": {describe_skipped(skipped)}" if skipped else ""
        fail_usage(f"no readable files found{found_only} (supported: {', '.join(SUPPORTED_SUFFIXES)})")
    if skipped:
        click.echo(describe_skipped(skipped), err=True)
    return files


def read_files(
    files: Sequence[Path],
    settings: CloudKitSettings,
    *,
    preset: str = "agentic",
    progress: bool = False,
    max_credits: float | None = None,
) -> tuple[list[Any], Any]:
    """Parse ``files`` into Documents, one per page; failures go to the report, not an exception.

    Returns:
        The Documents and the reader's ``last_report``.

    Raises:
        ConfigError: settings that cannot work (for example ``--backend cloud`` without a key).
    """
    from llama_index_cloudkit.parse.reader import CloudKitReader

    reader = CloudKitReader(settings=settings, preset=preset, on_error="report", max_credits=max_credits)
    reader.show_progress = progress
    documents = reader.load_data([str(f) for f in files])
    return list(documents), reader.last_report


def _flat(text: object) -> str:
    return " ".join(str(text).split())


def report_problems(report: Any) -> int:
    """Print each failed file (and each warning) as one line on stderr; the exit code they give."""
    for warning in getattr(report, "warnings", None) or []:
        click.echo(f"warning: {_flat(warning)}", err=True)
    refused = [f for f in report.failures if f.error_type == "AuthError"]
    if refused:  # one wrong key fails every file the same way: say it once
        error = refused[0].error.removeprefix("Not sent: ")
        click.echo(f"failed: {cli_syntax(_flat(error))}; {len(refused)} file(s) not parsed", err=True)
    for failure in report.failures:
        if failure.error_type != "AuthError":
            click.echo(f"failed: {failure.file}: {cli_syntax(_flat(failure.error))}", err=True)
    return EXIT_PARTIAL if report.failures else EXIT_OK
