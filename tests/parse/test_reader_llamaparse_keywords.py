"""CloudKitReader takes LlamaParse's own constructor keywords, with LlamaParse's meaning."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from llama_index_cloudkit import CloudKitReader, CloudKitSettings, ConfigError
from llama_index_cloudkit.testing import FakeLlamaCloud


def _cloud(fake: FakeLlamaCloud, **kwargs: object) -> CloudKitReader:
    settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url)
    return CloudKitReader(backend="cloud", settings=settings, poll_interval=0.05, **kwargs)


def test_llamaparse_options_as_keywords_land_in_parse_options_and_are_sent(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    reader = _cloud(fake_llamacloud, language="fr", max_pages=1)
    assert reader.parse_options == {"language": "fr", "max_pages": 1}
    path = tmp_path / "note.md"
    path.write_text("# Bonjour\n\nLes lamas mangent du foin.")
    reader.load_data(path)
    job = next(iter(fake_llamacloud.state.parse_jobs.values()))
    assert job.form["language"] == "fr" and job.form["max_pages"] == "1"


def test_a_keyword_and_parse_options_agree_or_it_is_a_config_error(fake_llamacloud: FakeLlamaCloud) -> None:
    reader = _cloud(fake_llamacloud, language="fr", parse_options={"language": "fr"})
    assert reader.parse_options == {"language": "fr"}
    with pytest.raises(ConfigError, match="language"):
        _cloud(fake_llamacloud, language="fr", parse_options={"language": "de"})


def test_llamaparse_keywords_are_validated_like_parse_options(fake_llamacloud: FakeLlamaCloud) -> None:
    with pytest.raises(ConfigError) as as_option:
        _cloud(fake_llamacloud, parse_options={"max_pages": "many"})
    with pytest.raises(ConfigError) as as_keyword:
        _cloud(fake_llamacloud, max_pages="many")
    assert str(as_keyword.value) == str(as_option.value)


def test_a_typo_names_the_closest_reader_or_llamaparse_keyword() -> None:
    with pytest.raises(ConfigError, match="Did you mean language"):
        CloudKitReader(backend="local", languag="fr")
    with pytest.raises(ConfigError, match="Did you mean max_concurrency"):
        CloudKitReader(backend="local", max_concurency=2)


def test_result_type_markdown_is_what_the_reader_gives_and_other_types_point_elsewhere() -> None:
    assert CloudKitReader(backend="local", result_type="markdown").parse_options == {}
    with pytest.raises(ConfigError, match="result_type"):
        CloudKitReader(backend="local", result_type="text")


def test_llamaparse_polling_and_error_keywords_map_to_the_readers_own() -> None:
    reader = CloudKitReader(backend="local", check_interval=2, max_timeout=90, ignore_errors=True)
    assert (reader.poll_interval, reader.job_timeout, reader.on_error) == (2, 90, "report")
    assert CloudKitReader(backend="local", ignore_errors=False).on_error == "raise"


def test_num_workers_is_llamaparse_s_concurrent_jobs_not_local_processes(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path
) -> None:
    reader = _cloud(fake_llamacloud, num_workers=2)
    assert reader.num_workers == 2 and reader.workers is None
    assert reader.cloud_policy().max_jobs == 2
    paths = []
    for i in range(6):
        path = tmp_path / f"n{i}.md"
        path.write_text(f"# Note {i}\n\nLlama {i}.")
        paths.append(path)
    fake_llamacloud.script_parse_jobs("SUCCESS", pending_seconds=0.4)  # each job runs 0.4 s
    docs = asyncio.run(reader.aload_data(paths))
    assert len(docs) == 6
    created = sorted(job.created for job in fake_llamacloud.state.parse_jobs.values())
    assert len(created) == 6
    # Two jobs at a time: the third starts only when the first has finished, and so on.
    assert all(later - earlier >= 0.35 for earlier, later in zip(created, created[2:], strict=False))


def test_num_workers_out_of_llamaparse_s_range_is_refused() -> None:
    with pytest.raises(ConfigError, match="num_workers"):
        CloudKitReader(backend="local", num_workers=0)
