"""Local parsing speed against raw pypdfium2 text extraction, and memory on a long PDF.

Run: python benchmarks/local_parse.py [--corpus ../shared/data/corpus] [--pages 500]

Prints, measured in the same run:
- pages/s of CloudKitReader(backend="local") and of raw pypdfium2 ``get_text_range`` on the
  corpus's text-only PDFs (no ruled tables, with a text layer), and their ratio (goal >= 0.5x);
- the same on every PDF of the corpus (tables included), for information;
- peak RSS of a child process that parses a generated N-page PDF (goal < 600 MB).
"""

from __future__ import annotations

import argparse
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

DEFAULT_CORPUS = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "corpus"
TEXT_ONLY = [
    "2305.03393v1-pg9.pdf",
    "DA-1p.pdf",
    "crazyones-pdfa.pdf",
    "issue-33-lorem-ipsum.pdf",
    "layout-parser-paper-fast.pdf",
    "multi-column-2p.pdf",
    "multi_page.pdf",
    "pdflatex-4-pages.pdf",
    "picture_classification.pdf",
    "table_mislabeled_as_picture.pdf",
]


def raw_pdfium_pages(paths: list[Path]) -> int:
    import pypdfium2

    pages = 0
    for path in paths:
        pdf = pypdfium2.PdfDocument(str(path))
        for index in range(len(pdf)):
            page = pdf[index]
            page.get_textpage().get_text_range()
            pages += 1
        pdf.close()
    return pages


def reader_pages(paths: list[Path]) -> int:
    from llama_index_cloudkit import CloudKitReader

    return len(CloudKitReader(backend="local", ocr="off").load_data(paths))


def rate(fn, paths: list[Path], repeat: int) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    pages = 0
    for _ in range(repeat):
        start = time.perf_counter()
        pages = fn(paths)
        best = min(best, time.perf_counter() - start)
    return pages / best


def make_long_pdf(path: Path, pages: int) -> None:
    from fpdf import FPDF

    pdf = FPDF()
    pdf.set_font("Helvetica", size=10)
    paragraph = ("Llamas are social animals and live in herds. " * 12).strip()
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.multi_cell(0, 5, f"Page {number}. {paragraph}\n\n{paragraph}\n\n{paragraph}")
    pdf.output(str(path))


def peak_rss_mb_of_child(pdf: Path) -> tuple[float, int]:
    code = (
        "import resource, sys\n"
        "from llama_index_cloudkit import CloudKitReader\n"
        "n = sum(1 for _ in CloudKitReader(backend='local', ocr='off')"
        ".lazy_load_data(sys.argv[1]))\n"
        "print(n, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code, str(pdf)], capture_output=True, text=True, check=True
    ).stdout.split()
    return int(out[1]) / 1024, int(out[0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--pages", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    if not args.corpus.is_dir():
        sys.exit(f"corpus not found: {args.corpus}")

    text_only = [args.corpus / name for name in TEXT_ONLY]
    every_pdf = sorted(args.corpus.glob("*.pdf"))
    reader_pages(text_only[:1])  # warm imports

    baseline = rate(raw_pdfium_pages, text_only, args.repeat)
    ours = rate(reader_pages, text_only, args.repeat)
    print(f"text-only PDFs ({len(text_only)} files)")
    print(f"  baseline raw pypdfium2 text : {baseline:8.1f} pages/s")
    print(f"  CloudKitReader local        : {ours:8.1f} pages/s")
    print(f"  ratio                       : {ours / baseline:8.2f}x  (goal >= 0.5x)")

    baseline_all = rate(raw_pdfium_pages, every_pdf, 1)
    ours_all = rate(reader_pages, every_pdf, 1)
    print(f"every corpus PDF ({len(every_pdf)} files, ruled tables included, OCR off)")
    print(f"  baseline raw pypdfium2 text : {baseline_all:8.1f} pages/s")
    print(f"  CloudKitReader local        : {ours_all:8.1f} pages/s")
    print(f"  ratio                       : {ours_all / baseline_all:8.2f}x")

    with tempfile.TemporaryDirectory() as tmp:
        long_pdf = Path(tmp) / "long.pdf"
        make_long_pdf(long_pdf, args.pages)
        peak_mb, pages = peak_rss_mb_of_child(long_pdf)
    own = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(
        f"generated {pages}-page PDF: peak RSS of the parsing process {peak_mb:.0f} MB "
        f"(goal < 600 MB; this benchmark process: {own:.0f} MB)"
    )


if __name__ == "__main__":
    main()
