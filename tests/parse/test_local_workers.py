"""Local batches over worker processes: same Documents, same order, same errors as one process."""

from __future__ import annotations

import asyncio
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.schema import Document

from llama_index_cloudkit import CloudKitReader, ParseError
from llama_index_cloudkit.parse.local import _reading as local_reading
from llama_index_cloudkit.parse.local._reading import LocalBackend, LocalReadOptions
from llama_index_cloudkit.parse.local.ocr import available_ocr_engines
from llama_index_cloudkit.parse.report import BatchReport

pytestmark = pytest.mark.timeout(120)


def _pdf_bytes(pages: list[str]) -> bytes:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=12)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 8, text)
    return bytes(pdf.output())


@pytest.fixture()
def batch(tmp_path: Path) -> list[Any]:
    long = tmp_path / "long.pdf"
    long.write_bytes(_pdf_bytes([f"long page {n}" for n in range(1, 11)]))  # split over tasks
    short = tmp_path / "short.pdf"
    short.write_bytes(_pdf_bytes(["short one", "short two"]))
    notes = tmp_path / "notes.md"
    notes.write_text("# Notes\n\nread in the caller's process", encoding="utf-8")
    return [long, notes, short, str(short)]


class CountingPool(local_reading.WorkerPool):
    started = 0

    def __init__(self, size: int, tasks: Any = None) -> None:
        CountingPool.started += 1
        super().__init__(size, tasks)


