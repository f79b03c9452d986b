"""The cloud backend's result readers on golden LlamaCloud bodies, not on the emulator's own output.

The fixtures in tests/fixtures/llamacloud are written from the response shapes of the reference
spec (../shared/reference/llamacloud-api.md): markdown that differs from the layout text, tables,
images, layout, and a partially successful job. Every other cloud test parses through the
emulator, whose results come from this package's local parser; these do not.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from llama_index_cloudkit.parse.llamacloud.llamaparse_v1 import parsed_from_result
from llama_index_cloudkit.parse.pages import page_documents

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "llamacloud"


def _load(name: str) -> dict[str, Any]:
    body: dict[str, Any] = json.loads((FIXTURES / name).read_text(encoding="utf-8"))
    return body


@pytest.fixture()
def tables_images() -> dict[str, Any]:
    return _load("parse_result_tables_images.json")


@pytest.fixture()
def partial() -> dict[str, Any]:
    return _load("parse_result_partial_success.json")


def test_one_document_per_page_with_page_numbers(tables_images: dict[str, Any]) -> None:
    parsed = parsed_from_result(tables_images, "llama-care-guide.pdf")
    docs = page_documents(parsed, backend="cloud")
    assert [d.metadata["page_number"] for d in docs] == [1, 2]
    assert all(d.metadata["total_pages"] == 2 for d in docs)
    assert {d.metadata["file_name"] for d in docs} == {"llama-care-guide.pdf"}


def test_documents_hold_the_markdown_not_the_layout_text(tables_images: dict[str, Any]) -> None:
    page = tables_images["pages"][0]
    assert page["md"] != page["text"]  # the fixture is realistic: they differ on prose
    docs = page_documents(parsed_from_result(tables_images, "g.pdf"), backend="cloud")
    assert docs[0].text == page["md"]
    assert "# Llama Care Guide" in docs[0].text
    assert "never keep a single llama alone" in docs[0].text  # the line break is joined


def test_tables_are_counted_and_kept_as_markdown(tables_images: dict[str, Any]) -> None:
    docs = page_documents(parsed_from_result(tables_images, "g.pdf"), backend="cloud")
    assert [d.metadata["table_count"] for d in docs] == [0, 1]
    assert "| Adult llama | 140-200 | 2.0-3.5 | 8-12 |" in docs[1].text


def test_page_sizes_come_from_the_result(tables_images: dict[str, Any]) -> None:
    parsed = parsed_from_result(tables_images, "g.pdf")
    assert (parsed.pages[0].width, parsed.pages[0].height) == (595.28, 841.89)


def test_images_and_layout_do_not_leak_into_the_text(tables_images: dict[str, Any]) -> None:
    docs = page_documents(parsed_from_result(tables_images, "g.pdf"), backend="cloud")
    assert "img_p0_1.png" not in docs[0].text and "page_1.jpg" not in docs[0].text
    assert "image_paths" not in docs[0].metadata  # nothing was downloaded


def test_saved_images_become_image_paths(tables_images: dict[str, Any]) -> None:
    tables_images["pages"][0]["saved_images"] = ["/tmp/x/job-img_p0_1.png"]
    docs = page_documents(parsed_from_result(tables_images, "g.pdf"), backend="cloud")
    assert docs[0].metadata["image_paths"] == ["/tmp/x/job-img_p0_1.png"]


def test_partial_success_keeps_the_good_pages_in_order(partial: dict[str, Any]) -> None:
    docs = page_documents(parsed_from_result(partial, "report.pdf"), backend="cloud")
    assert [d.metadata["page_number"] for d in docs] == [1, 2, 3]
    assert docs[0].text.startswith("# Quarterly herd report")
    assert docs[2].text.startswith("## Vaccinations")
    assert docs[1].text == ""  # the failed page is there, empty


def test_markdown_missing_falls_back_to_text(partial: dict[str, Any]) -> None:
    partial["pages"][0]["md"] = None
    parsed = parsed_from_result(partial, "report.pdf")
    assert parsed.pages[0].markdown().startswith("Quarterly herd report")


def test_table_only_pages_and_stable_ids(tables_images: dict[str, Any]) -> None:
    parsed = parsed_from_result(tables_images, "g.pdf")
    first = page_documents(parsed, backend="cloud", sha256="ab" * 32)
    again = page_documents(parsed, backend="cloud", sha256="ab" * 32)
    assert [d.doc_id for d in first] == [d.doc_id for d in again]
