"""Batches read exactly what was asked: never an upload of a file SimpleDirectoryReader did not hand over."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from llama_index.core import SimpleDirectoryReader
from llama_index.core.readers.base import BaseReader
from llama_index.core.schema import Document

from llama_index_cloudkit import CloudKitReader, CloudKitSettings, file_extractor
from llama_index_cloudkit.testing import FakeLlamaCloud


def _inbox(root: Path) -> Path:
    """A folder a user would point at: what they want, and what they must never upload."""
    inbox = root / "inbox"
    (inbox / "nested" / "deeper").mkdir(parents=True)
    files = {
        "wanted.md": "# Wanted\n\nThe llama report.",
        "notes.md": "# Notes\n\nHay prices went up.",
        "secret-salaries.md": "# Salaries\n\nConfidential.",
        "figures.csv": "llama,kg\nA,12\n",
        ".hidden.md": "# Hidden\n\nnot for upload",
        "nested/inner.md": "# Inner\n\nNested note.",
        "nested/secret-plan.md": "# Plan\n\nConfidential too.",
        "nested/deeper/deepest.md": "# Deepest\n\nThe bottom.",
    }
    for name, text in files.items():
        (inbox / name).write_text(text)
    return inbox


def _settings(fake: FakeLlamaCloud) -> CloudKitSettings:
    return CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url)


def _uploaded(fake: FakeLlamaCloud) -> set[bytes]:
    return {job.data for job in fake.state.parse_jobs.values()}


def _returned(docs: list[Document]) -> set[bytes]:
    return {Path(d.metadata["file_path"]).read_bytes() for d in docs}


SDR_OPTIONS: dict[str, Callable[[Path], dict[str, Any]]] = {
    "input_files": lambda inbox: {"input_files": [str(inbox / "wanted.md")]},
    "exclude": lambda inbox: {"input_dir": str(inbox), "exclude": ["secret*", "*.csv"]},
    "required_exts": lambda inbox: {"input_dir": str(inbox), "required_exts": [".md"]},
    "num_files_limit": lambda inbox: {"input_dir": str(inbox), "num_files_limit": 1},
    "recursive+exclude": lambda inbox: {
        "input_dir": str(inbox),
        "recursive": True,
        "exclude": ["secret*", "**/secret*", "*.csv"],
    },
    "recursive+required_exts+limit": lambda inbox: {
        "input_dir": str(inbox),
        "recursive": True,
        "required_exts": [".md"],
        "num_files_limit": 3,
    },
    "recursive+hidden": lambda inbox: {"input_dir": str(inbox), "recursive": True, "exclude_hidden": True},
}


def _load(sdr: SimpleDirectoryReader, how: str) -> list[Document]:
    if how == "load_data":
        return sdr.load_data()
    if how == "aload_data(num_workers=8)":
        return asyncio.run(sdr.aload_data(num_workers=8))
    if how == "aload_data(num_workers=2)":
        return asyncio.run(sdr.aload_data(num_workers=2))
    if how == "iter_data":
        return [doc for docs in sdr.iter_data() for doc in docs]
    if how == "load_data(num_workers=2)":
        return sdr.load_data(num_workers=2)
    raise AssertionError(how)


@pytest.mark.parametrize("option", SDR_OPTIONS)
@pytest.mark.parametrize(
    "how", ["load_data", "aload_data(num_workers=8)", "aload_data(num_workers=2)", "iter_data"]
)
def test_uploads_are_exactly_the_files_simple_directory_reader_reads(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, option: str, how: str
) -> None:
    inbox = _inbox(tmp_path)
    extractor = file_extractor(backend="cloud", settings=_settings(fake_llamacloud), poll_interval=0.05)
    docs = _load(SimpleDirectoryReader(file_extractor=extractor, **SDR_OPTIONS[option](inbox)), how)
    assert docs
    assert _uploaded(fake_llamacloud) == _returned(docs)
    assert fake_llamacloud.count("POST", "/api/parsing/upload") == len(_returned(docs))


@pytest.mark.slow
def test_worker_processes_upload_exactly_what_they_read(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    inbox = _inbox(tmp_path)
    extractor = file_extractor(backend="cloud", settings=_settings(fake_llamacloud), poll_interval=0.05)
    sdr = SimpleDirectoryReader(
        str(inbox), exclude=["secret*"], required_exts=[".md"], file_extractor=extractor
    )
    docs = _load(sdr, "load_data(num_workers=2)")
    assert _uploaded(fake_llamacloud) == _returned(docs) and len(docs) == 2


class _OtherReader(BaseReader):
    """A reader the user mapped to one suffix: its files are not ours to upload."""

    def load_data(self, file: Path, extra_info: dict[str, Any] | None = None) -> list[Document]:
        return [Document(text=Path(file).read_text(), metadata={"file_path": str(file)})]


def test_a_suffix_mapped_to_another_reader_is_never_uploaded(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    inbox = _inbox(tmp_path)
    extractor = {
        **file_extractor(backend="cloud", settings=_settings(fake_llamacloud)),
        ".csv": _OtherReader(),
    }
    docs = SimpleDirectoryReader(str(inbox), file_extractor=extractor).load_data()
    csv = (inbox / "figures.csv").read_bytes()
    assert csv in _returned(docs) and csv not in _uploaded(fake_llamacloud)
    assert _uploaded(fake_llamacloud) == _returned(docs) - {csv}


def _one_concurrent_batch(requests: list[Any], files: int) -> bool:
    """Every file was uploaded before the first result was fetched: one batch, not a queue."""
    paths = [r.path for r in requests]
    uploads = [i for i, path in enumerate(paths) if path.endswith("/parsing/upload")]
    results = [i for i, path in enumerate(paths) if path.endswith("/result/json")]
    return len(uploads) == files and len(results) == files and max(uploads) < min(results)


def test_the_method_and_the_function_batch_alike(fake_llamacloud: FakeLlamaCloud, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(6):
        (folder / f"n{i}.md").write_text(f"# Note {i}\n\nLlama {i}.")
    fake_llamacloud.script_parse_jobs(pending_seconds=0.5)
    for extractor in (
        CloudKitReader(
            backend="cloud", settings=_settings(fake_llamacloud), poll_interval=0.05
        ).file_extractor(),
        file_extractor(
            backend="cloud", settings=_settings(fake_llamacloud), poll_interval=0.05, use_cache=False
        ),
    ):
        before = len(fake_llamacloud.requests)
        docs = SimpleDirectoryReader(str(folder), file_extractor=extractor).load_data()
        assert len(docs) == 6
        assert _one_concurrent_batch(fake_llamacloud.requests[before:], files=6)


def test_concurrent_calls_never_submit_the_same_content_twice(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    folder = tmp_path / "same"
    folder.mkdir()
    for i in range(8):
        (folder / f"copy-{i}.md").write_text("# Same\n\nidentical content")
    fake_llamacloud.script_parse_jobs(pending_seconds=0.3)
    extractor = file_extractor(backend="cloud", settings=_settings(fake_llamacloud), poll_interval=0.05)
    docs = asyncio.run(SimpleDirectoryReader(str(folder), file_extractor=extractor).aload_data(num_workers=8))
    assert len(docs) == 8
    assert fake_llamacloud.count("POST", "/api/parsing/upload") == 1


def test_aload_data_with_few_workers_runs_the_whole_run_at_once(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    """``aload_data(num_workers=2)`` over 6 files: the first call starts the files the run hands
    over after the first two, so all 6 jobs run at once (one batch, each file uploaded once), and
    every file still gets its own Documents."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(6):
        (folder / f"n{i}.md").write_text(f"# Note {i}\n\nLlama {i}.")
    fake_llamacloud.script_parse_jobs(pending_seconds=0.5)
    extractor = file_extractor(backend="cloud", settings=_settings(fake_llamacloud), poll_interval=0.05)
    docs = asyncio.run(SimpleDirectoryReader(str(folder), file_extractor=extractor).aload_data(num_workers=2))
    assert sorted(d.text.split("\n")[-1] for d in docs) == [f"Llama {i}." for i in range(6)]
    assert _one_concurrent_batch(fake_llamacloud.requests, files=6)


@pytest.mark.parametrize("settings", [{"use_cache": False}, {"num_workers": 3}], ids=["no-cache", "max-jobs"])
def test_aload_data_submits_nothing_ahead_without_the_cache_or_with_a_job_bound(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, settings: dict[str, Any]
) -> None:
    """Without the cache a file handed over after its early job ended would be paid twice; with
    a bound on jobs (LlamaParse's num_workers) the bound holds: so SimpleDirectoryReader's own
    pace is kept (two at a time here)."""
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(4):
        (folder / f"n{i}.md").write_text(f"# Note {i}\n\nLlama {i}.")
    extractor = file_extractor(
        backend="cloud", settings=_settings(fake_llamacloud), poll_interval=0.05, **settings
    )
    docs = asyncio.run(SimpleDirectoryReader(str(folder), file_extractor=extractor).aload_data(num_workers=2))
    assert len(docs) == 4
    assert not _one_concurrent_batch(fake_llamacloud.requests, files=4)
    assert fake_llamacloud.count("POST", "/api/parsing/upload") == 4
