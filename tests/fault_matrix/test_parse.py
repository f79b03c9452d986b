"""The fault matrix for parsing: load_data, SimpleDirectoryReader and aload_data, keep-alive emulator."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader
from llama_index.core.schema import Document

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.testing import FakeLlamaCloud

from .conftest import FAST_POLICY, HTTP_FAULTS, KEY, HttpFault, assert_typed

UPLOAD = ("POST", "/api/parsing/upload")
ROUTES = {
    "upload": ("POST", "/api/parsing/upload"),
    "status": ("GET", r"/api/parsing/job/[^/]+"),
    "result": ("GET", r"/api/parsing/job/[^/]+/result/json"),
}
# A paid upload whose answer is lost or unreadable may have been accepted: it ends typed, by design.
UNKNOWN_ON_UPLOAD = {"one dropped connection", "slower than the client's timeout", "malformed JSON body"}

Run = Callable[[CloudKitReader, list[Path]], list[Document]]


def _load_data(reader: CloudKitReader, files: list[Path]) -> list[Document]:
    return reader.load_data(files)


def _aload_data(reader: CloudKitReader, files: list[Path]) -> list[Document]:
    return asyncio.run(reader.aload_data(files))


def _directory_reader(reader: CloudKitReader, files: list[Path]) -> list[Document]:
    sdr = SimpleDirectoryReader(
        input_files=[str(f) for f in files], file_extractor=reader.file_extractor(), raise_on_error=True
    )
    try:
        return sdr.load_data()
    except Exception as exc:  # SimpleDirectoryReader wraps the reader's error; unwrap it
        raise (exc.__cause__ or exc) from None


ENTRY_POINTS = {
    "load_data": _load_data,
    "aload_data": _aload_data,
    "SimpleDirectoryReader": _directory_reader,
}


def _files(folder: Path, count: int = 2) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"memo-{i}.md"
        path.write_text(f"# Memo {i}\n\nLlama {i} eats {i + 2} kg of hay a day.")
        paths.append(path)
    return paths


def _reader(fake: FakeLlamaCloud, cache: Path, *, key: str = KEY, **kwargs: object) -> CloudKitReader:
    settings = CloudKitSettings(api_key=key, base_url=fake.base_url, cache_dir=cache)
    return CloudKitReader(backend="cloud", settings=settings, policy=FAST_POLICY, **kwargs)


def _check(run: Run, reader: CloudKitReader, files: list[Path], expect: str, error: str) -> list[Document]:
    """Run; a recovery gives every file's pages, a typed failure names the file."""
    try:
        docs = run(reader, files)
    except CloudKitError as exc:
        assert expect == "typed", f"expected recovery, got {type(exc).__name__}: {exc}"
        assert_typed(exc, names=(Path(exc.file or "").name,))
        assert exc.file and Path(exc.file).name in {f.name for f in files}
        assert error in {cls.__name__ for cls in type(exc).__mro__}, f"{type(exc).__name__}: {exc}"
        return []
    except BaseException as exc:  # anything else is a defect of the package
        pytest.fail(f"raw {type(exc).__name__} escaped: {exc}")
    assert expect == "recover", f"expected a {error}, got {len(docs)} documents"
    assert sorted({d.metadata["file_name"] for d in docs}) == sorted(f.name for f in files)
    return docs


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=lambda f: f.name)
def test_http_fault_recovers_or_is_typed(
    fake: FakeLlamaCloud, tmp_path: Path, entry: str, route: str, fault: HttpFault, no_key_in_logs: None
) -> None:
    method, path = ROUTES[route]
    fake.add_fault(method, path, **fault.fault)
    expect, error = fault.outcome, fault.error
    if route == "upload" and fault.name in UNKNOWN_ON_UPLOAD:
        expect, error = "typed", "SubmissionUnknownError"
    files = _files(tmp_path / "docs")
    _check(ENTRY_POINTS[entry], _reader(fake, tmp_path / "cache"), files, expect, error)
    if expect == "typed" and route == "upload" and error == "SubmissionUnknownError":
        assert fake.count(*UPLOAD) <= len(files)  # never repeated blindly


