"""The cloudkit command: the README's main job, and its exit codes."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from click.testing import CliRunner

from llama_index_cloudkit.cli import cli


def test_ask_answers_from_examples_with_file_and_page_citations(examples_dir: Path) -> None:
    result = CliRunner().invoke(
        cli, ["ask", str(examples_dir), "How much hay does an adult llama eat per day?"]
    )
    assert result.exit_code == 0, result.output
    assert "[1] llama-care-guide.pdf, page 2" in result.output
    assert "2.0-3.5" in result.output
    assert "No LLM is configured" in result.output


def test_parse_json_lines_carry_page_metadata(examples_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["parse", str(examples_dir / "llama-care-guide.pdf"), "--json"])
    assert result.exit_code == 0, result.output
    lines = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    assert [d["metadata"]["page_number"] for d in lines] == [1, 2]


def test_partial_failure_exits_1_and_says_which_file(tmp_path: Path) -> None:
    (tmp_path / "ok.md").write_text("# fine")
    (tmp_path / "bad.pdf").write_bytes(b"not a pdf")
    result = CliRunner().invoke(cli, ["parse", str(tmp_path)])
    assert result.exit_code == 1
    assert "bad.pdf" in result.output


def test_missing_path_is_a_usage_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["ask", str(tmp_path / "nope"), "question?"])
    assert result.exit_code == 2
    assert "LlamaCloud index name" in result.output and "LLAMA_CLOUD_API_KEY" in result.output


def test_console_script_runs(examples_dir: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "llama_index_cloudkit.cli", "--help"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0 and "ask" in result.stdout


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    "stop_signal, sigint_ignored",
    [
        (signal.SIGINT, False),  # Ctrl-C in a terminal
        (signal.SIGINT, True),  # a script's background job: the shell hands SIGINT over ignored
        (signal.SIGTERM, False),  # a process manager
    ],
    ids=["ctrl-c", "sigint-in-a-background-job", "sigterm"],
)
def test_fake_server_serves_until_interrupted(stop_signal: int, sigint_ignored: bool) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "llama_index_cloudkit.cli", "fake-server", "--port", "0"],
        stdout=subprocess.PIPE,
        text=True,
        preexec_fn=_ignore_sigint if sigint_ignored else None,
    )
    try:
        assert process.stdout is not None
        first = process.stdout.readline()
        assert "LlamaCloud emulator on http://127.0.0.1:" in first
        base_url = first.rsplit(" ", 1)[1].strip()
        response = httpx.get(
            base_url + "/api/v1/projects", headers={"Authorization": "Bearer llx-fake-emulator-key"}
        )
        assert response.status_code == 200
    finally:
        process.send_signal(stop_signal)
        try:
            out, _ = process.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            process.kill()
            process.communicate()
            pytest.fail(f"cloudkit fake-server did not stop on signal {stop_signal}")
    assert process.returncode == 0
    assert "stopping" in out


def test_index_then_ask_the_local_index(examples_dir: Path, tmp_path: Path) -> None:
    target = tmp_path / "handbook-index"
    result = CliRunner().invoke(
        cli, ["index", str(examples_dir), "--name", "handbook", "--persist-dir", str(target)]
    )
    assert result.exit_code == 0, result.output
    assert (target / "params.json").is_file()
    result = CliRunner().invoke(cli, ["ask", str(target), "When can I visit the farm?"])
    assert result.exit_code == 0, result.output
    assert "[1] faq.html, page 1" in result.output


def test_index_and_ask_on_llamacloud(fake_llamacloud: object, examples_dir: Path) -> None:
    result = CliRunner().invoke(cli, ["index", str(examples_dir), "--name", "handbook", "--backend", "cloud"])
    assert result.exit_code == 0, result.output
    assert "LlamaCloud index 'handbook'" in result.output
    result = CliRunner().invoke(cli, ["ask", "handbook", "What is the refund window?"])
    assert result.exit_code == 0, result.output
    assert "shipping-policy.docx" in result.output


def test_extract_checks_the_schema_first(tmp_path: Path, examples_dir: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"type": "array"}))
    result = CliRunner().invoke(cli, ["extract", "--schema", str(bad), str(examples_dir / "faq.html")])
    assert result.exit_code == 2 and "root must be of type 'object'" in result.output


def test_extract_prints_json(fake_llamacloud: object, tmp_path: Path, examples_dir: Path) -> None:
    fake_llamacloud.on_extract(lambda s, c, t: {"day": "Saturday"})  # type: ignore[attr-defined]
    schema = tmp_path / "visit.json"
    schema.write_text(
        json.dumps({"type": "object", "properties": {"day": {"type": "string"}}, "required": ["day"]})
    )
    result = CliRunner().invoke(cli, ["extract", "--schema", str(schema), str(examples_dir / "faq.html")])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout) == {"day": "Saturday"}


def test_parse_with_a_cloud_preset(fake_llamacloud: object, examples_dir: Path) -> None:
    result = CliRunner().invoke(
        cli,
        [
            "parse",
            str(examples_dir / "faq.html"),
            "--backend",
            "cloud",
            "--preset",
            "cost_effective",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    assert doc["metadata"]["preset"] == "cost_effective" and doc["metadata"]["backend"] == "cloud"
