"""The local backend over the shared corpus: per-page Documents, text quality, tables."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader

from llama_index_cloudkit import CloudKitReader, file_extractor
from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES, LocalParser
from llama_index_cloudkit.parse.local.ocr import available_ocr_engines
from llama_index_cloudkit.parse.local.similarity import text_similarity

pytestmark = pytest.mark.corpus

NEEDS_OCR = {".png", ".jpg", ".jpeg", ".tif", ".tiff"}
# OCR is slow on 2 cores (seconds a page): tests/parse/test_ocr_corpus.py reads these once.
HEAVY_OCR = {
    "2206.01062.tif",
    "double-column-A.jpg",
    "layout-parser-paper-fast.jpg",
    "nemotron_multipage.pdf",
}
SCANNED_PDFS = {"single_table.pdf", "nemotron_multipage.pdf"}
REQUIRED_KEYS = {"file_name", "file_path", "file_type", "page_number", "total_pages", "backend", "parser"}


def similarity(ours: str, reference: str) -> float:
    """Word-sequence similarity of two texts after stripping markdown (0..1)."""
    return text_similarity(ours, reference)


def _corpus_files(corpus: Path) -> list[Path]:
    files = [p for p in sorted(corpus.iterdir()) if p.suffix.lower() in SUPPORTED_SUFFIXES]
    if not available_ocr_engines():
        files = [p for p in files if p.suffix.lower() not in NEEDS_OCR]
    return files


def test_every_corpus_file_gives_per_page_documents_with_metadata(corpus: Path) -> None:
    reader = CloudKitReader(backend="local", ocr="off")  # OCR has its own tests
    for path in _corpus_files(corpus):
        if path.suffix.lower() in NEEDS_OCR:
            continue
        docs = reader.load_data(path)
        assert docs, path.name
        total = docs[0].metadata["total_pages"]
        assert [d.metadata["page_number"] for d in docs] == list(range(1, total + 1)), path.name
        for doc in docs:
            assert set(doc.metadata) >= REQUIRED_KEYS, path.name
            assert doc.metadata["file_name"] == path.name
            assert doc.metadata["backend"] == "local"
            assert "file_path" in doc.excluded_llm_metadata_keys
            assert "page_number" not in doc.excluded_llm_metadata_keys
            # a scanned page read without OCR says so, never an unexplained empty page
            assert doc.metadata.get("needs_ocr", False) is (path.name in SCANNED_PDFS), path.name
        assert len(reader.last_report.warnings) == (len(docs) if path.name in SCANNED_PDFS else 0)


def test_pdf_page_counts_match_pdfium(corpus: Path) -> None:
    import pypdfium2

    paths = sorted(corpus.glob("*.pdf"))
    docs = CloudKitReader(backend="local", ocr="off").load_data(paths)  # one batch: every core
    for path in paths:
        pages = [d for d in docs if d.metadata["file_name"] == path.name]
        assert len(pages) == len(pypdfium2.PdfDocument(str(path))), path.name


@pytest.mark.parametrize(
    "name",
    [
        "2305.03393v1-pg9.pdf",
        "amt_handbook_sample.pdf",
        "multi_page.pdf",
        "normal_4pages.pdf",
        "picture_classification.pdf",
        "table_mislabeled_as_picture.pdf",
    ],
)
def test_pdf_text_is_close_to_ground_truth(corpus: Path, name: str) -> None:
    docs = CloudKitReader(backend="local").load_data(corpus / name)
    reference = (corpus / "groundtruth" / f"{name}.gt.md").read_text(encoding="utf-8")
    score = similarity("\n\n".join(d.text for d in docs), reference)
    assert score >= 0.85, f"{name}: similarity {score:.3f}"


@pytest.mark.parametrize("name", ["lorem_ipsum.docx", "word_sample.docx", "table_06.html"])
def test_office_and_html_text_is_close_to_ground_truth(corpus: Path, name: str) -> None:
    docs = CloudKitReader(backend="local").load_data(corpus / name)
    reference = (corpus / "groundtruth" / f"{name}.gt.md").read_text(encoding="utf-8")
    assert similarity("\n\n".join(d.text for d in docs), reference) >= 0.85


def _table_rows(corpus: Path, name: str) -> list[list[int]]:
    parsed = LocalParser().parse((corpus / name).read_bytes(), name)
    return [[t.n_rows for t in page.tables] for page in parsed.pages]


def test_docx_tables_keep_their_rows(corpus: Path) -> None:
    import docx

    expected = [len(t.rows) for t in docx.Document(str(corpus / "docx-tables.docx")).tables]
    assert _table_rows(corpus, "docx-tables.docx") == [expected]


def test_pptx_table_keeps_its_rows(corpus: Path) -> None:
    import pptx

    deck = pptx.Presentation(str(corpus / "fake-power-point-table.pptx"))
    expected = [[len(s.table.rows) for s in slide.shapes if s.has_table] for slide in deck.slides]
    assert _table_rows(corpus, "fake-power-point-table.pptx") == expected


def test_xlsx_sheets_become_pages_with_one_table_each(corpus: Path) -> None:
    import openpyxl

    book = openpyxl.load_workbook(corpus / "stanley-cups.xlsx", data_only=True)
    # each sheet: a title merged across the first row (text above the table), then the table
    expected = [
        [sum(1 for row in sheet.iter_rows(values_only=True) if any(v is not None for v in row)) - 1]
        for sheet in book.worksheets
    ]
    assert _table_rows(corpus, "stanley-cups.xlsx") == expected
    parsed = LocalParser().parse((corpus / "stanley-cups.xlsx").read_bytes(), "stanley-cups.xlsx")
    assert parsed.pages[0].markdown().startswith("## Stanley Cups\n\n**Stanley Cups**\n\n| Team |")


def test_ruled_pdf_tables_come_out_as_tables(corpus: Path) -> None:
    warn = _table_rows(corpus, "WARN-Report-for-7-1-2015-to-03-25-2016.pdf")
    assert len(warn) == 16 and all(page for page in warn), warn  # a ruled table on every page
    assert warn[1] == [43]  # page 2: header + 42 notices, each ruled
    nics = LocalParser().parse((corpus / "nics-background-checks-2015-11.pdf").read_bytes(), "nics.pdf")
    (table,) = nics.pages[0].tables
    states = [row[0] for row in table.rows]
    assert {"Alabama", "Wyoming", "District of Columbia"} <= set(states)
    wyoming = table.rows[states.index("Wyoming")]
    assert len([c for c in wyoming if c]) >= 10  # the numbers stay on the state's row


def test_tables_render_as_html_on_request(corpus: Path) -> None:
    docs = CloudKitReader(backend="local", output_tables_as_HTML=True).load_data(
        corpus / "google-doc-document.pdf"
    )
    assert "<table>" in docs[0].text and "| --- |" not in docs[0].text


@pytest.mark.timeout(900)  # three passes over the corpus, OCR of two pages included (about 60 s)
def test_simple_directory_reader_over_the_corpus(corpus: Path) -> None:
    extractor = file_extractor(backend="local", on_error="report")
    exclude = [f"*{name}" for name in HEAVY_OCR]
    if not available_ocr_engines():
        exclude += [f"*{s}" for s in NEEDS_OCR]
    reader = SimpleDirectoryReader(
        str(corpus), file_extractor=extractor, exclude=exclude, required_exts=list(SUPPORTED_SUFFIXES)
    )
    expected = {p.name for p in _corpus_files(corpus) if p.name not in HEAVY_OCR}
    serial = reader.load_data()
    parallel = reader.load_data(num_workers=2)
    from_async = asyncio.run(reader.aload_data())
    key = lambda d: (d.metadata["file_name"], d.metadata["page_number"])  # noqa: E731
    assert sorted(map(key, serial)) == sorted(map(key, parallel)) == sorted(map(key, from_async))
    assert {d.metadata["file_name"] for d in serial} == expected  # every file handed over was read
    assert len(serial) >= 50
    for doc in serial:  # citations stay visible to the LLM through SimpleDirectoryReader
        assert "file_name" not in doc.excluded_llm_metadata_keys, key(doc)
    if available_ocr_engines():  # the scanned table and the photo went through OCR
        scanned = [d for d in serial if d.metadata["file_name"] == "single_table.pdf"]
        assert len(scanned[0].text.split()) > 20 and "needs_ocr" not in scanned[0].metadata
        assert any(d.metadata["file_name"] == "example.jpg" for d in serial)
