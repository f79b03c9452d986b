"""The command line speaks its own syntax: hints name options, --debug goes anywhere."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner, Result

from llama_index_cloudkit.cli import cli
from llama_index_cloudkit.cli._errors import cli_syntax


def _run(*args: str) -> Result:
    return CliRunner().invoke(cli, list(args))


def test_a_missing_key_hint_names_the_options_not_python_keywords(examples_dir: Path) -> None:
    result = _run("parse", str(examples_dir / "faq.html"), "--backend", "cloud")
    assert result.exit_code == 2
    line = next(line for line in result.stderr.splitlines() if line.startswith("Error:"))
    assert "--api-key" in line and "--backend local" in line
    assert "api_key=" not in line and "backend='local'" not in line


def test_python_hints_become_command_line_hints() -> None:
    assert cli_syntax("pass api_key=..., or use backend='local'") == (
        "pass --api-key KEY, or use --backend local"
    )
    assert cli_syntax("Pass project_id=... (or LLAMA_CLOUD_PROJECT_ID)") == (
        "Pass --project-id ID (or LLAMA_CLOUD_PROJECT_ID)"
    )
    assert cli_syntax("nothing to change") == "nothing to change"


def test_debug_is_accepted_after_the_subcommand(examples_dir: Path) -> None:
    before = _run("--debug", "parse", str(examples_dir / "faq.html"), "--backend", "cloud")
    after = _run("parse", str(examples_dir / "faq.html"), "--backend", "cloud", "--debug")
    assert before.exit_code == after.exit_code == 2
    assert "Traceback" in before.stderr and "Traceback" in after.stderr
    assert "No such option" not in after.stderr


def test_debug_after_a_double_dash_is_left_to_the_command(examples_dir: Path) -> None:
    result = _run("parse", "--backend", "local", "--", "--debug")
    assert "Traceback" not in result.stderr
