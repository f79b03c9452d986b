"""The README's exit codes: 0 success, 1 some files failed or the service failed, 2 usage or
configuration; every error one line on stderr, the traceback only with --debug."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from llama_index_cloudkit.cli import cli
from llama_index_cloudkit.testing import FakeLlamaCloud


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def _one_error_line(result: Result) -> str:
    """The single ``Error: ...`` line, after checking stderr holds no traceback."""
    assert "Traceback" not in result.output
    errors = [line for line in result.stderr.splitlines() if line.startswith("Error:")]
    assert len(errors) == 1, result.stderr
    return errors[0]


@pytest.fixture()
def schema_file(tmp_path: Path) -> Path:
    path = tmp_path / "visit.json"
    path.write_text(
        json.dumps({"type": "object", "properties": {"day": {"type": "string"}}, "required": ["day"]})
    )
    return path


def test_ask_on_an_unknown_llamacloud_index_exits_2_with_one_line(fake_llamacloud: FakeLlamaCloud) -> None:
    result = _run("ask", "no-such-index", "When can I visit?")
    assert result.exit_code == 2
    line = _one_error_line(result)
    assert "no-such-index" in line and "LlamaCloud index name" in line
    assert result.stderr.count("\n") == 1


def test_a_bad_option_exits_2_with_one_line(examples_dir: Path) -> None:
    result = _run("parse", str(examples_dir), "--bogus")
    assert result.exit_code == 2
    assert "--bogus" in _one_error_line(result)
    assert result.stderr.count("\n") == 1


def test_a_bad_option_value_exits_2_with_one_line(examples_dir: Path) -> None:
    result = _run("ask", str(examples_dir), "hay?", "--top-k", "0")
    assert result.exit_code == 2
    assert "--top-k" in _one_error_line(result)


def test_an_unknown_command_exits_2_with_one_line() -> None:
    result = _run("prase", "x")
    assert result.exit_code == 2
    assert "No such command" in _one_error_line(result)


def test_cloud_backend_without_a_key_is_a_configuration_error(examples_dir: Path) -> None:
    result = _run("parse", str(examples_dir / "faq.html"), "--backend", "cloud")
    assert result.exit_code == 2
    assert "LLAMA_CLOUD_API_KEY" in _one_error_line(result)


def test_a_base_url_without_a_scheme_is_a_configuration_error(examples_dir: Path) -> None:
    result = _run("parse", str(examples_dir / "faq.html"), "--base-url", "api.example.com")
    assert result.exit_code == 2
    assert "base_url" in _one_error_line(result)


def test_a_schema_that_is_not_json_exits_2(tmp_path: Path, examples_dir: Path) -> None:
    bad = tmp_path / "broken.json"
    bad.write_text("{not json")
    result = _run("extract", "--schema", str(bad), str(examples_dir / "faq.html"), "--backend", "local")
    assert result.exit_code == 2
    assert "not valid JSON" in _one_error_line(result)


def test_a_schema_with_several_problems_is_one_line(tmp_path: Path, examples_dir: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "object", "properties": {"d": {"type": "string", "format": "date"}}}))
    result = _run("extract", "--schema", str(bad), str(examples_dir / "faq.html"))
    assert result.exit_code == 2
    assert "format" in _one_error_line(result)


def test_extract_with_a_refused_key_exits_1(
    fake_llamacloud: FakeLlamaCloud, schema_file: Path, examples_dir: Path
) -> None:
    result = _run(
        "extract", "--schema", str(schema_file), str(examples_dir / "faq.html"), "--api-key", "llx-wrong-0123"
    )
    assert result.exit_code == 1
    line = _one_error_line(result)
    assert "refused the API key" in line and "llx-wrong-0123" not in result.output


def test_extract_with_a_failed_job_exits_1(
    fake_llamacloud: FakeLlamaCloud, schema_file: Path, examples_dir: Path
) -> None:
    fake_llamacloud.script_extract_jobs("ERROR", count=1, error_message="the model gave up")
    result = _run("extract", "--schema", str(schema_file), str(examples_dir / "faq.html"))
    assert result.exit_code == 1
    assert "the model gave up" in _one_error_line(result)


def test_extract_with_a_service_error_exits_1(
    fake_llamacloud: FakeLlamaCloud, schema_file: Path, examples_dir: Path
) -> None:
    fake_llamacloud.add_fault("POST", "/api/v1/extraction/.*", status=409, body={"detail": "busy"})
    result = _run("extract", "--schema", str(schema_file), str(examples_dir / "faq.html"))
    assert result.exit_code == 1
    assert "409" in _one_error_line(result)


def test_debug_shows_the_traceback_and_keeps_the_exit_code(
    fake_llamacloud: FakeLlamaCloud, schema_file: Path, examples_dir: Path
) -> None:
    args = [
        "extract",
        "--schema",
        str(schema_file),
        str(examples_dir / "faq.html"),
        "--api-key",
        "llx-bad-99",
    ]
    quiet = _run(*args)
    loud = _run("--debug", *args)
    assert quiet.exit_code == loud.exit_code == 1
    assert "Traceback" not in quiet.stderr
    assert "Traceback (most recent call last)" in loud.stderr and "AuthError" in loud.stderr
    assert loud.stderr.rstrip().splitlines()[-1].startswith("Error:")


def test_debug_shows_the_cause_of_an_unknown_index(fake_llamacloud: FakeLlamaCloud) -> None:
    result = _run("--debug", "ask", "no-such-index", "When can I visit?")
    assert result.exit_code == 2
    assert "Traceback (most recent call last)" in result.stderr


def test_a_failed_file_is_reported_once_on_stderr(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("# fine")
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf")
    result = subprocess.run(
        [sys.executable, "-m", "llama_index_cloudkit.cli", "parse", str(tmp_path), "--json"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 1
    assert [line for line in result.stderr.splitlines() if "bad.pdf" in line] == [
        line for line in result.stderr.splitlines() if line.startswith("failed: ") and "bad.pdf" in line
    ]
    assert sum("bad.pdf" in line for line in result.stderr.splitlines()) == 1
