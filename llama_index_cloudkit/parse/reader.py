"""CloudKitReader: one Document per page, from LlamaParse or the offline local parser.

Example:
    >>> from llama_index.core import SimpleDirectoryReader
    >>> from llama_index_cloudkit import file_extractor
    >>> docs = SimpleDirectoryReader(
    ...     "examples/data", file_extractor=file_extractor(backend="local")
    ... ).load_data()
    >>> sorted({d.metadata["file_name"] for d in docs})[:2]
    ['faq.html', 'llama-care-guide.pdf']
"""

from __future__ import annotations

import asyncio
import logging
import warnings
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path
from typing import Any, Literal

from llama_index.core.readers.base import BasePydanticReader
from llama_index.core.schema import Document
from pydantic import Field, PrivateAttr, SecretStr, ValidationError

from llama_index_cloudkit.cloud.budget import Budget
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import CloudKitError, ConfigError
from llama_index_cloudkit.events import ParseFileEndEvent, dispatcher
from llama_index_cloudkit.parse.cost import CostReport
from llama_index_cloudkit.parse.inputs import FileInput, os_error
from llama_index_cloudkit.parse.llamacloud import parse_service
from llama_index_cloudkit.parse.llamacloud.backend import CloudBackend
from llama_index_cloudkit.parse.llamacloud.llamaparse_v1 import llamaparse_option_names
from llama_index_cloudkit.parse.llamacloud.lookahead import Lookahead
from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES
from llama_index_cloudkit.parse.local._reading import LocalBackend, LocalReadOptions
from llama_index_cloudkit.parse.local.ocr import OcrEngineName
from llama_index_cloudkit.parse.presets import ParsePreset
from llama_index_cloudkit.parse.report import BatchReport
from llama_index_cloudkit.settings import (
    CONNECTION_FIELDS,
    BackendName,
    CloudKitSettings,
    check_keywords,
    config_error,
    settings_with,
)

__all__ = ["CloudKitReader", "file_extractor"]

