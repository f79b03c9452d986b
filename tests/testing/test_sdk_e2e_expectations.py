"""What llama-cloud-services' own end-to-end tests expect of LlamaCloud, asked of the emulator.

The SDK's e2e suite (py/tests in run-llama/llama_cloud_services) runs against the real service
only. These tests make the same user-level calls and check the same promises against the
emulator, in our own words and on our own example files.
"""

from __future__ import annotations

import asyncio
import io
import tempfile
from pathlib import Path
from typing import Any

import pytest
from llama_cloud.client import AsyncLlamaCloud
from llama_cloud_services import LlamaCloudIndex, LlamaParse
from llama_cloud_services.files.client import FileClient
from llama_cloud_services.parse.types import JobResult
from llama_index.core import Document
from llama_index.core.bridge.pydantic import BaseModel
from llama_index.core.schema import ImageNode

from llama_index_cloudkit.testing import FakeLlamaCloud

PROJECT = "framework_integration_test"


@pytest.fixture()
def guide(examples_dir: Path) -> str:
    return str(examples_dir / "llama-care-guide.pdf")


@pytest.fixture()
def project(fake_llamacloud: FakeLlamaCloud) -> str:
    fake_llamacloud.add_project(PROJECT)
    return PROJECT


@pytest.fixture()
def figures_pdf(tmp_path: Path) -> str:
    fpdf = pytest.importorskip("fpdf")
    from PIL import Image

    picture = io.BytesIO()
    Image.new("RGB", (64, 48), (20, 120, 200)).save(picture, format="PNG")
    pdf = fpdf.FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 6, "Figure 1 shows the herd. 1 llama, 2 alpacas.")
    pdf.image(io.BytesIO(picture.getvalue()), x=20, y=40, w=50)
    path = tmp_path / "image_figure_slides.pdf"
    path.write_bytes(bytes(pdf.output()))
    return str(path)


# --- parse -------------------------------------------------------------------------------------


@pytest.mark.parametrize("partition_pages", [None, 1])
def test_basic_parse_result(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str, partition_pages: int | None
) -> None:
    async def run() -> None:
        parser = LlamaParse(**parser_kwargs, take_screenshot=True, partition_pages=partition_pages)
        parsed = await parser.aparse(guide)
        results = parsed if isinstance(parsed, list) else [parsed]
        for result in results:
            assert isinstance(result, JobResult) and result.file_name == guide
            page = result.pages[0]
            assert page.text and page.md and page.md != page.text
            assert page.images and page.images[0].name
            with tempfile.TemporaryDirectory() as folder:
                saved = await result.asave_all_images(folder)
                assert saved and all(Path(p).stat().st_size > 0 for p in saved)
            assert result.job_metadata is not None
            assert result.get_text_documents(split_by_page=True)[0].text
            assert result.get_markdown_documents(split_by_page=True)[0].text
            shots = await result.aget_image_documents(
                include_screenshot_images=True, include_object_images=False
            )
            assert shots and shots[0].resolve_image().getvalue()
            assert await result.aget_text() and await result.aget_markdown()
            body = await result.aget_json()
            assert body.get("job_metadata") and len(body["pages"]) == len(result.pages)

    asyncio.run(run())


def test_parse_charts_and_layout(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], figures_pdf: str
) -> None:
    charts = LlamaParse(**parser_kwargs, extract_charts=True).parse(figures_pdf)
    assert charts.pages[0].charts
    layout = LlamaParse(**parser_kwargs, extract_layout=True).parse(figures_pdf)
    assert layout.pages[0].layout


def test_parse_multiple_files(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], guide: str, figures_pdf: str
) -> None:
    results = LlamaParse(**parser_kwargs).parse([guide, figures_pdf])
    assert [r.file_name for r in results] == [guide, figures_pdf]


# --- files ------------------------------------------------------------------------------------


