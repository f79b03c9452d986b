"""Budgets across processes: SimpleDirectoryReader's worker processes, and processes sharing a cache.

Every file here is a distinct one-page Markdown file (10 credits under the default preset), so
nothing is deduplicated: what was paid is the number of uploads in the emulator's request log.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.cloud.budget import Budget
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.errors import CreditLimitError
from llama_index_cloudkit.testing import FakeLlamaCloud

UPLOAD = ("POST", "/api/parsing/upload")
POLICY = CloudPolicy(job_timeout=120, poll_interval=0.1, max_poll_interval=0.3)


def _files(folder: Path, count: int, prefix: str = "memo") -> list[Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for i in range(count):
        path = folder / f"{prefix}-{i}.md"
        path.write_text(f"# {prefix} {i}\n\nLlama {i} of {prefix} ate {i + 2} kg of hay.")
        paths.append(path)
    return paths


def _reader(fake: FakeLlamaCloud, cache: Path, **kwargs: object) -> CloudKitReader:
    settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url, cache_dir=cache)
    return CloudKitReader(backend="cloud", settings=settings, policy=POLICY, **kwargs)


@pytest.mark.slow
def test_the_budget_holds_across_simple_directory_reader_worker_processes(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    """``load_data(num_workers=2)`` pickles the reader into two processes: they spend one budget
    (each used to get its own, so max_credits=30 paid 60), and the parent's credits_spent is the
    true total (it used to stay 0)."""
    _files(tmp_path / "docs", 6)
    reader = _reader(fake_llamacloud, tmp_path / "cache", max_credits=30)
    docs = SimpleDirectoryReader(
        str(tmp_path / "docs"), file_extractor={".md": reader}, raise_on_error=False
    ).load_data(num_workers=2)
    uploads = fake_llamacloud.count(*UPLOAD)
    assert uploads == 3  # 3 x 10 credits fit; the other 3 files were refused before the upload
    assert len(docs) == 3
    assert reader.credits_spent == 30
    with pytest.raises(CreditLimitError):  # the parent's own calls count against the same total
        reader.load_data(_files(tmp_path / "more", 1, "more")[0])


@pytest.mark.slow
def test_worker_processes_add_up_in_the_parent_without_a_limit(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    """Without a limit the total is still counted: the parent sees what its workers spent."""
    _files(tmp_path / "docs", 4)
    reader = _reader(fake_llamacloud, tmp_path / "cache")
    docs = SimpleDirectoryReader(str(tmp_path / "docs"), file_extractor={".md": reader}).load_data(
        num_workers=2
    )
    assert len(docs) == 4
    assert fake_llamacloud.count(*UPLOAD) == 4
    assert reader.credits_spent == 40


_WORKER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from llama_index_cloudkit import CloudKitReader, CloudKitSettings
    from llama_index_cloudkit.cloud.policy import CloudPolicy

    base_url, key, cache, go, *files = sys.argv[1:]
    settings = CloudKitSettings(api_key=key, base_url=base_url, cache_dir=Path(cache))
    policy = CloudPolicy(job_timeout=120, poll_interval=0.1, max_poll_interval=0.3)
    reader = CloudKitReader(
        backend="cloud", settings=settings, policy=policy, max_credits=30,
        shared_budget="nightly", on_error="report",
    )
    print("READY", flush=True)
    while not Path(go).exists():
        time.sleep(0.01)
    docs = reader.load_data(files)
    report = reader.last_report
    print("PARSED", len(docs), "FAILED", len(report.failures), "SPENT", reader.credits_spent, flush=True)
    """
)


@pytest.mark.slow
def test_a_shared_budget_holds_across_processes_sharing_a_cache_directory(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    """Two separate processes, each with ``max_credits=30, shared_budget="nightly"`` over three
    distinct files of its own, start at the same moment: together they pay for three files (not
    six), and a later run under the same name finds the budget spent."""
    fake_llamacloud.script_parse_jobs(pending_seconds=0.5)
    cache, go = tmp_path / "cache", tmp_path / "go"
    procs = []
    for name in ("a", "b"):
        files = [str(p) for p in _files(tmp_path / name, 3, name)]
        args = [fake_llamacloud.base_url, fake_llamacloud.api_key, str(cache), str(go), *files]
        proc = subprocess.Popen(
            [sys.executable, "-c", _WORKER, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read() if proc.stderr else ""
        procs.append(proc)
    go.touch()
    try:
        outputs = [proc.communicate(timeout=120) for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    parsed = 0
    for proc, (out, err) in zip(procs, outputs, strict=True):
        assert proc.returncode == 0, err[-2000:]
        words = out.split()
        parsed += int(words[words.index("PARSED") + 1])
        assert float(words[words.index("SPENT") + 1]) == 30  # each sees the shared total
    assert parsed == 3
    assert fake_llamacloud.count(*UPLOAD) == 3
    later = _reader(fake_llamacloud, cache, max_credits=30, shared_budget="nightly")
    assert later.credits_spent == 30
    with pytest.raises(CreditLimitError):
        later.load_data(_files(tmp_path / "c", 1, "c")[0])
    fresh = _reader(fake_llamacloud, cache, max_credits=30, shared_budget="tomorrow")
    assert fresh.credits_spent == 0


def test_a_shared_budget_releases_what_the_service_refused(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    """A submission the service refused (400: certainly not billed) gives its reservation back
    to the shared ledger, so other processes can spend it."""
    fake_llamacloud.add_fault(*UPLOAD, status=400, body={"detail": "bad file"}, times=1)
    reader = _reader(fake_llamacloud, tmp_path / "cache", max_credits=10, shared_budget="b")
    path = _files(tmp_path / "docs", 1)[0]
    with pytest.raises(Exception, match="bad file"):
        reader.load_data(path)
    assert reader.credits_spent == 0
    assert reader.load_data(path)  # the 10 credits are free again
    assert _reader(fake_llamacloud, tmp_path / "cache", shared_budget="b").credits_spent == 10


def test_reservations_on_a_shared_ledger_are_atomic_across_processes(tmp_path: Path) -> None:
    """Four processes each try 20 reservations of 1 credit against one ledger of 50: exactly 50
    succeed (no two processes read the same total)."""
    code = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from llama_index_cloudkit.cloud.budget import Budget
        from llama_index_cloudkit.errors import CreditLimitError
        from llama_index_cloudkit.settings import CloudKitSettings
        settings = CloudKitSettings(api_key="llx-x", cache_dir=Path(sys.argv[1]))
        budget = Budget.shared(50, settings, "race")
        go = Path(sys.argv[2])
        while not go.exists():
            time.sleep(0.005)
        ok = 0
        for _ in range(20):
            try:
                budget.reserve(1)
                ok += 1
            except CreditLimitError:
                pass
        print(ok)
        """
    )
    go = tmp_path / "go"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code, str(tmp_path / "cache"), str(go)], stdout=subprocess.PIPE, text=True
        )
        for _ in range(4)
    ]
    time.sleep(1.0)
    go.touch()
    counts = [int(proc.communicate(timeout=120)[0]) for proc in procs]
    assert sum(counts) == 50
    settings = CloudKitSettings(api_key="llx-x", cache_dir=tmp_path / "cache")
    assert Budget.shared(None, settings, "race").spent == 50
