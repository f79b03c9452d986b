"""The parse side of issue 23: bad answers, empty pages, corrupt cache entries, refused files,
cancellation at the reader, files changed under the look-ahead.

Each case is reproduced on the emulator through the public reader; each failed before the fix.
"""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from typing import Any

import pytest
from llama_index.core import SimpleDirectoryReader
from llama_index.core.schema import Document
from made_documents import docx_bytes, pdf_bytes

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.errors import CloudKitError, ParseError, ServiceError
from llama_index_cloudkit.testing import FakeLlamaCloud

from .conftest import FAST_POLICY, assert_typed

UPLOAD = ("POST", "/api/parsing/upload")
RESULT = ("GET", r"/api/parsing/job/[^/]+/result/json")
V2_UPLOAD = ("POST", "/api/v1/beta/files")
V2_JOB = ("GET", r"/api/v2/parse/[^/]+")


def _files(folder: Path, count: int = 3, tag: str = "") -> list[Path]:
    """Markdown files whose bytes are unique to the test (the in-flight registry is process-wide)."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        path = folder / f"memo{index}.md"
        path.write_text(f"# Memo {index}\n\nLlamas eat hay.\n\n<!-- {folder} {tag} -->")
        paths.append(path)
    return paths


def _reader(fake: FakeLlamaCloud, cache: Path, *, v2: bool = False, **kwargs: Any) -> CloudKitReader:
    settings = CloudKitSettings(
        api_key=fake.api_key, base_url=fake.base_url, cache_dir=cache, api_version="v2" if v2 else "v1"
    )
    return CloudKitReader(backend="cloud", settings=settings, policy=FAST_POLICY, **kwargs)


# --- 1. a result of the wrong shape is a ServiceError for its file, never cached ------------------

V1_MALFORMED = {
    "items not a list": {"items": "not a list"},
    "item rows not a list": {"items": [{"type": "table", "rows": 5}]},
    "md not text": {"md": 123},
    "page not a number": {"page": {"n": 1}},
}


@pytest.mark.parametrize("fields", list(V1_MALFORMED.values()), ids=list(V1_MALFORMED))
def test_a_malformed_v1_result_fails_its_file_only_and_is_never_cached(
    fake: FakeLlamaCloud, tmp_path: Path, fields: dict[str, Any]
) -> None:
    files = _files(tmp_path / "docs")
    fake.add_fault(*RESULT, malformed=fields, times=1)  # one file of the batch gets a bad result
    reader = _reader(fake, tmp_path / "cache", on_error="report")
    docs = reader.load_data(files)
    report = reader.last_report
    failed = [f for f in report.files if f.error_type is not None]
    assert len(docs) == 2 and all("Llamas eat hay" in d.text for d in docs)
    assert [f.error_type for f in failed] == ["ServiceError"], report.files
    assert failed[0].file in {str(f) for f in files} and "result" in (failed[0].error or "")
    # The bad answer was not cached: the next run gets the good one.
    again = _reader(fake, tmp_path / "cache")
    assert len(again.load_data(files)) == 3
    assert sum(f.cache_hit for f in again.last_report.files) == 2


V2_MALFORMED = {
    "items not a list": {"items": "not a list"},
    "markdown not text": {"markdown": 5},
    "page_number not a number": {"page_number": "one"},
}


@pytest.mark.parametrize("fields", list(V2_MALFORMED.values()), ids=list(V2_MALFORMED))
def test_a_malformed_v2_result_fails_its_file_only_and_is_never_cached(
    fake: FakeLlamaCloud, tmp_path: Path, fields: dict[str, Any]
) -> None:
    good, bad = _files(tmp_path / "docs", 2), _files(tmp_path / "bad", 1)
    cache = tmp_path / "cache"
    assert len(_reader(fake, cache, v2=True).load_data(good)) == 2  # cached: no request below
    fake.add_fault(*V2_JOB, malformed=fields)
    reader = _reader(fake, cache, v2=True, on_error="report")
    docs = reader.load_data([*good, *bad])
    assert len(docs) == 2
    assert [f.error_type for f in reader.last_report.files] == [None, None, "ServiceError"]
    fake.clear_faults()
    assert "Llamas eat hay" in _reader(fake, cache, v2=True).load_data(bad)[0].text


def test_a_malformed_result_raises_a_typed_error_with_on_error_raise(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    (path,) = _files(tmp_path / "docs", 1)
    fake.add_fault(*RESULT, malformed={"md": ["x"]})
    with pytest.raises(CloudKitError) as caught:
        _reader(fake, tmp_path / "cache").load_data(path)
    assert isinstance(caught.value, ServiceError)
    assert_typed(caught.value, names=(path.name,))


# --- 2. empty cloud pages are flagged ------------------------------------------------------------


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_empty_cloud_pages_are_flagged_with_a_warning(fake: FakeLlamaCloud, tmp_path: Path, v2: bool) -> None:
    (path,) = _files(tmp_path / "docs", 1)
    empty = {"markdown": "", "text": ""} if v2 else {"md": "", "text": ""}
    fake.add_fault(*(V2_JOB if v2 else RESULT), malformed=empty)
    reader = _reader(fake, tmp_path / "cache", v2=v2)
    docs = reader.load_data(path)
    assert len(docs) == 1 and docs[0].text == ""
    assert docs[0].metadata.get("parse_warnings"), docs[0].metadata
    warnings = reader.last_report.warnings
    assert len(warnings) == 1 and warnings[0].page == 1 and "no text" in warnings[0].message


# --- 3. a corrupt cache entry is set aside once and rebuilt ------------------------------------

CORRUPT = {
    "null": "null",
    "a number": "42",
    "a list": "[1, 2]",
    "no pages": json.dumps({"format": 3, "job_id": None}),
    "pages of the wrong type": json.dumps({"format": 3, "pages": [{"number": "x", "markdown": 1}]}),
    "invalid JSON": "{not json",
}


@pytest.mark.parametrize("content", list(CORRUPT.values()), ids=list(CORRUPT))
def test_a_corrupt_cache_entry_is_reported_once_set_aside_and_rebuilt(
    fake: FakeLlamaCloud, tmp_path: Path, content: str, caplog: pytest.LogCaptureFixture
) -> None:
    (path,) = _files(tmp_path / "docs", 1)
    cache = tmp_path / "cache"
    assert len(_reader(fake, cache).load_data(path)) == 1
    (entry,) = (cache / "parse").rglob("*.json")
    entry.write_text(content)
    with caplog.at_level(logging.WARNING):
        docs = _reader(fake, cache).load_data(path)
    assert "Llamas eat hay" in docs[0].text
    warned = [r for r in caplog.records if r.levelno == logging.WARNING and "cache entry" in r.getMessage()]
    assert len(warned) == 1, [r.getMessage() for r in caplog.records]
    aside = [p for p in entry.parent.iterdir() if p.name.startswith(entry.name) and p != entry]
    assert len(aside) == 1 and aside[0].read_text() == content  # set aside, not deleted
    assert fake.count(*UPLOAD) == 1  # the journaled job was re-attached: nothing paid twice
    caplog.clear()
    again = _reader(fake, cache)
    with caplog.at_level(logging.WARNING):
        again.load_data(path)
    assert again.last_report.files[0].cache_hit and not caplog.records  # rebuilt, reported once


# --- 4. files that cannot be parsed are refused before any upload -----------------------------


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_empty_and_corrupt_files_are_refused_without_an_upload(
    fake: FakeLlamaCloud, tmp_path: Path, v2: bool
) -> None:
    folder = tmp_path / "docs"
    (good,) = _files(folder, 1)
    empty = folder / "empty.md"
    empty.write_bytes(b"")
    broken = folder / "broken.pdf"
    broken.write_bytes(b"<html>not a pdf</html>" * 10)
    reader = _reader(fake, tmp_path / "cache", v2=v2, on_error="report")
    docs = reader.load_data([good, empty, broken])
    assert len(docs) == 1
    errors = {Path(f.file).name: f for f in reader.last_report.files}
    assert errors["empty.md"].error_type == "ParseError" and "empty" in (errors["empty.md"].error or "")
    assert errors["broken.pdf"].error_type == "ParseError"
    assert "%PDF" in (errors["broken.pdf"].error or "")
    assert fake.count(*(V2_UPLOAD if v2 else UPLOAD)) == 1  # only the good file
    with pytest.raises(ParseError) as caught:
        _reader(fake, tmp_path / "cache", v2=v2).load_data(broken)
    assert_typed(caught.value, names=("broken.pdf",))


def test_a_valid_pdf_is_never_refused(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    """A PDF, a PDF with bytes before its header (readers allow it), and an office file are
    uploaded and parsed."""
    source = tmp_path / "doc.pdf"
    source.write_bytes(pdf_bytes(1, tag=str(tmp_path)))
    shifted = tmp_path / "shifted.pdf"
    shifted.write_bytes(b"\n\n" + source.read_bytes())
    office = tmp_path / "notes.docx"
    office.write_bytes(docx_bytes(2))
    reader = _reader(fake, tmp_path / "cache", on_error="report")
    reader.load_data([source, shifted, office])
    assert fake.count(*UPLOAD) == 3
    assert not any(f.error_type == "ParseError" for f in reader.last_report.files)


# --- 5. cancellation stays with its caller, at the reader -----------------------------------


def test_an_owner_cancelled_by_wait_for_leaves_every_other_reader_its_documents(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    """Async readers and a sync reader (on_error="report") wait on one parse; the owner times out
    under asyncio.wait_for (a client that disconnects). The others get their Documents, nobody
    else sees CancelledError, and the job is paid once."""
    fake.script_parse_jobs(pending_seconds=1.5)
    (owner_file,) = _files(tmp_path / "a", 1, "shared")
    (waiter_file,) = _files(tmp_path / "b", 1, "shared")
    waiter_file.write_bytes(owner_file.read_bytes())
    cache = tmp_path / "cache"
    sync_reader = _reader(fake, cache, on_error="report")
    box: list[object] = []

    async def main() -> list[Any]:
        owner = asyncio.ensure_future(asyncio.wait_for(_reader(fake, cache).aload_data(owner_file), 0.8))
        while fake.count(*UPLOAD) == 0:
            await asyncio.sleep(0.02)
        waiters = [asyncio.ensure_future(_reader(fake, cache).aload_data(waiter_file)) for _ in range(2)]
        thread = threading.Thread(target=lambda: box.append(sync_reader.load_data(waiter_file)), daemon=True)
        thread.start()
        with pytest.raises(asyncio.TimeoutError):
            await owner
        results = await asyncio.wait_for(asyncio.gather(*waiters, return_exceptions=True), 30)
        await asyncio.to_thread(thread.join, 30)
        return list(results)

    results = asyncio.run(main())
    for docs in [*results, *box]:
        assert isinstance(docs, list), f"{type(docs).__name__}: {docs}"
        assert len(docs) == 1 and "Llamas eat hay" in docs[0].text
    assert len(box) == 1 and [f.error_type for f in sync_reader.last_report.files] == [None]
    assert fake.count(*UPLOAD) == 1


# --- 6. a file changed under the look-ahead is parsed again ------------------------------------


@pytest.mark.parametrize("how", ["load_data", "aload_data(num_workers=1)"])
def test_a_file_changed_after_its_lookahead_submission_is_parsed_again(
    fake: FakeLlamaCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, how: str
) -> None:
    """The first call submits the other files of the run ahead of time (sync), or starts them
    (``aload_data``); one of them changes before it is handed over: it is parsed from disk."""
    import hashlib

    files = _files(tmp_path / "docs", 3)
    reader = _reader(fake, tmp_path / "cache")
    directory = SimpleDirectoryReader(input_files=[str(f) for f in files], file_extractor={".md": reader})

    def change_once() -> None:
        if not files[2].read_text().startswith("# Changed"):
            files[2].write_text("# Changed\n\nAlpacas eat grass.")

    if how == "load_data":
        original = type(reader).load_data

        def load_data(self: CloudKitReader, *args: Any, **kwargs: Any) -> list[Document]:
            docs = original(self, *args, **kwargs)
            change_once()
            return docs

        monkeypatch.setattr(type(reader), "load_data", load_data)
        docs = directory.load_data()
    else:
        async_original = type(reader).aload_data

        async def aload_data(self: CloudKitReader, *args: Any, **kwargs: Any) -> list[Document]:
            docs = await async_original(self, *args, **kwargs)
            change_once()
            return docs

        monkeypatch.setattr(type(reader), "aload_data", aload_data)
        docs = asyncio.run(directory.aload_data(num_workers=1))
    last = [d for d in docs if d.metadata["file_name"] == files[2].name]
    assert len(last) == 1 and "Alpacas eat grass" in last[0].text
    assert last[0].metadata["sha256"] == hashlib.sha256(files[2].read_bytes()).hexdigest()
    assert fake.count("POST", "/api/parsing/upload") == 4  # three files, the changed one twice


# --- 6. every paid submission, a lost job's resubmission included, is shared --------------------


@pytest.mark.parametrize("v2", [False, True], ids=["v1", "v2"])
def test_a_lost_job_is_resubmitted_once_for_every_caller_waiting_on_it(
    fake: FakeLlamaCloud, tmp_path: Path, v2: bool
) -> None:
    """Three readers (two in one event loop, one sync in another thread) need the same content and
    its job is lost once: one submission and one resubmission in all, shared by every caller."""
    fake.script_parse_jobs(pending_seconds=0.5)
    status = ("GET", r"/api/v2/parse/[^/]+") if v2 else ("GET", r"/api/parsing/job/[^/]+")
    fake.add_fault(*status, status=404, times=1)
    submit = ("POST", "/api/v2/parse") if v2 else UPLOAD
    paths = [_files(tmp_path / name, 1, "lost")[0] for name in ("a", "b", "c")]
    for path in paths[1:]:
        path.write_bytes(paths[0].read_bytes())
    cache = tmp_path / "cache"
    box: list[object] = []

    async def main() -> list[Any]:
        first = asyncio.ensure_future(_reader(fake, cache, v2=v2).aload_data(paths[0]))
        while fake.count(*submit) == 0:
            await asyncio.sleep(0.02)
        sync_reader = _reader(fake, cache, v2=v2, on_error="report")
        thread = threading.Thread(target=lambda: box.append(sync_reader.load_data(paths[2])), daemon=True)
        thread.start()
        second = _reader(fake, cache, v2=v2).aload_data(paths[1])
        results = await asyncio.wait_for(asyncio.gather(first, second, return_exceptions=True), 30)
        await asyncio.to_thread(thread.join, 30)
        return list(results)

    for docs in [*asyncio.run(main()), *box]:
        assert isinstance(docs, list) and len(docs) == 1, docs
        assert "Llamas eat hay" in docs[0].text
    assert fake.count(*submit) == 2  # the submission and one resubmission, for all three
