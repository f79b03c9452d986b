"""Local parsing quality against offline peers: text F1, reading order and table-cell recall per file.

Run (from the worktree root):

    python3 -m venv .bench-venv
    .bench-venv/bin/pip install 'markitdown[pdf,docx,pptx,xlsx]' 'pymupdf4llm==1.28.2' docling
    .venv/bin/python benchmarks/local_quality.py [--corpus DIR] [--peers-python .bench-venv/bin/python]

The peers live in their own environment (``.bench-venv``), never in the package's: this script
runs them in a child process of that interpreter, offline (``HF_HUB_OFFLINE=1``), as ours runs.
docling (it pulls torch, about 1 GB) reads DOCX, PPTX, XLSX and HTML with no model; its PDF
pipeline needs layout models from the Hugging Face hub, so offline its PDFs come out as errors
and are left out of its scores. pymupdf4llm is pinned to 1.28.2 (the index this was run against
serves a 2.0 wheel with no module in it); it is AGPL: only run, never imported by the package.

Per file of ``../shared/data/corpus`` (images and the 4-page scan excluded: OCR has its own benchmark,
``benchmarks/local_parse.py``; ``single_table.pdf`` is read, with OCR for us):

- text F1: bag-of-words F1 of the whole output against the ground truth (``groundtruth/*.gt.md``);
- reading order: word-sequence similarity to the same ground truth (difflib ratio, 0..1);
- table-cell recall: the share of the reference cells (``benchmarks/table_refs/*.json``) found as
  cells of a table in the output (markdown or HTML tables), each output cell used once, compared
  with case and whitespace ignored (word gluing is what text F1 measures).

Prints one row per file and metric, each parser's score and ours divided by the best peer's, then
the means, and the acceptance checks: cell recall >= the best peer's on every file with a table,
mean text F1 >= ``--baseline-f1``.
"""

from __future__ import annotations

import argparse
import collections
import html
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parent.parent / "shared" / "data" / "corpus"  # beside the checkout
REFS = HERE / "table_refs"
SKIP = {".jpg", ".jpeg", ".png", ".tif", ".tiff"}
SKIP_FILES = {"nemotron_multipage.pdf"}

PEER_RUNNER = r"""
import json, sys, time, warnings
warnings.simplefilter("ignore")
files = json.loads(sys.argv[1])
out = {}
def run(name, convert):
    try:
        convert(None)
    except Exception as exc:  # the peer is not installed
        out[name] = {"error": f"{type(exc).__name__}: {exc}"}
        return
    res = {}
    for f in files:
        start = time.perf_counter()
        try:
            res[f] = {"text": convert(f), "seconds": time.perf_counter() - start}
        except Exception as exc:
            res[f] = {"text": "", "error": f"{type(exc).__name__}: {exc}", "seconds": 0.0}
    out[name] = res

def markitdown(path):
    from markitdown import MarkItDown
    md = MarkItDown()
    return None if path is None else md.convert(path).text_content

def pymupdf4llm(path):
    import pymupdf4llm as m
    if path is None:
        return None
    if not path.lower().endswith(".pdf"):
        raise ValueError("PDF only")
    return m.to_markdown(path)

def docling(path):
    from docling.document_converter import DocumentConverter
    if path is None:
        return None
    return DocumentConverter().convert(path).document.export_to_markdown()

for name in sys.argv[2].split(","):
    run(name, {"markitdown": markitdown, "pymupdf4llm": pymupdf4llm, "docling": docling}[name])
print(json.dumps(out))
"""


def words(text: str) -> list[str]:
    from llama_index_cloudkit.parse.local.similarity import words as _words

    return _words(html.unescape(text.replace("<br>", " ")))


def f1(ours: str, reference: str) -> float:
    a, b = collections.Counter(words(ours)), collections.Counter(words(reference))
    common = sum((a & b).values())
    if not common:
        return 0.0
    precision, recall = common / sum(a.values()), common / sum(b.values())
    return 2 * precision * recall / (precision + recall)


def order(ours: str, reference: str) -> float:
    from llama_index_cloudkit.parse.local.similarity import text_similarity

    return text_similarity(ours, reference)


def _key(cell: str) -> str:
    cell = html.unescape(re.sub(r"<br\s*/?>", " ", cell)).replace("\\|", "|")
    cell = re.sub(r"[*_`]", "", cell)  # markdown emphasis around a cell
    return "".join(cell.lower().split())


def table_cells(text: str) -> collections.Counter[str]:
    """Every cell of every markdown or HTML table in ``text``, normalised."""
    cells: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        line = line.strip()
        if line.startswith("|") and line.endswith("|") and len(line) > 1:
            parts = re.split(r"(?<!\\)\|", line[1:-1])
            if all(re.fullmatch(r"\s*:?-{1,}:?\s*", p) for p in parts):
                continue  # the separator row
            cells.update(k for p in parts if (k := _key(p)))
    for cell in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", text, flags=re.S):
        if k := _key(re.sub(r"<[^>]+>", " ", cell)):
            cells[k] += 1
    return cells


