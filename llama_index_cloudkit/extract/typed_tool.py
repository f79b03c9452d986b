"""The extraction tool's object: a FunctionTool that gives the LLM JSON and the program a typed object.

:class:`ExtractionTool` wraps one backend run (:data:`SyncRun` / :data:`AsyncRun`, built in
:mod:`.tool_runners`), types what it produced with the tool's pydantic model, renders it as JSON
and turns typed errors into error outputs (or raises them). :func:`.tool.extraction_tool` builds
it.

Example:
    >>> tool = extraction_tool(schema=Invoice, backend="cloud")  # doctest: +SKIP
    >>> tool.call(text="Invoice 42").raw_output  # doctest: +SKIP
    Invoice(number='42', total=None)
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from llama_index.core.tools import FunctionTool, ToolMetadata, ToolOutput
from pydantic import BaseModel, Field, ValidationError

from llama_index_cloudkit.errors import CloudKitError, ExtractionError
from llama_index_cloudkit.events import ExtractEndEvent, dispatcher

__all__ = [
    "AsyncRun",
    "ExtractionInput",
    "ExtractionOutput",
    "ExtractionTool",
    "RawExtraction",
    "SyncRun",
]


class ExtractionInput(BaseModel):
    """What the agent passes: a file path or the text itself, exactly one.

    Example:
        >>> ExtractionInput(text="Invoice 42").file_path is None
        True
    """

    file_path: str | None = Field(default=None, description="Path of the document to read.")
    text: str | None = Field(default=None, description="The document's text, when no file.")


class ExtractionOutput(ToolOutput):
    """A ToolOutput that also carries what the service said about the extraction.

    ``content`` is the JSON the LLM reads; ``raw_output`` is the typed pydantic object (a list of
    them for per-page targets); ``metadata`` holds ``backend``, ``job_id``, ``run_id``,
    ``reattached`` and, when LlamaExtract reports them, ``usage`` (credits, pages, tokens) and its
    ``extraction_metadata``.

    Example:
        >>> out = tool.call(text="Invoice 42")  # doctest: +SKIP
        >>> out.metadata["job_id"]  # doctest: +SKIP
        'exjob-...'
    """

    metadata: dict[str, Any] = Field(default_factory=dict)

    def __init__(
        self,
        tool_name: str,
        content: str | None = None,
        *,
        metadata: dict[str, Any] | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(tool_name=tool_name, content=content, **kwargs)
        self.metadata = dict(metadata or {})


@dataclass
class RawExtraction:
    """What one backend run produced, before it is typed and rendered.

    Example:
        >>> RawExtraction({"number": "42"}, job_id="exjob-1").data
        {'number': '42'}
    """

    data: Any
    metadata: dict[str, Any] = field(default_factory=dict)
    job_id: str | None = None
    info: dict[str, Any] = field(default_factory=dict)


SyncRun = Callable[[str | None, str | None], RawExtraction]
"""One backend run: ``(file_path, text)`` to what it produced."""
AsyncRun = Callable[[str | None, str | None], Awaitable[RawExtraction]]
"""One backend run in the running event loop."""


class ExtractionTool(FunctionTool):
    """A FunctionTool whose output is JSON for the LLM and the typed object for the program.

    Failures come back as ``ToolOutput(is_error=True)`` whose content names the typed error,
    unless the tool was built with ``raise_errors=True`` (then the typed error is raised).
    ``call`` runs on a fresh event loop (safe inside a running one); ``acall`` awaits the
    backend in the running loop.

    Example:
        >>> tool = extraction_tool(schema=Invoice, backend="cloud")  # doctest: +SKIP
        >>> tool.call(text="Invoice 42").raw_output  # doctest: +SKIP
        Invoice(number='42', total=None)
    """

    def __init__(
        self,
        run: SyncRun,
        arun: AsyncRun,
        metadata: ToolMetadata,
        raise_errors: bool,
        *,
        model: type[BaseModel],
        show_metadata: bool = False,
        backend: str = "cloud",
    ) -> None:
        self._run = run
        self._arun = arun
        self._model = model
        self._show_metadata = show_metadata
        self._raise_errors = raise_errors
        self._backend = backend

        def extract(file_path: str | None = None, text: str | None = None) -> str:
            return self.call(file_path=file_path, text=text).content

        async def aextract(file_path: str | None = None, text: str | None = None) -> str:
            return (await self.acall(file_path=file_path, text=text)).content

        super().__init__(fn=extract, async_fn=aextract, metadata=metadata)

    @property
    def output_model(self) -> type[BaseModel]:
        """The pydantic model ``raw_output`` is an instance of."""
        return self._model

    def _typed(self, extracted: RawExtraction, file: str | None) -> Any:
        try:
            if isinstance(extracted.data, list):
                return [self._model.model_validate(item) for item in extracted.data]
            return self._model.model_validate(extracted.data)
        except ValidationError as exc:
            raise ExtractionError(
                f"The extracted data does not match {self._model.__name__}: "
                f"{exc.error_count()} problem(s), first: {exc.errors()[0]['msg']} at "
                f"{'/'.join(str(p) for p in exc.errors()[0]['loc']) or '(root)'}",
                last_output=json.dumps(extracted.data, ensure_ascii=False, default=str)[:2000],
                file=file,
                job_id=extracted.job_id,
                hint="The raw data is in the error's last_output; make the schema's fields nullable "
                "where a document may not say",
            ) from None

    def _output(self, kwargs: dict[str, Any], extracted: RawExtraction | BaseException) -> ExtractionOutput:
        name = self.metadata.get_name()
        file = kwargs.get("file_path")
        if isinstance(extracted, RawExtraction):
            try:
                typed = self._typed(extracted, file)
            except ExtractionError as exc:
                extracted = exc
        if not isinstance(extracted, RawExtraction):
            error = extracted
            dispatcher.event(
                ExtractEndEvent(
                    tool=name,
                    backend=self._backend,
                    file=file,
                    ok=False,
                    job_id=getattr(error, "job_id", None),
                    error=str(error),
                )
            )
            if self._raise_errors:
                raise error
            return ExtractionOutput(
                tool_name=name,
                content=f"Error: {type(error).__name__}: {error}",
                raw_input=kwargs,
                raw_output=error,
                is_error=True,
                exception=error,
                metadata={"backend": self._backend, "job_id": getattr(error, "job_id", None)},
            )
        payload = extracted.data
        if self._show_metadata and isinstance(payload, dict):
            # citations, confidence and reasoning, as LlamaExtract reports them
            payload = {**payload, "_metadata": extracted.metadata}
        dispatcher.event(
            ExtractEndEvent(tool=name, backend=self._backend, file=file, job_id=extracted.job_id)
        )
        return ExtractionOutput(
            tool_name=name,
            content=json.dumps(payload, ensure_ascii=False, default=str),
            raw_input=kwargs,
            raw_output=typed,
            metadata={"backend": self._backend, "job_id": extracted.job_id, **extracted.info},
        )

    @staticmethod
    def _inputs(args: tuple[Any, ...], kwargs: dict[str, Any]) -> dict[str, Any]:
        if args:  # a positional argument is the file path, as FunctionTool's fn takes it
            kwargs = {"file_path": args[0], **kwargs}
        return {k: kwargs.get(k) for k in ("file_path", "text")}

    def call(self, *args: Any, **kwargs: Any) -> ExtractionOutput:
        """Extract; returns JSON content, the typed raw output and the job's metadata."""
        inputs = self._inputs(args, kwargs)
        try:
            extracted: RawExtraction | BaseException = self._run(inputs["file_path"], inputs["text"])
        except (CloudKitError, ValueError, OSError) as exc:
            extracted = exc
        return self._output(inputs, extracted)

    async def acall(self, *args: Any, **kwargs: Any) -> ExtractionOutput:
        """Extract in the running event loop; never blocks it."""
        inputs = self._inputs(args, kwargs)
        try:
            extracted: RawExtraction | BaseException = await self._arun(inputs["file_path"], inputs["text"])
        except (CloudKitError, ValueError, OSError) as exc:
            extracted = exc
        return self._output(inputs, extracted)
