"""Promises across real processes: one payment for two processes, Ctrl-C by a real SIGINT.

Each worker is a real Python process (``process_worker.py``) parsing against the emulator with a
cache directory shared with the test; what was paid is read from the emulator's request log.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import httpx
import pytest

from llama_index_cloudkit import CloudKitSettings
from llama_index_cloudkit.cloud.journal import JobJournal
from llama_index_cloudkit.testing import FakeLlamaCloud

WORKER = Path(__file__).with_name("process_worker.py")
UPLOAD = ("POST", "/api/parsing/upload")
STATUS = ("GET", r"/api/parsing/job/[^/]+")
EXTRACT_STATUS = ("GET", r"/api/v1/extraction/jobs/[^/]+")


def _wait_for(condition: Callable[[], bool], seconds: float, what: str) -> None:
    end = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > end:
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.05)


class _Workers:
    def __init__(self, fake: FakeLlamaCloud, tmp: Path) -> None:
        self.fake, self.tmp = fake, tmp
        self.cache = tmp / "cache"
        self.go = tmp / "go"
        self.file = tmp / "docs" / "memo.md"
        self.file.parent.mkdir(parents=True, exist_ok=True)
        self.file.write_text("# Memo\n\nLlamas eat hay.")
        self.procs: list[subprocess.Popen[str]] = []

    def start(self, mode: str = "plain") -> subprocess.Popen[str]:
        ready = self.tmp / f"ready-{len(self.procs)}"
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        args = [self.fake.base_url, self.fake.api_key, str(self.cache), str(self.file), mode, str(ready)]
        proc = subprocess.Popen(
            [sys.executable, str(WORKER), *args, str(self.go)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        self.procs.append(proc)
        _wait_for(ready.exists, 120, "a worker process to start")
        return proc

    def close(self) -> None:
        for proc in self.procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()


def test_two_processes_sharing_a_cache_directory_pay_once(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    """Two processes parse the same file at the same moment (two ``cloudkit parse`` runs, two app
    workers): the first claims it in the journal and uploads, the other waits for its job id and
    re-attaches. One upload in the emulator's log, both processes get the text."""
    fake_llamacloud.add_fault(*UPLOAD, delay=3.0, times=2)  # a slow upload: both submit at once
    fake_llamacloud.script_parse_jobs(pending_seconds=1.0)
    workers = _Workers(fake_llamacloud, tmp_path)
    try:
        first, second = workers.start(), workers.start()
        workers.go.touch()
        outputs = [proc.communicate(timeout=120) for proc in (first, second)]
    finally:
        workers.close()
    for proc, (out, err) in zip((first, second), outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
        assert "DOCS" in out and "Llamas eat hay" in out
    assert fake_llamacloud.count(*UPLOAD) == 1


@pytest.mark.parametrize("mode", ["plain", "in_loop", "extract", "extract_in_loop"])
def test_ctrl_c_stops_a_sync_call_and_keeps_the_journal(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, mode: str
) -> None:
    """A real SIGINT while a sync ``load_data`` (or a sync extraction) polls a long job stops the
    process promptly (the job would run on for two minutes), also when the call was made inside a
    running event loop (Jupyter: it runs on a worker thread). The journal keeps the submitted job,
    so a re-run re-attaches instead of paying again."""
    fake_llamacloud.script_parse_jobs(stuck=True)
    fake_llamacloud.script_extract_jobs(stuck=True)
    extraction = mode.startswith("extract")
    status = EXTRACT_STATUS if extraction else STATUS
    workers = _Workers(fake_llamacloud, tmp_path)
    try:
        proc = workers.start(mode)
        workers.go.touch()
        _wait_for(lambda: fake_llamacloud.count(*status, regex=True) >= 2, 60, "the worker to poll")
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=20)
        except subprocess.TimeoutExpired:
            pytest.fail("Ctrl-C did not stop the sync call: it polled on")
    finally:
        workers.close()
    assert "INTERRUPTED" in out, err[-2000:]
    jobs = fake_llamacloud.state.extraction.jobs if extraction else fake_llamacloud.state.parse_jobs
    (job_id,) = jobs
    settings = CloudKitSettings(api_key="x", base_url=fake_llamacloud.base_url, cache_dir=workers.cache)
    entries = JobJournal.for_settings(settings).entries()
    assert [(e["job_id"], e["status"]) for e in entries] == [(job_id, "PENDING")]


@pytest.mark.parametrize(
    "mode,paid",
    [("extract", ("POST", "/api/v1/extraction/run")), ("queue", ("POST", "/api/v1/extraction/jobs"))],
    ids=["extraction", "queued-extraction"],
)
def test_two_processes_extracting_the_same_file_pay_once(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, mode: str, paid: tuple[str, str]
) -> None:
    """Two processes extract (or queue) the same file at the same moment, sharing a cache
    directory: one paid submission in the emulator's log; both get the data (or the same job)."""
    if mode == "queue":
        schema = {"type": "object", "properties": {"carrier": {"type": "string"}}, "required": ["carrier"]}
        answer = httpx.post(
            f"{fake_llamacloud.base_url}/api/v1/extraction/extraction-agents",
            headers={"Authorization": f"Bearer {fake_llamacloud.api_key}"},
            json={"name": "terms", "data_schema": schema, "config": {}},
        )
        answer.raise_for_status()
    fake_llamacloud.on_extract(lambda schema, config, text: {"carrier": "UPS"})
    fake_llamacloud.add_fault(*paid, delay=3.0, times=2)  # a slow submission: both submit at once
    workers = _Workers(fake_llamacloud, tmp_path)
    try:
        first, second = workers.start(mode), workers.start(mode)
        workers.go.touch()
        outputs = [proc.communicate(timeout=120) for proc in (first, second)]
    finally:
        workers.close()
    for proc, (_, err) in zip((first, second), outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
    if mode == "extract":
        assert all("UPS" in out for out, _ in outputs), outputs
    else:
        ids = [json.loads(out.split("QUEUED ", 1)[1].split("\n")[0])["job_ids"] for out, _ in outputs]
        assert ids[0] == ids[1] and len(ids[0]) == 1, ids
    assert fake_llamacloud.count(*paid) == 1
