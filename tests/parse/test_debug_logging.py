"""At DEBUG level a cloud parse says what it did per file: job submitted and finished (job id,
file, seconds), re-attached, cache hits; and never the API key."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import pytest

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.testing import FakeLlamaCloud


def _files(folder: Path, count: int) -> list[Path]:
    paths = []
    for i in range(count):
        path = folder / f"memo-{i}.md"
        path.write_text(f"# Memo {i}\n\nLlama {i} eats {i + 2} kg of hay a day.")
        paths.append(path)
    return paths


def _reader(fake: FakeLlamaCloud) -> CloudKitReader:
    settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url)
    return CloudKitReader(backend="cloud", settings=settings, poll_interval=0.05)


def test_each_job_is_logged_submitted_and_finished_with_its_id_file_and_seconds(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = _files(tmp_path, 3)
    with caplog.at_level(logging.DEBUG, logger="llama_index_cloudkit"):
        _reader(fake_llamacloud).load_data(paths)
    text = caplog.text
    for path in paths:
        submitted = re.search(rf"job (\S+) submitted for \S*{re.escape(path.name)}", text)
        assert submitted, text
        job_id = submitted.group(1)
        assert re.search(
            rf"job {re.escape(job_id)} for \S*{re.escape(path.name)} finished success after \d+\.\d+ s", text
        ), text
    assert fake_llamacloud.api_key not in text


def test_a_rerun_logs_cache_hits_and_no_job(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    paths = _files(tmp_path, 2)
    _reader(fake_llamacloud).load_data(paths)
    with caplog.at_level(logging.DEBUG, logger="llama_index_cloudkit"):
        _reader(fake_llamacloud).load_data(paths)
    for path in paths:
        assert re.search(rf"cache hit for \S*{re.escape(path.name)}", caplog.text), caplog.text
    assert "submitted for" not in caplog.text
