"""DEBUG logging of the cloud core: each job submitted, re-attached and finished, each cache hit."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.testing import FakeLlamaCloud

POLICY = CloudPolicy(job_timeout=60, poll_interval=0.05, max_poll_interval=0.2)


def _reader(fake: FakeLlamaCloud, cache: Path) -> CloudKitReader:
    settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url, cache_dir=cache)
    return CloudKitReader(backend="cloud", settings=settings, policy=POLICY)


def _files(folder: Path) -> list[Path]:
    folder.mkdir()
    paths = [folder / f"memo-{i}.md" for i in range(3)]
    for i, path in enumerate(paths):
        path.write_text(f"# Memo {i}\n\nLlama {i} ate hay.")
    return paths


def test_debug_logs_each_job_and_cache_hit_without_the_key(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """At DEBUG, a 3-file parse logs each submission and each finished job (job id, file name,
    seconds), a re-run logs each cache hit, and a journaled job is logged as re-attached; the
    API key is in no record."""
    files = _files(tmp_path / "docs")
    caplog.set_level(logging.DEBUG, logger="llama_index_cloudkit")
    docs = _reader(fake_llamacloud, tmp_path / "cache").load_data(files)
    job_ids = {d.metadata["job_id"] for d in docs}
    assert len(job_ids) == 3
    messages = [r.getMessage() for r in caplog.records if r.name.startswith("llama_index_cloudkit")]
    for job_id in job_ids:
        (submitted,) = [m for m in messages if m.startswith("submitted") and job_id in m]
        (finished,) = [m for m in messages if "finished" in m and job_id in m]
        assert re.search(r"memo-\d\.md", submitted) and re.search(r"memo-\d\.md", finished)
        assert re.search(r"in \d+\.\d\d s", finished)

    caplog.clear()
    _reader(fake_llamacloud, tmp_path / "cache").load_data(files)  # every file from the cache
    hits = [r.getMessage() for r in caplog.records if "cache hit" in r.getMessage()]
    assert len(hits) == 3 and all(any(j in m for j in job_ids) for m in hits)

    caplog.clear()  # a journaled job (a run that was stopped) is re-attached, not submitted again
    other = _reader(fake_llamacloud, tmp_path / "other")
    key = other._cloud_backend().engine.key(files[0].read_bytes())
    job_id = next(d.metadata["job_id"] for d in docs if d.metadata["file_name"] == files[0].name)
    JobJournal.for_settings(other.settings).record(key, job_id, str(files[0]))
    other.load_data(files[0])
    reattached = [r.getMessage() for r in caplog.records if r.getMessage().startswith("re-attached")]
    assert len(reattached) == 1 and job_id in reattached[0] and "memo-0.md" in reattached[0]

    for record in caplog.records:
        text = record.getMessage() + repr(record.args)
        assert fake_llamacloud.api_key not in text