logger = logging.getLogger(__name__)


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
        ocr: OCR engine for images and text-less PDF pages: ``auto`` (tesseract when
            installed, else rapidocr, which the ``local`` extra installs), ``tesseract``,
            ``rapidocr`` or ``off``.
        workers: local backend: processes that read a batch, this one included (None: one per
            core; 1: only this one). Workers start only when a batch outlasts 0.1 s.
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
    parse_options: dict[str, Any] = Field(
        default_factory=dict,
        description="Extra LlamaParse options (max_pages, target_pages, language, ...).",
    )
    max_concurrency: int = Field(
        default=8, ge=1, le=64, description="LlamaCloud requests in flight at once (cloud)."
    )
    upload_limit: int = Field(default=50, ge=1, description="Uploads per upload_window (cloud).")
    upload_window: float = Field(default=10.0, gt=0, description="Seconds; 50 per 10 s is documented.")
    job_timeout: float = Field(default=1800.0, gt=0, description="Seconds a job may stay PENDING.")
    max_credits: float | None = Field(default=None, ge=0)
    shared_budget: str | None = Field(
        default=None,
        description="Cloud: the name of a budget that every process using the same cache directory "
        "spends together (max_credits is checked against its total, which carries over to later "
        "runs; a new name starts from 0). None: this reader's own budget.",
    )
    use_cache: bool = True
    batch_directory_reads: bool = Field(
        default=True,
        description="Cloud, under SimpleDirectoryReader.load_data() and aload_data(num_workers=N): "
        "submit the files that the same run is certain to hand to this reader next, so their jobs "
        "run concurrently (exactly those files; see parse/llamacloud/lookahead.py).",
    )
    poll_interval: float = Field(default=0.5, gt=0, le=60)
    download_images_to: Path | None = Field(
        default=None,
        description="Cloud: save page images (and screenshots, with parse_options "
        "take_screenshot=True) here, under sanitized names; paths in metadata image_paths.",
    )

    num_workers: int | None = Field(
        default=None,
        ge=1,
        le=64,
        description="Cloud: files of one call parsed at once (LlamaParse's num_workers; None: all "
        "of them, bounded by max_concurrency and upload_limit). Not local processes: see workers.",
    )
    workers: int | None = Field(
        default=None,
        ge=1,
        description="Local backend: processes that read a batch, this one included "
        "(None: one per core; 1: only this one).",
    )
    request_timeout: float = Field(default=60.0, gt=0, description="Seconds one HTTP request may take.")
    policy: CloudPolicy | None = Field(
        default=None,
        exclude=True,
        description="Cloud: the whole CloudPolicy at once (retries, timeouts, concurrency); "
        "when set, it is used as is instead of the single fields above.",
    )

    _last_report: BatchReport = PrivateAttr(default_factory=BatchReport)
    _lookahead: Lookahead = PrivateAttr(default_factory=Lookahead)
    _budget: Budget = PrivateAttr(default_factory=lambda: Budget(None))

    def __init__(self, **data: Any) -> None:
        connection = {name: data.pop(name) for name in CONNECTION_FIELDS if name in data}
        if "prefetch_siblings" in data:  # 0.1.0's name; it read the whole folder
            message = "prefetch_siblings is now batch_directory_reads (only what SimpleDirectoryReader reads)"
            warnings.warn(message, DeprecationWarning, stacklevel=2)
            data["batch_directory_reads"] = data.pop("prefetch_siblings")
        data = _with_llamaparse_keywords(data, {*type(self).model_fields, "class_name"})
        data.pop("class_name", None)
        if connection:
            data["settings"] = settings_with(data.get("settings"), connection)
        if "preset" in data and not isinstance(data["preset"], ParsePreset):
            data["preset"] = ParsePreset.from_name(data["preset"])
        try:
            super().__init__(**data)
        except ValidationError as exc:
            raise config_error(exc, "CloudKitReader") from None
        self._budget = (
            Budget.shared(self.max_credits, self.settings, self.shared_budget)
            if self.shared_budget
            else Budget(self.max_credits)
        )
        backend = self.resolved_backend()
        self.is_remote = backend == "cloud"
        if backend == "cloud":  # options checked for the API generation when the reader is built
            parse_service(self.settings, self.preset, self.parse_options)

    def __setstate__(self, state: dict[str, Any]) -> None:
        # LlamaIndex rebuilds a pickled component through __init__ (SimpleDirectoryReader's worker
        # processes): keep the pickled budget, a ledger shared with the original reader.
        super().__setstate__(state)
        budget = (state.get("__pydantic_private__") or {}).get("_budget")
        if isinstance(budget, Budget):
            self._budget = budget

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

    @dispatcher.span
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
            >>> docs = CloudKitReader(backend="local").load_data(
            ...     ["examples/data/faq.html", "examples/data/shipping-policy.docx"])
            >>> docs[0].metadata["file_name"]
            'faq.html'
        """
        return list(self.lazy_load_data(file_path, extra_info=extra_info, fs=fs))

    async def aload_data(
        self,
        file_path: FileInput | list[FileInput],
        extra_info: Mapping[str, Any] | None = None,
        fs: Any | None = None,
    ) -> list[Document]:
        """Async ``load_data``: never blocks the loop.

        The cloud backend awaits LlamaCloud in this event loop (one HTTP client for this call),
        so concurrent calls, such as ``SimpleDirectoryReader.aload_data(num_workers=8)``, run
        their jobs concurrently; local parsing runs in a worker thread.

        Example:
            >>> import asyncio
            >>> docs = asyncio.run(CloudKitReader(backend="local").aload_data("examples/data/faq.html"))
            >>> docs[0].metadata["page_number"]
            1
        """
        backend = self._backend()
        if isinstance(backend, CloudBackend):
            report = BatchReport()
            self._last_report = report
            inputs = file_path if isinstance(file_path, list) else [file_path]
            return await backend.aread(inputs, extra_info, fs, report)
        return await asyncio.to_thread(self.load_data, file_path, extra_info, fs)

    def estimate(
        self,
        file_path: FileInput | list[FileInput],
        extra_info: Mapping[str, Any] | None = None,
        fs: Any | None = None,
    ) -> CostReport:
        """What parsing these inputs with LlamaParse would cost: no request, no upload, no credit.

        Per file: the pages LlamaParse will bill (``target_pages`` / ``max_pages`` applied),
        the credits of this reader's preset and of the others, and whether the file is free
        because the cache or the job journal already holds it.

        Example:
            >>> report = CloudKitReader(backend="local", preset="agentic").estimate(
            ...     b"# notes", extra_info={"file_name": "notes.md"})
            >>> report.total_credits
            10
        """
        backend = self._cloud_backend()
        return backend.estimate(file_path if isinstance(file_path, list) else [file_path], extra_info, fs)

    def estimate_directory(self, directory_reader: Any) -> CostReport:
        """:meth:`estimate` for exactly the files a SimpleDirectoryReader would hand to this reader.

        Those are its resolved ``input_files`` whose suffix its ``file_extractor`` maps to this
        reader (files of other readers are not ours to price).

        Example:
            >>> from llama_index.core import SimpleDirectoryReader
            >>> reader = CloudKitReader(backend="local", preset="cost_effective")
            >>> sdr = SimpleDirectoryReader("examples/data", file_extractor=reader.file_extractor())
            >>> report = reader.estimate_directory(sdr)
            >>> len(report.files), report.preset
            (4, 'cost_effective')
        """
        mapping = getattr(directory_reader, "file_extractor", None) or {}
        files: list[FileInput] = [
            str(f)
            for f in getattr(directory_reader, "input_files", [])
            if mapping.get(Path(str(f)).suffix.lower()) is self
        ]
        return self.estimate(files, fs=getattr(directory_reader, "fs", None))

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
        yield from self._backend().read(inputs, extra_info, fs, report)

    def _backend(self) -> LocalBackend | CloudBackend:
        """The backend object of this call, made from the reader's current fields."""
        if self.resolved_backend() == "cloud":
            return self._cloud_backend()
        options = LocalReadOptions(
            ocr=self.ocr,
            password=self.pdf_password.get_secret_value() if self.pdf_password else None,
            tables_as_html=self.output_tables_as_HTML,
            workers=self.workers,
        )
        return LocalBackend(options, show_progress=self.show_progress, fail=self._fail)

    def _fail(self, label: str, exc: BaseException, report: BatchReport) -> None:
        """Raise (on_error="raise") or record and log (on_error="report") a failed file."""
        dispatcher.event(
            ParseFileEndEvent(
                file=label,
                backend=self.resolved_backend(),
                job_id=getattr(exc, "job_id", None),
                error=str(exc),
            )
        )
        error = exc if isinstance(exc, CloudKitError) else os_error(exc, label)  # type: ignore[arg-type]
        if self.on_error == "raise":
            if error is exc:
                raise exc
            raise error from exc
        logger.warning("Skipped %s: %s", label, error)
        report.add_failure(label, error)

    def cloud_policy(self) -> CloudPolicy:
        """The CloudPolicy this reader's cloud calls use (``policy``, or built from the fields).

        Example:
            >>> CloudKitReader(backend="local", job_timeout=60).cloud_policy().job_timeout
            60.0
        """
        fields = ("request_timeout", "max_concurrency", "upload_limit", "upload_window", "job_timeout")
        return self.policy or CloudPolicy(
            poll_interval=self.poll_interval,
            max_jobs=self.num_workers,
            **{name: getattr(self, name) for name in fields},
        )

    @property
    def credits_spent(self) -> float:
        """Credits estimated for every file this reader submitted, across all its calls.

        ``max_credits`` is a budget over the same total.
        """
        return self._budget.spent

    def _cloud_backend(self) -> CloudBackend:
        if self._budget.max_credits != self.max_credits:  # changed after construction
            self._budget.max_credits = self.max_credits
        return CloudBackend(
            self.settings,
            parse_service(self.settings, self.preset, self.parse_options),
            fail=self._fail,
            owner=self,
            lookahead=self._lookahead if self.batch_directory_reads else None,
            policy=self.cloud_policy(),
            budget=self._budget,
            use_cache=self.use_cache,
            images_dir=self.download_images_to,
            tables_as_html=self.output_tables_as_HTML,
            show_progress=self.show_progress,
        )


