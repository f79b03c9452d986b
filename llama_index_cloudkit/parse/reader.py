"""CloudKitReader: one Document per page, from LlamaParse or the offline local parser.

Example:
    >>> from llama_index.core import SimpleDirectoryReader
    >>> from llama_index_cloudkit import file_extractor
    >>> docs = SimpleDirectoryReader(
    ...     "examples/data", file_extractor=file_extractor(backend="local")
    ... ).load_data()  # doctest: +SKIP
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path, PurePath
from typing import IO, Any, Literal

from llama_index.core.readers.base import BasePydanticReader
from llama_index.core.schema import Document
from pydantic import Field, PrivateAttr, SecretStr

from llama_index_cloudkit.errors import CloudKitError, ConfigError, ParseError
from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES, LocalParser, mime_type
from llama_index_cloudkit.parse.local.ocr import OcrEngineName
from llama_index_cloudkit.parse.model import ParsedFile
from llama_index_cloudkit.parse.pages import page_documents
from llama_index_cloudkit.parse.report import BatchReport
from llama_index_cloudkit.presets import ParsePreset
from llama_index_cloudkit.settings import BackendName, CloudKitSettings

__all__ = ["CloudKitReader", "FileInput", "file_extractor"]

logger = logging.getLogger(__name__)

FileInput = str | os.PathLike[str] | bytes | IO[bytes]


class CloudKitReader(BasePydanticReader):
    """Read files into one Document per page (slide, sheet), with page-level metadata.

    Works as a plain reader and inside ``SimpleDirectoryReader(file_extractor=...)``.

    Args:
        backend: ``"local"`` (offline engines), ``"cloud"`` (LlamaParse) or ``None`` to follow
            the settings (``auto``: cloud when an API key is set, else local).
        preset: the LlamaParse preset for the cloud backend: ``cost_effective``, ``agentic``
            (default) or ``agentic_plus``.
        output_tables_as_HTML: tables as HTML instead of markdown tables.
        on_error: ``"raise"`` stops at the first bad file; ``"report"`` skips it, logs a
            warning and records it in ``last_report``.
        ocr: OCR engine for images and text-less PDF pages: ``auto``, ``tesseract``,
            ``rapidocr`` or ``off``.
        pdf_password: for encrypted PDFs (never serialized).
        settings: key, endpoint, project and cache settings.

    Example:
        >>> reader = CloudKitReader(backend="local")
        >>> docs = reader.load_data(b"# Notes\\n\\nHello", extra_info={"file_name": "notes.md"})
        >>> docs[0].metadata["file_name"], docs[0].metadata["page_number"]
        ('notes.md', 1)
        >>> reader.last_report.summary()
        '1/1 file(s) read, 1 page(s), 1 document(s), 0 failure(s)'
    """

    backend: BackendName | None = Field(
        default=None, description="local, cloud, auto, or None to follow the settings."
    )
    preset: ParsePreset = Field(default=ParsePreset.AGENTIC)
    output_tables_as_HTML: bool = False
    on_error: Literal["raise", "report"] = "raise"
    ocr: OcrEngineName = "auto"
    pdf_password: SecretStr | None = Field(default=None, exclude=True)
    show_progress: bool = False
    settings: CloudKitSettings = Field(default_factory=CloudKitSettings)

    _last_report: BatchReport = PrivateAttr(default_factory=BatchReport)

    def __init__(self, **data: Any) -> None:
        if "preset" in data and not isinstance(data["preset"], ParsePreset):
            data["preset"] = ParsePreset.from_name(data["preset"])
        super().__init__(**data)
        backend = self.resolved_backend()
        self.is_remote = backend == "cloud"

    @classmethod
    def class_name(cls) -> str:
        """The LlamaIndex component name."""
        return "CloudKitReader"

    def resolved_backend(self) -> Literal["cloud", "local"]:
        """The backend this reader uses (``auto`` resolved against the settings).

        Raises:
            ConfigError: the cloud backend without an API key.

        Example:
            >>> CloudKitReader(backend="local").resolved_backend()
            'local'
        """
        backend = self.backend or self.settings.backend
        return self.settings.model_copy(update={"backend": backend}).resolved_backend()

    @property
    def last_report(self) -> BatchReport:
        """What the last ``load_data`` / ``aload_data`` call read and what failed."""
        return self._last_report

    # --- LlamaIndex reader contract -------------------------------------------------------

    def lazy_load_data(
        self,
        file_path: FileInput | list[FileInput],
        extra_info: Mapping[str, Any] | None = None,
        fs: Any | None = None,
    ) -> Iterable[Document]:
        """Yield Documents page by page, file by file.

        Args:
            file_path: a path, a list of paths, bytes, or a binary file object (bytes and file
                objects need ``extra_info={"file_name": ...}``).
            extra_info: metadata added to every Document.
            fs: an fsspec filesystem to read paths from (SimpleDirectoryReader passes it).

        Example:
            >>> reader = CloudKitReader(backend="local")
            >>> next(iter(reader.lazy_load_data(b"hi", extra_info={"file_name": "a.txt"}))).text
            'hi'
        """
        report = BatchReport()
        self._last_report = report
        inputs = file_path if isinstance(file_path, list) else [file_path]
        yield from self._iter_documents(inputs, extra_info, fs, report)

    def load_data(
        self,
        file_path: FileInput | list[FileInput],
        extra_info: Mapping[str, Any] | None = None,
        fs: Any | None = None,
    ) -> list[Document]:
        """Read every input into Documents, one per page.

        With ``on_error="report"``, a failed file is skipped and listed in ``last_report``;
        an empty result always comes with a reason there.

        Example:
            >>> docs = CloudKitReader(backend="local").load_data(["a.pdf", "b.docx"])  # doctest: +SKIP
        """
        return list(self.lazy_load_data(file_path, extra_info=extra_info, fs=fs))

    async def aload_data(
        self,
        file_path: FileInput | list[FileInput],
        extra_info: Mapping[str, Any] | None = None,
        fs: Any | None = None,
    ) -> list[Document]:
        """Async ``load_data``: parsing runs in a worker thread and never blocks the loop.

        Example:
            >>> docs = await CloudKitReader(backend="local").aload_data("a.pdf")  # doctest: +SKIP
        """
        return await asyncio.to_thread(self.load_data, file_path, extra_info, fs)

    def file_extractor(self) -> dict[str, CloudKitReader]:
        """The mapping for ``SimpleDirectoryReader(file_extractor=...)``: every suffix we read.

        Example:
            >>> ".pdf" in CloudKitReader(backend="local").file_extractor()
            True
        """
        return dict.fromkeys(SUPPORTED_SUFFIXES, self)

    # --- internals ------------------------------------------------------------------------

    def _iter_documents(
        self,
        inputs: list[FileInput],
        extra_info: Mapping[str, Any] | None,
        fs: Any | None,
        report: BatchReport,
    ) -> Iterator[Document]:
        backend = self.resolved_backend()
        if backend == "cloud":
            raise ConfigError(
                "The cloud backend of CloudKitReader is not available in this version yet",
                hint="Use backend='local' (offline parsing) for now",
            )
        progress = _progress(inputs, self.show_progress)
        for item in progress:
            label = _label(item, extra_info)
            try:
                documents = self._read_one(item, extra_info, fs)
            except ImportError:
                raise  # a missing extra is the user's to fix, in every mode
            except (CloudKitError, OSError) as exc:
                if self.on_error == "raise":
                    if isinstance(exc, CloudKitError):
                        raise
                    raise _os_error(exc, label) from exc
                error = exc if isinstance(exc, CloudKitError) else _os_error(exc, label)
                logger.warning("Skipped %s: %s", label, error)
                report.add_failure(label, error)
                continue
            report.add_success(
                label,
                pages=documents[0].metadata["total_pages"] if documents else 0,
                documents=len(documents),
            )
            yield from documents

    def _read_one(
        self, item: FileInput, extra_info: Mapping[str, Any] | None, fs: Any | None
    ) -> list[Document]:
        data, file_name, file_path = _read_input(item, extra_info, fs)
        parser = LocalParser(
            ocr=self.ocr,
            password=self.pdf_password.get_secret_value() if self.pdf_password else None,
        )
        if not parser.supports(file_name):
            parser.parser_name(file_name)  # raises UnsupportedFileError naming the suffixes
        pages = list(parser.iter_pages(data, file_name))
        parsed = ParsedFile(
            file_name=PurePath(file_name).name,
            pages=pages,
            parser=parser.parser_name(file_name),
            file_type=mime_type(file_name),
        )
        if not parsed.pages:
            raise ParseError("The file has no pages", file=file_path)
        return page_documents(
            parsed,
            backend="local",
            file_path=file_path,
            extra_info=extra_info,
            tables_as_html=self.output_tables_as_HTML,
            sha256=hashlib.sha256(data).hexdigest(),
        )


def file_extractor(**reader_kwargs: Any) -> dict[str, CloudKitReader]:
    """One line for ``SimpleDirectoryReader(file_extractor=file_extractor(...))``.

    Args:
        **reader_kwargs: passed to :class:`CloudKitReader`.

    Example:
        >>> mapping = file_extractor(backend="local")
        >>> sorted(mapping)[:3]
        ['.csv', '.docx', '.htm']
    """
    return CloudKitReader(**reader_kwargs).file_extractor()


def _label(item: FileInput, extra_info: Mapping[str, Any] | None) -> str:
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    name = (extra_info or {}).get("file_name") or getattr(item, "name", None)
    return str(name) if name else "<bytes>"


def _os_error(exc: OSError, label: str) -> ParseError:
    if isinstance(exc, FileNotFoundError):
        return ParseError("The file does not exist (or was removed before it was read)", file=label)
    return ParseError(f"The file cannot be read ({exc.strerror or exc})", file=label)


def _read_input(
    item: FileInput, extra_info: Mapping[str, Any] | None, fs: Any | None
) -> tuple[bytes, str, str]:
    """Return (bytes, file name used to pick the engine, file path for metadata)."""
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        if fs is not None:
            with fs.open(path, "rb") as handle:
                data = handle.read()
        else:
            data = Path(path).read_bytes()
        return data, PurePath(path).name, path
    name = (extra_info or {}).get("file_name") or getattr(item, "name", None)
    if not name:
        raise ConfigError(
            "Bytes and file objects need a file name to pick a parser",
            hint="Pass extra_info={'file_name': 'report.pdf'}",
        )
    name = os.fspath(name)
    data = bytes(item) if isinstance(item, (bytes, bytearray, memoryview)) else item.read()
    return data, PurePath(name).name, name


def _progress(inputs: list[FileInput], show: bool) -> Iterable[FileInput]:
    if not show or len(inputs) < 2:
        return inputs
    from tqdm.auto import tqdm

    return tqdm(inputs, desc="Parsing", unit="file")