@pytest.fixture(autouse=True)
def _workers_at_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Our test batches are tiny: start their workers at once, as a long batch would."""
    monkeypatch.setattr(local_reading, "SPAWN_AFTER", 0.0)


@pytest.fixture()
def pools(monkeypatch: pytest.MonkeyPatch) -> type[CountingPool]:
    CountingPool.started = 0
    monkeypatch.setattr(local_reading, "WorkerPool", CountingPool)
    return CountingPool


def _read(inputs: list[Any], workers: int, on_error: str = "raise") -> tuple[list[Document], BatchReport]:
    report = BatchReport()

    def fail(label: str, exc: BaseException, report: BatchReport) -> None:
        if on_error == "raise":
            raise exc
        report.add_failure(label, exc)

    docs = list(
        LocalBackend(LocalReadOptions(workers=workers), show_progress=False, fail=fail).read(
            inputs, None, None, report
        )
    )
    return docs, report


def _view(docs: list[Document]) -> list[tuple[Any, ...]]:
    return [(d.id_, d.metadata["file_path"], d.metadata["page_number"], d.text) for d in docs]


def test_a_batch_over_workers_gives_the_same_documents_in_input_order(
    batch: list[Any], pools: type[CountingPool]
) -> None:
    serial, _ = _read(batch, workers=1)
    assert pools.started == 0
    parallel, report = _read(batch, workers=2)
    assert pools.started == 1
    assert _view(parallel) == _view(serial)
    assert [d.metadata["page_number"] for d in parallel[:10]] == list(range(1, 11))
    assert {d.metadata["total_pages"] for d in parallel[:10]} == {10}
    assert report.summary() == "4/4 file(s) read, 15 page(s), 15 document(s), 0 failure(s)"


def test_a_small_batch_is_done_before_any_worker_starts(
    batch: list[Any], pools: type[CountingPool], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(local_reading, "SPAWN_AFTER", 30.0)
    docs, report = _read(batch, workers=2)
    assert pools.started == 0 and len(docs) == 15 and report.ok


def test_one_file_stays_in_this_process(batch: list[Any], pools: type[CountingPool]) -> None:
    docs = CloudKitReader(backend="local").load_data(batch[0])
    assert len(docs) == 10 and pools.started == 0
    _read([batch[0]], workers=2)
    _read([batch[1], batch[1]], workers=2)  # light files only: nothing to hand out
    assert pools.started == 0


def test_a_bad_file_in_a_batch_is_a_typed_error_naming_it(tmp_path: Path, batch: list[Any]) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not a pdf")
    missing = tmp_path / "missing.pdf"
    docs, report = _read([batch[0], broken, missing, batch[2]], workers=2, on_error="report")
    assert [d.metadata["file_name"] for d in docs] == ["long.pdf"] * 10 + ["short.pdf"] * 2
    failures = {f.file: f for f in report.failures}
    assert failures[str(broken)].error_type == "ParseError" and "corrupt" in failures[str(broken)].error
    assert failures[str(missing)].error_type == "FileNotFoundError"


def test_on_error_raise_stops_at_the_bad_file_after_yielding_the_ones_before(
    tmp_path: Path, batch: list[Any]
) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not a pdf")
    reader = CloudKitReader(backend="local")
    seen: list[str] = []
    documents: Iterator[Document] = iter(reader.lazy_load_data([batch[2], broken, batch[0]]))
    with pytest.raises(ParseError, match=r"broken\.pdf"):
        for doc in documents:
            seen.append(doc.metadata["file_name"])
    assert seen == ["short.pdf", "short.pdf"]


def test_report_mode_through_the_reader_keeps_good_files(tmp_path: Path, batch: list[Any]) -> None:
    broken = tmp_path / "broken.pdf"
    broken.write_bytes(b"%PDF-1.4 this is not a pdf")
    reader = CloudKitReader(backend="local", on_error="report")
    docs = reader.load_data([batch[0], broken, batch[2]])
    assert len(docs) == 12
    assert [f.file for f in reader.last_report.failures] == [str(broken)]


def test_bytes_and_file_objects_travel_to_workers(batch: list[Any]) -> None:
    import io

    data = Path(batch[2]).read_bytes()
    handle = io.BytesIO(data)
    report = BatchReport()
    docs = list(
        LocalBackend(LocalReadOptions(workers=2), show_progress=False, fail=lambda *a: None).read(
            [data, handle, batch[0]], {"file_name": "upload.pdf"}, None, report
        )
    )
    assert [d.metadata["page_number"] for d in docs] == [1, 2, 1, 2, *range(1, 11)]
    assert docs[0].text == docs[2].text == "short one"
    assert report.ok and len(report.files) == 3


def test_batches_from_concurrent_threads_stay_correct(batch: list[Any]) -> None:
    reader = CloudKitReader(backend="local")
    expected = _view(reader.load_data(batch))

    async def main() -> list[list[Document]]:
        return list(await asyncio.gather(*(reader.aload_data(batch) for _ in range(3))))

    for docs in asyncio.run(main()):
        assert _view(docs) == expected


def test_a_script_without_a_main_guard_reads_a_batch_once(tmp_path: Path, batch: list[Any]) -> None:
    script = tmp_path / "script.py"
    script.write_text(
        textwrap.dedent(
            f"""
            from llama_index_cloudkit.parse.local import _reading as local_reading
            from llama_index_cloudkit.parse.local._reading import LocalReadOptions
            from llama_index_cloudkit.parse.local._reading import LocalBackend
            from llama_index_cloudkit.parse.report import BatchReport
            local_reading.SPAWN_AFTER = 0  # start the workers at once, as a long batch would
            backend = LocalBackend(LocalReadOptions(workers=2), show_progress=False, fail=None)
            docs = list(backend.read({[str(p) for p in batch]!r}, None, None, BatchReport()))
            import resource
            print("read", len(docs))
            print("workers ran:", resource.getrusage(resource.RUSAGE_CHILDREN).ru_utime > 0)
            """
        ),
        encoding="utf-8",
    )
    out = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=100, cwd=tmp_path
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split("\n").count("read 15") == 1
    assert "workers ran: True" in out.stdout


def test_a_file_read_while_another_read_runs_goes_to_a_shared_pool(
    batch: list[Any], pools: type[CountingPool]
) -> None:
    reader = CloudKitReader(backend="local")
    expected = _view(reader.load_data(batch[0]))
    running = iter(CloudKitReader(backend="local").lazy_load_data(batch[2]))
    first = next(running)  # this read is in progress (as in another aload_data thread)
    assert _view(reader.load_data(batch[0])) == expected
    assert pools.started == 1
    assert [first, *running][1].metadata["page_number"] == 2
    assert _view(reader.load_data(batch[0])) == expected  # alone again: in this process
    assert pools.started == 1


def test_simple_directory_reader_async_batches_read_every_file_once(tmp_path: Path) -> None:
    from llama_index.core import SimpleDirectoryReader

    from llama_index_cloudkit import file_extractor

    for n in range(6):
        (tmp_path / f"doc{n}.pdf").write_bytes(_pdf_bytes([f"doc {n} page {p}" for p in range(1, 9)]))
    reader = SimpleDirectoryReader(str(tmp_path), file_extractor=file_extractor(backend="local"))
    serial = reader.load_data()
    from_async = asyncio.run(reader.aload_data(num_workers=4))
    assert sorted(_view(from_async)) == sorted(_view(serial))
    assert len(serial) == 48


def test_a_worker_that_dies_fails_only_its_file_with_a_typed_error(batch: list[Any], tmp_path: Path) -> None:
    import os
    import time

    from llama_index_cloudkit.parse.local._workers import PageTask, WorkerPool

    stuck = tmp_path / "stuck.docx"
    os.mkfifo(stuck)  # reading it blocks: the worker is busy with this file when it dies
    with WorkerPool(1) as pool:
        future = pool.submit(PageTask(key=1, source=str(stuck), file_name="stuck.docx", label="stuck.docx"))
        while not future.running():
            time.sleep(0.01)
        time.sleep(0.3)
        for worker in pool._workers:  # as if the OS killed it (out of memory)
            worker.process.kill()
        lost = pool.result(future)
        assert isinstance(lost.error, ParseError) and lost.error.file == "stuck.docx"
        assert "stopped" in str(lost.error)
        task = PageTask(key=2, source=str(batch[2]), file_name="short.pdf", label="short.pdf")
        assert pool.result(pool.submit(task)).ok  # a new worker took over


def test_a_file_object_in_a_small_batch_is_read_once_and_parsed(
    batch: list[Any], pools: type[CountingPool]
) -> None:
    import io

    handle = io.BytesIO(Path(batch[2]).read_bytes())
    handle.name = "handle.pdf"  # type: ignore[attr-defined]
    docs, report = _read([handle, batch[1]], workers=2)  # one heavy file: not worth a worker
    assert pools.started == 0
    assert [d.text for d in docs[:2]] == ["short one", "short two"] and report.ok


def test_where_no_process_can_start_the_batch_is_read_in_this_one(
    batch: list[Any], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    expected = _view(_read(batch, workers=1)[0])
    monkeypatch.setattr(sys, "executable", "/nonexistent/python")  # an embedded interpreter
    docs, report = _read(batch, workers=2)
    assert _view(docs) == expected and report.ok
    assert "cannot start a local parser process" in caplog.text


def test_a_batch_on_an_in_memory_filesystem_is_read_in_this_process(
    batch: list[Any], pools: type[CountingPool]
) -> None:
    import fsspec

    fs = fsspec.filesystem("memory")
    for path in batch[:3]:
        with fs.open(f"/mem/{Path(path).name}", "wb") as handle:
            handle.write(Path(path).read_bytes())
    reader = CloudKitReader(backend="local")
    docs = reader.load_data(["/mem/long.pdf", "/mem/notes.md", "/mem/short.pdf"], fs=fs)
    assert [d.metadata["file_name"] for d in docs] == ["long.pdf"] * 10 + ["notes.md"] + ["short.pdf"] * 2
    assert pools.started == 0  # workers could not see this process's memory


@pytest.mark.skipif(not available_ocr_engines(), reason="no OCR engine installed")
def test_a_multi_frame_tiff_spreads_its_frames_and_keeps_their_order(
    tmp_path: Path, batch: list[Any]
) -> None:
    from PIL import Image, ImageDraw

    frames = []
    for number in range(1, 3):
        frame = Image.new("RGB", (400, 100), "white")
        ImageDraw.Draw(frame).text((20, 40), f"Frame number {number}", fill="black")
        frames.append(frame)
    tiff = tmp_path / "scan.tif"
    frames[0].save(tiff, save_all=True, append_images=frames[1:])
    serial, _ = _read([tiff, batch[1]], workers=1)
    parallel, report = _read([tiff, batch[1]], workers=2)  # two OCR tasks, one per frame
    assert _view(parallel) == _view(serial)
    assert [d.metadata["page_number"] for d in parallel] == [1, 2, 1]
    assert report.ok
