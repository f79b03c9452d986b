"""Page estimates come from the file, and one budget holds across every call of a reader."""

from __future__ import annotations

from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader
from made_documents import pdf_bytes, pptx_bytes, xlsx_bytes

from llama_index_cloudkit import CloudKitSettings, CreditLimitError, file_extractor
from llama_index_cloudkit.parse.cost import estimate_pages
from llama_index_cloudkit.testing import FakeLlamaCloud


def test_pages_are_counted_from_the_file() -> None:
    assert estimate_pages(pdf_bytes(7), "a.pdf") == 7
    assert estimate_pages(pptx_bytes(12), "deck.pptx") == 12
    assert estimate_pages(xlsx_bytes(3), "book.xlsx") == 3
    assert estimate_pages(b"# notes", "notes.md") == 1


def test_target_pages_and_max_pages_are_applied() -> None:
    data = pdf_bytes(10)
    assert estimate_pages(data, "a.pdf", {"target_pages": "0,2-4"}) == 4
    assert estimate_pages(data, "a.pdf", {"max_pages": 3}) == 3


def test_max_credits_holds_across_simple_directory_reader_calls(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    folder = tmp_path / "scans"
    folder.mkdir()
    for i in range(4):
        (folder / f"scan-{i}.pdf").write_bytes(
            pdf_bytes(2, tag=f"scan {i}")
        )  # 2 pages x 3 credits (cost_effective) = 6 each
    settings = CloudKitSettings(api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
    extractor = file_extractor(
        backend="cloud", settings=settings, preset="cost_effective", max_credits=15, poll_interval=0.05
    )
    reader = extractor[".pdf"]
    sdr = SimpleDirectoryReader(str(folder), file_extractor=extractor, raise_on_error=True)
    with pytest.raises(Exception) as info:
        sdr.load_data()
    assert isinstance(info.value.__cause__, CreditLimitError)
    uploads = fake_llamacloud.count("POST", "/api/parsing/upload")
    assert uploads == 2 and reader.credits_spent == 12 <= 15  # stopped before the budget was passed


def test_credits_estimated_counts_every_submitted_file(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    from llama_index_cloudkit import CloudKitReader

    files = []
    for i, pages in enumerate([1, 3, 2]):
        path = tmp_path / f"doc-{i}.pdf"
        path.write_bytes(pdf_bytes(pages, tag=f"doc {i}"))
        files.append(path)
    settings = CloudKitSettings(api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
    reader = CloudKitReader(backend="cloud", settings=settings, preset="agentic", poll_interval=0.05)
    reader.load_data(files)
    assert reader.last_report.credits_estimated == (1 + 3 + 2) * 10 == reader.credits_spent
    reader.load_data(files)  # all cached now: free
    assert reader.last_report.credits_estimated == 0 and reader.credits_spent == 60
