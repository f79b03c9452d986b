"""JSON errors everywhere, the fixture's teardown checks (tested with pytester), and restarts."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from llama_cloud_services import LlamaParse

from llama_index_cloudkit.testing import FakeLlamaCloud


def _auth(fake: FakeLlamaCloud) -> dict[str, str]:
    return {"Authorization": f"Bearer {fake.api_key}"}


@pytest.mark.fake_llamacloud(allow_errors=True)
def test_an_emulator_crash_is_a_json_500_recorded_as_an_error(
    fake_llamacloud: FakeLlamaCloud, monkeypatch: pytest.MonkeyPatch
) -> None:
    def crash(job_id: str) -> dict[str, Any]:
        raise RuntimeError("boom")

    monkeypatch.setattr(fake_llamacloud.state, "poll_parse_job", crash)
    response = httpx.get(fake_llamacloud.base_url + "/api/parsing/job/x", headers=_auth(fake_llamacloud))
    assert response.status_code == 500
    assert response.json()["detail"].endswith("RuntimeError: boom")
    (logged,) = fake_llamacloud.requests
    assert (logged.status, logged.source, logged.injected) == (500, "error", False)
    assert fake_llamacloud.unexpected() == [logged]


@pytest.mark.parametrize(
    "method,path",
    [
        ("GET", "/api/parsing/job/missing"),
        ("GET", "/api/v1/parsing/job/missing/result/json"),
        ("GET", "/api/v1/extraction/jobs/missing"),
        ("GET", "/api/v1/extraction/runs/by-job/missing"),
        ("GET", "/api/v1/extraction/extraction-agents/missing"),
        ("GET", "/api/v1/pipelines/missing"),
        ("GET", "/api/v1/files/missing"),
    ],
)
def test_unknown_ids_are_json_404(fake_llamacloud: FakeLlamaCloud, method: str, path: str) -> None:
    response = httpx.request(method, fake_llamacloud.base_url + path, headers=_auth(fake_llamacloud))
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/json"
    assert "missing" in response.json()["detail"]


@pytest.mark.parametrize(
    "path,body",
    [
        ("/api/v1/extraction/extraction-agents/schema/validation", {}),
        ("/api/v1/extraction/extraction-agents", {"data_schema": {}}),
        ("/api/v1/extraction/run", {"data_schema": {"type": "object"}, "config": {}}),
        ("/api/v1/extraction/jobs", {"file_id": "f"}),
    ],
)
def test_extraction_bodies_without_required_fields_are_422(
    fake_llamacloud: FakeLlamaCloud, path: str, body: dict[str, Any]
) -> None:
    response = httpx.post(fake_llamacloud.base_url + path, headers=_auth(fake_llamacloud), json=body)
    assert response.status_code == 422
    assert isinstance(response.json()["detail"], list)


def test_a_body_that_is_not_json_is_a_422(fake_llamacloud: FakeLlamaCloud) -> None:
    response = httpx.post(
        fake_llamacloud.base_url + "/api/v1/extraction/run",
        headers={**_auth(fake_llamacloud), "content-type": "application/json"},
        content=b"{",
    )
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "json_invalid"


@pytest.mark.fake_llamacloud(allow_not_emulated=True)
def test_not_emulated_features_are_501(fake_llamacloud: FakeLlamaCloud) -> None:
    response = httpx.post(
        fake_llamacloud.base_url + "/api/parsing/upload",
        headers=_auth(fake_llamacloud),
        data={"input_url": "https://example.com/a.pdf"},
    )
    assert response.status_code == 501 and "not emulated" in response.json()["detail"]


def test_restart_keeps_port_state_and_log(
    fake_llamacloud: FakeLlamaCloud, parser_kwargs: dict[str, Any], examples_dir: Any
) -> None:
    url = fake_llamacloud.base_url
    first = LlamaParse(**parser_kwargs).parse(str(examples_dir / "faq.html"))
    fake_llamacloud.stop()
    assert not fake_llamacloud.running
    with pytest.raises(httpx.ConnectError):
        httpx.get(url + "/api/v1/projects", headers=_auth(fake_llamacloud))
    fake_llamacloud.start()
    assert fake_llamacloud.base_url == url and fake_llamacloud.running
    again = httpx.get(f"{url}/api/parsing/job/{first.job_id}", headers=_auth(fake_llamacloud)).json()
    assert again["status"] == "SUCCESS"
    fake_llamacloud.restart()
    assert fake_llamacloud.base_url == url
    assert fake_llamacloud.count("POST", "/api/parsing/upload") == 1


def _run(pytester: pytest.Pytester, source: str) -> pytest.RunResult:
    pytester.makepyfile(source)
    return pytester.runpytest_subprocess("-p", "no:cacheprovider")


HEADER = """
import httpx
import pytest