def file_extractor(**reader_kwargs: Any) -> dict[str, CloudKitReader]:
    """One line for ``SimpleDirectoryReader(file_extractor=file_extractor(...))``.

    The same as ``CloudKitReader(**reader_kwargs).file_extractor()``. Under
    ``SimpleDirectoryReader(...).load_data()`` the cloud backend submits, with the first file,
    exactly the files that run will hand to this reader next (see
    :mod:`llama_index_cloudkit.parse.llamacloud.lookahead`), so the jobs run concurrently; under
    ``await SimpleDirectoryReader(...).aload_data(num_workers=8)`` the first call starts the files
    after the 8 it lets in at once.

    Args:
        **reader_kwargs: passed to :class:`CloudKitReader`.

    Example:
        >>> mapping = file_extractor(backend="local")
        >>> sorted(mapping)[:3]
        ['.csv', '.docx', '.htm']
    """
    return CloudKitReader(**reader_kwargs).file_extractor()


# LlamaParse constructor keywords with a reader field of their own, taken in LlamaParse's meaning.
_LLAMAPARSE_EQUIVALENTS = {"check_interval": "poll_interval", "max_timeout": "job_timeout"}


def _with_llamaparse_keywords(data: dict[str, Any], fields: set[str]) -> dict[str, Any]:
    """The reader's keywords with LlamaParse's own constructor keywords taken in.

    ``CloudKitReader(language="fr")`` is ``CloudKitReader(parse_options={"language": "fr"})``
    (validated the same way when the cloud backend is built); ``check_interval``,
    ``max_timeout`` and ``ignore_errors`` set the reader's ``poll_interval``, ``job_timeout`` and
    ``on_error``; ``result_type="markdown"`` is what the reader gives anyway; ``num_workers`` is a
    field of the reader with LlamaParse's meaning.

    Raises:
        ConfigError: an unknown keyword (naming the closest reader or LlamaParse one), a keyword
            that disagrees with ``parse_options``, or a ``result_type`` other than markdown.
    """
    data = dict(data)
    foreign = [name for name in data if name not in fields]
    if not foreign:
        return data
    llamaparse = llamaparse_option_names()
    check_keywords(foreign, [*fields, *llamaparse], "CloudKitReader")
    options = dict(data.get("parse_options") or {})
    for name in foreign:
        value = data.pop(name)
        if name in _LLAMAPARSE_EQUIVALENTS:
            data.setdefault(_LLAMAPARSE_EQUIVALENTS[name], value)
        elif name == "ignore_errors":
            data.setdefault("on_error", "report" if value else "raise")
        elif name == "result_type":
            if str(getattr(value, "value", value)) != "markdown":
                raise ConfigError(
                    f"CloudKitReader gives markdown, one Document per page (result_type={value!r})",
                    hint="Drop result_type; Document.text is the page's markdown, and the local "
                    "backend gives the same shape",
                )
        elif name in options and options[name] != value:
            raise ConfigError(
                f"CloudKitReader got {name}={value!r} and parse_options[{name!r}]={options[name]!r}",
                hint="Give each LlamaParse option once",
            )
        else:
            options[name] = value
    if options:
        data["parse_options"] = options
    return data
