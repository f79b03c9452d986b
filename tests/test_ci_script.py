""".ci/run does what a newcomer does: the README's quick start word for word in a fresh venv,
nothing installed around it, and any failure (pytest's "no tests ran" included) fails the run."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import textwrap
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
CI_SCRIPT = ROOT / ".ci" / "run"


def _code_lines() -> list[str]:
    """The lines of .ci/run that are not comments."""
    script = CI_SCRIPT.read_text(encoding="utf-8")
    return [line for line in script.splitlines() if not line.lstrip().startswith("#")]


def quick_start_commands() -> list[str]:
    """The shell commands in the README's Quick start section, in order."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = re.search(r"^## Quick start\n(.*?)(?=^## )", readme, flags=re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Quick start' section"
    blocks = re.findall(r"```(?:bash|console|sh)?\n(.*?)```", section.group(1), flags=re.DOTALL)
    return [line.strip() for block in blocks for line in block.splitlines() if line.strip()]


def test_the_readme_quick_start_has_the_two_commands() -> None:
    commands = quick_start_commands()
    assert len(commands) == 2
    assert commands[0].startswith('pip install -e ".[local]"') and "cloudkit ask" in commands[0]
    assert commands[1] == 'pip install -e ".[dev]" && python -m pytest'


def test_ci_runs_each_quick_start_command_word_for_word() -> None:
    script = CI_SCRIPT.read_text(encoding="utf-8")
    for command in quick_start_commands():
        assert command in script, f".ci/run does not run the README's command: {command}"


def test_ci_installs_nothing_outside_the_readme_commands() -> None:
    script = CI_SCRIPT.read_text(encoding="utf-8")
    code = _code_lines()
    assert "apt-get" not in script
    assert not any(re.search(r"\b(apt|apt-get|dpkg|yum|apk)\b", line) for line in code)
    installs = [line for line in code if re.search(r"\b(pip|pip3|uv|conda|brew)\b.*\binstall\b", line)]
    assert len(installs) == len(quick_start_commands())
    assert all(any(command in line for command in quick_start_commands()) for line in installs)


# --- the script run for real, with stand-ins for python, pip, cloudkit, ruff and mypy -------------

_FAKE_PYTHON3 = textwrap.dedent(
    """\
    #!/usr/bin/env bash
    # Stand-in for `python3 -m venv DIR`: a venv whose tools log their call; the call that starts
    # with $FAKE_FAIL exits with $FAKE_CODE, every other one succeeds.
    [ "$1 $2" = "-m venv" ] || { echo "unexpected python3 $*" >&2; exit 97; }
    mkdir -p "$3/bin"
    printf 'export PATH="%s/bin:$PATH"\\n' "$3" > "$3/bin/activate"
    for tool in python pip cloudkit ruff mypy; do
      cat > "$3/bin/$tool" <<EOF
    #!/usr/bin/env bash
    call="$tool\\${*:+ \\$*}"
    echo "\\$call" >> "\\$FAKE_LOG"
    if [ -n "\\${FAKE_FAIL:-}" ] && [ "\\${call#"\\$FAKE_FAIL"}" != "\\$call" ]; then exit "\\$FAKE_CODE"; fi
    exit 0
    EOF
      chmod +x "$3/bin/$tool"
    done
    """
)


def _run_ci(tmp_path: Path, fail: str = "", code: int = 1) -> tuple[int, list[str]]:
    if "apt-get" in CI_SCRIPT.read_text(encoding="utf-8") or any(
        re.search(r"\b(apt|dpkg|sudo)\b", line) for line in _code_lines()
    ):
        pytest.fail(".ci/run touches system packages: it is not run here, it would change this machine")
    repo = tmp_path / "clone"
    (repo / ".ci").mkdir(parents=True)
    shutil.copy(CI_SCRIPT, repo / ".ci" / "run")
    fake_bin = tmp_path / "bin"
    fake_bin.mkdir()
    (fake_bin / "python3").write_text(_FAKE_PYTHON3)
    (fake_bin / "python3").chmod(0o755)
    log = tmp_path / "calls.log"
    log.touch()
    env = {
        "PATH": f"{fake_bin}:/usr/bin:/bin",
        "HOME": str(tmp_path),
        "CI": "true",
        "FAKE_LOG": str(log),
        "FAKE_FAIL": fail,
        "FAKE_CODE": str(code),
    }
    result = subprocess.run(
        ["bash", str(repo / ".ci" / "run")],
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
    )
    return result.returncode, log.read_text().splitlines()


@pytest.fixture()
def bash() -> None:
    if shutil.which("bash") is None or not os.path.exists("/usr/bin/env"):
        pytest.skip("needs bash and /usr/bin/env")


ALL_STEPS = [
    "pip install -e .[local]",
    "cloudkit ask examples/data How much hay does an adult llama eat per day?",
    "pip install -e .[dev]",
    "python -m pytest",
    "python -m pytest --doctest-modules llama_index_cloudkit",
    "ruff check .",
    "ruff format --check .",
    "mypy",
]


def test_ci_passes_when_every_step_passes_and_runs_them_in_order(bash: None, tmp_path: Path) -> None:
    code, calls = _run_ci(tmp_path)
    assert code == 0
    assert [c for c in calls if c != "python --version"] == ALL_STEPS


def test_ci_fails_when_pytest_runs_no_test(bash: None, tmp_path: Path) -> None:
    code, calls = _run_ci(tmp_path, fail="python -m pytest", code=5)
    assert code != 0
    assert "ruff check ." not in calls


def test_ci_fails_when_the_first_install_fails(bash: None, tmp_path: Path) -> None:
    code, calls = _run_ci(tmp_path, fail="pip install -e .[local]")
    assert code != 0
    assert not any(c.startswith("cloudkit") for c in calls)


@pytest.mark.parametrize(
    "failing",
    [
        "cloudkit ask examples/data How much hay",
        "python -m pytest --doctest-modules",
        "mypy",
        "ruff format --check .",
    ],
)
def test_ci_fails_when_any_later_step_fails(bash: None, tmp_path: Path, failing: str) -> None:
    code, _ = _run_ci(tmp_path, fail=failing)
    assert code != 0
