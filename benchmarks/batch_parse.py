"""Batch parsing on the LlamaCloud emulator: ours against the seed's pattern and the SDK's best call.

Run: python benchmarks/batch_parse.py [--files 32] [--latency 1.0]

Every contender parses the same folder of generated one-page PDFs against an emulator whose jobs
stay PENDING for ``--latency`` seconds and then answer one fixed page (``serve_fixture``, so the
emulator's own parsing does not compete for the CPU), each with default polling and a cold cache:

- seed: ``SimpleDirectoryReader(folder, file_extractor={".pdf": LlamaParse(...)})``, the pattern
  the seed's users write (one job at a time);
- SDK batch: ``LlamaParse(num_workers=8).load_data(list_of_files)``, the SDK's best batch call;
- ours, SimpleDirectoryReader: ``SimpleDirectoryReader(folder, file_extractor=file_extractor(...))
  .load_data()``;
- ours, aload_data: ``await SimpleDirectoryReader(...).aload_data(num_workers=8)``;
- ours again: the same folder a second time (answered from the cache: 0 uploads expected).

The emulator keeps connections alive like the real service. Only the seed's pattern runs on a
second emulator that answers ``Connection: close``: with keep-alive, the SDK's cached client
fails on the second file under SimpleDirectoryReader (the event-loop trap), so there would be
nothing to time. Both emulators have the same job latency.

The package keeps LlamaCloud's documented upload limit (50 uploads per 10 s, process-wide) and
the SDK keeps none, so each of our paid rows starts with an empty window (a 10.5 s pause before
it), as the SDK's row did. Two one-file rows time a single file against the job's latency.

Prints wall times, upload counts and the ratios (goals: >= 8x the seed's pattern, >= 1.5x the
SDK's batch call, and a re-run with 0 uploads).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

from llama_index.core import SimpleDirectoryReader

from llama_index_cloudkit import CloudKitSettings, file_extractor
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.testing import FakeLlamaCloud

UPLOAD = ("POST", "/api/parsing/upload")
UPLOAD_WINDOW = CloudPolicy().upload_window + 0.5
ONE_PAGE = {
    "pages": [
        {
            "page": 1,
            "text": "Report. A llama ate 4 kg of hay.",
            "md": "# Report\n\nA llama ate 4 kg of hay.",
            "items": [],
            "images": [],
        }
    ],
    "job_metadata": {"job_pages": 1},
}


def make_pdfs(folder: Path, count: int) -> None:
    from fpdf import FPDF

    for i in range(count):
        pdf = FPDF()
        pdf.add_page()
        pdf.set_font("Helvetica", size=12)
        pdf.multi_cell(0, 8, f"Report {i}. Llama {i} ate {i % 5 + 2} kg of hay on day {i}.")
        pdf.output(str(folder / f"report-{i:02d}.pdf"))


def timed(label: str, fake: FakeLlamaCloud, run: Callable[[], list[Any]]) -> tuple[float, int]:
    before = fake.count(*UPLOAD)
    started = time.perf_counter()
    docs = run()
    elapsed = time.perf_counter() - started
    uploads = fake.count(*UPLOAD) - before
    print(f"  {label:46s} {elapsed:7.2f} s  {len(docs):3d} docs  {uploads:3d} uploads")
    return elapsed, uploads


def llamaparse(fake: FakeLlamaCloud, **kwargs: Any) -> Any:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        from llama_cloud_services import LlamaParse
    return LlamaParse(
        api_key=fake.api_key, base_url=fake.base_url, result_type="markdown", verbose=False, **kwargs
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--files", type=int, default=32)
    parser.add_argument("--latency", type=float, default=1.0)
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory() as tmp,
        FakeLlamaCloud() as fake,
        FakeLlamaCloud(connection_close=True) as closing,
    ):
        root = Path(tmp)
        folder = root / "docs"
        folder.mkdir()
        make_pdfs(folder, args.files)
        files = sorted(str(p) for p in folder.iterdir())
        for server in (fake, closing):
            server.script_parse_jobs(pending_seconds=args.latency)
            server.serve_fixture(ONE_PAGE)  # no local parsing in the emulator: latency is the job's
        print(f"{args.files} one-page PDFs, emulator job latency {args.latency:g} s, default polling")

        seed, _ = timed(
            "seed: SimpleDirectoryReader + LlamaParse",
            closing,
            lambda: SimpleDirectoryReader(
                str(folder), file_extractor={".pdf": llamaparse(closing)}
            ).load_data(),
        )
        sdk, _ = timed(
            "SDK batch: LlamaParse(num_workers=8).load_data",
            fake,
            lambda: llamaparse(fake, num_workers=8).load_data(files),
        )

        def extractor(cache: str) -> dict[str, Any]:
            settings = CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url, cache_dir=root / cache)
            return file_extractor(backend="cloud", settings=settings)

        ours, _ = timed(
            "ours: SimpleDirectoryReader.load_data",
            fake,
            lambda: SimpleDirectoryReader(str(folder), file_extractor=extractor("a")).load_data(),
        )
        # The package keeps LlamaCloud's documented upload limit (50 per 10 s, process-wide); the
        # SDK keeps none. Each of our paid rows starts with an empty window, as the SDK's did.
        time.sleep(UPLOAD_WINDOW)
        ours_async, _ = timed(
            "ours: SimpleDirectoryReader.aload_data(8)",
            fake,
            lambda: asyncio.run(
                SimpleDirectoryReader(str(folder), file_extractor=extractor("b")).aload_data(num_workers=8)
            ),
        )
        again, again_uploads = timed(
            "ours again (cache)",
            fake,
            lambda: SimpleDirectoryReader(str(folder), file_extractor=extractor("a")).load_data(),
        )
        # One file, in a process that has parsed before (imports and the SDK already loaded, as
        # for every row above): the wall time against the job's own latency.
        one_file = [files[0]]
        time.sleep(UPLOAD_WINDOW)
        single, _ = timed(
            "ours: one file, CloudKitReader.load_data",
            fake,
            lambda: file_extractor(
                backend="cloud",
                settings=CloudKitSettings(api_key=fake.api_key, base_url=fake.base_url, cache_dir=root / "c"),
            )[".pdf"].load_data(one_file),
        )
        single_async, _ = timed(
            "ours: one file, CloudKitReader.aload_data",
            fake,
            lambda: asyncio.run(
                file_extractor(
                    backend="cloud",
                    settings=CloudKitSettings(
                        api_key=fake.api_key, base_url=fake.base_url, cache_dir=root / "d"
                    ),
                )[".pdf"].aload_data(one_file)
            ),
        )
    print(
        f"  one file vs job latency: {single / args.latency:6.2f}x sync, "
        f"{single_async / args.latency:6.2f}x async  (goal <= 1.3x)"
    )
    print(f"  ours vs seed:          {seed / ours:6.1f}x  (goal >= 8x)")
    print(f"  ours vs SDK batch:     {sdk / ours:6.1f}x  (goal >= 1.5x)")
    print(f"  aload_data vs SDK:     {sdk / ours_async:6.1f}x")
    print(f"  re-run vs first run:   {ours / again:6.1f}x  with {again_uploads} uploads (goal: 0 uploads)")


if __name__ == "__main__":
    main()
