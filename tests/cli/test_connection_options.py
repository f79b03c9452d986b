"""Connection options on the command line go through settings_with and win over the environment."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from llama_index_cloudkit.cli import cli
from llama_index_cloudkit.testing import FakeLlamaCloud


def test_api_key_and_base_url_options_reach_llamacloud_without_the_environment(
    fake_llamacloud: FakeLlamaCloud, monkeypatch: pytest.MonkeyPatch, examples_dir: Path
) -> None:
    monkeypatch.delenv("LLAMA_CLOUD_API_KEY")
    monkeypatch.delenv("LLAMA_CLOUD_BASE_URL")
    result = CliRunner().invoke(
        cli,
        [
            "parse",
            str(examples_dir / "faq.html"),
            "--backend",
            "cloud",
            "--json",
            "--api-key",
            fake_llamacloud.api_key,
            "--base-url",
            fake_llamacloud.base_url,
        ],
    )
    assert result.exit_code == 0, result.output
    doc = json.loads(next(line for line in result.stdout.splitlines() if line.startswith("{")))
    assert doc["metadata"]["backend"] == "cloud"
    assert fake_llamacloud.count("POST", "/api/parsing/upload") == 1


def test_the_api_key_option_wins_over_the_environment(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, examples_dir: Path
) -> None:
    schema = tmp_path / "s.json"
    schema.write_text(
        json.dumps({"type": "object", "properties": {"d": {"type": "string"}}, "required": ["d"]})
    )
    result = CliRunner().invoke(
        cli,
        ["extract", "--schema", str(schema), str(examples_dir / "faq.html"), "--api-key", "llx-other-key"],
    )
    assert result.exit_code == 1
    assert "refused the API key" in result.stderr


def test_every_cloud_facing_command_takes_the_connection_options() -> None:
    for command in ("parse", "ask", "index", "extract"):
        result = CliRunner().invoke(cli, [command, "--help"])
        assert result.exit_code == 0
        for option in ("--api-key", "--base-url", "--project-name", "--project-id", "--organization-id"):
            assert option in result.output, (command, option)
