"""Which files SimpleDirectoryReader will hand to this reader next, known for certain, or none.

SimpleDirectoryReader calls a reader once per file. To still run LlamaParse jobs concurrently,
the reader may submit, ahead of time, the files that the *same* SimpleDirectoryReader run is going
to hand to it. That set is taken from the SimpleDirectoryReader instance itself, never from the
folder: its ``input_files`` (already resolved after ``input_files``, ``exclude``,
``required_exts``, ``num_files_limit``, ``recursive`` and the hidden-file rules) in the order it
reads them, after the file being read now.

It is used only where that set is certain:

- the call comes from ``SimpleDirectoryReader.load_data`` in its sequential loop (not
  ``iter_data``, where the caller may stop early; not ``num_workers`` processes), or from
  ``SimpleDirectoryReader.aload_data(num_workers=N)``, which hands over N files at a time (without
  ``num_workers`` its calls already all run at once). The async run is found among the event
  loop's tasks (the coroutine that awaits ``aload_data``); when more than one run of the loop
  could be the caller, nothing is planned;
- ``raise_on_error`` is False, so a failing file cannot end the loop early;
- every one of its input files is mapped to this very reader in its ``file_extractor`` (no other
  reader, not even SimpleDirectoryReader's defaults, can stop the run with an ImportError).

Anything else (another caller, a changed SimpleDirectoryReader) gives an empty plan: nothing is
submitted ahead of time. The cost of being unsure is speed, never an upload that was not asked for.

The files submitted ahead wait in a :class:`Lookahead`, which the reader keeps across its calls
(SimpleDirectoryReader calls it once per file) and the cloud backend alone reads and fills.

Example:
    >>> Lookahead().next_files(object(), "a.pdf")
    DirectoryPlan(files=(), fs=None, run_id=None)
"""

from __future__ import annotations

import asyncio
import dataclasses
import inspect
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

__all__ = ["DirectoryPlan", "Lookahead"]

_MAX_DEPTH = 24  # our load_data, the instrumentation span, load_file, SimpleDirectoryReader.load_data


@dataclass(frozen=True)
class DirectoryPlan:
    """The files SimpleDirectoryReader will hand over after the current one, and its filesystem."""

    files: tuple[str, ...] = ()
    fs: Any = None
    run_id: int | None = None


def _directory_reader_frame(start: FrameType | None) -> FrameType | None:
    try:
        from llama_index.core import SimpleDirectoryReader
    except ImportError:  # pragma: no cover - llama-index-core is a dependency
        return None
    target = SimpleDirectoryReader.load_data.__code__
    frame, depth = start, 0
    while frame is not None and depth < _MAX_DEPTH:
        if frame.f_code is target:
            return frame
        frame, depth = frame.f_back, depth + 1
    return None


def _plan(directory_reader: Any, files: Any, fs: Any, reader: Any, current: Any) -> DirectoryPlan:
    """The files after ``current`` of a SimpleDirectoryReader run, if all of them go to ``reader``."""
    if directory_reader is None or getattr(directory_reader, "raise_on_error", True):
        return DirectoryPlan()
    mapping = getattr(directory_reader, "file_extractor", None) or {}
    names = [str(f) for f in files or []]
    if not names or any(mapping.get(Path(f).suffix.lower()) is not reader for f in names):
        return DirectoryPlan()
    try:
        position = names.index(os.fspath(current))
    except ValueError:
        return DirectoryPlan()
    return DirectoryPlan(tuple(names[position + 1 :]), fs, id(directory_reader))


def _planned_directory_batch(reader: Any, current: Any) -> DirectoryPlan:
    """The files after ``current`` that the calling SimpleDirectoryReader will give ``reader``.

    Args:
        reader: the reader instance being called.
        current: the path SimpleDirectoryReader handed over now.

    Returns:
        A plan with no files unless the set is certain (see the module docstring).
    """
    if not isinstance(current, (str, os.PathLike)):
        return DirectoryPlan()
    frame = _directory_reader_frame(sys._getframe(2))
    if frame is None:
        return DirectoryPlan()
    local = frame.f_locals
    num_workers = local.get("num_workers")
    if num_workers and num_workers > 1:
        return DirectoryPlan()
    directory_reader = local.get("self")
    return _plan(
        directory_reader, getattr(directory_reader, "input_files", []), local.get("fs"), reader, current
    )


def _async_directory_frames() -> list[FrameType]:
    """The frames of every ``SimpleDirectoryReader.aload_data`` running in this event loop."""
    try:
        from llama_index.core import SimpleDirectoryReader
    except ImportError:  # pragma: no cover - llama-index-core is a dependency
        return []
    target = inspect.unwrap(SimpleDirectoryReader.aload_data).__code__
    frames = []
    for task in asyncio.all_tasks():
        awaited: Any = task.get_coro()
        for _ in range(_MAX_DEPTH):
            frame = getattr(awaited, "cr_frame", None)
            if frame is None:
                break
            if frame.f_code is target:
                frames.append(frame)
                break
            awaited = getattr(awaited, "cr_await", None)
    return frames


def _planned_async_batch(reader: Any, current: Any) -> DirectoryPlan:
    """Like :func:`_planned_directory_batch`, for ``SimpleDirectoryReader.aload_data(num_workers=N)``.

    The N - 1 files after ``current`` are being handed over with it (the run's semaphore lets N
    calls in at once, in order), so the plan starts after them.
    """
    if not isinstance(current, (str, os.PathLike)):
        return DirectoryPlan()
    plans = []
    for frame in _async_directory_frames():
        local = frame.f_locals
        files = local.get("files_to_process") or []
        num_workers = local.get("num_workers")
        if not num_workers or len(files) <= num_workers:
            continue  # every file is handed over at once already
        plan = _plan(local.get("self"), files, local.get("fs"), reader, current)
        if plan.files:
            plans.append(dataclasses.replace(plan, files=plan.files[num_workers - 1 :]))
    return plans[0] if len(plans) == 1 else DirectoryPlan()


class Lookahead:
    """The outcomes of files submitted ahead for the current SimpleDirectoryReader run, by path.

    Example:
        >>> lookahead = Lookahead()
        >>> lookahead.keep("b.pdf", "outcome of b.pdf")
        >>> lookahead.pop(["b.pdf"]), lookahead.pop(["b.pdf"])
        ('outcome of b.pdf', None)
    """

    def __init__(self) -> None:
        self._run: int | None = None
        self._kept: dict[str, Any] = {}

    def next_files(self, reader: Any, current: Any, *, in_event_loop: bool = False) -> DirectoryPlan:
        """The files the calling SimpleDirectoryReader run hands to ``reader`` after ``current``.

        ``in_event_loop``: the call comes from ``aload_data(num_workers=N)`` and runs in its loop.
        Empty unless the set is certain (see the module docstring), and empty for a run already
        planned; a new run drops what an earlier, unfinished one left.
        """
        if in_event_loop:
            plan = _planned_async_batch(reader, current)
        else:
            plan = _planned_directory_batch(reader, current)
        if not plan.files or plan.run_id == self._run:
            return DirectoryPlan()
        self._run = plan.run_id or 0
        self._kept.clear()
        return plan

    def keep(self, path: str, outcome: Any) -> None:
        """Hold the outcome of a file submitted ahead until the run hands it over."""
        self._kept[path] = outcome

    def pop(self, inputs: list[Any]) -> Any | None:
        """The held outcome when ``inputs`` is the one path of a file submitted ahead, else None."""
        if len(inputs) != 1 or not isinstance(inputs[0], (str, os.PathLike)):
            return None
        return self._kept.pop(os.fspath(inputs[0]), None)
