"""The core's promises under the faults of issue 23: deadlines, cancellation, corrupt state, secrets.

Each case is reproduced on the emulator through the public reader; each failed before the fix.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import traceback
from pathlib import Path

import pytest
from llama_index.core.schema import Document

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import CloudKitError, JobTimeoutError
from llama_index_cloudkit.testing import FakeLlamaCloud

from .conftest import FAST_POLICY, assert_typed

UPLOAD = ("POST", "/api/parsing/upload")
STATUS = ("GET", r"/api/parsing/job/[^/]+")
RESULT = ("GET", r"/api/parsing/job/[^/]+/result/json")


def _file(folder: Path, name: str = "memo.md") -> Path:
    """A memo whose bytes are unique to the test (the in-flight registry is process-wide)."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(f"# Memo\n\nLlamas eat hay.\n\n<!-- {folder.parent.name} -->")
    return path


def _reader(
    fake: FakeLlamaCloud, cache: Path, policy: CloudPolicy = FAST_POLICY, **settings: object
) -> CloudKitReader:
    config = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url, cache_dir=cache, **settings)
    return CloudKitReader(backend="cloud", settings=config, policy=policy)


def _bounded(work: object, seconds: float) -> list[Document] | BaseException:
    """Run ``work()`` in a thread; fail the test if it is still running after ``seconds``."""
    box: list[object] = []

    def run() -> None:
        try:
            box.append(work())  # type: ignore[operator]
        except BaseException as exc:  # handed to the test
            box.append(exc)

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    thread.join(seconds)
    if thread.is_alive():
        pytest.fail(f"still running after {seconds:g} s: the deadline did not bound it")
    return box[0]  # type: ignore[return-value]


