"""The error hierarchy: actionable messages that name the file and job, never the key."""

from __future__ import annotations

import pickle

import pytest

from llama_index_cloudkit import errors
from llama_index_cloudkit.errors import (
    AuthError,
    CloudKitError,
    ConfigError,
    JobFailedError,
    ParseError,
    SchemaError,
    ServiceError,
)

KEY = "llx-test-secret-key-1234567890"


def test_every_public_error_derives_from_the_root() -> None:
    for name in errors.__all__:
        obj = getattr(errors, name)
        if isinstance(obj, type):
            assert issubclass(obj, CloudKitError), name


def test_message_names_file_and_job_and_hint() -> None:
    err = JobFailedError(
        "parse job failed",
        status="ERROR",
        code="PDF_BROKEN",
        file="a.pdf",
        job_id="job-1",
        hint="re-export the PDF",
    )
    text = str(err)
    for part in ("a.pdf", "job-1", "ERROR", "PDF_BROKEN", "re-export the PDF"):
        assert part in text
    assert (err.file, err.job_id, err.status, err.code) == ("a.pdf", "job-1", "ERROR", "PDF_BROKEN")


def test_key_in_a_server_message_is_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", KEY)
    err = AuthError(f"401 Unauthorized: bad token {KEY}")
    assert KEY not in str(err) and KEY not in repr(err)
    assert "***" in str(err)


def test_bearer_tokens_and_llx_keys_are_redacted_without_environment() -> None:
    text = errors.redact("header Authorization: Bearer abc.def and key llx-zzzzzzzzzzzz")
    assert "abc.def" not in text and "llx-zzzzzzzzzzzz" not in text


def test_auth_error_tells_what_to_check() -> None:
    assert "LLAMA_CLOUD_API_KEY" in str(AuthError("LlamaCloud answered 401"))


@pytest.mark.parametrize(
    "err",
    [
        ParseError("corrupt", file="x.pdf", job_id="j"),
        ServiceError("down", status_code=503, attempts=5, file="x.pdf"),
        JobFailedError("failed", status="CANCELED", job_id="j2"),
        SchemaError(["$.a: bad", "$.b: worse"]),
        ConfigError("bad"),
    ],
)
def test_errors_survive_pickling_for_multiprocessing(err: CloudKitError) -> None:
    clone = pickle.loads(pickle.dumps(err))
    assert type(clone) is type(err)
    assert str(clone) == str(err)


def test_schema_error_lists_every_problem() -> None:
    err = SchemaError(["$.properties.a: default is not supported", "$: root must be object"])
    assert "2 schema problem(s)" in str(err)
    assert "$.properties.a" in str(err) and "$: root" in str(err)
