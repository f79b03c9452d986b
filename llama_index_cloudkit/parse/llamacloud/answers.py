"""The typed shape of LlamaParse's result answers (v1 JSON result, Parse v2 result).

Each adapter checks a result against its model with
:func:`~llama_index_cloudkit.cloud.errors.checked_answer` **before** reading it, so
an answer whose pages hold values of the wrong type (``items`` that is not a list, ``md`` that is
not text, a ``page`` that is not a number, table ``rows`` that are not rows) is a
:class:`~llama_index_cloudkit.errors.ServiceError` naming the file, the job and the fields, for
that file only, and never reaches the cache. Fields the package does not read are let through
as they are (``extra="allow"``): the service may add fields without breaking a run.

Example:
    >>> V1Result.model_validate({"pages": [{"page": 1, "md": "# A"}]}).pages[0].md
    '# A'
"""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, ConfigDict, StrictBool, StrictInt

__all__ = ["V1Page", "V1Result", "V2Result"]


class _Open(BaseModel):
    """Fields we read are typed; any other field is kept as sent."""

    model_config = ConfigDict(extra="allow")


class _Item(_Open):
    """One layout item of a page (heading, text, table); a table's rows are rows of cells."""

    type: str | None = None
    rows: list[list[Any]] | None = None


class _V1Image(_Open):
    name: str | None = None


class V1Page(_Open):
    """One page of a LlamaParse v1 JSON result.

    Example:
        >>> V1Page.model_validate({"page": 2, "md": "# B", "items": []}).page
        2
    """

    page: int | None = None
    md: str | None = None
    text: str | None = None
    items: list[_Item] | None = None
    images: list[_V1Image] | None = None
    saved_images: list[str] | None = None
    width: float | None = None
    height: float | None = None
    success: StrictBool | None = None
    status: str | None = None


class V1Result(_Open):
    """A LlamaParse v1 JSON result (``GET /api/parsing/job/{id}/result/json``).

    Example:
        >>> V1Result.model_validate({"pages": [], "job_metadata": {"job_pages": 0}}).pages
        []
    """

    pages: list[V1Page]
    job_metadata: dict[str, Any] | None = None


class _V2Page(_Open):
    page_number: StrictInt
    success: StrictBool | None = None


class _V2MarkdownPage(_V2Page):
    markdown: str | None = None


class _V2TextPage(_V2Page):
    text: str | None = None


class _V2ItemsPage(_V2Page):
    items: list[_Item] | None = None
    page_width: float | None = None
    page_height: float | None = None


class _V2Markdown(_Open):
    pages: list[_V2MarkdownPage]


class _V2Text(_Open):
    pages: list[_V2TextPage]


class _V2Items(_Open):
    pages: list[_V2ItemsPage]


class _V2Image(_Open):
    filename: str | None = None


class _V2Images(_Open):
    images: list[_V2Image] | None = None


class V2Result(_Open):
    """A Parse v2 result (``GET /api/v2/parse/{id}?expand=...``); each section is optional.

    Example:
        >>> body = {"job": {"id": "pjb-1"}, "markdown": {"pages": [{"page_number": 1, "markdown": "# A"}]}}
        >>> V2Result.model_validate(body).markdown.pages[0].page_number
        1
    """

    job: dict[str, Any] | None = None
    markdown: _V2Markdown | None = None
    text: _V2Text | None = None
    items: _V2Items | None = None
    images_content_metadata: _V2Images | None = None
    usage: dict[str, Any] | None = None
    markdown_full: str | None = None
    text_full: str | None = None
