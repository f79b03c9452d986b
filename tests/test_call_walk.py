"""The architecture's one-way walk (docs/architecture.md): from ``cloudkit parse --preset agentic
--backend cloud`` to the upload POST, the package frames on the stack cross at most 12 modules and
never come back to a folder they left (the core calls no service; nothing calls back)."""

from __future__ import annotations

import traceback
from pathlib import Path
from typing import Any

import httpx
import pytest
from click.testing import CliRunner

from llama_index_cloudkit.cli import cli
from llama_index_cloudkit.cloud.transport import ResilientTransport
from llama_index_cloudkit.testing import FakeLlamaCloud

PACKAGE = Path(__import__("llama_index_cloudkit").__file__).parent


def _walk(stack: traceback.StackSummary) -> list[str]:
    """The package modules on ``stack``, outermost first, each once per visit."""
    modules: list[str] = []
    for frame in stack:
        path = Path(frame.filename)
        if PACKAGE in path.parents:
            module = path.relative_to(PACKAGE).as_posix()
            if not modules or modules[-1] != module:
                modules.append(module)
    return modules


def test_the_parse_call_walks_one_way_to_the_upload(
    fake_llamacloud: FakeLlamaCloud, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    stacks: list[traceback.StackSummary] = []
    handle = ResilientTransport.handle_async_request

    async def spy(self: ResilientTransport, request: httpx.Request) -> Any:
        if request.method == "POST" and request.url.path.endswith("/upload"):
            stacks.append(traceback.extract_stack())
        return await handle(self, request)

    monkeypatch.setattr(ResilientTransport, "handle_async_request", spy)
    (tmp_path / "notes.md").write_text("# Notes\n\nLlamas eat hay.")
    result = CliRunner().invoke(
        cli,
        ["parse", str(tmp_path / "notes.md"), "--preset", "agentic", "--backend", "cloud"],
        env={
            "LLAMA_CLOUD_API_KEY": fake_llamacloud.api_key,
            "LLAMA_CLOUD_BASE_URL": fake_llamacloud.base_url,
            "CLOUDKIT_CACHE_DIR": str(tmp_path / "cache"),
        },
    )
    assert result.exit_code == 0, result.output
    assert len(stacks) == 1
    walk = [*_walk(stacks[0]), "cloud/transport.py"]  # the spy stands in for the transport's frame
    assert walk[0].startswith("cli/") and "parse/llamacloud/llamaparse_v1.py" in walk, walk
    assert len(walk) == len(set(walk)) <= 12, walk  # no module visited twice
    folders = [module.rsplit("/", 1)[0] if "/" in module else "" for module in walk]
    left: list[str] = []
    for folder in folders:
        if not left or left[-1] != folder:
            assert folder not in left, f"the walk comes back to {folder or 'the top'}/: {walk}"
            left.append(folder)
