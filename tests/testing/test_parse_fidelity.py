"""Contract: parse results shaped like the service's (markdown vs text, images, layout, charts)."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import pytest
from llama_cloud_services import LlamaParse

from llama_index_cloudkit.testing import FakeLlamaCloud


@pytest.fixture()
def guide(examples_dir: Path) -> str:
    return str(examples_dir / "llama-care-guide.pdf")


@pytest.fixture()
def pdf_with_picture() -> bytes:
    fpdf = pytest.importorskip("fpdf")
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (120, 80), (200, 30, 30)).save(picture, format="PNG")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 6, "Herd size by year. The chart below shows how the herd grew over five years.")
    pdf.image(io.BytesIO(picture.getvalue()), x=20, y=60, w=60)
    return bytes(pdf.output())


def test_markdown_reflows_prose_that_the_text_keeps_in_layout_lines(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str
) -> None:
    page = LlamaParse(**parser_kwargs).parse(guide).pages[0]
    assert page.md != page.text
    assert "never keep a\nsingle llama alone" in page.text
    assert "never keep a single llama alone" in page.md
    assert "\n\nShelter." in page.md  # paragraphs apart


def test_markdown_syntax_stays_out_of_the_text(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], examples_dir: Path
) -> None:
    page = LlamaParse(**parser_kwargs).parse(str(examples_dir / "release-notes.md")).pages[0]
    assert page.md.startswith("# Llama Farm app") and page.text.startswith("Llama Farm app")


def test_screenshots_report_their_real_size(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str
) -> None:
    result = LlamaParse(**parser_kwargs, take_screenshot=True).get_json_result(guide)
    shot = result[0]["pages"][0]["images"][0]
    assert shot["name"] == "page_1.jpg"
    assert 590 <= shot["width"] <= 600 and 838 <= shot["height"] <= 846  # 72 dpi render of A4


def test_embedded_pictures_are_listed_with_their_size_and_served(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], pdf_with_picture: bytes
) -> None:
    result = LlamaParse(**parser_kwargs).parse(pdf_with_picture, extra_info={"file_name": "herd.pdf"})
    (image,) = result.pages[0].images
    assert image.name == "img_p0_1.png"
    assert (image.original_width, image.original_height) == (120, 80)
    assert image.width > 1 and image.height > 1
    job_id = next(iter(fake_llamacloud.state.parse_jobs))
    assert fake_llamacloud.state.parse_image(job_id, "img_p0_1.png")[:4] == b"\x89PNG"


def test_extract_layout_labels_every_item(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str
) -> None:
    page = LlamaParse(**parser_kwargs, extract_layout=True).parse(guide).pages[1]
    labels = [entry.label for entry in page.layout]
    assert labels == ["text", "text", "table"]  # "Feeding", the paragraph, the table
    assert all(0 <= e.bbox.y < 1 and 0 < e.bbox.h <= 1 for e in page.layout)
    assert page.layout[0].image == "page_2.jpg"


def test_extract_charts_reports_pictures_as_charts(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], pdf_with_picture: bytes
) -> None:
    json_list = LlamaParse(**parser_kwargs, extract_charts=True).get_json_result(
        pdf_with_picture, extra_info={"file_name": "herd.pdf"}
    )
    (chart,) = json_list[0]["pages"][0]["charts"]
    assert chart["name"] == "chart_p0_1.png"
    assert (chart["original_width"], chart["original_height"]) == (120, 80)


def test_without_the_options_layout_and_charts_stay_empty(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str
) -> None:
    page = LlamaParse(**parser_kwargs).get_json_result(guide)[0]["pages"][1]
    assert page["layout"] == [] and page["charts"] == []