def cell_recall(text: str, tables: list[list[list[str]]]) -> float:
    want = collections.Counter(_key(c) for t in tables for r in t for c in r if _key(c))
    have = table_cells(text)
    return sum((want & have).values()) / sum(want.values())


def ours(files: list[Path]) -> dict[str, dict[str, object]]:
    from llama_index_cloudkit import CloudKitReader

    reader = CloudKitReader(backend="local", ocr="auto")
    out: dict[str, dict[str, object]] = {}
    for path in files:
        start = time.perf_counter()
        docs = reader.load_data(path)
        out[str(path)] = {"text": "\n\n".join(d.text for d in docs), "seconds": time.perf_counter() - start}
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    parser.add_argument("--peers-python", default=str(HERE.parent / ".bench-venv" / "bin" / "python"))
    parser.add_argument("--peers", default="markitdown,docling,pymupdf4llm")
    parser.add_argument("--baseline-f1", type=float, default=None, help="mean text F1 to keep (today's)")
    parser.add_argument("--dump", type=Path, default=None, help="write every output to this folder")
    args = parser.parse_args()

    files = [
        p
        for p in sorted(args.corpus.iterdir())
        if p.is_file() and p.suffix.lower() not in SKIP and p.name not in SKIP_FILES and p.suffix != ".md"
    ]
    results: dict[str, dict[str, dict[str, object]]] = {"ours": ours(files)}
    # Offline, as ours: a peer that needs to download a model fails fast instead of hanging.
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    proc = subprocess.run(
        [args.peers_python, "-c", PEER_RUNNER, json.dumps([str(p) for p in files]), args.peers],
        capture_output=True,
        text=True,
        check=True,
        env=env,
    )
    for name, res in json.loads(proc.stdout.strip().splitlines()[-1]).items():
        if "error" in res:
            print(f"peer {name}: not run ({res['error']})")
            continue
        results[name] = res
    parsers = list(results)
    peers = parsers[1:]
    if args.dump:
        args.dump.mkdir(parents=True, exist_ok=True)
        for name, res in results.items():
            for f, r in res.items():
                (args.dump / f"{Path(f).name}.{name}.md").write_text(str(r["text"]))

    print(f"{'file':44} {'metric':7} " + " ".join(f"{p:>11}" for p in parsers) + "  ours/best peer")
    means: dict[str, dict[str, list[float]]] = {m: {p: [] for p in parsers} for m in ("f1", "order", "cells")}
    failures: list[str] = []
    for path in files:
        gt = args.corpus / "groundtruth" / f"{path.name}.gt.md"
        ref = REFS / f"{path.name}.json"
        metrics: dict[str, object] = {}
        if gt.exists():
            reference = gt.read_text(encoding="utf-8")
            metrics["f1"] = lambda t, r=reference: f1(t, r)
            metrics["order"] = lambda t, r=reference: order(t, r)
        if ref.exists():
            tables = json.loads(ref.read_text())["tables"]
            metrics["cells"] = lambda t, tb=tables: cell_recall(t, tb)
        for metric, fn in metrics.items():
            scores = {}
            for p in parsers:
                r = results[p].get(str(path))
                if r is None or r.get("error"):
                    continue
                scores[p] = fn(str(r["text"]))  # type: ignore[operator]
                means[metric][p].append(scores[p])
            best = max((scores[p] for p in peers if p in scores), default=None)
            ratio = f"{scores['ours'] / best:.2f}x" if best else "-"
            row = " ".join(f"{scores[p]:11.3f}" if p in scores else f"{'-':>11}" for p in parsers)
            print(f"{path.name[:44]:44} {metric:7} {row}  {ratio}")
            if metric == "cells" and best is not None and scores["ours"] < best - 1e-9:
                failures.append(f"{path.name}: cell recall {scores['ours']:.3f} < best peer {best:.3f}")
    print()
    for metric, by in means.items():
        print(
            f"mean {metric:6} "
            + " ".join(f"{p}={sum(v) / len(v):.3f} (n={len(v)})" for p, v in by.items() if v)
        )
    seconds = {p: sum(float(r["seconds"]) for r in results[p].values()) for p in parsers}  # type: ignore[arg-type]
    print("seconds  " + " ".join(f"{p}={s:.1f}" for p, s in seconds.items()))
    mean_f1 = sum(means["f1"]["ours"]) / len(means["f1"]["ours"])
    if args.baseline_f1 is not None and mean_f1 < args.baseline_f1 - 1e-9:
        failures.append(f"mean text F1 {mean_f1:.3f} < baseline {args.baseline_f1:.3f}")
    print("acceptance: " + ("PASS" if not failures else "FAIL\n  " + "\n  ".join(failures)))
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
