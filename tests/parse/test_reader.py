"""CloudKitReader's contract: inputs, errors, reports, serialization, SimpleDirectoryReader."""

from __future__ import annotations

import asyncio
import io
import pickle
from pathlib import Path

import fsspec
import pytest
from llama_index.core import SimpleDirectoryReader

from llama_index_cloudkit import (
    CloudKitReader,
    ConfigError,
    ParseError,
    UnsupportedFileError,
    file_extractor,
)
from llama_index_cloudkit.parse.local import SUPPORTED_SUFFIXES

KEY = "llx-test-secret-key-1234567890"


def _pdf_bytes(pages: list[str], *, user_password: str | None = None) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    if user_password:
        pdf.set_encryption(owner_password="owner", user_password=user_password)
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


@pytest.fixture()
def reader() -> CloudKitReader:
    return CloudKitReader(backend="local")


def test_one_document_per_pdf_page_with_page_numbers(reader: CloudKitReader, tmp_path: Path) -> None:
    path = tmp_path / "three.pdf"
    path.write_bytes(_pdf_bytes(["alpha page", "beta page", "gamma page"]))
    docs = reader.load_data(path)
    assert [d.metadata["page_number"] for d in docs] == [1, 2, 3]
    assert [d.metadata["total_pages"] for d in docs] == [3, 3, 3]
    assert "beta" in docs[1].text and "beta" not in docs[0].text
    assert docs[0].metadata["file_path"] == str(path)


def test_document_ids_are_stable_across_runs(reader: CloudKitReader, tmp_path: Path) -> None:
    path = tmp_path / "a.pdf"
    path.write_bytes(_pdf_bytes(["one", "two"]))
    first = [d.id_ for d in reader.load_data(path)]
    assert first == [d.id_ for d in reader.load_data(str(path))]
    assert len(set(first)) == 2


def test_bytes_and_file_objects_need_and_use_a_file_name(reader: CloudKitReader) -> None:
    data = _pdf_bytes(["from bytes"])
    docs = reader.load_data(data, extra_info={"file_name": "upload.pdf", "source": "api"})
    assert docs[0].metadata["file_name"] == "upload.pdf"
    assert docs[0].metadata["source"] == "api"
    docs = reader.load_data(io.BytesIO(data), extra_info={"file_name": "stream.pdf"})
    assert docs[0].metadata["file_name"] == "stream.pdf"
    with pytest.raises(ConfigError, match="file_name"):
        reader.load_data(data)


def test_extra_info_cannot_fake_page_metadata(reader: CloudKitReader) -> None:
    docs = reader.load_data(b"x", extra_info={"file_name": "a.txt", "page_number": 99})
    assert docs[0].metadata["page_number"] == 1


def test_fsspec_filesystem_is_used_for_paths(reader: CloudKitReader) -> None:
    fs = fsspec.filesystem("memory")
    with fs.open("/docs/notes.md", "wb") as handle:
        handle.write(b"# In memory\n\nonly on fsspec")
    docs = reader.load_data("/docs/notes.md", fs=fs)
    assert "only on fsspec" in docs[0].text


def test_list_of_paths_in_order(reader: CloudKitReader, examples_dir: Path) -> None:
    files = [examples_dir / "faq.html", examples_dir / "release-notes.md"]
    docs = reader.load_data(files)
    assert [d.metadata["file_name"] for d in docs] == ["faq.html", "release-notes.md"]


def test_corrupt_pdf_names_the_file(reader: CloudKitReader, tmp_path: Path) -> None:
    path = tmp_path / "broken.pdf"
    path.write_bytes(b"%PDF-1.7\nthis is not really a pdf")
    with pytest.raises(ParseError, match=r"broken\.pdf") as info:
        reader.load_data(path)
    assert "corrupt" in str(info.value)


@pytest.mark.parametrize("suffix", [".pdf", ".docx", ".txt", ".csv", ".html", ".xlsx"])
def test_empty_file_is_a_parse_error(reader: CloudKitReader, tmp_path: Path, suffix: str) -> None:
    path = tmp_path / f"empty{suffix}"
    path.write_bytes(b"")
    with pytest.raises(ParseError, match="empty"):
        reader.load_data(path)


def test_encrypted_pdf_without_password_says_how_to_open_it(tmp_path: Path) -> None:
    path = tmp_path / "locked.pdf"
    path.write_bytes(_pdf_bytes(["secret page"], user_password="pw"))
    with pytest.raises(ParseError, match="encrypted") as info:
        CloudKitReader(backend="local").load_data(path)
    assert "password" in str(info.value)
    docs = CloudKitReader(backend="local", pdf_password="pw").load_data(path)
    assert "secret page" in docs[0].text


def test_unsupported_suffix_lists_what_is_supported(reader: CloudKitReader, tmp_path: Path) -> None:
    path = tmp_path / "program.exe"
    path.write_bytes(b"MZ")
    with pytest.raises(UnsupportedFileError, match=r"\.exe") as info:
        reader.load_data(path)
    assert ".pdf" in str(info.value)


