"""Regenerate the example documents in examples/data (written for this project, MIT).

Run: python examples/make_example_data.py [OUT_DIR]   (needs: pip install fpdf2 python-docx)
The files are committed, so nobody needs to run this to use the examples. Every run writes the
same bytes (fixed creation dates, document properties and zip timestamps), so regenerated files
keep their sha256 and stay cache hits.
"""

from __future__ import annotations

import io
import sys
import zipfile
from datetime import datetime, timezone
from pathlib import Path

from docx import Document
from fpdf import FPDF

DATA = Path(__file__).parent / "data"
# One fixed moment for every date the generators would otherwise take from the clock.
FIXED_DATE = datetime(2026, 1, 1, tzinfo=timezone.utc)

CARE_PAGES = [
    (
        "Llama Care Guide",
        [
            "This guide is for new owners of llamas kept on small farms. Llamas are social "
            "herd animals: never keep a single llama alone; two or three is the smallest "
            "healthy group.",
            "Shelter. A three-sided shed of about 4 square metres per llama protects the herd "
            "from wind and summer heat. Llamas tolerate cold well but suffer in heat above "
            "30 degrees Celsius; provide shade and fresh water at all times.",
            "Health checks. Trim toenails every 8 to 12 weeks, shear the fleece once a year in "
            "late spring, and vaccinate against clostridial diseases (CDT) once a year.",
        ],
        None,
    ),
    (
        "Feeding",
        [
            "Llamas are efficient grazers. Most of their diet is grass hay; grain is a treat, "
            "not a meal. The daily amounts below are for healthy animals on pasture of "
            "average quality.",
        ],
        [
            ["Animal", "Weight (kg)", "Hay per day (kg)", "Water per day (l)"],
            ["Adult llama", "140-200", "2.0-3.5", "8-12"],
            ["Pregnant female", "150-200", "3.0-4.0", "10-15"],
            ["Yearling", "70-110", "1.5-2.0", "5-8"],
            ["Cria (under 6 months)", "10-40", "0.2-0.8", "1-3"],
        ],
    ),
]


def make_pdf(out: Path) -> None:
    pdf = FPDF()
    pdf.set_title("Llama Care Guide")
    pdf.set_creation_date(FIXED_DATE)
    for title, paragraphs, table in CARE_PAGES:
        pdf.add_page()
        pdf.set_font("Helvetica", "B", 18)
        pdf.cell(0, 12, title, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("Helvetica", size=11)
        for paragraph in paragraphs:
            pdf.multi_cell(0, 6, paragraph, new_x="LMARGIN", new_y="NEXT")
            pdf.ln(3)
        if table:
            with pdf.table(borders_layout="ALL", text_align="LEFT") as grid:
                for row in table:
                    cells = grid.row()
                    for value in row:
                        cells.cell(value)
    pdf.output(str(out / "llama-care-guide.pdf"))


def make_docx(out: Path) -> None:
    doc = Document()
    props = doc.core_properties
    props.author = "llama-index-cloudkit"
    props.last_modified_by = "llama-index-cloudkit"
    props.created = props.modified = FIXED_DATE.replace(tzinfo=None)
    props.revision = 1
    doc.add_heading("Shipping and Returns Policy", level=1)
    doc.add_paragraph(
        "Orders placed before 2 pm ship the same business day. Standard shipping takes 3 to 5 "
        "business days; express shipping takes 1 to 2 business days."
    )
    doc.add_heading("Returns", level=2)
    doc.add_paragraph(
        "Unused items can be returned within 30 days of delivery for a full refund. Fleece "
        "products that were washed cannot be returned."
    )
    doc.add_heading("Shipping rates", level=2)
    rows = [
        ["Method", "Cost", "Delivery time"],
        ["Standard", "4.90 EUR", "3-5 business days"],
        ["Express", "12.50 EUR", "1-2 business days"],
        ["Free shipping", "orders over 60 EUR", "3-5 business days"],
    ]
    table = doc.add_table(rows=len(rows), cols=3)
    table.style = "Table Grid"
    for i, row in enumerate(rows):
        for j, value in enumerate(row):
            table.cell(i, j).text = value
    buffer = io.BytesIO()
    doc.save(buffer)
    (out / "shipping-policy.docx").write_bytes(_fixed_zip_times(buffer.getvalue()))


def _fixed_zip_times(data: bytes) -> bytes:
    """The same zip with every member dated FIXED_DATE (python-docx stamps the current time)."""
    stamp = FIXED_DATE.timetuple()[:6]
    rewritten = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(rewritten, "w") as target:
        for member in source.infolist():
            info = zipfile.ZipInfo(member.filename, date_time=stamp)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = member.external_attr
            target.writestr(info, source.read(member.filename))
    return rewritten.getvalue()


def main(out: Path = DATA) -> None:
    out.mkdir(parents=True, exist_ok=True)
    make_pdf(out)
    make_docx(out)


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else DATA)