def get(fake, path):
    return httpx.get(fake.base_url + path, headers={"Authorization": f"Bearer {fake.api_key}"})
"""


def test_fixture_fails_a_test_that_hit_a_route_the_emulator_lacks(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        HEADER
        + """
def test_probe(fake_llamacloud):
    assert get(fake_llamacloud, "/api/v1/organizations").status_code == 501

@pytest.mark.fake_llamacloud(allow_not_emulated=True)
def test_allowed(fake_llamacloud):
    assert get(fake_llamacloud, "/api/v1/organizations").status_code == 501
""",
    )
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*GET /api/v1/organizations -> 501 (not_emulated)*"])


def test_fixture_fails_a_test_that_saw_an_uninjected_5xx(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        HEADER
        + """
def test_injected_is_fine(fake_llamacloud):
    fake_llamacloud.add_fault("GET", "/api/v1/projects", status=503, times=1)
    assert get(fake_llamacloud, "/api/v1/projects").status_code == 503

def test_crash(fake_llamacloud, monkeypatch):
    monkeypatch.setattr(fake_llamacloud.state, "get_file", lambda file_id: 1 / 0)
    assert get(fake_llamacloud, "/api/v1/files/x").status_code == 500

@pytest.mark.fake_llamacloud(allow_errors=True)
def test_crash_allowed(fake_llamacloud, monkeypatch):
    monkeypatch.setattr(fake_llamacloud.state, "get_file", lambda file_id: 1 / 0)
    assert get(fake_llamacloud, "/api/v1/files/x").status_code == 500
""",
    )
    result.assert_outcomes(passed=3, errors=1)
    result.stdout.fnmatch_lines(["*GET /api/v1/files/x -> 500 (error)*"])


def test_marker_still_passes_emulator_options(pytester: pytest.Pytester) -> None:
    result = _run(
        pytester,
        HEADER
        + """
@pytest.mark.fake_llamacloud(api_key="llx-other", allow_errors=True)
def test_options(fake_llamacloud):
    response = get(fake_llamacloud, "/api/v1/projects")
    assert fake_llamacloud.api_key == "llx-other"
    assert response.status_code == 200 and response.headers.get("connection") != "close"
""",
    )
    result.assert_outcomes(passed=1)


def test_fail_and_drop_are_injected_faults(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.fail("GET", "/api/v1/projects", 503, times=1)
    fake_llamacloud.drop("GET", "/api/v1/projects")
    url = fake_llamacloud.base_url + "/api/v1/projects"
    assert httpx.get(url, headers=_auth(fake_llamacloud)).status_code == 503
    with pytest.raises(httpx.RemoteProtocolError):
        httpx.get(url, headers=_auth(fake_llamacloud))
    assert httpx.get(url, headers=_auth(fake_llamacloud)).status_code == 200
    assert [(r.status, r.source) for r in fake_llamacloud.requests] == [
        (503, "fault"),
        (0, "fault"),
        (200, "emulator"),
    ]
    assert fake_llamacloud.unexpected() == []