def test_image_without_ocr_names_the_missing_extra(tmp_path: Path) -> None:
    path = tmp_path / "scan.png"
    path.write_bytes(b"\x89PNG\r\n\x1a\n")
    with pytest.raises(UnsupportedFileError, match=r"llama-index-cloudkit\[ocr\]"):
        CloudKitReader(backend="local", ocr="off").load_data(path)


def test_report_mode_keeps_good_files_and_lists_failures(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("# fine")
    vanished = tmp_path / "vanished.pdf"
    vanished.write_bytes(_pdf_bytes(["soon gone"]))
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"garbage")
    vanished.unlink()  # removed between listing and reading
    reader = CloudKitReader(backend="local", on_error="report")
    docs = reader.load_data([good, vanished, broken])
    assert [d.metadata["file_name"] for d in docs] == ["good.md"]
    report = reader.last_report
    assert [f.file for f in report.failures] == [str(vanished), str(broken)]
    assert report.failures[0].error_type == "ParseError"
    assert "does not exist" in (report.failures[0].error or "")
    assert report.summary().startswith("1/3 file(s) read")


def test_empty_result_always_comes_with_a_reason(tmp_path: Path) -> None:
    reader = CloudKitReader(backend="local", on_error="report")
    assert reader.load_data(tmp_path / "missing.pdf") == []
    assert not reader.last_report.ok
    assert reader.last_report.failures[0].error


def test_raise_mode_stops_at_the_first_bad_file(tmp_path: Path) -> None:
    good = tmp_path / "good.md"
    good.write_text("fine")
    with pytest.raises(ParseError):
        CloudKitReader(backend="local").load_data([tmp_path / "missing.pdf", good])


def test_file_extractor_covers_every_supported_suffix() -> None:
    mapping = file_extractor(backend="local")
    assert set(mapping) == set(SUPPORTED_SUFFIXES)
    assert len({id(r) for r in mapping.values()}) == 1


def test_reader_pickles_and_round_trips_without_secrets() -> None:
    reader = CloudKitReader(
        backend="local", output_tables_as_HTML=True, pdf_password="pw", settings={"api_key": KEY}
    )
    clone = pickle.loads(pickle.dumps(reader))
    assert clone.output_tables_as_HTML and clone.settings.require_key() == KEY
    for text in (reader.to_json(), str(reader.to_dict()), repr(reader)):
        assert KEY not in text and "'pw'" not in text
    rebuilt = CloudKitReader.from_dict(reader.to_dict())
    assert rebuilt.output_tables_as_HTML and rebuilt.backend == "local"
    assert CloudKitReader.class_name() == "CloudKitReader"


def test_unknown_preset_fails_at_construction() -> None:
    with pytest.raises(ConfigError, match="agentic_plus"):
        CloudKitReader(backend="local", preset="fancy")


def test_aload_data_inside_a_running_loop(reader: CloudKitReader, examples_dir: Path) -> None:
    async def main() -> int:
        docs = await reader.aload_data(examples_dir / "faq.html")
        return len(docs)

    assert asyncio.run(main()) == 1


def test_simple_directory_reader_on_examples(examples_dir: Path) -> None:
    docs = SimpleDirectoryReader(
        str(examples_dir), file_extractor=file_extractor(backend="local")
    ).load_data()
    pages = {(d.metadata["file_name"], d.metadata["page_number"]) for d in docs}
    assert ("llama-care-guide.pdf", 2) in pages and ("shipping-policy.docx", 1) in pages
    care = next(
        d
        for d in docs
        if d.metadata["file_name"] == "llama-care-guide.pdf" and d.metadata["page_number"] == 2
    )
    assert "| Adult llama | 140-200 | 2.0-3.5 | 8-12 |" in care.text


def test_parallel_threads_parse_pdfs_safely(examples_dir: Path, tmp_path: Path) -> None:
    """PDFium is not thread-safe; aload_data and SimpleDirectoryReader parse in threads."""
    import concurrent.futures

    files = [examples_dir / "llama-care-guide.pdf"]
    for i in range(5):
        path = tmp_path / f"gen-{i}.pdf"
        path.write_bytes(_pdf_bytes([f"page {j} of file {i}" for j in range(6)]))
        files.append(path)
    reader = CloudKitReader(backend="local")

    def parse(path: Path) -> int:
        return len(reader.load_data(path))

    with concurrent.futures.ThreadPoolExecutor(max_workers=6) as pool:
        counts = list(pool.map(parse, files * 6))
    assert counts == [2, 6, 6, 6, 6, 6] * 6

    async def gather() -> list[int]:
        docs = await asyncio.gather(*(reader.aload_data(p) for p in files * 3))
        return [len(d) for d in docs]

    assert asyncio.run(gather()) == [2, 6, 6, 6, 6, 6] * 3
