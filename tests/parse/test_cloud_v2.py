"""Parse v2 through CloudKitReader(api_version="v2"), against the emulator: the wire and the pages."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest
from made_documents import pdf_bytes

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.errors import ConfigError, JobFailedError
from llama_index_cloudkit.parse.cache import parse_key
from llama_index_cloudkit.parse.llamacloud import parse_service
from llama_index_cloudkit.parse.llamacloud.engine import CloudEngine
from llama_index_cloudkit.parse.llamacloud.llamaparse_v2 import parsed_from_v2, v2_request
from llama_index_cloudkit.parse.presets import PRESETS, ParsePreset
from llama_index_cloudkit.testing import FakeLlamaCloud

FILES = "/api/v1/beta/files"
PARSE = "/api/v2/parse"


def _settings(fake: FakeLlamaCloud, tmp_path: Path, version: str = "v2") -> CloudKitSettings:
    return CloudKitSettings(
        api_key=fake.api_key, base_url=fake.base_url, cache_dir=tmp_path / "cache", api_version=version
    )


def _engine(settings: CloudKitSettings) -> CloudEngine:
    return CloudEngine(settings, parse_service(settings, ParsePreset.AGENTIC, {}))


def _reader(fake: FakeLlamaCloud, tmp_path: Path, **kwargs: object) -> CloudKitReader:
    return CloudKitReader(backend="cloud", settings=_settings(fake, tmp_path), poll_interval=0.05, **kwargs)


def _pdf(tmp_path: Path, pages: int = 3) -> Path:
    """A PDF with a line of text on each page (a blank page would carry an empty-page warning)."""
    path = tmp_path / "pages.pdf"
    path.write_bytes(pdf_bytes(pages, tag=tmp_path.name))
    return path


def _memo(tmp_path: Path, name: str = "memo.md", text: str = "# Memo\n\nLlamas eat hay.") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


@pytest.fixture()
def fake() -> FakeLlamaCloud:
    with FakeLlamaCloud() as server:
        yield server


def test_a_v2_read_uploads_the_file_then_submits_a_pinned_tier_job(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    docs = _reader(fake, tmp_path, preset="cost_effective").load_data(_memo(tmp_path))

    assert docs[0].text.startswith("# Memo")
    upload = [r for r in fake.requests if r.path == FILES]
    assert len(upload) == 1 and upload[0].method == "POST"
    (job,) = fake.v2.parse_jobs.values()
    assert job.request["tier"] == "cost_effective"
    assert job.request["version"] == PRESETS["cost_effective"].v2_version == "2026-09-28"
    assert job.request["file_id"].startswith("dfl-")
    assert fake.v2.file_purposes[job.request["file_id"]]["purpose"] == "parse"
    assert fake.count("POST", PARSE) == 1


def test_polls_never_expand_and_the_one_result_fetch_asks_for_pages(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    fake.script_v2_parse_jobs(running_polls=2)
    _reader(fake, tmp_path).load_data(_memo(tmp_path))

    (job,) = fake.v2.parse_jobs.values()
    polls, final = job.gets[:-1], job.gets[-1]
    assert polls and all(expand == [] for expand in polls)
    assert {"markdown", "text", "items", "metadata", "usage"} <= set(final)


def test_page_options_keep_their_v1_meaning_and_arrive_one_based(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    reader = _reader(fake, tmp_path, parse_options={"target_pages": "0,2", "take_screenshot": True})
    docs = reader.load_data(_pdf(tmp_path, pages=3))

    (job,) = fake.v2.parse_jobs.values()
    assert job.request["page_ranges"] == {"target_pages": "1,3"}
    assert job.request["output_options"]["images_to_save"] == ["screenshot", "embedded"]
    assert [d.metadata["page_number"] for d in docs] == [1, 3]


def test_max_pages_arrives_as_page_ranges(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    docs = _reader(fake, tmp_path, parse_options={"max_pages": 2}).load_data(_pdf(tmp_path, pages=3))

    (job,) = fake.v2.parse_jobs.values()
    assert job.request["page_ranges"] == {"max_pages": 2}
    assert len(docs) == 2


def test_the_fast_tier_reads_text_pages_and_never_asks_for_markdown(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    docs = _reader(fake, tmp_path, parse_options={"tier": "fast"}).load_data(_memo(tmp_path))

    (job,) = fake.v2.parse_jobs.values()
    assert (job.request["tier"], job.request["version"]) == ("fast", "2026-06-15")
    assert "markdown" not in job.gets[-1] and "items" not in job.gets[-1]
    assert "Llamas eat hay" in docs[0].text


def test_fast_is_refused_on_v1_with_the_way_out() -> None:
    v1 = CloudKitSettings(api_key="llx-test-key-123456", api_version="v1")
    with pytest.raises(ConfigError, match="API v2 only") as info:
        parse_service(v1, ParsePreset.FAST, {})
    assert "CLOUDKIT_API_VERSION=v2" in str(info.value)
    with pytest.raises(ConfigError, match="API v2 only"):
        CloudKitReader(backend="cloud", api_key="llx-test-key-123456", preset="fast")
    v2 = CloudKitSettings(api_key="llx-test-key-123456", api_version="v2")
    assert CloudKitReader(backend="cloud", settings=v2, preset="fast").preset.credits_per_page == 1


def test_an_option_v2_cannot_carry_is_refused_before_any_request(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    with pytest.raises(ConfigError, match="adaptive_long_table"):
        _reader(fake, tmp_path, parse_options={"adaptive_long_table": True})
    assert fake.count("POST", PARSE) == 0


def test_a_custom_prompt_on_the_fast_tier_is_refused() -> None:
    with pytest.raises(ConfigError, match="no custom prompt"):
        v2_request(ParsePreset.AGENTIC, {"tier": "fast", "user_prompt": "Summarise"})


def test_failed_pages_keep_their_place_and_are_reported(
    fake: FakeLlamaCloud, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    fake.script_v2_parse_jobs(failed_pages=(2,), page_error="Page timed out")
    backend = _engine(_settings(fake, tmp_path))
    pdf = _pdf(tmp_path, pages=3).read_bytes()
    with caplog.at_level(logging.WARNING):
        (outcome,) = backend.parse_all([(pdf, "pages.pdf")])

    assert outcome.parsed is not None
    assert [p.number for p in outcome.parsed.pages] == [1, 2, 3]  # page 2 is not dropped
    assert outcome.parsed.pages[1].markdown() == ""
    assert "page 2: Page timed out" in caplog.text and "pages.pdf" in caplog.text
    cached = backend.cache.get(backend.key(pdf))
    assert cached is not None
    assert [page["warnings"] for page in cached["pages"]] == [
        [],
        ["LlamaParse could not parse this page: Page timed out"],
        [],
    ]


def test_the_credits_the_service_reports_reach_the_outcome(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    backend = _engine(_settings(fake, tmp_path))
    (outcome,) = backend.parse_all([(_pdf(tmp_path, pages=2).read_bytes(), "pages.pdf")])

    # the emulator bills the agentic tier 10 credits a page, as LlamaCloud publishes
    assert outcome.credits_reported == 20.0
    assert outcome.pages_reported == 2


def test_a_failed_job_is_a_typed_error_naming_file_and_job(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    fake.script_v2_parse_jobs("FAILED", error_message="PDF is broken")
    with pytest.raises(JobFailedError, match="PDF is broken") as info:
        _reader(fake, tmp_path).load_data(_memo(tmp_path))
    assert info.value.job_id and "memo.md" in str(info.value)


def test_a_second_v2_read_is_a_cache_hit_with_no_request(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    path = _memo(tmp_path)
    first = _reader(fake, tmp_path).load_data(path)
    before = len(fake.requests)
    second = _reader(fake, tmp_path).load_data(path)

    assert [d.text for d in second] == [d.text for d in first]
    assert len(fake.requests) == before


def test_the_cache_key_names_generation_tier_and_pinned_version() -> None:
    data = b"# Memo"
    v1 = CloudKitSettings(api_version="v1")
    v2 = CloudKitSettings(api_version="v2")

    def key(settings: CloudKitSettings, options: dict[str, object]) -> str:
        return parse_key(data, "agentic", parse_service(settings, ParsePreset.AGENTIC, options).key_options())

    assert key(v1, {}) != key(v2, {})
    assert key(v2, {}) != key(v2, {"version": "latest"})
    assert key(v2, {}) != key(v2, {"tier": "fast"})
    assert key(v2, {}) == key(v2, {"version": PRESETS["agentic"].v2_version})


def test_screenshots_are_downloaded_without_the_api_key(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    reader = _reader(
        fake, tmp_path, parse_options={"take_screenshot": True}, download_images_to=tmp_path / "images"
    )
    docs = reader.load_data(_pdf(tmp_path, pages=2))

    paths = [p for d in docs for p in d.metadata.get("image_paths", [])]
    assert any(Path(p).name.endswith("page_1.jpg") for p in paths)
    assert all(Path(p).stat().st_size > 0 for p in paths)
    listings = [r for r in fake.requests if r.path.startswith(PARSE + "/") and "image_filenames" in r.query]
    assert {r.query["image_filenames"] for r in listings} >= {"page_1.jpg", "page_2.jpg"}
    downloads = [r for r in fake.requests if "/images/" in r.path]
    assert downloads and all("authorization" not in r.headers for r in downloads)


@pytest.mark.corpus
def test_the_same_reader_code_parses_the_shared_corpus_on_v2(
    fake: FakeLlamaCloud, tmp_path: Path, corpus: Path
) -> None:
    files = [corpus / "multi_page.pdf", corpus / "word_sample.docx", corpus / "table_06.html"]
    reader = _reader(fake, tmp_path, preset="agentic")
    docs = reader.load_data(files)

    by_file: dict[str, list[int]] = {}
    for doc in docs:
        by_file.setdefault(doc.metadata["file_name"], []).append(doc.metadata["page_number"])
    assert set(by_file) == {f.name for f in files}
    assert all(pages == sorted(pages) and pages[0] == 1 for pages in by_file.values())
    assert any(doc.text.strip() for doc in docs)
    assert fake.count("POST", PARSE) == len(files)


def test_aload_data_reads_on_v2_in_the_running_loop(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    import asyncio

    paths = [_memo(tmp_path, f"memo-{i}.md", f"# Memo {i}\n\nLlama {i}.") for i in range(3)]
    docs = asyncio.run(_reader(fake, tmp_path).aload_data(paths))

    assert sorted(d.metadata["file_name"] for d in docs) == [p.name for p in paths]
    assert fake.count("POST", PARSE) == 3


def test_images_v2_gives_no_page_for_are_named_not_dropped(caplog: pytest.LogCaptureFixture) -> None:
    body = {
        "job": {"id": "pjb-1", "status": "COMPLETED"},
        "markdown": {"pages": [{"page_number": 1, "markdown": "# A", "success": True}]},
        "images_content_metadata": {
            "total_count": 2,
            "images": [
                {"filename": "page_1.jpg", "index": 0, "category": "screenshot", "presigned_url": "u1"},
                {"filename": "img_0.png", "index": 1, "category": "embedded", "presigned_url": "u2"},
            ],
        },
    }
    with caplog.at_level(logging.INFO):
        parsed = parsed_from_v2(body, "a.pdf")

    assert parsed.pages[0].images == ["page_1.jpg"]
    assert "img_0.png" in caplog.text and "a.pdf" in caplog.text


def test_a_failed_page_is_a_report_warning_and_page_metadata(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    fake.script_v2_parse_jobs(failed_pages=(2,), page_error="Page timed out")
    reader = _reader(fake, tmp_path, on_error="report")
    docs = reader.load_data(_pdf(tmp_path, pages=3))
    assert [d.metadata["page_number"] for d in docs] == [1, 2, 3]
    assert "Page timed out" in docs[1].metadata["parse_warnings"][0]
    assert "parse_warnings" not in docs[0].metadata
    (warning,) = reader.last_report.warnings
    assert warning.page == 2 and "Page timed out" in warning.message and reader.last_report.ok
