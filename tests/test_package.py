"""The package surface: curated exports, version, quiet import."""

from __future__ import annotations

import subprocess
import sys

import llama_index_cloudkit

EXPECTED = {
    "AuthError",
    "BatchReport",
    "CloudKitError",
    "CloudKitReader",
    "CloudKitSettings",
    "ConfigError",
    "CreditLimitError",
    "DocumentError",
    "ExtractionError",
    "FileReport",
    "JobError",
    "JobFailedError",
    "JobTimeoutError",
    "JobLostError",
    "SubmissionUnknownError",
    "CloudPolicy",
    "CostReport",
    "RetryPolicy",
    "LlamaCloudIndexRef",
    "QdrantHybridIndex",
    "ReportWarning",
    "open_postgres_index",
    "open_qdrant_index",
    "llamacloud_index_from_documents",
    "ParseError",
    "ParsePreset",
    "PostgresHybridIndex",
    "RateLimitError",
    "SchemaError",
    "ServiceError",
    "UnsupportedFileError",
    "__version__",
    "file_extractor",
    "check_schema",
    "extraction_tool",
    "ExtractionToolSpec",
    "HybridConfig",
    "LocalHybridIndex",
    "MiniLMEmbedding",
    "RetrievalPreset",
    "make_chat_engine",
    "make_query_engine",
    "make_query_engine_tool",
    "make_retriever",
    "make_retriever_tool",
    "TuningResult",
    "tune_retrieval",
}


def test_all_lists_exactly_the_public_api() -> None:
    assert set(llama_index_cloudkit.__all__) == EXPECTED
    for name in llama_index_cloudkit.__all__:
        assert hasattr(llama_index_cloudkit, name), name


def test_version_is_exposed() -> None:
    assert llama_index_cloudkit.__version__ == "0.1.0"


def test_import_shows_no_deprecation_warning() -> None:
    result = subprocess.run(
        [sys.executable, "-W", "error::DeprecationWarning", "-c", "import llama_index_cloudkit"],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr


def test_import_does_not_load_the_deprecated_sdk() -> None:
    code = "import sys, llama_index_cloudkit; print('llama_cloud_services' in sys.modules)"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.stdout.strip() == "False", result.stderr
