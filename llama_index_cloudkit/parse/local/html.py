"""HTML pages: BeautifulSoup to find the tables, markdownify for the rest, of the main content only.

What the main content is (and what is navigation) is ``_main_content``'s concern.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

from llama_index_cloudkit._imports import require
from llama_index_cloudkit.errors import ParseError
from llama_index_cloudkit.parse.local._main_content import content_root
from llama_index_cloudkit.parse.model import Block, ParsedPage, ParsedTable

__all__ = ["iter_html_pages"]

_PLACEHOLDER = "CLOUDKITTABLE{}X"


def _table_rows(table: Any) -> list[list[str]]:
    rows: list[list[str]] = []
    pending: dict[int, tuple[str, int]] = {}  # column -> (text, rows still to fill) for rowspan
    for tr in table.find_all("tr"):
        if tr.find_parent("table") is not table:
            continue
        row: list[str] = []
        cells = iter(tr.find_all(["td", "th"], recursive=False))
        column = 0
        cell = next(cells, None)
        while cell is not None or column in pending:
            if column in pending:
                text, left = pending.pop(column)
                row.append(text)
                if left > 1:
                    pending[column] = (text, left - 1)
                column += 1
                continue
            assert cell is not None
            text = " ".join(cell.get_text(" ").split())
            span = _int_attr(cell, "colspan")
            for _ in range(span):
                rowspan = _int_attr(cell, "rowspan")
                if rowspan > 1:
                    pending[column] = (text, rowspan - 1)
                row.append(text)
                column += 1
            cell = next(cells, None)
        if any(row):
            rows.append(row)
    return rows


def _int_attr(cell: Any, name: str) -> int:
    try:
        return max(1, min(int(cell.get(name, 1)), 100))
    except (TypeError, ValueError):
        return 1


def iter_html_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield an HTML file as one page: markdown text with its tables as tables.

    Example:
        >>> page = next(iter_html_pages(b"<h1>Hi</h1><p>there</p>", "a.html"))
        >>> page.markdown()
        '# Hi\\n\\nthere'
    """
    if not data.strip():
        raise ParseError("The file is empty", file=file_name)
    bs4 = require("bs4", "local", package="beautifulsoup4")
    markdownify = require("markdownify", "local")
    with warnings.catch_warnings():
        # XHTML is parsed as HTML on purpose: its tags are the same and lxml's HTML parser is
        # lenient with the broken markup found in the wild.
        warnings.simplefilter("ignore", bs4.XMLParsedAsHTMLWarning)
        soup = bs4.BeautifulSoup(data, "lxml")
    for tag in soup(["script", "style", "noscript", "template", "head"]):
        tag.decompose()
    root = content_root(soup, bs4)
    tables: list[ParsedTable] = []
    for table in root.find_all("table"):
        if table.find_parent("table") is not None:
            continue
        rows = _table_rows(table)
        if rows:
            placeholder = soup.new_tag("p")
            placeholder.string = _PLACEHOLDER.format(len(tables))
            tables.append(ParsedTable(rows=rows))
            table.replace_with(placeholder)
        else:
            table.decompose()
    text = markdownify.markdownify(str(root), heading_style="ATX", strip=["img"])
    blocks: list[Block] = []
    for chunk in text.split("\n\n"):
        chunk = "\n".join(line.rstrip() for line in chunk.strip("\n").split("\n")).strip()
        if not chunk:
            continue
        if chunk.startswith("CLOUDKITTABLE") and chunk.endswith("X"):
            index = chunk[len("CLOUDKITTABLE") : -1]
            if index.isdigit() and int(index) < len(tables):
                blocks.append(tables[int(index)])
                continue
        blocks.append(chunk)
    yield ParsedPage(number=1, blocks=blocks)
