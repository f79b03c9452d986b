"""A page that needs OCR and gets none is never silent: a log line, a report warning, metadata."""

from __future__ import annotations

import io
import logging
import sys
from pathlib import Path

import pytest

from llama_index_cloudkit import CloudKitReader
from llama_index_cloudkit.parse.local import ocr as ocr_module
from llama_index_cloudkit.parse.local.ocr import available_ocr_engines


def _scanned_pdf(pages: int = 2) -> bytes:
    """An image-only PDF (what a scanner makes): pages with a picture of text, no text layer."""
    from PIL import Image, ImageDraw

    frames = []
    for number in range(1, pages + 1):
        image = Image.new("RGB", (600, 200), "white")
        ImageDraw.Draw(image).text((20, 80), f"Scanned page {number}", fill="black")
        frames.append(image)
    buffer = io.BytesIO()
    frames[0].save(buffer, format="PDF", save_all=True, append_images=frames[1:], resolution=72)
    return buffer.getvalue()


def _text_pdf() -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    pdf.add_page()
    pdf.multi_cell(0, 8, "A page with a text layer.")
    return bytes(pdf.output())


def test_a_scanned_page_read_with_ocr_off_is_flagged_warned_and_reported(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "scan.pdf"
    path.write_bytes(_scanned_pdf(2))
    reader = CloudKitReader(backend="local", ocr="off")
    with caplog.at_level(logging.WARNING):
        docs = reader.load_data(path)
    assert [d.metadata.get("needs_ocr") for d in docs] == [True, True]
    assert [d.text for d in docs] == ["", ""]
    report = reader.last_report
    assert report.ok and not report.failures  # a warning, not a failure
    assert [(w.file, w.page) for w in report.warnings] == [(str(path), 1), (str(path), 2)]
    assert all("ocr='auto'" in w.message for w in report.warnings)
    assert "2 warning(s)" in report.summary()
    logged = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("scan.pdf, page 2" in line and "needs OCR" in line for line in logged)


def test_without_any_ocr_engine_the_warning_says_what_to_install(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(ocr_module, "available_ocr_engines", lambda: [])
    reader = CloudKitReader(backend="local", on_error="report")
    docs = reader.load_data(_scanned_pdf(1), extra_info={"file_name": "upload.pdf"})
    assert docs[0].metadata["needs_ocr"] is True
    (warning,) = reader.last_report.warnings
    assert warning.file == "upload.pdf" and warning.page == 1
    assert "pip install 'llama-index-cloudkit[local]'" in warning.message


def test_needs_ocr_is_bookkeeping_hidden_from_the_llm_and_embeddings(tmp_path: Path) -> None:
    docs = CloudKitReader(backend="local", ocr="off").load_data(
        _scanned_pdf(1), extra_info={"file_name": "s.pdf"}
    )
    assert "needs_ocr" in docs[0].excluded_llm_metadata_keys
    assert "needs_ocr" in docs[0].excluded_embed_metadata_keys


def test_pages_with_a_text_layer_carry_no_ocr_flag_and_no_warning() -> None:
    reader = CloudKitReader(backend="local", ocr="off")
    docs = reader.load_data(_text_pdf(), extra_info={"file_name": "text.pdf"})
    assert "needs_ocr" not in docs[0].metadata
    assert reader.last_report.warnings == []


@pytest.mark.skipif(sys.version_info >= (3, 13), reason="rapidocr-onnxruntime has no wheel past 3.12")
def test_the_local_extra_brings_an_ocr_engine_that_needs_no_system_package() -> None:
    assert "rapidocr" in available_ocr_engines()


@pytest.mark.skipif("rapidocr" not in available_ocr_engines(), reason="rapidocr-onnxruntime not installed")
def test_with_the_pip_engine_a_scanned_page_is_read_and_not_flagged(tmp_path: Path) -> None:
    reader = CloudKitReader(backend="local", ocr="rapidocr")
    docs = reader.load_data(_scanned_pdf(1), extra_info={"file_name": "scan.pdf"})
    assert "Scanned" in docs[0].text and "needs_ocr" not in docs[0].metadata
    assert reader.last_report.warnings == []


def test_a_named_ocr_engine_that_is_missing_fails_with_an_install_hint(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from llama_index_cloudkit import UnsupportedFileError

    monkeypatch.setattr(ocr_module, "available_ocr_engines", lambda: [])
    with pytest.raises(UnsupportedFileError, match=r"rapidocr.*not installed"):
        CloudKitReader(backend="local", ocr="rapidocr").load_data(
            _scanned_pdf(1), extra_info={"file_name": "s.pdf"}
        )
