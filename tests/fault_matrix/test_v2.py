"""The fault matrix on LlamaCloud's current API (v2): Parse v2, Extract v2 and Index v2 retrieval.

The same faults as the v1 matrix, on the v2 routes, with the same two outcomes: the right result
after recovery, or a typed error from ``llama_index_cloudkit.errors`` that names the file, job or
index. A paid submission (``POST /api/v2/parse``, ``POST /api/v2/extract``) whose answer is lost
or unreadable ends in SubmissionUnknownError and is never sent twice.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from llama_index.core.schema import Document

from llama_index_cloudkit import CloudKitReader, CloudKitSettings
from llama_index_cloudkit.errors import CloudKitError
from llama_index_cloudkit.extract.llamacloud.llamaextract_v2 import LlamaExtractV2
from llama_index_cloudkit.retrieve.config import HybridConfig
from llama_index_cloudkit.retrieve.llamacloud.service import llamacloud_retriever
from llama_index_cloudkit.testing import FakeLlamaCloud

from .conftest import FAST_POLICY, HTTP_FAULTS, KEY, HttpFault, assert_typed

UPLOAD = ("POST", "/api/v1/beta/files")
PARSE_ROUTES = {
    "upload": UPLOAD,
    "submit": ("POST", "/api/v2/parse"),
    "job": ("GET", r"/api/v2/parse/[^/]+"),
}
EXTRACT_ROUTES = {
    "schema check": ("POST", "/api/v2/extract/schema/validation"),
    "upload": UPLOAD,
    "submit": ("POST", "/api/v2/extract"),
    "job": ("GET", r"/api/v2/extract/[^/]+"),
}
RETRIEVE_ROUTES = {
    "index lookup": ("GET", "/api/v1/indexes"),
    "retrieve": ("POST", "/api/v1/retrieval/retrieve"),
}
# A paid submission whose answer is lost or unreadable may have been accepted: typed, by design.
UNKNOWN_ON_SUBMIT = {"one dropped connection", "slower than the client's timeout", "malformed JSON body"}
SCHEMA = {
    "type": "object",
    "properties": {"refund_window_days": {"type": "integer"}},
    "required": ["refund_window_days"],
}


def _settings(fake: FakeLlamaCloud, cache: Path, key: str = KEY) -> CloudKitSettings:
    return CloudKitSettings(api_key=key, base_url=fake.base_url, cache_dir=cache, api_version="v2")


def _file(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "memo.md"
    path.write_text("# Memo\n\nReturns within 30 days; llamas eat hay.")
    return path


def _parse(fake: FakeLlamaCloud, tmp_path: Path, key: str = KEY) -> list[Document]:
    reader = CloudKitReader(
        backend="cloud", settings=_settings(fake, tmp_path / "cache", key), policy=FAST_POLICY
    )
    return reader.load_data(_file(tmp_path / "docs"))


def _extract(fake: FakeLlamaCloud, tmp_path: Path, key: str = KEY) -> Any:
    client = LlamaExtractV2(_settings(fake, tmp_path / "cache", key), FAST_POLICY)
    return client.extract(SCHEMA, {"tier": "cost_effective"}, file_path=_file(tmp_path / "docs")).data


def _retrieve(fake: FakeLlamaCloud, tmp_path: Path, key: str = KEY) -> list[Any]:
    settings = _settings(fake, tmp_path / "cache", key)
    config = HybridConfig(top_k=2, enable_reranking=False)
    return llamacloud_retriever("handbook", config, settings, policy=FAST_POLICY).retrieve("hay")


def _check(run: Callable[[], Any], expect: str, error: str, names: tuple[str, ...]) -> Any:
    """Run; a recovery gives a non-empty result, a typed failure names what it concerns."""
    started = time.monotonic()
    try:
        result = run()
    except CloudKitError as exc:
        assert expect == "typed", f"expected recovery, got {type(exc).__name__}: {exc}"
        assert_typed(exc, names=names)
        assert error in {cls.__name__ for cls in type(exc).__mro__}, f"{type(exc).__name__}: {exc}"
        return None
    except BaseException as exc:  # anything else is a defect of the package
        pytest.fail(f"raw {type(exc).__name__} escaped: {exc}")
    assert time.monotonic() - started < 30
    assert expect == "recover", f"expected a {error}, got {result!r}"
    assert result
    return result


def _expected(route: str, fault: HttpFault) -> tuple[str, str]:
    if route == "submit" and fault.name in UNKNOWN_ON_SUBMIT:
        return "typed", "SubmissionUnknownError"
    return fault.outcome, fault.error


# --- Parse v2 ------------------------------------------------------------------------------------


@pytest.mark.parametrize("route", PARSE_ROUTES)
@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=lambda f: f.name)
def test_parse_http_fault_recovers_or_is_typed(
    fake: FakeLlamaCloud, tmp_path: Path, route: str, fault: HttpFault, no_key_in_logs: None
) -> None:
    fake.add_fault(*PARSE_ROUTES[route], **fault.fault)
    expect, error = _expected(route, fault)
    _check(lambda: _parse(fake, tmp_path), expect, error, ("memo.md",))
    assert len(fake.v2.parse_jobs) <= 1  # paid at most once, whatever happened


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
def test_parse_failed_or_cancelled_job_is_typed(fake: FakeLlamaCloud, tmp_path: Path, status: str) -> None:
    fake.script_v2_parse_jobs(status, error_message="the service failed it")
    _check(lambda: _parse(fake, tmp_path), "typed", "JobFailedError", ("memo.md",))


def test_parse_stuck_job_times_out(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    fake.script_v2_parse_jobs(stuck=True)
    started = time.monotonic()
    _check(lambda: _parse(fake, tmp_path), "typed", "JobTimeoutError", ("memo.md",))
    assert time.monotonic() - started < FAST_POLICY.job_timeout * 3


def test_parse_job_lost_once_is_submitted_again_once(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    fake.add_fault(*PARSE_ROUTES["job"], status=404, times=1)
    _check(lambda: _parse(fake, tmp_path), "recover", "", ())
    assert fake.count(*PARSE_ROUTES["submit"]) == 2


def test_parse_job_lost_for_good_is_typed_after_one_resubmission(
    fake: FakeLlamaCloud, tmp_path: Path
) -> None:
    fake.add_fault(*PARSE_ROUTES["job"], status=404)
    _check(lambda: _parse(fake, tmp_path), "typed", "JobLostError", ("memo.md",))
    assert fake.count(*PARSE_ROUTES["submit"]) == 2


def test_parse_wrong_key_is_an_auth_error(fake: FakeLlamaCloud, tmp_path: Path) -> None:
    _check(lambda: _parse(fake, tmp_path, "llx-wrong-key-0123456789"), "typed", "AuthError", ("memo.md",))
    assert fake.count(*PARSE_ROUTES["submit"]) == 0


# --- Extract v2 ----------------------------------------------------------------------------------


@pytest.fixture
def answering(fake: FakeLlamaCloud) -> FakeLlamaCloud:
    fake.on_extract(lambda schema, config, text: {"refund_window_days": 30})
    return fake


@pytest.mark.parametrize("route", EXTRACT_ROUTES)
@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=lambda f: f.name)
def test_extract_http_fault_recovers_or_is_typed(
    answering: FakeLlamaCloud, tmp_path: Path, route: str, fault: HttpFault, no_key_in_logs: None
) -> None:
    answering.add_fault(*EXTRACT_ROUTES[route], **fault.fault)
    expect, error = _expected(route, fault)
    _check(lambda: _extract(answering, tmp_path), expect, error, ("memo.md",))
    assert len(answering.v2.extract_jobs) <= 1  # paid at most once, whatever happened


@pytest.mark.parametrize("status", ["FAILED", "CANCELLED"])
def test_extract_failed_or_cancelled_job_is_typed(
    answering: FakeLlamaCloud, tmp_path: Path, status: str
) -> None:
    answering.script_v2_extract_jobs(status, error_message="the service failed it")
    _check(lambda: _extract(answering, tmp_path), "typed", "JobFailedError", ("memo.md",))


def test_extract_stuck_job_times_out(answering: FakeLlamaCloud, tmp_path: Path) -> None:
    answering.script_v2_extract_jobs(stuck=True)
    _check(lambda: _extract(answering, tmp_path), "typed", "JobTimeoutError", ("memo.md",))


def test_extract_job_lost_once_is_submitted_again_once(answering: FakeLlamaCloud, tmp_path: Path) -> None:
    answering.add_fault(*EXTRACT_ROUTES["job"], status=404, times=1)
    assert _check(lambda: _extract(answering, tmp_path), "recover", "", ()) == {"refund_window_days": 30}
    assert answering.count(*EXTRACT_ROUTES["submit"]) == 2


def test_extract_job_lost_for_good_is_typed_after_one_resubmission(
    answering: FakeLlamaCloud, tmp_path: Path
) -> None:
    answering.add_fault(*EXTRACT_ROUTES["job"], status=404)
    _check(lambda: _extract(answering, tmp_path), "typed", "JobLostError", ("memo.md",))
    assert answering.count(*EXTRACT_ROUTES["submit"]) == 2


def test_extract_wrong_key_is_an_auth_error(answering: FakeLlamaCloud, tmp_path: Path) -> None:
    _check(lambda: _extract(answering, tmp_path, "llx-wrong-key-0123456789"), "typed", "AuthError", ())
    assert answering.count(*EXTRACT_ROUTES["submit"]) == 0


# --- Index v2 retrieval --------------------------------------------------------------------------


@pytest.fixture
def indexed(fake: FakeLlamaCloud) -> FakeLlamaCloud:
    fake.add_v2_index("handbook", [{"text": "Adult llamas eat grass hay every day."}, {"text": "Spit."}])
    return fake


@pytest.mark.parametrize("route", RETRIEVE_ROUTES)
@pytest.mark.parametrize("fault", HTTP_FAULTS, ids=lambda f: f.name)
def test_retrieve_http_fault_recovers_or_is_typed(
    indexed: FakeLlamaCloud, tmp_path: Path, route: str, fault: HttpFault, no_key_in_logs: None
) -> None:
    indexed.add_fault(*RETRIEVE_ROUTES[route], **fault.fault)
    hits = _check(lambda: _retrieve(indexed, tmp_path), fault.outcome, fault.error, ("handbook",))
    if hits:
        assert "hay" in hits[0].node.text


def test_retrieve_wrong_key_is_an_auth_error(indexed: FakeLlamaCloud, tmp_path: Path) -> None:
    _check(
        lambda: _retrieve(indexed, tmp_path, "llx-wrong-key-0123456789"), "typed", "AuthError", ("handbook",)
    )


def test_retrieve_from_a_deleted_index_is_typed(indexed: FakeLlamaCloud, tmp_path: Path) -> None:
    indexed.add_fault(*RETRIEVE_ROUTES["retrieve"], status=404)
    _check(lambda: _retrieve(indexed, tmp_path), "typed", "ServiceError", ("handbook",))
