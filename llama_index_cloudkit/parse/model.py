"""The neutral parse result both backends produce: files made of pages made of blocks.

Backends (local engines, LlamaParse) fill these plain dataclasses; :mod:`.pages` turns them into
LlamaIndex Documents, so metadata, tables and errors are built in one place.

Example:
    >>> table = ParsedTable(rows=[["name", "qty"], ["apple", "3"]])
    >>> page = ParsedPage(number=1, blocks=["# Fruit", table])
    >>> print(page.markdown())
    # Fruit
    <BLANKLINE>
    | name | qty |
    | --- | --- |
    | apple | 3 |
"""

from __future__ import annotations

import csv
import html
import io
from dataclasses import dataclass, field

__all__ = ["Block", "ParsedFile", "ParsedPage", "ParsedTable", "Usage"]


def _cell_markdown(cell: str) -> str:
    return " ".join(cell.split()).replace("|", "\\|")


@dataclass(frozen=True)
class ParsedTable:
    """A table as rows of cell strings; the first row is the header.

    Example:
        >>> ParsedTable(rows=[["a", "b"], ["1", "2"]]).to_csv()
        'a,b\\r\\n1,2\\r\\n'
    """

    rows: list[list[str]]

    @property
    def n_rows(self) -> int:
        """Number of rows, header included."""
        return len(self.rows)

    @property
    def n_cols(self) -> int:
        """Number of columns of the widest row."""
        return max((len(r) for r in self.rows), default=0)

    def _padded(self) -> list[list[str]]:
        width = self.n_cols
        return [[*row, *([""] * (width - len(row)))] for row in self.rows]

    def to_markdown(self) -> str:
        """A GitHub-flavoured markdown table (header row, separator, body)."""
        rows = self._padded()
        if not rows:
            return ""
        lines = ["| " + " | ".join(_cell_markdown(c) for c in rows[0]) + " |"]
        lines.append("| " + " | ".join("---" for _ in rows[0]) + " |")
        lines += ["| " + " | ".join(_cell_markdown(c) for c in row) + " |" for row in rows[1:]]
        return "\n".join(lines)

    def to_html(self) -> str:
        """An HTML ``<table>`` with a ``<thead>`` for the first row."""
        rows = self._padded()
        if not rows:
            return "<table></table>"
        head = "".join(f"<th>{html.escape(c)}</th>" for c in rows[0])
        body = "".join(
            "<tr>" + "".join(f"<td>{html.escape(c)}</td>" for c in row) + "</tr>" for row in rows[1:]
        )
        return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"

    def to_csv(self) -> str:
        """CSV text (RFC 4180 quoting)."""
        buffer = io.StringIO()
        csv.writer(buffer).writerows(self._padded())
        return buffer.getvalue()

    def to_text(self) -> str:
        """Plain text: cells separated by tabs, rows by newlines."""
        return "\n".join("\t".join(" ".join(c.split()) for c in row) for row in self.rows)


Block = str | ParsedTable


@dataclass
class ParsedPage:
    """One physical page (or slide, or sheet), its content in reading order.

    Args:
        number: 1-based physical page number.
        blocks: markdown text blocks and tables, in reading order.
        label: the printed page label, when the document defines one (for example ``"iv"``).
        width: page width in points, when known.
        height: page height in points, when known.
        table_count: how many tables, when the blocks hold them as rendered text (LlamaParse).
        image_paths: where the page's images and screenshots were saved, when asked for.
        images: names of the images the service holds for this page (LlamaParse), which the
            cloud backend downloads into ``image_paths`` when asked to.
        needs_ocr: the page has no text layer, only images, and no OCR engine read it.
        warnings: what went wrong on this page without failing the file (for example why
            it needed OCR and got none); the reader logs them and lists them in its report.

    Example:
        >>> ParsedPage(number=2, blocks=["Hello"]).text()
        'Hello'
    """

    number: int
    blocks: list[Block] = field(default_factory=list)
    label: str | None = None
    width: float | None = None
    height: float | None = None
    table_count: int | None = None
    image_paths: list[str] = field(default_factory=list)
    needs_ocr: bool = False
    warnings: list[str] = field(default_factory=list)
    images: list[str] = field(default_factory=list)

    @property
    def n_tables(self) -> int:
        """How many tables the page has (``table_count`` when the backend reported it)."""
        return self.table_count if self.table_count is not None else len(self.tables)

    @property
    def tables(self) -> list[ParsedTable]:
        """The page's tables, in reading order."""
        return [b for b in self.blocks if isinstance(b, ParsedTable)]

    def markdown(self, tables_as_html: bool = False) -> str:
        """The page as markdown; tables as markdown tables, or HTML when ``tables_as_html``."""
        parts = []
        for block in self.blocks:
            if isinstance(block, ParsedTable):
                parts.append(block.to_html() if tables_as_html else block.to_markdown())
            elif block.strip():
                parts.append(block.strip())
        return "\n\n".join(parts)

    def text(self) -> str:
        """The page as plain text (tables as tab-separated rows)."""
        parts = [b.to_text() if isinstance(b, ParsedTable) else b.strip() for b in self.blocks]
        return "\n\n".join(p for p in parts if p)


@dataclass(frozen=True)
class Usage:
    """What the service reported it billed for one parse (None where it reports nothing).

    Example:
        >>> Usage(pages=3, credits=30.0).credits
        30.0
    """

    pages: int | None = None
    credits: float | None = None


@dataclass
class ParsedFile:
    """A whole parsed file.

    Args:
        file_name: base name, for citations.
        pages: the pages, numbered from 1.
        parser: which engine produced them (for example ``"pypdfium2+pdfplumber"``).
        file_type: the MIME type.
        usage: what the service billed (LlamaParse), None for the local engines.

    Example:
        >>> ParsedFile("a.txt", [ParsedPage(1, ["hi"])], parser="text").total_pages
        1
    """

    file_name: str
    pages: list[ParsedPage]
    parser: str
    file_type: str = "application/octet-stream"
    usage: Usage | None = None

    @property
    def total_pages(self) -> int:
        """How many pages the file has."""
        return len(self.pages)
