"""Image file names made from what the service answered: job ids and image names, sanitized."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

from llama_index_cloudkit import CloudKitSettings
from llama_index_cloudkit.parse.llamacloud import parse_service
from llama_index_cloudkit.parse.llamacloud.engine import CloudEngine
from llama_index_cloudkit.parse.model import ParsedFile, ParsedPage
from llama_index_cloudkit.parse.presets import ParsePreset


class _Images:
    """A parse service that serves every image as the same bytes (only image() is used)."""

    def __init__(self, service: Any) -> None:
        self._service = service

    def __getattr__(self, name: str) -> Any:
        return getattr(self._service, name)

    async def image(self, session: object, job_id: str, name: str, file_name: str) -> bytes:
        return b"\x89PNG image"


def test_a_job_id_with_path_separators_gives_a_clean_image_name(tmp_path: Path) -> None:
    settings = CloudKitSettings(api_key="llx-example", cache_dir=tmp_path / "cache")
    service = _Images(parse_service(settings, ParsePreset.AGENTIC, {}))
    images = tmp_path / "images"
    engine = CloudEngine(settings, service, images_dir=images)
    parsed = ParsedFile("a.pdf", [ParsedPage(1, ["# A"], images=["img_1.png"])], parser="llamaparse")
    for job_id in ("../../evil/job", "a/b", "..\\x"):
        saved = asyncio.run(engine._save_images(None, job_id, parsed, "a.pdf"))  # type: ignore[arg-type]
        (path,) = saved[1]
        assert Path(path).parent == images.resolve() and Path(path).read_bytes() == b"\x89PNG image"
        assert "/" not in Path(path).name and "\\" not in Path(path).name
        assert Path(path).name.endswith("-img_1.png") and not Path(path).name.startswith(".")
