"""Plain files: markdown and text (split at form feeds), CSV as a table, JSON pretty-printed."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator

from llama_index_cloudkit.errors import ParseError
from llama_index_cloudkit.parse.model import ParsedPage, ParsedTable

__all__ = ["decode_text", "iter_csv_pages", "iter_json_pages", "iter_text_pages"]


def decode_text(data: bytes) -> str:
    """Decode bytes as UTF-8 (with or without BOM), falling back to cp1252.

    Example:
        >>> decode_text("café".encode("cp1252"))
        'café'
    """
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    return data.decode("utf-8", errors="replace")


def iter_text_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield a text or markdown file's pages; a form feed (``\\f``) starts a new page.

    Example:
        >>> [p.text() for p in iter_text_pages(b"one\\fTwo", "a.txt")]
        ['one', 'Two']
    """
    text = decode_text(data).replace("\r\n", "\n")
    if not text.strip():
        raise ParseError("The file is empty", file=file_name)
    chunks = text.split("\f")
    for number, chunk in enumerate(chunks, start=1):
        yield ParsedPage(number=number, blocks=[chunk.strip()] if chunk.strip() else [])


def iter_csv_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield a CSV file as one page holding one table (the delimiter is sniffed).

    Example:
        >>> next(iter_csv_pages(b"a,b\\n1,2\\n", "t.csv")).tables[0].rows
        [['a', 'b'], ['1', '2']]
    """
    text = decode_text(data)
    if not text.strip():
        raise ParseError("The file is empty", file=file_name)
    try:
        dialect: type[csv.Dialect] | csv.Dialect = csv.Sniffer().sniff(text[:8192], ",;\t|")
    except csv.Error:
        dialect = csv.excel
    rows = [row for row in csv.reader(io.StringIO(text), dialect) if any(c.strip() for c in row)]
    yield ParsedPage(number=1, blocks=[ParsedTable(rows=rows)])


def iter_json_pages(data: bytes, file_name: str) -> Iterator[ParsedPage]:
    """Yield a JSON file as one page: the document pretty-printed in a fenced block.

    Example:
        >>> next(iter_json_pages(b'{"a": 1}', "x.json")).markdown()
        '```json\\n{\\n  "a": 1\\n}\\n```'
    """
    try:
        value = json.loads(decode_text(data))
    except json.JSONDecodeError as exc:
        raise ParseError(f"The JSON is not valid ({exc})", file=file_name) from exc
    pretty = json.dumps(value, indent=2, ensure_ascii=False)
    yield ParsedPage(number=1, blocks=[f"```json\n{pretty}\n```"])
