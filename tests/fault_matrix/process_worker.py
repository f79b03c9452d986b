"""A separate process that parses one file with the cloud reader (for the two-process and SIGINT tests).

Usage: ``python process_worker.py BASE_URL KEY CACHE_DIR FILE MODE READY GO``

- MODE ``plain``: ``load_data`` from plain sync code; ``in_loop``: ``load_data`` called inside a
  running event loop (as in Jupyter), so the call runs on a worker thread; ``extract``: the
  extraction tool on FILE (a stateless extraction); ``queue``: FILE queued with the agent
  ``terms`` (prints ``QUEUED <job ids>``); ``extract_in_loop``: the extraction inside a running
  event loop.
- READY is created once imports are done; the parse starts when GO exists.

Prints ``DOCS <text>`` (the documents' or the tool's output) on success, ``INTERRUPTED`` on KeyboardInterrupt.
"""

from __future__ import annotations

import asyncio
import sys
import time
from pathlib import Path

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.cloud.policy import CloudPolicy


def _extract(settings: CloudKitSettings, policy: CloudPolicy, file: str) -> str:
    from llama_index_cloudkit.extract import extraction_tool

    schema = {"type": "object", "properties": {"carrier": {"type": "string"}}, "required": ["carrier"]}
    tool = extraction_tool(
        schema=schema, backend="cloud", settings=settings, policy=policy, allowed_dirs=[Path(file).parent]
    )
    return str(tool.call(file_path=file).content)


def _queue(settings: CloudKitSettings, policy: CloudPolicy, file: str) -> str:
    from llama_index_cloudkit.extract import ExtractionToolSpec

    spec = ExtractionToolSpec(settings=settings, allowed_dirs=[Path(file).parent], policy=policy)
    return "QUEUED " + spec.queue_extractions("terms", [file])


def main() -> int:
    base_url, key, cache, file, mode, ready, go = sys.argv[1:8]
    settings = CloudKitSettings(api_key=key, base_url=base_url, cache_dir=Path(cache))
    policy = CloudPolicy(job_timeout=120, poll_interval=0.2, max_poll_interval=0.5)
    reader = CloudKitReader(backend="cloud", settings=settings, policy=policy)
    Path(ready).touch()
    while not Path(go).exists():
        time.sleep(0.01)

    in_loop = mode.endswith("in_loop")
    task = mode.removesuffix("_in_loop")

    def parse() -> str:
        if task == "extract":
            return _extract(settings, policy, file)
        if task == "queue":
            return _queue(settings, policy, file)
        return "\n".join(d.text for d in reader.load_data(file))

    async def in_a_running_loop() -> str:
        return parse()  # a sync call inside a running loop, like a notebook cell

    try:
        text = asyncio.run(in_a_running_loop()) if in_loop else parse()
    except KeyboardInterrupt:
        print("INTERRUPTED", flush=True)
        return 130
    print("DOCS", text.replace("\n", " "), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
