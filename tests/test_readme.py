"""Every Python block of README.md runs as written, the way the README says to run it.

The README's rule ("Running the examples in this README"): each block is a complete script, run
from the repository root in its own process; the blocks after the emulator's ``bash`` block run
with the emulator started as that block starts it and with the variables it exports; a block that
defines ``test_`` functions is a test file run with ``python -m pytest``; a ``text`` block right
after a script is what the script prints. Nothing is skipped, and nothing needs a key or the
network: the scripts run in a copy of ``examples/`` with no LlamaCloud or OpenAI key set.
"""

from __future__ import annotations

import ast
import doctest
import importlib
import os
import queue
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
BLOCK_TIMEOUT = 300.0


@dataclass(frozen=True)
class Block:
    """One fenced block of a markdown file."""

    lang: str
    code: str
    line: int


def fenced_blocks(path: Path) -> list[Block]:
    """The fenced blocks of ``path`` in order, with their language and first line number."""
    text = path.read_text(encoding="utf-8")
    blocks = []
    for match in re.finditer(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", text, flags=re.MULTILINE | re.DOTALL):
        line = text.count("\n", 0, match.start()) + 2
        blocks.append(Block(match.group(1), match.group(2), line))
    return blocks


def emulator_block_index(blocks: list[Block]) -> int:
    """The index of the bash block that starts the emulator for the examples after it."""
    found = [i for i, b in enumerate(blocks) if b.lang == "bash" and "cloudkit fake-server" in b.code]
    assert found, "README.md has no bash block starting `cloudkit fake-server`"
    return found[0]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _cloudkit() -> list[str]:
    script = Path(sys.executable).with_name("cloudkit")
    return [str(script)] if script.exists() else [sys.executable, "-m", "llama_index_cloudkit.cli"]


def _clean_env() -> dict[str, str]:
    """The test process's environment (conftest removed every key and endpoint from it)."""
    env = dict(os.environ)
    for key in ("LLAMA_CLOUD_API_KEY", "LLAMA_CLOUD_BASE_URL", "OPENAI_API_KEY", "CLOUDKIT_BACKEND"):
        assert key not in env
    return env


class Emulator:
    """``cloudkit fake-server`` started from the README's command, on a free port."""

    def __init__(self, block: Block, cwd: Path, env: dict[str, str]) -> None:
        lines = [line.strip() for line in block.code.splitlines() if line.strip()]
        start = next(line for line in lines if line.startswith("cloudkit fake-server"))
        argv = shlex.split(start.removesuffix("&").strip())
        assert "--port" in argv, f"the README starts the emulator without --port: {start}"
        self.readme_port = argv[argv.index("--port") + 1]
        self.port = _free_port()
        argv[argv.index("--port") + 1] = str(self.port)
        self.readme_exports = [line for line in lines if line.startswith("export ")]
        self.process = subprocess.Popen(
            _cloudkit() + argv[1:],
            cwd=cwd,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        self.output: queue.Queue[str] = queue.Queue()
        threading.Thread(target=self._pump, daemon=True).start()
        self.printed = [self._line() for _ in range(3)]

    def _pump(self) -> None:
        assert self.process.stdout is not None
        for line in self.process.stdout:
            self.output.put(line.rstrip("\n"))

    def _line(self) -> str:
        try:
            return self.output.get(timeout=120)
        except queue.Empty:
            pytest.fail("cloudkit fake-server printed nothing within 120 s")

    def exports(self) -> dict[str, str]:
        """The variables the server told the user to export, checked against the README's lines."""
        printed_exports = [line for line in self.printed if line.startswith("export ")]
        as_in_readme = [line.replace(f":{self.port}", f":{self.readme_port}") for line in printed_exports]
        assert as_in_readme == self.readme_exports, (
            f"the README's export lines {self.readme_exports} are not what the server prints: {as_in_readme}"
        )
        return dict(line.removeprefix("export ").split("=", 1) for line in printed_exports)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            pytest.fail("cloudkit fake-server did not stop on SIGTERM")
        assert code == 0, f"cloudkit fake-server exited {code}"


def _run(argv: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(argv, cwd=cwd, env=env, capture_output=True, text=True, timeout=BLOCK_TIMEOUT)


def _output_matches(want: str, got: str) -> bool:
    flags = doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE
    return doctest.OutputChecker().check_output(want, got, flags)


def _run_again_promise(text_block: Block | None) -> str | None:
    """The output the README promises for a second run of the script before ``text_block``."""
    if text_block is None or text_block.lang != "text":
        return None
    readme = README.read_text(encoding="utf-8")
    after = readme.split(text_block.code, 1)[1].split("```", 1)[1].lstrip()
    paragraph = after.split("\n\n", 1)[0]
    if not paragraph.startswith("Run it again"):
        return None
    quoted = re.findall(r"`([^`]+)`", paragraph)
    assert quoted, f"the README promises a second run without saying what it prints: {paragraph}"
    return quoted[-1]


@pytest.fixture
def clone_root(tmp_path: Path) -> Iterator[Path]:
    """A stand-in for a fresh clone's root: the examples and their data, nothing else."""
    root = tmp_path / "clone"
    root.mkdir()
    shutil.copytree(ROOT / "examples", root / "examples", ignore=shutil.ignore_patterns("__pycache__"))
    shutil.copy(ROOT / "README.md", root / "README.md")
    yield root


def test_every_python_block_of_the_readme_runs_as_written(clone_root: Path) -> None:
    blocks = fenced_blocks(README)
    python = [i for i, b in enumerate(blocks) if b.lang == "python"]
    emulator_at = emulator_block_index(blocks)
    assert python and emulator_at < max(python), "the emulator block must come before the cloud examples"
    env = _clean_env()
    failures: list[str] = []
    ran = 0
    emulator: Emulator | None = None
    try:
        for i, block in enumerate(blocks):
            if i == emulator_at:
                emulator = Emulator(block, clone_root, env)
                env = {**env, **emulator.exports()}
                continue
            if block.lang != "python":
                continue
            ran += 1
            where = f"README.md line {block.line}"
            tests = re.findall(r"^def (test_\w+)\(", block.code, flags=re.MULTILINE)
            if tests:
                path = clone_root / f"test_readme_block_{block.line}.py"
                path.write_text(block.code, encoding="utf-8")
                argv = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", path.name]
                result = _run(argv, clone_root, env)
                if result.returncode != 0 or f"{len(tests)} passed" not in result.stdout:
                    failures.append(f"{where}: pytest exit {result.returncode}\n{result.stdout[-3000:]}")
                continue
            path = clone_root / f"readme_block_{block.line}.py"
            path.write_text(block.code, encoding="utf-8")
            result = _run([sys.executable, path.name], clone_root, env)
            if result.returncode != 0:
                failures.append(f"{where}: exit {result.returncode}\n{result.stderr[-3000:]}")
                continue
            follows = blocks[i + 1] if i + 1 < len(blocks) else None
            again = _run_again_promise(follows)
            if again is not None:  # "Run it again and ...: `output`"
                second = _run([sys.executable, path.name], clone_root, env)
                if second.returncode != 0 or again not in second.stdout:
                    failures.append(
                        f"{where}, run again: no {again!r} in\n{second.stdout}{second.stderr[-2000:]}"
                    )
            if (
                follows is not None
                and follows.lang == "text"
                and not _output_matches(follows.code, result.stdout)
            ):
                failures.append(
                    f"{where}: printed\n{result.stdout}\nbut the text block at line {follows.line} shows\n"
                    f"{follows.code}"
                )
    finally:
        if emulator is not None:
            emulator.stop()
    assert ran == len(python)  # zero skipped blocks
    assert not failures, "\n\n".join(failures)


def _imports(tree: ast.Module) -> list[tuple[str, str | None]]:
    """(module, name) for every import of a parsed block; name is None for ``import module``."""
    found: list[tuple[str, str | None]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((alias.name, None) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.extend((node.module, alias.name) for alias in node.names)
    return found


@pytest.mark.parametrize("path", sorted(DOCS.glob("*.md")), ids=lambda p: p.name)
def test_docs_python_blocks_compile_and_their_imports_resolve(path: Path) -> None:
    """The docs' blocks are fragments (they need a Qdrant server, a LlamaCloud v2 index or names
    from the text around them), so they are not run; each parses and imports what exists."""
    problems = []
    for block in fenced_blocks(path):
        if block.lang != "python":
            continue
        where = f"{path.name} line {block.line}"
        try:
            tree = ast.parse(block.code)
        except SyntaxError as exc:
            problems.append(f"{where}: {exc}")
            continue
        for module, name in _imports(tree):
            try:
                imported = importlib.import_module(module)
            except ImportError as exc:
                problems.append(f"{where}: import {module}: {exc}")
                continue
            if name is not None and not hasattr(imported, name):
                problems.append(f"{where}: {module} has no {name}")
            if module.startswith("llama_index_cloudkit.") and name is not None:
                problems.append(f"{where}: import {name} from llama_index_cloudkit, not {module}")
    assert not problems, "\n".join(problems)


def test_readme_imports_only_from_the_top_level_package() -> None:
    """Deep module paths move; the README's examples use the stable top-level names."""
    for block in fenced_blocks(README):
        if block.lang == "python":
            for module, _ in _imports(ast.parse(block.code)):
                assert not module.startswith("llama_index_cloudkit."), f"README line {block.line}: {module}"


def test_output_comparison_catches_a_wrong_text_block() -> None:
    """The check behind the README's text blocks fails on a different output."""
    assert _output_matches("2/3 file(s) read\nfaq.html ...\n", "2/3 file(s) read\nfaq.html 1 of 1\n")
    assert not _output_matches("2/3 file(s) read\n", "3/3 file(s) read\n")


def test_the_install_section_lists_every_extra() -> None:
    """Every extra of pyproject.toml has a row in the README's Install table, and no other."""
    pyproject = (ROOT / "pyproject.toml").read_text(encoding="utf-8")  # tomllib needs Python 3.11
    table = pyproject.split("[project.optional-dependencies]\n", 1)[1].split("\n[", 1)[0]
    extras = set(re.findall(r"^([\w-]+) = \[", table, flags=re.MULTILINE))
    assert extras >= {"local", "testing", "dev"}
    readme = README.read_text(encoding="utf-8")
    section = re.search(r"^## Install\n(.*?)(?=^## )", readme, flags=re.MULTILINE | re.DOTALL)
    assert section, "README.md has no '## Install' section"
    rows = set(re.findall(r"^\| `(\w+)` \|", section.group(1), flags=re.MULTILINE))
    assert rows == extras


def test_the_emulator_takes_the_key_clients_must_send(tmp_path: Path) -> None:
    """README: `--api-key` sets the key clients must send, and the server prints it to export
    (`--port 0` is tests/cli's fake-server test)."""
    import httpx

    block = Block("bash", "cloudkit fake-server --port 0 --api-key llx-my-own-key &\n", 1)
    emulator = Emulator(block, tmp_path, _clean_env())
    try:
        exported = dict(line.removeprefix("export ").split("=", 1) for line in emulator.printed[1:])
        assert exported["LLAMA_CLOUD_API_KEY"] == "llx-my-own-key"
        url = exported["LLAMA_CLOUD_BASE_URL"] + "/api/v1/projects"
        assert httpx.get(url, headers={"Authorization": "Bearer llx-my-own-key"}).status_code == 200
        assert httpx.get(url, headers={"Authorization": "Bearer llx-fake-emulator-key"}).status_code == 401
    finally:
        emulator.stop()
