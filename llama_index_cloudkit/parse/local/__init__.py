"""The offline parser: picks an engine by file suffix and returns neutral pages.

| suffix | engine |
|---|---|
| .pdf | pypdfium2 text, pdfplumber ruled tables, OCR for pages without text |
| .docx / .pptx / .xlsx | python-docx / python-pptx / openpyxl |
| .html / .htm | beautifulsoup4 + markdownify |
| .md / .markdown / .txt / .csv / .json | standard library |
| .png / .jpg / .jpeg / .tif / .tiff | OCR (tesseract or rapidocr) |

Example:
    >>> parser = LocalParser()
    >>> parsed = parser.parse(b"# Title\\n\\nBody", "notes.md")
    >>> parsed.pages[0].markdown()
    '# Title\\n\\nBody'
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import PurePath

from llama_index_cloudkit.errors import UnsupportedFileError
from llama_index_cloudkit.parse.local.html import iter_html_pages
from llama_index_cloudkit.parse.local.ocr import OcrEngineName, iter_image_pages, load_ocr, no_ocr_reason
from llama_index_cloudkit.parse.local.office import (
    iter_docx_pages,
    iter_pptx_pages,
    iter_xlsx_pages,
)
from llama_index_cloudkit.parse.local.pdf import iter_pdf_pages
from llama_index_cloudkit.parse.local.text import iter_csv_pages, iter_json_pages, iter_text_pages
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage

__all__ = ["SUPPORTED_SUFFIXES", "LocalParser", "mime_type"]


@dataclass(frozen=True)
class _Format:
    mime: str
    parser: str


_FORMATS: dict[str, _Format] = {
    ".pdf": _Format("application/pdf", "pypdfium2+pdfplumber"),
    ".docx": _Format(
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "python-docx"
    ),
    ".pptx": _Format(
        "application/vnd.openxmlformats-officedocument.presentationml.presentation",
        "python-pptx",
    ),
    ".xlsx": _Format("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "openpyxl"),
    ".html": _Format("text/html", "beautifulsoup4+markdownify"),
    ".htm": _Format("text/html", "beautifulsoup4+markdownify"),
    ".md": _Format("text/markdown", "text"),
    ".markdown": _Format("text/markdown", "text"),
    ".txt": _Format("text/plain", "text"),
    ".csv": _Format("text/csv", "csv"),
    ".json": _Format("application/json", "json"),
    ".png": _Format("image/png", "ocr"),
    ".jpg": _Format("image/jpeg", "ocr"),
    ".jpeg": _Format("image/jpeg", "ocr"),
    ".tif": _Format("image/tiff", "ocr"),
    ".tiff": _Format("image/tiff", "ocr"),
}

SUPPORTED_SUFFIXES: tuple[str, ...] = tuple(_FORMATS)

_IMAGE_SUFFIXES = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}


def mime_type(file_name: str) -> str:
    """The MIME type we report for ``file_name``'s suffix.

    Example:
        >>> mime_type("a.PDF")
        'application/pdf'
    """
    fmt = _FORMATS.get(PurePath(file_name).suffix.lower())
    return fmt.mime if fmt else "application/octet-stream"


def _suffix(file_name: str) -> str:
    suffix = PurePath(file_name).suffix.lower()
    if suffix not in _FORMATS:
        raise UnsupportedFileError(
            f"No local reader for files ending in {suffix or '(no suffix)'!r}",
            file=file_name,
            hint="Supported: " + ", ".join(SUPPORTED_SUFFIXES),
        )
    return suffix


@dataclass(frozen=True)
class LocalParser:
    """Parse bytes into pages, offline.

    Args:
        ocr: ``"auto"`` uses tesseract when installed, else rapidocr (in the ``local`` extra);
            with neither, or with ``"off"``, images fail with UnsupportedFileError and scanned
            PDF pages come out empty with ``needs_ocr=True`` and a warning.
        password: for encrypted PDFs.
        find_tables: look for ruled tables in PDFs.

    Example:
        >>> LocalParser().parse(b"a,b\\n1,2", "t.csv").pages[0].tables[0].n_rows
        2
    """

    ocr: OcrEngineName = "auto"
    password: str | None = None
    find_tables: bool = True

    def supports(self, file_name: str) -> bool:
        """Whether ``file_name``'s suffix has a local engine.

        Example:
            >>> LocalParser().supports("x.pptx"), LocalParser().supports("x.exe")
            (True, False)
        """
        return PurePath(file_name).suffix.lower() in _FORMATS

    def parser_name(self, file_name: str) -> str:
        """The engine used for ``file_name``, as reported in the ``parser`` metadata.

        Example:
            >>> LocalParser().parser_name("a.docx")
            'python-docx'
        """
        fmt = _FORMATS[_suffix(file_name)]
        if fmt.parser == "ocr":
            return "ocr:" + self._ocr_name()
        return fmt.parser

    def _ocr_name(self) -> str:
        from llama_index_cloudkit.parse.local.ocr import available_ocr_engines

        if self.ocr != "auto":
            return self.ocr
        engines = available_ocr_engines()
        return engines[0] if engines else "none"

    def iter_pages(
        self, data: bytes | str, file_name: str, pages: range | None = None
    ) -> Iterator[ParsedPage]:
        """Yield the pages of ``data`` one at a time.

        Args:
            data: the file's bytes, or a local path to a PDF (read page by page).
            file_name: picks the engine by suffix; named in errors.
            pages: 0-based page indexes of a PDF (frames of an image) to read (default: all);
                other formats ignore it.

        Raises:
            UnsupportedFileError: unknown suffix, or an image with no OCR engine.
            ParseError: corrupt, empty or encrypted input.

        Example:
            >>> [p.number for p in LocalParser().iter_pages(b"a\\fb", "x.txt")]
            [1, 2]
        """
        suffix = _suffix(file_name)
        engine = self._engine(suffix, pages)
        if isinstance(data, str) and suffix != ".pdf":  # only PDFs are read from a path
            with open(data, "rb") as handle:
                data = handle.read()
        yield from engine(data, file_name)  # type: ignore[arg-type]

    def _engine(
        self, suffix: str, pages: range | None = None
    ) -> Callable[[bytes, str], Iterator[ParsedPage]]:
        if suffix == ".pdf":
            ocr = load_ocr(self.ocr)
            return functools.partial(
                iter_pdf_pages,
                password=self.password,
                ocr=ocr,
                find_tables=self.find_tables,
                no_ocr_reason=no_ocr_reason(self.ocr),
                pages=pages,
            )
        if suffix in _IMAGE_SUFFIXES:
            ocr = load_ocr(self.ocr)
            return lambda data, name: iter_image_pages(data, name, ocr, ocr_mode=self.ocr, pages=pages)
        return {
            ".docx": iter_docx_pages,
            ".pptx": iter_pptx_pages,
            ".xlsx": iter_xlsx_pages,
            ".html": iter_html_pages,
            ".htm": iter_html_pages,
            ".md": iter_text_pages,
            ".markdown": iter_text_pages,
            ".txt": iter_text_pages,
            ".csv": iter_csv_pages,
            ".json": iter_json_pages,
        }[suffix]

    def parse(self, data: bytes, file_name: str) -> ParsedFile:
        """Parse a whole file.

        Example:
            >>> LocalParser().parse(b"hello", "a.txt").total_pages
            1
        """
        pages = list(self.iter_pages(data, file_name))
        return ParsedFile(
            file_name=PurePath(file_name).name,
            pages=pages,
            parser=self.parser_name(file_name),
            file_type=mime_type(file_name),
        )
