"""Know the cost before paying: estimates make no request, count pages like the bill, show what is free."""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader
from made_documents import docx_bytes, pdf_bytes, pptx_bytes, xlsx_bytes

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.testing import FakeLlamaCloud


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "mixed"
    root.mkdir()
    (root / "report.pdf").write_bytes(pdf_bytes(3, "report"))
    (root / "deck.pptx").write_bytes(pptx_bytes(4))
    (root / "book.xlsx").write_bytes(xlsx_bytes(2))
    (root / "notes.md").write_text("# Notes\n\nOne page.")
    (root / "letter.docx").write_bytes(docx_bytes(3))
    return root


def _reader(fake: FakeLlamaCloud, **kwargs: object) -> CloudKitReader:
    settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url)
    return CloudKitReader(backend="cloud", settings=settings, poll_interval=0.05, **kwargs)


def test_estimate_makes_no_request_and_prices_every_preset(
    fake_llamacloud: FakeLlamaCloud, folder: Path
) -> None:
    report = _reader(fake_llamacloud, preset="agentic").estimate(sorted(folder.iterdir()))
    assert fake_llamacloud.requests == []
    pages = {Path(f.file).name: f.pages for f in report.files}
    assert pages == {"book.xlsx": 2, "deck.pptx": 4, "letter.docx": 1, "notes.md": 1, "report.pdf": 3}
    assert report.total_credits == 11 * 10
    assert report.total_for("cost_effective") == 33 and report.total_for("agentic_plus") == 495
    assert "agentic_plus" in report.table() and report.summary().startswith("5 file(s), 11 page(s)")


def test_cached_and_journaled_files_show_as_free(fake_llamacloud: FakeLlamaCloud, folder: Path) -> None:
    reader = _reader(fake_llamacloud)
    reader.load_data(folder / "report.pdf")
    fake_llamacloud.script_parse_jobs(stuck=True, count=1)
    with pytest.raises(Exception, match="still running"):
        _reader(fake_llamacloud, job_timeout=0.3).load_data(folder / "notes.md")
    report = reader.estimate(sorted(folder.iterdir()))
    free = {Path(f.file).name: (f.cached, f.reattach, f.credits) for f in report.files}
    assert free["report.pdf"] == (True, False, 0)
    assert free["notes.md"] == (False, True, 0)
    assert free["deck.pptx"][2] == 40


def test_target_pages_and_max_pages_lower_the_estimate(fake_llamacloud: FakeLlamaCloud, folder: Path) -> None:
    report = _reader(fake_llamacloud, parse_options={"max_pages": 2}).estimate(folder / "report.pdf")
    assert report.files[0].pages == 2


def test_the_estimate_is_what_the_emulator_bills(fake_llamacloud: FakeLlamaCloud, folder: Path) -> None:
    reader = _reader(fake_llamacloud)
    files = sorted(folder.iterdir())
    estimated = {Path(f.file).name: f.pages for f in reader.estimate(files).files}
    reader.load_data(files)
    billed = {
        job.file_name: (job.result or {}).get("job_metadata", {}).get("job_pages")
        for job in fake_llamacloud.state.parse_jobs.values()
    }
    assert estimated == billed


def test_a_directory_estimate_prices_exactly_the_files_it_would_read(
    fake_llamacloud: FakeLlamaCloud, folder: Path
) -> None:
    reader = _reader(fake_llamacloud)
    sdr = SimpleDirectoryReader(str(folder), exclude=["*.xlsx"], file_extractor=reader.file_extractor())
    names = sorted(Path(f.file).name for f in reader.estimate_directory(sdr).files)
    assert names == ["deck.pptx", "letter.docx", "notes.md", "report.pdf"] and fake_llamacloud.requests == []


def test_the_report_holds_estimate_and_reported_usage_per_file(
    fake_llamacloud: FakeLlamaCloud, folder: Path
) -> None:
    reader = _reader(fake_llamacloud, preset="cost_effective")
    reader.load_data([folder / "report.pdf", folder / "deck.pptx"])
    by_file = {Path(f.file).name: f for f in reader.last_report.files}
    pdf = by_file["report.pdf"]
    assert (pdf.pages_estimated, pdf.credits_estimated, pdf.pages_reported, pdf.credits_reported) == (
        3,
        9,
        3,
        9,
    )
    assert not pdf.billing_surprise and not reader.last_report.billing_surprises
    assert reader.last_report.credits_reported == 9 + 12
    assert reader.last_report.cost_summary() == (
        "2 file(s), 7 page(s), 0 cache hit(s), about 21 credits estimated, 21 reported by LlamaCloud"
    )


def test_a_bill_that_differs_from_the_estimate_is_flagged(
    fake_llamacloud: FakeLlamaCloud, folder: Path
) -> None:
    fake_llamacloud.serve_fixture(
        {
            "pages": [{"page": 1, "md": "# Notes", "text": "Notes", "items": []}],
            "job_metadata": {"job_pages": 4},
        }
    )
    reader = _reader(fake_llamacloud)  # agentic: 10 credits a page; the file is one page
    reader.load_data(folder / "notes.md")
    (file,) = reader.last_report.files
    assert file.billing_surprise and file.credits_reported == 40 and file.credits_estimated == 10
    assert "billed differently than estimated: " in reader.last_report.cost_summary()
