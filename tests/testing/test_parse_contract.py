"""Contract: the unmodified LlamaParse SDK against the emulator gets real result objects."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import pytest
from llama_cloud_services import LlamaParse
from llama_cloud_services.parse.types import JobResult

from llama_index_cloudkit.testing import FakeLlamaCloud

# The real service keeps connections alive, and so does the emulator. The SDK's JobResult reuses
# the parser's AsyncClient, whose keep-alive connection belongs to the event loop parse() closed
# (spec 0.3), so these chained calls fail: an SDK bug, kept visible here until it is fixed.
# (get_images catches the RuntimeError and returns [], so that test fails on its assertion.)
SDK_KEEP_ALIVE_TRAP = pytest.mark.xfail(
    strict=True,
    reason="llama_cloud_services SDK bug: JobResult reuses a keep-alive connection bound to the "
    "event loop parse() closed ('Event loop is closed'); see spec 0.3",
)

PRESET_KWARGS = {
    "parse_mode": "parse_page_with_agent",
    "model": "openai-gpt-4-1-mini",
    "high_res_ocr": True,
    "adaptive_long_table": True,
    "outlined_table_extraction": True,
    "output_tables_as_HTML": True,
    "result_type": "markdown",
    "project_id": "proj-0000-default",
    "organization_id": "org-0000-fake",
}


@pytest.fixture()
def guide(examples_dir: Path) -> Path:
    return examples_dir / "llama-care-guide.pdf"


def test_parse_returns_pages_computed_from_the_upload(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path
) -> None:
    result = LlamaParse(**parser_kwargs, **PRESET_KWARGS).parse(str(guide))
    assert isinstance(result, JobResult)
    assert [p.page for p in result.pages] == [1, 2]
    assert "Adult llama" in result.pages[1].md and "<table>" in result.pages[1].md
    table = next(i for i in result.pages[1].items if i.type == "table")
    assert table.rows[1][:2] == ["Adult llama", "140-200"]
    upload = fake_llamacloud.requests[0]
    assert upload.path == "/api/parsing/upload"
    assert upload.query == {"organization_id": "org-0000-fake", "project_id": "proj-0000-default"}


def test_upload_form_carries_the_preset(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path
) -> None:
    LlamaParse(**parser_kwargs, **PRESET_KWARGS).parse(str(guide))
    job = next(iter(fake_llamacloud.state.parse_jobs.values()))
    for name in ("high_res_ocr", "adaptive_long_table", "outlined_table_extraction", "output_tables_as_HTML"):
        assert job.form[name] == "true"
    assert job.form["parse_mode"] == "parse_page_with_agent"
    assert job.form["model"] == "openai-gpt-4-1-mini"


def test_aparse_and_list_of_files(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], examples_dir: Path
) -> None:
    parser = LlamaParse(**parser_kwargs)
    one = asyncio.run(parser.aparse(str(examples_dir / "faq.html")))
    assert "Frequently asked questions" in one.pages[0].md
    many = LlamaParse(**parser_kwargs).parse(
        [str(examples_dir / "faq.html"), str(examples_dir / "release-notes.md")]
    )
    assert [len(r.pages) for r in many] == [1, 1]
    assert fake_llamacloud.count("POST", "/api/parsing/upload") == 3


def test_bytes_with_extra_info(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path
) -> None:
    result = LlamaParse(**parser_kwargs).parse(guide.read_bytes(), extra_info={"file_name": "guide.pdf"})
    assert result.file_name == "guide.pdf" and len(result.pages) == 2


@SDK_KEEP_ALIVE_TRAP
def test_markdown_documents_split_by_page(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path
) -> None:
    result = LlamaParse(**parser_kwargs).parse(str(guide))
    docs = result.get_markdown_documents(split_by_page=True)
    assert [d.metadata["page_number"] for d in docs] == [1, 2]
    assert "Llama Care Guide" in result.get_markdown()
    assert "Feeding" in result.get_text()


def test_get_json_result_and_tables(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path, tmp_path: Path
) -> None:
    parser = LlamaParse(**parser_kwargs)
    json_list = parser.get_json_result(str(guide))
    assert json_list[0]["job_metadata"]["job_pages"] == 2
    assert "job_id" in json_list[0]
    tables = parser.get_tables(json_list, str(tmp_path))  # one table in this file
    assert len(tables) == 1
    assert "Adult llama" in Path(tables[0]).read_text()


def test_load_data_returns_documents(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path
) -> None:
    docs = LlamaParse(**parser_kwargs, result_type="markdown").load_data(str(guide))
    assert docs and "Adult llama" in "".join(d.text for d in docs)


def test_target_pages_past_the_end_fail_like_the_real_api(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path
) -> None:
    result = LlamaParse(**parser_kwargs, target_pages="5-6").parse(str(guide))
    assert result.pages == []
    assert result.error_code == "NO_DATA_FOUND_IN_FILE"


def test_pending_jobs_are_polled_until_done(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path
) -> None:
    fake_llamacloud.script_parse_jobs(pending_polls=2)
    result = LlamaParse(**parser_kwargs).parse(str(guide))
    assert len(result.pages) == 2
    assert fake_llamacloud.count("GET", r"/api/parsing/job/[^/]+", regex=True) == 3


def test_keep_alive_exposes_the_sdk_event_loop_trap(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path
) -> None:
    """Spec 0.3: the SDK reuses a keep-alive connection bound to a finished loop.

    The emulator keeps connections alive like the real API, so the trap shows here too and our
    own readers are tested against it instead of being shielded from it.
    """
    result = LlamaParse(**parser_kwargs).parse(str(guide))
    with pytest.raises(RuntimeError):
        result.get_markdown()


@SDK_KEEP_ALIVE_TRAP
def test_get_images_downloads_page_screenshots(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path, tmp_path: Path
) -> None:
    parser = LlamaParse(**parser_kwargs, take_screenshot=True)
    json_list = parser.get_json_result(str(guide))
    assert [i["name"] for i in json_list[0]["pages"][0]["images"]] == ["page_1.jpg"]
    saved = parser.get_images(json_list, str(tmp_path))
    assert len(saved) == 2
    assert all(Path(p["path"]).read_bytes()[:2] == b"\xff\xd8" for p in saved)  # JPEG


@SDK_KEEP_ALIVE_TRAP
def test_xlsx_of_the_tables(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: Path, tmp_path: Path
) -> None:
    import io

    import openpyxl

    result = LlamaParse(**parser_kwargs).parse(str(guide))
    book = openpyxl.load_workbook(io.BytesIO(result.get_xlsx_data()))
    assert book.sheetnames == ["p2-t1"]
    assert book["p2-t1"]["A2"].value == "Adult llama"
