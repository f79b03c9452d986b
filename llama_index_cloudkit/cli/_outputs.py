"""Page files for ``cloudkit parse --out``: distinct names, and no silent overwrite.

Each input file keeps its path relative to the folder that holds all the inputs, suffix
included, and each page becomes ``<that path>.p<page>.md``; so ``a.pdf``, ``a.docx`` and
``sub/a.pdf`` give ``a.pdf.p1.md``, ``a.docx.p1.md`` and ``sub/a.pdf.p1.md``. The names depend
only on the inputs, never on the order files finish in.

Example:
    >>> plan = OutputPlan(Path("out"), [Path("in/a.pdf"), Path("in/a.docx"), Path("in/sub/a.pdf")])
    >>> [p.as_posix() for p in plan.prefixes.values()]
    ['a.pdf', 'a.docx', 'sub/a.pdf']
    >>> plan.page_path({"file_path": "in/sub/a.pdf", "page_number": 2}).as_posix()
    'out/sub/a.pdf.p2.md'
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path, PurePosixPath
from typing import Any

from llama_index_cloudkit.errors import ConfigError

__all__ = ["OutputExistsError", "OutputPlan"]


class OutputExistsError(ConfigError):
    """An output file from an earlier run is in the way, and ``--overwrite`` was not given.

    A ConfigError, so the command exits 2 (usage) before anything is overwritten.

    Example:
        >>> str(OutputExistsError(Path("out/a.pdf.p1.md")))  # doctest: +ELLIPSIS
        'An output file is already there, from an earlier run? (file: out/a.pdf.p1.md). Pass...'
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(
            "An output file is already there, from an earlier run?",
            file=path,
            hint="Pass --overwrite to replace the outputs, or choose another --out folder",
        )


def _absolute(path: str | os.PathLike[str]) -> Path:
    return Path(os.path.abspath(path))


class OutputPlan:
    """Where each page of each input file is written under ``out_dir``.

    Args:
        out_dir: the ``--out`` folder.
        files: the input files, as given to the reader.

    Example:
        >>> OutputPlan(Path("out"), [Path("notes.md")]).prefixes[Path("notes.md")].as_posix()
        'notes.md'
    """

    def __init__(self, out_dir: Path, files: Sequence[Path]) -> None:
        self.out_dir = out_dir
        absolute = [_absolute(f) for f in files]
        root = Path(os.path.commonpath([a.parent for a in absolute])) if absolute else Path()
        pairs = [
            (file, PurePosixPath(a.relative_to(root).as_posix()))
            for file, a in zip(files, absolute, strict=True)
        ]
        self.prefixes: dict[Path, PurePosixPath] = dict(pairs)
        self._by_path = {str(file): prefix for file, prefix in pairs}
        self._by_path.update({str(a): prefix for a, (_, prefix) in zip(absolute, pairs, strict=True)})
        self._taken: set[Path] = set()

    def existing_outputs(self) -> list[Path]:
        """Page files of these inputs already in ``out_dir`` (from an earlier run), sorted.

        Example:
            >>> OutputPlan(Path("/nonexistent"), [Path("a.md")]).existing_outputs()
            []
        """
        found: list[Path] = []
        for prefix in self.prefixes.values():
            folder = self.out_dir.joinpath(*prefix.parent.parts)
            if not folder.is_dir():
                continue
            pattern = re.compile(re.escape(prefix.name) + r"\.p\d+(-\d+)?\.md")
            found.extend(p for p in folder.iterdir() if pattern.fullmatch(p.name) and p.is_file())
        return sorted(found)

    def _prefix(self, metadata: Mapping[str, Any]) -> PurePosixPath:
        source = metadata.get("file_path")
        if source is not None:
            prefix = self._by_path.get(str(source)) or self._by_path.get(str(_absolute(str(source))))
            if prefix is not None:
                return prefix
        return PurePosixPath(str(metadata.get("file_name") or "document"))

    def page_path(self, metadata: Mapping[str, Any]) -> Path:
        """The output file for one page Document, never one already given out in this run.

        Example:
            >>> plan = OutputPlan(Path("out"), [Path("a.md")])
            >>> [plan.page_path({"file_path": "a.md", "page_number": 1}).name for _ in range(2)]
            ['a.md.p1.md', 'a.md.p1-2.md']
        """
        prefix = self._prefix(metadata)
        page = metadata.get("page_number", 1)
        folder = self.out_dir.joinpath(*prefix.parent.parts)
        path = folder / f"{prefix.name}.p{page}.md"
        counter = 2
        while path in self._taken:
            path = folder / f"{prefix.name}.p{page}-{counter}.md"
            counter += 1
        self._taken.add(path)
        return path

    @staticmethod
    def write(path: Path, text: str, *, overwrite: bool) -> None:
        """Write one page file; without ``overwrite``, an existing file raises OutputExistsError."""
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            with path.open("w" if overwrite else "x", encoding="utf-8") as handle:
                handle.write(text)
        except FileExistsError:
            raise OutputExistsError(path) from None
