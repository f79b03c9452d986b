"""Extraction keeps the parse side's promises: concurrent identical calls pay once."""

from __future__ import annotations

import asyncio
import json
import threading
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from llama_index_cloudkit import CloudPolicy
from llama_index_cloudkit.extract import extraction_tool
from llama_index_cloudkit.testing import FakeLlamaCloud

RUN = "/api/v1/extraction/run"
QUICK = CloudPolicy(job_timeout=60, poll_interval=0.05, max_poll_interval=0.2)


class Terms(BaseModel):
    carrier: str
    refund_window_days: int


ANSWER = {"carrier": "UPS", "refund_window_days": 30}


def _slow_answers(fake: FakeLlamaCloud) -> None:
    fake.on_extract(lambda s, c, t: dict(ANSWER))
    fake.script_extract_jobs("SUCCESS", pending_seconds=0.5)  # calls overlap while it runs


def test_three_threads_asking_the_same_text_pay_once(fake_llamacloud: FakeLlamaCloud) -> None:
    _slow_answers(fake_llamacloud)
    tool = extraction_tool(schema=Terms, backend="cloud", policy=QUICK)
    outputs: list[Any] = []
    barrier = threading.Barrier(3)

    def call() -> None:
        barrier.wait()
        outputs.append(tool.call(text="Shipped by UPS; returns within 30 days."))

    threads = [threading.Thread(target=call) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    assert len(outputs) == 3 and all(o.raw_output == Terms(**ANSWER) for o in outputs), outputs
    assert fake_llamacloud.count("POST", RUN) == 1


def test_concurrent_async_calls_on_one_file_pay_once(
    fake_llamacloud: FakeLlamaCloud, examples_dir: Path
) -> None:
    _slow_answers(fake_llamacloud)
    tool = extraction_tool(schema=Terms, backend="cloud", policy=QUICK, allowed_dirs=[examples_dir])
    doc = str(examples_dir / "shipping-policy.docx")

    async def three() -> list[Any]:
        return list(await asyncio.gather(*(tool.acall(file_path=doc) for _ in range(3))))

    outputs = asyncio.run(three())
    assert all(o.raw_output == Terms(**ANSWER) for o in outputs), outputs
    assert fake_llamacloud.count("POST", RUN) == 1


def test_queueing_the_same_file_twice_pays_once(fake_llamacloud: FakeLlamaCloud, examples_dir: Path) -> None:
    from llama_cloud_services import LlamaExtract

    from llama_index_cloudkit.extract import ExtractionToolSpec

    LlamaExtract(verbose=False).create_agent("terms", Terms)
    fake_llamacloud.on_extract(lambda s, c, t: dict(ANSWER))
    spec = ExtractionToolSpec(allowed_dirs=[examples_dir])
    doc = str(examples_dir / "shipping-policy.docx")
    before = fake_llamacloud.count("POST", "/api/v1/extraction/jobs")
    queued = json.loads(spec.queue_extractions("terms", [doc, doc]))
    assert fake_llamacloud.count("POST", "/api/v1/extraction/jobs") - before == 1
    assert len(queued["job_ids"]) == 2 and queued["job_ids"][0] == queued["job_ids"][1]
