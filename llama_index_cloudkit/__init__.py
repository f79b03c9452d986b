"""llama-index-cloudkit: LlamaCloud's parse, extract and index services as LlamaIndex components.

Everything works offline with no API key (the local backend), and every cloud path can be
tested against the bundled LlamaCloud emulator (:mod:`llama_index_cloudkit.testing`).

Example:
    >>> from llama_index_cloudkit import CloudKitSettings
    >>> CloudKitSettings(backend="local").resolved_backend()
    'local'
"""

from llama_index_cloudkit._version import __version__
from llama_index_cloudkit.cloud.policy import CloudPolicy
from llama_index_cloudkit.cloud.transport import RetryPolicy
from llama_index_cloudkit.errors import (
    AuthError,
    CloudKitError,
    ConfigError,
    CreditLimitError,
    DocumentError,
    ExtractionError,
    JobError,
    JobFailedError,
    JobLostError,
    JobTimeoutError,
    ParseError,
    RateLimitError,
    SchemaError,
    ServiceError,
    SubmissionUnknownError,
    UnsupportedFileError,
)
from llama_index_cloudkit.extract.schema import check_schema
from llama_index_cloudkit.extract.spec import ExtractionToolSpec
from llama_index_cloudkit.extract.tool import extraction_tool
from llama_index_cloudkit.parse.cost import CostReport
from llama_index_cloudkit.parse.presets import ParsePreset
from llama_index_cloudkit.parse.reader import CloudKitReader, file_extractor
from llama_index_cloudkit.parse.report import BatchReport, FileReport, ReportWarning
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.factory import (
    make_chat_engine,
    make_query_engine,
    make_query_engine_tool,
    make_retriever,
    make_retriever_tool,
)
from llama_index_cloudkit.retrieve.llamacloud.refs import LlamaCloudIndexRef
from llama_index_cloudkit.retrieve.llamacloud.service import llamacloud_index_from_documents
from llama_index_cloudkit.retrieve.local.embedding import MiniLMEmbedding
from llama_index_cloudkit.retrieve.local.index import LocalHybridIndex
from llama_index_cloudkit.retrieve.postgres.index import PostgresHybridIndex, open_postgres_index
from llama_index_cloudkit.retrieve.presets import RetrievalPreset
from llama_index_cloudkit.retrieve.qdrant.index import QdrantHybridIndex, open_qdrant_index
from llama_index_cloudkit.retrieve.tuning.tune import TuningResult, tune_retrieval
from llama_index_cloudkit.settings import CloudKitSettings

__all__ = [
    "AuthError",
    "BatchReport",
    "CloudKitError",
    "CloudKitReader",
    "CloudKitSettings",
    "CloudPolicy",
    "ConfigError",
    "CostReport",
    "CreditLimitError",
    "DocumentError",
    "ExtractionError",
    "ExtractionToolSpec",
    "FileReport",
    "HybridConfig",
    "JobError",
    "JobFailedError",
    "JobLostError",
    "JobTimeoutError",
    "LlamaCloudIndexRef",
    "LocalHybridIndex",
    "MiniLMEmbedding",
    "ParseError",
    "ParsePreset",
    "PostgresHybridIndex",
    "QdrantHybridIndex",
    "RateLimitError",
    "ReportWarning",
    "RetrievalPreset",
    "RetryPolicy",
    "SchemaError",
    "ServiceError",
    "SubmissionUnknownError",
    "TuningResult",
    "UnsupportedFileError",
    "__version__",
    "check_schema",
    "extraction_tool",
    "file_extractor",
    "llamacloud_index_from_documents",
    "make_chat_engine",
    "make_query_engine",
    "make_query_engine_tool",
    "make_retriever",
    "make_retriever_tool",
    "open_postgres_index",
    "open_qdrant_index",
    "tune_retrieval",
]