@pytest.mark.parametrize("use_presigned_url", [True, False])
def test_files_client_uploads_and_gets(
    fake_llamacloud: FakeLlamaCloud, guide: str, use_presigned_url: bool
) -> None:
    async def run() -> None:
        client = AsyncLlamaCloud(token=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url)
        files = FileClient(client, use_presigned_url=use_presigned_url)
        uploaded = await files.upload_file(guide, "test_upload_path")
        assert uploaded.external_file_id == "test_upload_path"
        assert uploaded.name == Path(guide).name  # this SDK version names it after the file
        assert await files.get_file(uploaded.id) == uploaded
        assert await files.read_file_content(uploaded.id) == Path(guide).read_bytes()
        from_bytes = await files.upload_bytes(b"hello", "test_upload_bytes.txt")
        assert from_bytes.external_file_id == "test_upload_bytes.txt"
        assert await files.read_file_content(from_bytes.id) == b"hello"

    asyncio.run(run())


# --- index -------------------------------------------------------------------------------------


def test_index_from_documents_lifecycle(fake_llamacloud: FakeLlamaCloud, project: str) -> None:
    documents = [Document(text="Hello world.", doc_id="1", metadata={"source": "test"})]
    index = LlamaCloudIndex.from_documents(documents, name="lifecycle", project_name=project, verbose=False)
    assert index.ref_doc_info["1"].metadata["source"] == "test"
    nodes = index.as_retriever().retrieve("Hello world.")
    assert nodes and all(n.node.ref_doc_id == "1" and n.node.metadata["source"] == "test" for n in nodes)
    index.insert(Document(text="Hello world.", doc_id="2", metadata={"source": "inserted"}))
    assert {n.node.ref_doc_id for n in index.as_retriever().retrieve("Hello world.")} == {"1", "2"}
    index.update_ref_doc(Document(text="Hello world.", doc_id="2", metadata={"source": "updated"}))
    assert index.ref_doc_info["2"].metadata["source"] == "updated"
    index.refresh_ref_docs(
        [
            Document(text="Hello world.", doc_id="1", metadata={"source": "refreshed"}),
            Document(text="Hello world.", doc_id="3", metadata={"source": "refreshed"}),
        ]
    )
    docs = index.ref_doc_info
    assert len(docs) == 3 and docs["1"].metadata["source"] == "refreshed"
    index.delete_ref_doc("3")
    assert set(index.ref_doc_info) == {"1", "2"}


def test_resolve_index_by_id_and_by_name(fake_llamacloud: FakeLlamaCloud, project: str) -> None:
    created = LlamaCloudIndex.from_documents(
        [Document(text="Hello world.", doc_id="1")], name="resolve", project_name=project, verbose=False
    )
    for index in (
        LlamaCloudIndex(pipeline_id=created.id),
        LlamaCloudIndex(name="resolve", project_name=project),
    ):
        index.wait_for_completion()
        assert index.as_retriever().retrieve("Hello world.")


def test_upload_file_from_url_shows_in_ref_doc_info(fake_llamacloud: FakeLlamaCloud, project: str) -> None:
    index = LlamaCloudIndex.create_index(name="from-url", project_name=project, verbose=False)
    file_id = index.upload_file_from_url(
        file_name="google_robots.txt", url="https://www.google.com/robots.txt"
    )
    assert file_id
    assert any(d.metadata.get("file_name") == "google_robots.txt" for d in index.ref_doc_info.values())


def test_upload_file_shows_in_ref_doc_info(
    fake_llamacloud: FakeLlamaCloud, project: str, tmp_path: Path
) -> None:
    sample = tmp_path / "sample.txt"
    sample.write_text("Sample content for testing upload.")
    index = LlamaCloudIndex.create_index(name="upload", project_name=project, verbose=False)
    assert index.upload_file(str(sample), verbose=False)
    assert any(d.metadata.get("file_name") == "sample.txt" for d in index.ref_doc_info.values())


