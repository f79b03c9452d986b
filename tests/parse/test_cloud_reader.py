"""CloudKitReader's cloud backend against the emulator: never pay twice, never hang, never []."""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader

from llama_index_cloudkit import (
    AuthError,
    CloudKitReader,
    CloudKitSettings,
    ConfigError,
    CreditLimitError,
    JobFailedError,
    JobTimeoutError,
    ParsePreset,
    RateLimitError,
    file_extractor,
)
from llama_index_cloudkit.testing import FakeLlamaCloud

UPLOAD = ("POST", "/api/parsing/upload")


def _reader(fake: FakeLlamaCloud, **kwargs: object) -> CloudKitReader:
    settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url)
    return CloudKitReader(backend="cloud", settings=settings, poll_interval=0.05, **kwargs)


def _write_files(folder: Path, count: int) -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"note-{i:02d}.md"
        path.write_text(f"# Note {i} of {folder.name}\n\nLlama number {i} eats {i + 1} kg of hay.")
        paths.append(path)
    return paths


def _shape(docs: list) -> list[tuple[str, int, int]]:
    return sorted(
        (d.metadata["file_name"], d.metadata["page_number"], d.metadata["total_pages"]) for d in docs
    )


def test_cloud_and_local_give_documents_of_the_same_shape(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    cloud = _reader(fake_llamacloud).load_data(sorted(examples_dir.iterdir()))
    local = CloudKitReader(backend="local").load_data(sorted(examples_dir.iterdir()))
    assert _shape(cloud) == _shape(local)
    common = {
        "file_name",
        "file_path",
        "file_type",
        "page_number",
        "total_pages",
        "backend",
        "parser",
        "table_count",
        "sha256",
    }
    for doc in cloud:
        assert common | {"job_id", "preset"} <= set(doc.metadata)
        assert "cache_hit" not in doc.metadata  # it would flip between runs
        assert doc.metadata["backend"] == "cloud" and doc.metadata["preset"] == "agentic"
    guide = [d for d in cloud if d.metadata["file_name"] == "llama-care-guide.pdf"]
    assert guide[1].metadata["table_count"] == 1 and "Adult llama" in guide[1].text


def test_upload_carries_the_preset_and_the_project(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    settings = CloudKitSettings(
        api_key=fake_llamacloud.api_key,
        base_url=fake_llamacloud.base_url,
        project_id="proj-1",
        organization_id="org-1",
    )
    CloudKitReader(backend="cloud", settings=settings, preset="cost_effective", poll_interval=0.05).load_data(
        examples_dir / "faq.html"
    )
    job = next(iter(fake_llamacloud.state.parse_jobs.values()))
    assert job.form["parse_mode"] == "parse_page_with_llm" and "model" not in job.form
    assert job.form["output_tables_as_HTML"] == "true"
    assert job.query == {"organization_id": "org-1", "project_id": "proj-1"}


def test_second_run_is_served_from_the_cache_with_identical_documents(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    files = _write_files(tmp_path / "docs", 3)
    reader = _reader(fake_llamacloud)
    first = reader.load_data(files)
    assert fake_llamacloud.count(*UPLOAD) == 3
    assert reader.last_report.cache_hits == 0
    second = _reader(fake_llamacloud)
    again = second.load_data(files)
    assert fake_llamacloud.count(*UPLOAD) == 3
    assert second.last_report.cache_hits == 3  # reported here, not in a metadata value
    assert [(d.id_, d.text, d.metadata, d.hash) for d in again] == [
        (d.id_, d.text, d.metadata, d.hash) for d in first
    ]
    assert all(d.metadata["job_id"] for d in again)


def test_identical_files_in_a_batch_are_submitted_once(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    a, b = tmp_path / "a.md", tmp_path / "copy-of-a.md"
    a.write_text("# Same\n\ncontent")
    b.write_text("# Same\n\ncontent")
    docs = _reader(fake_llamacloud, use_cache=False).load_data([a, b])
    assert fake_llamacloud.count(*UPLOAD) == 1
    assert [d.metadata["file_name"] for d in docs] == ["a.md", "copy-of-a.md"]


def test_options_are_validated_and_passed_through(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    _reader(fake_llamacloud, parse_options={"target_pages": "1", "language": "fr"}).load_data(
        examples_dir / "llama-care-guide.pdf"
    )
    job = next(iter(fake_llamacloud.state.parse_jobs.values()))
    assert job.form["target_pages"] == "1" and job.form["language"] == "fr"
    with pytest.raises(ConfigError, match="max_pagez"):
        _reader(fake_llamacloud, parse_options={"max_pagez": 1})
    with pytest.raises(ConfigError, match="api_key"):
        _reader(fake_llamacloud, parse_options={"api_key": "x"})


def test_max_credits_stops_further_submissions(fake_llamacloud: FakeLlamaCloud, tmp_path: Path) -> None:
    files = _write_files(tmp_path / "docs", 4)
    reader = _reader(fake_llamacloud, max_credits=20, max_concurrency=1, on_error="report")
    docs = reader.load_data(files)  # agentic: 10 credits per page, one page each
    assert len(docs) == 2 and fake_llamacloud.count(*UPLOAD) == 2
    assert {f.error_type for f in reader.last_report.failures} == {"CreditLimitError"}
    with pytest.raises(CreditLimitError, match="max_credits"):
        _reader(fake_llamacloud, max_credits=5).load_data(_write_files(tmp_path / "more", 1))


def test_429_with_retry_after_is_waited_out(fake_llamacloud: FakeLlamaCloud, examples_dir: Path) -> None:
    fake_llamacloud.add_fault(*UPLOAD, status=429, retry_after=1, times=2)
    started = time.monotonic()
    docs = _reader(fake_llamacloud).load_data(examples_dir / "faq.html")
    assert docs and time.monotonic() - started >= 2.0
    assert fake_llamacloud.count(*UPLOAD) == 3


def test_bursts_of_500_and_dropped_connections_recover(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    fake_llamacloud.add_fault(*UPLOAD, status=500, times=3)
    fake_llamacloud.add_fault("GET", r"/api/parsing/job/[^/]+", drop=True, times=2)
    fake_llamacloud.add_fault("GET", r"/api/parsing/job/[^/]+/result/json", status=503, times=2)
    docs = _reader(fake_llamacloud).load_data(examples_dir / "llama-care-guide.pdf")
    assert len(docs) == 2


def test_rate_limit_that_never_lifts_is_a_typed_error(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    from llama_index_cloudkit.cloud import CloudPolicy, RetryPolicy
    from llama_index_cloudkit.parse.llamacloud import parse_service
    from llama_index_cloudkit.parse.llamacloud.engine import CloudEngine

    fake_llamacloud.add_fault(*UPLOAD, status=429, retry_after=0)
    policy = CloudPolicy(retry=RetryPolicy(max_attempts=3, initial_backoff=0.01))
    settings = CloudKitSettings(api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
    engine = CloudEngine(settings, parse_service(settings, ParsePreset.AGENTIC, {}), policy=policy)
    (outcome,) = engine.parse_all([(b"# x", "x.md")])
    assert isinstance(outcome.error, RateLimitError) and outcome.error.attempts == 3


def test_stuck_job_times_out_naming_job_and_file_then_reattaches(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    fake_llamacloud.script_parse_jobs(stuck=True, count=1)
    path = examples_dir / "faq.html"
    with pytest.raises(JobTimeoutError) as info:
        _reader(fake_llamacloud, job_timeout=0.5).load_data(path)
    job_id = next(iter(fake_llamacloud.state.parse_jobs))
    assert info.value.job_id == job_id and "faq.html" in str(info.value)
    fake_llamacloud.state.parse_jobs[job_id].script = type(
        fake_llamacloud.state.parse_script
    )()  # the job finishes later
    docs = _reader(fake_llamacloud).load_data(path)
    assert docs[0].metadata["job_id"] == job_id
    assert fake_llamacloud.count(*UPLOAD) == 1  # re-attached, not paid again


@pytest.mark.parametrize("status", ["ERROR", "CANCELED", "PARTIAL_SUCCESS"])
def test_failed_jobs_raise_job_failed_with_details(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path, status: str
) -> None:
    fake_llamacloud.script_parse_jobs(status, count=1, error_code="PDF_IS_BROKEN", error_message="bad xref")
    with pytest.raises(JobFailedError) as info:
        _reader(fake_llamacloud).load_data(examples_dir / "faq.html")
    err = info.value
    assert (err.status, err.code, err.file) == (status, "PDF_IS_BROKEN", str(examples_dir / "faq.html"))
    assert err.job_id and "bad xref" in str(err)
    docs = _reader(fake_llamacloud).load_data(examples_dir / "faq.html")  # submitted anew
    assert docs and fake_llamacloud.count(*UPLOAD) == 2


def test_report_mode_keeps_good_files(fake_llamacloud: FakeLlamaCloud, tmp_path: Path) -> None:
    files = _write_files(tmp_path / "docs", 3)
    fake_llamacloud.script_parse_jobs("ERROR", count=1)
    reader = _reader(fake_llamacloud, on_error="report", max_concurrency=1)
    docs = reader.load_data(files)
    assert len(docs) == 2
    (failure,) = reader.last_report.failures
    assert failure.error_type == "JobFailedError" and failure.job_id


def test_wrong_key_is_an_auth_error_and_no_key_leaks(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secret = "llx-wrong-secret-0123456789"
    settings = CloudKitSettings(api_key=secret, base_url=fake_llamacloud.base_url)
    caplog.set_level(logging.DEBUG)
    with pytest.raises(AuthError) as info:
        CloudKitReader(backend="cloud", settings=settings).load_data(examples_dir / "faq.html")
    assert "401" in str(info.value)
    texts = [str(info.value), repr(info.value), caplog.text]
    assert all(secret not in text for text in texts)
    assert fake_llamacloud.api_key not in caplog.text


def test_load_data_inside_a_running_loop_and_after_asyncio_run(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    reader = _reader(fake_llamacloud)

    async def inside() -> int:
        return len(reader.load_data(examples_dir / "faq.html"))

    assert asyncio.run(inside()) == 1
    assert len(reader.load_data(examples_dir / "release-notes.md")) == 1
    assert len(asyncio.run(reader.aload_data(examples_dir / "shipping-policy.docx"))) == 1


def test_simple_directory_reader_runs_its_files_concurrently(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    folder = tmp_path / "docs"
    _write_files(folder, 6)
    fake_llamacloud.script_parse_jobs(pending_seconds=0.5)
    settings = CloudKitSettings(api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
    extractor = file_extractor(backend="cloud", settings=settings, poll_interval=0.05)
    docs = SimpleDirectoryReader(str(folder), file_extractor=extractor).load_data()
    assert len(docs) == 6 and fake_llamacloud.count(*UPLOAD) == 6
    paths = [r.path for r in fake_llamacloud.requests]
    last_upload = max(i for i, path in enumerate(paths) if path.endswith("/parsing/upload"))
    first_result = min(i for i, path in enumerate(paths) if path.endswith("/result/json"))
    assert last_upload < first_result  # one concurrent batch, not six jobs in a row


def test_crash_mid_batch_then_rerun_pays_each_file_once(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    files = _write_files(tmp_path / "docs", 20)
    cache = tmp_path / "cache"
    fake_llamacloud.script_parse_jobs(pending_seconds=30)  # the first wave stays in flight
    script = textwrap.dedent("""
        import sys
        from llama_index_cloudkit import CloudKitReader
        reader = CloudKitReader(backend="cloud", poll_interval=0.05,
                                upload_limit=2, upload_window=1.0)  # 2 uploads a second
        reader.load_data(sys.argv[1:])
    """)
    env = {
        **os.environ,
        "LLAMA_CLOUD_BASE_URL": fake_llamacloud.base_url,
        "LLAMA_CLOUD_API_KEY": fake_llamacloud.api_key,
        "CLOUDKIT_CACHE_DIR": str(cache),
    }
    child = subprocess.Popen([sys.executable, "-c", script, *map(str, files)], env=env)
    deadline = time.monotonic() + 60
    while fake_llamacloud.count(*UPLOAD) < 10 and time.monotonic() < deadline:
        time.sleep(0.02)
    time.sleep(0.4)  # those uploads were answered and journaled; the next pair is not due yet
    child.kill()
    child.wait()
    first_wave = fake_llamacloud.count(*UPLOAD)
    assert 10 <= first_wave < 20

    fake_llamacloud.script_parse_jobs()  # the service finishes every job now
    for job in fake_llamacloud.state.parse_jobs.values():
        job.script = fake_llamacloud.state.parse_script
    settings = CloudKitSettings(
        api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url, cache_dir=cache
    )
    docs = CloudKitReader(backend="cloud", settings=settings, poll_interval=0.05).load_data(files)
    assert sorted(d.metadata["file_name"] for d in docs) == sorted(p.name for p in files)
    assert fake_llamacloud.count(*UPLOAD) == 20


def test_images_are_saved_under_names_that_cannot_escape(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path, tmp_path: Path
) -> None:
    fake_llamacloud.state.extra_image_names = ["../../escape-{page}.png", "/etc/evil.png"]
    target = tmp_path / "images"
    docs = _reader(
        fake_llamacloud, download_images_to=target, parse_options={"take_screenshot": True}
    ).load_data(examples_dir / "llama-care-guide.pdf")
    written = sorted(p.name for p in target.iterdir())
    assert len(written) == 5  # 2 screenshots, 2 "escape-N", 1 "evil" (listed on both pages)
    assert all(p.resolve().parent == target.resolve() for p in target.iterdir())
    assert not (tmp_path / "escape-1.png").exists() and not list(tmp_path.glob("*.png"))
    paths = docs[1].metadata["image_paths"]
    assert any(p.endswith("page_2.jpg") for p in paths) and all(Path(p).is_file() for p in paths)
    assert "image_paths" in docs[1].excluded_llm_metadata_keys


def test_a_corrupt_cache_entry_is_set_aside_and_parsed_again(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    reader = _reader(fake_llamacloud)
    reader.load_data(examples_dir / "faq.html")
    entry = next(reader.settings.cache_path("parse").rglob("*.json"))
    entry.write_text("{torn")
    docs = reader.load_data(examples_dir / "faq.html")
    assert docs and reader.last_report.cache_hits == 0
    assert "corrupt cache entry" in caplog.text and "set aside" in caplog.text
    assert [p.read_text() for p in entry.parent.glob("*.corrupt-*")] == ["{torn"]


def test_a_cache_entry_of_an_earlier_version_is_served_without_a_request(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    from llama_index_cloudkit.parse.cache import ParseCache, parse_key

    reader = _reader(fake_llamacloud)
    data = b"# Notes\n\nHay."
    legacy = {"format": 2, "job_id": "job-old", "result": {"pages": [{"page": 1, "md": "# Cached"}]}}
    ParseCache(reader.settings.cache_path("parse")).put(parse_key(data, "agentic", {}), legacy)

    docs = reader.load_data(data, extra_info={"file_name": "notes.md"})

    assert [d.text for d in docs] == ["# Cached"] and docs[0].metadata["job_id"] == "job-old"
    assert fake_llamacloud.requests == [] and reader.last_report.cache_hits == 1


def test_a_cache_entry_of_another_shape_is_set_aside_and_parsed_again(
    fake_llamacloud: FakeLlamaCloud, caplog: pytest.LogCaptureFixture
) -> None:
    from llama_index_cloudkit.parse.cache import ParseCache, parse_key

    reader = _reader(fake_llamacloud)
    data = b"# Notes\n\nHay."
    ParseCache(reader.settings.cache_path("parse")).put(parse_key(data, "agentic", {}), {"format": 3})

    docs = reader.load_data(data, extra_info={"file_name": "notes.md"})

    assert "Hay." in docs[0].text and reader.last_report.cache_hits == 0
    assert "corrupt cache entry" in caplog.text and "set aside" in caplog.text
    assert len(list(reader.settings.cache_path("parse").rglob("*.corrupt-*"))) == 1