def test_retry_after_past_the_job_deadline_ends_at_the_deadline(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    """job_timeout=2 and a status route answering 503 + Retry-After: 30 end in a JobTimeoutError
    naming file and job (not a ServiceError after the retry policy's 120 s); a re-run re-attaches."""
    fake.add_fault(*STATUS, status=503, retry_after=30)
    path = _file(tmp_path / "docs")
    reader = _reader(fake, tmp_path / "cache", CloudPolicy(job_timeout=2))  # default retries: 120 s
    outcome = _bounded(lambda: reader.load_data(path), 60)
    assert isinstance(outcome, JobTimeoutError), f"{type(outcome).__name__}: {outcome}"
    assert_typed(outcome, names=(path.name,))
    assert outcome.job_id and outcome.job_id in fake.state.parse_jobs
    fake.clear_faults()
    docs = _reader(fake, tmp_path / "cache").load_data(path)
    assert "Llamas eat hay" in docs[0].text and fake.count(*UPLOAD) == 1  # re-attached, not paid again


def test_a_trickling_result_body_times_out(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    """A result that trickles in one byte every 0.5 s ends in a typed error (httpx's timeouts are
    per read: before, the call waited for the whole body, minutes)."""
    fake.add_fault(*RESULT, trickle=0.5)
    path = _file(tmp_path / "docs")
    policy = FAST_POLICY.model_copy(update={"request_timeout": 2.0, "job_timeout": 6.0})
    outcome = _bounded(lambda: _reader(fake, tmp_path / "cache", policy).load_data(path), 60)
    assert isinstance(outcome, CloudKitError), f"{type(outcome).__name__}: {outcome}"
    assert_typed(outcome, names=(path.name,))


def test_cancelling_the_owner_of_a_shared_parse_leaves_the_other_caller_its_result(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    """Two callers need the same content; the first (the one whose upload is in flight) is
    cancelled (asyncio.wait_for, a client that disconnected). The other gets its documents (not a
    CancelledError), and the content is uploaded once: the waiter re-attaches to the paid job."""
    fake.script_parse_jobs(pending_seconds=1.5)
    first = _file(tmp_path / "a", "first.md")
    second = _file(tmp_path / "b", "second.md")  # same bytes, another name
    reader = _reader(fake, tmp_path / "cache")

    async def main() -> list[Document]:
        owner = asyncio.ensure_future(reader.aload_data([first]))
        while fake.count(*UPLOAD) == 0:
            await asyncio.sleep(0.02)
        waiter = asyncio.ensure_future(reader.aload_data([second]))
        await asyncio.sleep(0.2)  # the waiter is waiting on the owner's job
        owner.cancel()
        with pytest.raises(asyncio.CancelledError):
            await owner
        return await asyncio.wait_for(waiter, 30)

    docs = asyncio.run(main())
    assert [d.metadata["file_name"] for d in docs] == ["second.md"] and "Llamas eat hay" in docs[0].text
    assert fake.count(*UPLOAD) == 1


def test_a_sync_reader_waiting_on_a_cancelled_owner_is_not_cancelled(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    """The waiter is a sync ``load_data`` with on_error="report" in another thread."""
    fake.script_parse_jobs(pending_seconds=1.5)
    first = _file(tmp_path / "a", "first.md")
    second = _file(tmp_path / "b", "second.md")
    reader = _reader(fake, tmp_path / "cache")
    waiting = CloudKitReader(backend="cloud", settings=reader.settings, policy=FAST_POLICY, on_error="report")
    box: list[object] = []

    async def main() -> None:
        owner = asyncio.ensure_future(reader.aload_data([first]))
        while fake.count(*UPLOAD) == 0:
            await asyncio.sleep(0.02)
        thread = threading.Thread(target=lambda: box.append(waiting.load_data(second)), daemon=True)
        thread.start()
        await asyncio.sleep(0.3)
        owner.cancel()
        await asyncio.gather(owner, return_exceptions=True)
        await asyncio.to_thread(thread.join, 30)

    asyncio.run(main())
    (docs,) = box
    assert isinstance(docs, list) and len(docs) == 1 and "Llamas eat hay" in docs[0].text
    assert [f.error_type for f in waiting.last_report.files] == [None]
    assert fake.count(*UPLOAD) == 1


def test_a_corrupt_journal_is_set_aside_with_one_warning(
    fake: FakeLlamaCloud, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cache = tmp_path / "cache"
    cache.mkdir()
    (cache / "journal.sqlite").write_bytes(b"this is not a sqlite database, just garbage\x00\x01" * 50)
    path = _file(tmp_path / "docs")
    with caplog.at_level(logging.WARNING):
        docs = _reader(fake, cache).load_data(path)
    assert "Llamas eat hay" in docs[0].text
    warnings = [r for r in caplog.records if r.levelno == logging.WARNING and "journal" in r.getMessage()]
    assert len(warnings) == 1 and "renamed" in warnings[0].getMessage()
    assert len(list(cache.glob("journal.sqlite.corrupt-*"))) == 1
    # the new journal works: a re-run is a cache hit, nothing uploaded again
    assert _reader(fake, cache).load_data(path)[0].text == docs[0].text and fake.count(*UPLOAD) == 1


def test_a_job_of_another_project_is_never_reattached(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    """A job journaled under one project (or region) is not re-attached under another."""
    fake.script_parse_jobs(stuck=True, count=1)
    path = _file(tmp_path / "docs")
    short = FAST_POLICY.model_copy(update={"job_timeout": 0.5})
    with pytest.raises(JobTimeoutError):
        _reader(fake, tmp_path / "cache", short, project_id="project-a").load_data(path)
    docs = _reader(fake, tmp_path / "cache", project_id="project-b").load_data(path)
    assert "Llamas eat hay" in docs[0].text
    assert fake.count(*UPLOAD) == 2  # a fresh job in project-b, not project-a's stuck one


def test_a_configured_key_of_any_format_is_redacted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """A key passed as api_key= that is not an llx- key, echoed by the service in an error body,
    shows neither in the error, nor in its traceback, nor in a log line."""
    key = "corp-SECRET-4f9a81c2-e07d"
    with FakeLlamaCloud(api_key=key) as fake:
        fake.add_fault(*UPLOAD, status=500, body={"detail": f"upstream rejected token {key}"})
        path = _file(tmp_path / "docs")
        caplog.set_level(logging.DEBUG)
        with pytest.raises(CloudKitError) as info:
            _reader(fake, tmp_path / "cache").load_data(path)
    assert key not in str(info.value)
    assert key not in "".join(traceback.format_exception(info.value))
    assert all(key not in record.getMessage() for record in caplog.records)
    assert "upstream rejected token ***" in str(info.value)
