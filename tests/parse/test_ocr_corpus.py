"""OCR on the shared corpus's scans with the pip engine (and tesseract when present).

The similarity to the reference text is printed (``pytest -s``) and recorded as a test property;
``benchmarks/local_parse.py`` prints the same figures. Each test reads few pages: OCR costs
seconds a page on 2 cores.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from llama_index_cloudkit import CloudKitReader
from llama_index_cloudkit.parse.local import LocalParser
from llama_index_cloudkit.parse.local.ocr import available_ocr_engines
from llama_index_cloudkit.parse.local.similarity import text_similarity

pytestmark = [pytest.mark.corpus, pytest.mark.timeout(300)]

# Read off page 1 of nemotron_multipage.pdf by a person (its 4 pages are degraded copies of it).
NEMOTRON_SENTENCE = (
    "Docling bundles PDF document conversion to JSON and Markdown in an easy self contained package"
)
# Cells of the scanned table in single_table.pdf, read by a person.
SINGLE_TABLE_CELLS = ["Chipper", "Base 128", "64,058", "Base 512", "16,046"]
# Lowest similarity we accept, per engine (measured: rapidocr 0.89, 0.86 before its lines were
# re-spaced from the image's gaps; tesseract 0.94 or more).
FLOOR = {"rapidocr": 0.87, "tesseract": 0.85}

ENGINES = [
    pytest.param(
        name,
        marks=pytest.mark.skipif(name not in available_ocr_engines(), reason=f"{name} is not installed"),
    )
    for name in ("rapidocr", "tesseract")
]


def _report(record_property: pytest.RecordProperty, label: str, score: float) -> None:
    record_property(label, round(score, 3))
    print(f"\nOCR similarity {label}: {score:.3f}")


@pytest.mark.parametrize("engine", ENGINES)
def test_ocr_reads_a_rendered_page_close_to_its_text_layer(
    corpus: Path, engine: str, record_property: pytest.RecordProperty
) -> None:
    image_docs = CloudKitReader(backend="local", ocr=engine).load_data(
        corpus / "layout-parser-paper-fast.jpg"
    )
    pdf_docs = CloudKitReader(backend="local", ocr="off").load_data(corpus / "layout-parser-paper-fast.pdf")
    assert image_docs[0].metadata["parser"] == f"ocr:{engine}"
    score = text_similarity(image_docs[0].text, pdf_docs[0].text)
    _report(record_property, f"{engine} layout-parser-paper-fast.jpg", score)
    assert score >= FLOOR[engine]


@pytest.mark.parametrize("engine", ENGINES)
def test_ocr_reads_the_scanned_table_pdf(
    corpus: Path, engine: str, record_property: pytest.RecordProperty
) -> None:
    reader = CloudKitReader(backend="local", ocr=engine)
    (doc,) = reader.load_data(corpus / "single_table.pdf")
    assert "needs_ocr" not in doc.metadata and reader.last_report.warnings == []
    found = [cell for cell in SINGLE_TABLE_CELLS if cell in doc.text]
    _report(record_property, f"{engine} single_table.pdf cells", len(found) / len(SINGLE_TABLE_CELLS))
    assert len(found) >= 4, doc.text


@pytest.mark.parametrize("engine", ENGINES)
def test_ocr_reads_a_scanned_multipage_pdf_page(
    corpus: Path, engine: str, record_property: pytest.RecordProperty
) -> None:
    data = (corpus / "nemotron_multipage.pdf").read_bytes()
    (page,) = LocalParser(ocr=engine).iter_pages(data, "nemotron_multipage.pdf", pages=range(1))  # type: ignore[arg-type]
    score = text_similarity(page.text(), NEMOTRON_SENTENCE)
    _report(record_property, f"{engine} nemotron_multipage.pdf p1", score)
    assert score >= 0.9 and not page.needs_ocr