@pytest.mark.parametrize("entry", ENTRY_POINTS)
@pytest.mark.parametrize("status", ["ERROR", "CANCELED", "PARTIAL_SUCCESS"])
def test_failed_job_is_typed(fake: FakeLlamaCloud, tmp_path: Path, entry: str, status: str) -> None:
    fake.script_parse_jobs(status, error_code="E_TEST", error_message="the service failed it")
    files = _files(tmp_path / "docs")
    _check(ENTRY_POINTS[entry], _reader(fake, tmp_path / "cache"), files, "typed", "JobFailedError")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_wrong_key_is_an_auth_error(fake: FakeLlamaCloud, tmp_path: Path, entry: str) -> None:
    reader = _reader(fake, tmp_path / "cache", key="llx-wrong-key-0123456789")
    _check(ENTRY_POINTS[entry], reader, _files(tmp_path / "docs"), "typed", "AuthError")


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_job_stuck_past_its_deadline_times_out(fake: FakeLlamaCloud, tmp_path: Path, entry: str) -> None:
    fake.script_parse_jobs(stuck=True)
    started = time.monotonic()
    _check(
        ENTRY_POINTS[entry],
        _reader(fake, tmp_path / "cache"),
        _files(tmp_path / "docs"),
        "typed",
        "JobTimeoutError",
    )
    assert time.monotonic() - started < FAST_POLICY.job_timeout * 3


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_job_lost_once_is_submitted_again_once(fake: FakeLlamaCloud, tmp_path: Path, entry: str) -> None:
    fake.add_fault(*ROUTES["status"], status=404, times=1)
    files = _files(tmp_path / "docs", 1)
    _check(ENTRY_POINTS[entry], _reader(fake, tmp_path / "cache"), files, "recover", "")
    assert fake.count(*UPLOAD) == 2


@pytest.mark.parametrize("entry", ENTRY_POINTS)
def test_job_lost_for_good_is_a_typed_error_after_one_resubmission(
    fake: FakeLlamaCloud, tmp_path: Path, entry: str
) -> None:
    fake.add_fault(*ROUTES["status"], status=404)
    files = _files(tmp_path / "docs", 1)
    _check(ENTRY_POINTS[entry], _reader(fake, tmp_path / "cache"), files, "typed", "JobLostError")
    assert fake.count(*UPLOAD) == 2  # bounded: the first submission and one more
    _check(ENTRY_POINTS[entry], _reader(fake, tmp_path / "cache"), files, "typed", "JobLostError")
    # The user ran it again: one submission for that run, and no automatic resubmission any
    # more, because the journal remembers the one already made.
    assert fake.count(*UPLOAD) == 3


def _start_again(fake: FakeLlamaCloud, port: int) -> None:
    """Serve the same emulator state on the same port again, as a restarted service would."""
    fake._requested_port = port
    fake.start()


def test_service_stopped_mid_batch_then_rerun_uploads_nothing_twice(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    files = _files(tmp_path / "docs", 6)
    fake.script_parse_jobs(pending_seconds=1.0)
    reader = _reader(fake, tmp_path / "cache", on_error="report")
    result: dict[str, object] = {}

    def first_run() -> None:
        try:
            result["docs"] = reader.load_data(files)
        except BaseException as exc:  # recorded, checked below
            result["error"] = exc

    thread = threading.Thread(target=first_run)
    thread.start()
    deadline = time.monotonic() + 20

    def answered_uploads() -> int:  # accepted jobs, not requests still waiting for their answer
        return sum(1 for r in fake.requests if (r.method, r.path) == UPLOAD and r.status == 200)

    while answered_uploads() < len(files) and time.monotonic() < deadline:
        time.sleep(0.01)
    time.sleep(0.2)  # the answers reach the reader, which journals each job id before polling
    port = fake.port
    fake.stop()  # the service goes away while every job is in flight
    thread.join(timeout=60)
    assert "error" not in result, result.get("error")
    report = reader.last_report
    assert len(report.failures) == len(files)  # typed failures, nothing silent
    assert {f.error_type for f in report.failures} <= {"ServiceError", "SubmissionUnknownError"}
    _start_again(fake, port)
    uploads = fake.count(*UPLOAD)
    docs = _reader(fake, tmp_path / "cache").load_data(files)
    assert sorted({d.metadata["file_name"] for d in docs}) == sorted(f.name for f in files)
    assert fake.count(*UPLOAD) == uploads == len(files)  # re-attached: nothing uploaded twice
