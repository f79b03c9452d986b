"""file_name and page_number stay visible to the LLM on every path, SimpleDirectoryReader included."""

from __future__ import annotations

import asyncio
import copy
import pickle
from pathlib import Path

import pytest
from llama_index.core import SimpleDirectoryReader
from llama_index.core.node_parser import SentenceSplitter
from llama_index.core.schema import Document, MetadataMode
from llama_index.core.storage.docstore import SimpleDocumentStore

from llama_index_cloudkit import CloudKitReader, file_extractor


@pytest.fixture()
def folder(tmp_path: Path) -> Path:
    (tmp_path / "notes.md").write_text("# Notes\n\nLlamas hum.", encoding="utf-8")
    (tmp_path / "more.txt").write_text("Alpacas too.", encoding="utf-8")
    return tmp_path


def _sees_citation(doc: Document) -> bool:
    seen = doc.get_content(MetadataMode.LLM)
    return f"file_name: {doc.metadata['file_name']}" in seen and "page_number: 1" in seen


def test_simple_directory_reader_keeps_file_name_visible_to_the_llm(folder: Path) -> None:
    docs = SimpleDirectoryReader(str(folder), file_extractor=file_extractor(backend="local")).load_data()
    assert len(docs) == 2
    for doc in docs:
        assert "file_name" not in doc.excluded_llm_metadata_keys
        assert _sees_citation(doc)
        assert "file_path" not in doc.get_content(MetadataMode.LLM)  # bookkeeping stays hidden


def test_simple_directory_reader_async_and_iter_keep_it_too(folder: Path) -> None:
    reader = SimpleDirectoryReader(str(folder), file_extractor=file_extractor(backend="local"))
    from_async = asyncio.run(reader.aload_data())
    from_iter = [doc for batch in reader.iter_data() for doc in batch]
    assert all(_sees_citation(doc) for doc in [*from_async, *from_iter])


def test_the_pin_survives_pickling_copies_and_revalidation(folder: Path) -> None:
    (doc,) = CloudKitReader(backend="local").load_data(folder / "notes.md")
    clones = [
        pickle.loads(pickle.dumps(doc)),  # SimpleDirectoryReader(num_workers=...) sends Documents back so
        copy.deepcopy(doc),
        copy.copy(doc),
        doc.model_copy(),
        type(doc).model_validate(doc.model_dump()),
    ]
    for clone in clones:
        clone.excluded_llm_metadata_keys.extend(["file_name", "page_number", "creation_date"])
        clone.excluded_llm_metadata_keys += ["page_label"]
        clone.excluded_llm_metadata_keys.append("file_name")
        clone.excluded_llm_metadata_keys.insert(0, "file_name")
        assert _sees_citation(clone), type(clone)
        assert "creation_date" in clone.excluded_llm_metadata_keys
    doc.excluded_llm_metadata_keys = ["file_name", "file_path"]  # assignment is validated too
    assert doc.excluded_llm_metadata_keys == ["file_path"]


def test_a_docstore_round_trip_and_node_splitting_keep_the_citation_visible(
    folder: Path, tmp_path: Path
) -> None:
    docs = SimpleDirectoryReader(str(folder), file_extractor=file_extractor(backend="local")).load_data()
    store = SimpleDocumentStore()
    store.add_documents(docs)
    store.persist(str(tmp_path / "docstore.json"))
    reloaded = SimpleDocumentStore.from_persist_path(str(tmp_path / "docstore.json"))
    for doc in docs:
        again = reloaded.get_document(doc.id_)
        assert isinstance(again, Document) and _sees_citation(again)
    nodes = SentenceSplitter(chunk_size=64, chunk_overlap=0).get_nodes_from_documents(docs)
    assert all("file_name: " in node.get_content(MetadataMode.LLM) for node in nodes)


def test_the_documents_still_serialize_as_plain_llama_index_documents(folder: Path) -> None:
    (doc,) = CloudKitReader(backend="local").load_data(folder / "notes.md")
    data = doc.to_dict()
    assert data["class_name"] == "Document"
    assert Document.from_dict(data).text == doc.text


def test_a_page_document_built_without_exclusions_pins_them_too() -> None:
    from llama_index_cloudkit.parse.pages import CitedDocument

    for doc in (
        CitedDocument(text="hi", metadata={"file_name": "a.pdf", "page_number": 1}),
        CitedDocument.model_validate({"text": "hi", "metadata": {"file_name": "a.pdf", "page_number": 1}}),
    ):
        doc.excluded_llm_metadata_keys.append("file_name")
        assert _sees_citation(doc)
