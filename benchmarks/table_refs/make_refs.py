"""Build the table references of benchmarks/local_quality.py from the corpus (run once, commit the JSON).

Run: python benchmarks/table_refs/make_refs.py [--corpus DIR]

Each ``<file>.json`` holds ``{"file": name, "source": how, "tables": [[[cell, ...], ...], ...]}``.
Where the file format stores its cells (DOCX, PPTX, XLSX, HTML) they are read from the file
itself, a merged cell repeated across its span; for ruled PDF tables they are pdfplumber's
lattice cells (the ruling lines are the truth there), except where the rules skip columns and
group lines (issue-33: one row a text line, columns at the gaps between words); the others are
typed from the page (``HAND``), checked against a render of it. An XLSX title row (one merged cell across the
sheet) is a title, not a table cell.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

HERE = Path(__file__).resolve().parent
DEFAULT_CORPUS = HERE.parents[1].parent / "shared" / "data" / "corpus"  # beside the checkout

HAND: dict[str, list[list[list[str]]]] = {
    # Table 1 of the paper: booktabs rules, no vertical ones; each row holds an OTSL and an HTML line.
    "2305.03393v1-pg9.pdf": [
        [
            [
                "# enc-layers",
                "# dec-layers",
                "Language",
                "TEDs",
                "",
                "",
                "mAP (0.75)",
                "Inference time (secs)",
            ],
            ["", "", "", "simple", "complex", "all", "", ""],
            ["6", "6", "OTSL", "0.965", "0.934", "0.955", "0.88", "2.73"],
            ["", "", "HTML", "0.969", "0.927", "0.955", "0.857", "5.39"],
            ["4", "4", "OTSL", "0.938", "0.904", "0.927", "0.853", "1.97"],
            ["", "", "HTML", "0.952", "0.909", "0.938", "0.843", "3.77"],
            ["2", "4", "OTSL", "0.923", "0.897", "0.915", "0.859", "1.91"],
            ["", "", "HTML", "0.945", "0.901", "0.931", "0.834", "3.81"],
            ["4", "2", "OTSL", "0.952", "0.92", "0.942", "0.857", "1.22"],
            ["", "", "HTML", "0.944", "0.903", "0.931", "0.824", "2"],
        ]
    ],
    # An image-only page: a ruled table, read off a render.
    "single_table.pdf": [
        [
            ["Processing", "total chunks", "mean chunks per document (std)", "tables mean (std)"],
            ["Base 128", "64,058", "800.73 (484.11)", "N/A"],
            ["Base 256", "32,051", "400.64 (242.04)", "N/A"],
            ["Base 512", "16,046", "200.58 (121.01)", "N/A"],
            ["Chipper", "20,843", "260.57 (145.80)", "96.20 (57.53)"],
        ]
    ],
    # Ruled between rows, but with no outer vertical rules (pdfplumber's lattice misses it).
    "normal_4pages.pdf": [
        [
            ["구분", "개정전", "개정후"],
            ["분류", "1군 감염병", "1급 감염병"],
            [
                "분류 기준",
                "◦ 마시는 물 또는 식품을 매개로 발생하고 집단 발생의 우려가 큰 감염병",
                "◦ 생물테러감염병 또는 치명률이 높거나 집단 발생의 우려가 커 "
                "높은 수준의 격리가 필요한 감염병",
            ],
            [
                "대상 질병",
                "◦ (6종) 콜레라, 장티푸스, 파라티푸스, 세균성이질, 장출혈성대장균감염증, A형간염",
                "◦ (17종) 에볼라, 페스트 등 * 좌측 6종(2급 감염병 분류)은 미포함",
            ],
            [
                "U코드",
                "◦ 대상질병에 U코드 없음",
                "◦ 대상질병에 U코드 일부(3종) 포함 ① 신종감염병증후군 → 코로나19(U) "
                "② 중증급성호흡기증후군(SARS) (U) ③ 중동호흡기증후군(MERS)(U)",
            ],
        ]
    ],
    # No rules at all: columns of check boxes (drawn glyphs, not text) under a two-line header.
    "table_mislabeled_as_picture.pdf": [
        [
            ["", "State funded legal aid", "CSOs"],
            ["Persons with disabilities", "", ""],
            ["Children", "", ""],
            ["Women", "", ""],
            ["The elderly", "", ""],
            ["Migrants", "", ""],
            ["Refugees, asylum seekers, or stateless persons", "", ""],
            ["Internally displaced persons", "", ""],
        ]
    ],
    # The outer table only: its first cell nests three tables (their cells are checked by text F1).
    "table_06.html": [[["A", "B"], ["2..."]]],
}


def _clean(value: object) -> str:
    return " ".join(str(value).split()) if value is not None else ""


def _unstacked(table: list[list[object]]) -> list[list[str]]:
    """Rows ruled in blocks (one cell holds one line per real row) split into their lines."""
    rows: list[list[str]] = []
    for row in table:
        lines = [str(c).split("\n") if c else [] for c in row]
        counts = {len(c) for c in lines if c}
        if len(counts) == 1 and sum(1 for c in lines if c) >= 2 and (k := counts.pop()) > 1:
            rows += [[_clean(c[i]) if c else "" for c in lines] for i in range(k)]
        else:
            rows.append([_clean(c) for c in row])
    return rows


def _pdf(path: Path) -> list[list[list[str]]]:
    import pdfplumber

    with pdfplumber.open(path) as pdf:
        return [_unstacked(table) for page in pdf.pages for table in page.extract_tables()]


def _pdf_lines(path: Path) -> list[list[list[str]]]:
    """A ruled table whose rules skip some columns and group lines: in pdfplumber's table box,
    one row a text line, columns at the gaps between words wider than a word space."""
    import pdfplumber

    tables = []
    with pdfplumber.open(path) as pdf:
        for page in pdf.pages:
            for found in page.find_tables():
                words = page.dedupe_chars().within_bbox(found.bbox).extract_words()
                columns: list[list[float]] = []
                for x0, x1 in sorted((w["x0"], w["x1"]) for w in words):
                    if columns and x0 < columns[-1][1] + 4:
                        columns[-1][1] = max(columns[-1][1], x1)
                    else:
                        columns.append([x0, x1])
                lines: list[list[dict[str, object]]] = []
                for word in sorted(words, key=lambda w: (w["top"], w["x0"])):
                    if lines and abs(float(lines[-1][0]["top"]) - word["top"]) < 3:  # type: ignore[arg-type]
                        lines[-1].append(word)
                    else:
                        lines.append([word])
                table = []
                for line in lines:
                    cells = [""] * len(columns)
                    for word in sorted(line, key=lambda w: float(w["x0"])):  # type: ignore[arg-type]
                        k = next(k for k, (a, b) in enumerate(columns) if a - 0.5 <= float(word["x0"]) <= b)  # type: ignore[arg-type]
                        cells[k] = f"{cells[k]} {word['text']}".strip()
                    table.append(cells)
                tables.append(table)
    return tables


def _docx(path: Path) -> list[list[list[str]]]:
    import docx

    tables = []
    for table in docx.Document(str(path)).tables:
        tables.append([[_clean(cell.text) for cell in row.cells] for row in table.rows])
    return tables


def _pptx(path: Path) -> list[list[list[str]]]:
    import pptx

    tables = []
    for slide in pptx.Presentation(str(path)).slides:
        for shape in slide.shapes:
            if shape.has_table:
                tables.append([[_clean(c.text) for c in row.cells] for row in shape.table.rows])
    return tables


def _xlsx(path: Path) -> list[list[list[str]]]:
    """A sheet's rows; a title row (one merged cell across the sheet's columns) is a title, not a cell."""
    import openpyxl

    book = openpyxl.load_workbook(path, data_only=True)
    tables = []
    for sheet in book.worksheets:
        titles = {
            r.min_row
            for r in sheet.merged_cells.ranges
            if r.min_row == r.max_row and r.min_col == 1 and r.max_col >= sheet.max_column
        }
        rows = [
            [_clean(int(v) if isinstance(v, float) and v.is_integer() else v) for v in row]
            for n, row in enumerate(sheet.iter_rows(values_only=True), start=1)
            if n not in titles and any(v is not None for v in row)
        ]
        tables.append(rows)
    return tables


def _html(path: Path) -> list[list[list[str]]]:
    import warnings

    import bs4

    warnings.simplefilter("ignore", bs4.XMLParsedAsHTMLWarning)
    soup = bs4.BeautifulSoup(path.read_bytes(), "lxml")
    tables = []
    for table in soup.find_all("table"):
        if table.find("table") is not None:
            continue  # only tables that nest none: their cells are plain
        rows = [[_clean(td.get_text(" ")) for td in tr.find_all(["td", "th"])] for tr in table.find_all("tr")]
        tables.append([row for row in rows if any(row)])
    return tables


FROM_FILE = {
    "nics-background-checks-2015-11.pdf": _pdf,
    "WARN-Report-for-7-1-2015-to-03-25-2016.pdf": _pdf,
    "google-doc-document.pdf": _pdf,
    "issue-33-lorem-ipsum.pdf": _pdf_lines,
    "docx-tables.docx": _docx,
    "word_sample.docx": _docx,
    "fake-power-point-table.pptx": _pptx,
    "stanley-cups.xlsx": _xlsx,
    "example-10k-1p.html": _html,
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS)
    args = parser.parse_args()
    for name, tables in HAND.items():
        _write(name, "typed from the page", tables)
    for name, read in FROM_FILE.items():
        _write(name, f"read from the file ({read.__name__.strip('_')})", read(args.corpus / name))


def _write(name: str, source: str, tables: list[list[list[str]]]) -> None:
    out = HERE / f"{name}.json"
    head = json.dumps({"file": name, "source": source}, ensure_ascii=False)[:-1]
    body = ",\n  ".join(
        "[\n   " + ",\n   ".join(json.dumps(row, ensure_ascii=False) for row in table) + "\n  ]"
        for table in tables
    )
    out.write_text(f'{head}, "tables": [\n  {body}\n ]}}\n')  # one row a line: readable diffs
    cells = sum(1 for t in tables for r in t for c in r if c)
    print(f"{out.name}: {len(tables)} tables, {cells} cells")


if __name__ == "__main__":
    main()