def test_page_screenshot_retrieval(fake_llamacloud: FakeLlamaCloud, project: str, guide: str) -> None:
    async def run() -> None:
        index = await LlamaCloudIndex.acreate_index(name="shots", project_name=project, verbose=False)
        file_id = index.upload_file(guide, wait_for_ingestion=True, verbose=False)
        retriever = index.as_retriever(retrieve_page_screenshot_nodes=True)
        for nodes in (retriever.retrieve("1"), await retriever.aretrieve("1")):
            images = [n.node for n in nodes if isinstance(n.node, ImageNode)]
            assert images
            assert all(n.metadata["file_id"] == file_id and n.metadata["page_index"] >= 0 for n in images)
            assert all(guide.endswith(n.metadata["file_name"]) for n in images)

    asyncio.run(run())


def test_page_figure_retrieval(fake_llamacloud: FakeLlamaCloud, project: str, figures_pdf: str) -> None:
    index = LlamaCloudIndex.create_index(name="figures", project_name=project, verbose=False)
    file_id = index.upload_file(figures_pdf, wait_for_ingestion=True, verbose=False)
    nodes = index.as_retriever(retrieve_page_figure_nodes=True).retrieve("1")
    figures = [n.node for n in nodes if isinstance(n.node, ImageNode)]
    assert figures and all(n.metadata["file_id"] == file_id for n in figures)
    assert all(figures_pdf.endswith(n.metadata["file_name"]) for n in figures)
    assert figures[0].metadata["figure_name"] == "img_p0_1.png"


class _Schema(BaseModel):
    source: str


def test_search_filters_inference_schema_is_accepted(fake_llamacloud: FakeLlamaCloud, project: str) -> None:
    index = LlamaCloudIndex.from_documents(
        [Document(text="Hello world.", doc_id="1", metadata={"source": "test"})],
        name="inference",
        project_name=project,
        verbose=False,
    )
    retriever = index.as_retriever(search_filters_inference_schema=_Schema(source="test"))
    nodes = retriever.retrieve('documents where source="test"')
    assert nodes and all(n.node.ref_doc_id == "1" and n.node.metadata["source"] == "test" for n in nodes)


# --- extraction --------------------------------------------------------------------------------

EXTRACT_SCHEMA = {
    "type": "object",
    "properties": {"title": {"type": "string"}, "summary": {"type": "string"}},
}


def test_extraction_agent_runs_saves_and_deletes_runs(fake_llamacloud: FakeLlamaCloud, guide: str) -> None:
    from llama_cloud_services import LlamaExtract, SourceText

    extract = LlamaExtract(
        api_key=fake_llamacloud.api_key, base_url=fake_llamacloud.base_url, check_interval=0, verbose=False
    )
    agent = extract.create_agent(name="test-api-agent", data_schema=EXTRACT_SCHEMA)
    assert extract.get_agent(name=agent.name).data_schema == agent.data_schema
    assert any(a.id == agent.id for a in extract.list_agents())
    assert agent.list_extraction_runs().total == 0
    for source in (
        guide,
        SourceText(file=Path(guide).read_bytes(), filename="guide.pdf"),
        SourceText(text_content="# Llamas"),
    ):
        run = agent.extract(source)
        assert run.status == "SUCCESS" and set(run.data) >= {"title", "summary"}
    results = asyncio.run(agent.aextract([guide, guide]))
    assert [r.status for r in results] == ["SUCCESS", "SUCCESS"]
    assert agent.list_extraction_runs().total == 5
    agent.delete_extraction_run(run.id)
    assert agent.list_extraction_runs().total == 4
    agent.data_schema = {
        **EXTRACT_SCHEMA,
        "properties": {**EXTRACT_SCHEMA["properties"], "new_field": {"type": "string"}},
    }
    agent.save()
    assert "new_field" in extract.get_agent(name=agent.name).data_schema["properties"]
