"""The emulator itself: start-up, auth on every route, strictness, log, control plane."""

from __future__ import annotations

import time

import httpx
import pytest

from llama_index_cloudkit.testing import FakeLlamaCloud

ROUTES = [
    ("POST", "/api/parsing/upload"),
    ("GET", "/api/parsing/job/x"),
    ("GET", "/api/parsing/job/x/result/json"),
    ("GET", "/api/v1/parsing/job/x/result/raw/markdown"),
    ("POST", "/api/v1/files"),
    ("GET", "/api/v1/files/f"),
    ("GET", "/api/v1/projects"),
    ("GET", "/api/v1/projects/p"),
    ("POST", "/api/v1/extraction/extraction-agents/schema/validation"),
    ("POST", "/api/v1/extraction/extraction-agents"),
    ("GET", "/api/v1/extraction/extraction-agents"),
    ("GET", "/api/v1/extraction/extraction-agents/by-name/a"),
    ("DELETE", "/api/v1/extraction/extraction-agents/a"),
    ("POST", "/api/v1/extraction/run"),
    ("POST", "/api/v1/extraction/jobs"),
    ("GET", "/api/v1/extraction/jobs/j"),
    ("GET", "/api/v1/extraction/runs/by-job/j"),
    ("GET", "/api/v1/pipelines"),
    ("PUT", "/api/v1/pipelines"),
    ("POST", "/api/v1/pipelines/p/retrieve"),
]


def test_starts_quickly_on_a_free_loopback_port() -> None:
    import llama_index_cloudkit.testing.app  # noqa: F401  (imports are not start-up)

    started = time.perf_counter()
    with FakeLlamaCloud() as fake:
        elapsed = time.perf_counter() - started
        assert fake.base_url.startswith("http://127.0.0.1:")
        assert (
            httpx.get(
                fake.base_url + "/api/v1/projects", headers={"Authorization": f"Bearer {fake.api_key}"}
            ).status_code
            == 200
        )
    assert elapsed < 2.0


@pytest.mark.parametrize("method,path", ROUTES)
@pytest.mark.parametrize("auth", [None, "Bearer llx-wrong-key"])
def test_missing_or_wrong_key_is_401_on_every_route(
    fake_llamacloud: FakeLlamaCloud, method: str, path: str, auth: str | None
) -> None:
    headers = {"Authorization": auth} if auth else {}
    response = httpx.request(method, fake_llamacloud.base_url + path, headers=headers)
    assert response.status_code == 401


@pytest.mark.fake_llamacloud(allow_not_emulated=True)
def test_unknown_routes_say_not_emulated_with_501_never_404(fake_llamacloud: FakeLlamaCloud) -> None:
    response = httpx.get(
        fake_llamacloud.base_url + "/api/v1/organizations",
        headers={"Authorization": f"Bearer {fake_llamacloud.api_key}"},
    )
    assert response.status_code == 501
    assert response.json() == {"detail": "not emulated: GET /api/v1/organizations"}
    assert fake_llamacloud.requests[-1].source == "not_emulated"


def test_request_log_redacts_the_key(fake_llamacloud: FakeLlamaCloud) -> None:
    httpx.get(
        fake_llamacloud.base_url + "/api/v1/projects",
        headers={"Authorization": f"Bearer {fake_llamacloud.api_key}"},
    )
    (logged,) = fake_llamacloud.requests
    assert logged.headers["authorization"] == "Bearer ***"
    assert logged.status == 200
    assert fake_llamacloud.api_key not in repr(fake_llamacloud.requests)


def test_keep_alive_by_default_and_close_on_request() -> None:
    for close in (False, True):
        with FakeLlamaCloud(connection_close=close) as fake:
            response = httpx.get(
                fake.base_url + "/api/v1/projects", headers={"Authorization": f"Bearer {fake.api_key}"}
            )
            assert (response.headers.get("connection") == "close") is close


def test_fixture_sets_and_restores_the_environment(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import os

        def test_env(fake_llamacloud):
            assert os.environ["LLAMA_CLOUD_BASE_URL"] == fake_llamacloud.base_url
            assert os.environ["LLAMA_CLOUD_API_KEY"] == fake_llamacloud.api_key

        def test_after():
            assert "LLAMA_CLOUD_BASE_URL" not in os.environ
        """
    )
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider")
    result.assert_outcomes(passed=2)


def test_reset_forgets_state_and_log(fake_llamacloud: FakeLlamaCloud) -> None:
    fake_llamacloud.add_fault("GET", "/api/v1/projects", status=500)
    httpx.get(
        fake_llamacloud.base_url + "/api/v1/projects",
        headers={"Authorization": f"Bearer {fake_llamacloud.api_key}"},
    )
    fake_llamacloud.reset()
    assert fake_llamacloud.requests == []
    response = httpx.get(
        fake_llamacloud.base_url + "/api/v1/projects",
        headers={"Authorization": f"Bearer {fake_llamacloud.api_key}"},
    )
    assert response.status_code == 200


def test_file_page_screenshots_and_figures(fake_llamacloud: FakeLlamaCloud, examples_dir) -> None:  # type: ignore[no-untyped-def]
    auth = {"Authorization": f"Bearer {fake_llamacloud.api_key}"}
    pdf = (examples_dir / "llama-care-guide.pdf").read_bytes()
    uploaded = httpx.post(
        fake_llamacloud.base_url + "/api/v1/files",
        headers=auth,
        files={"upload_file": ("guide.pdf", pdf, "application/pdf")},
    ).json()
    base = f"{fake_llamacloud.base_url}/api/v1/files/{uploaded['id']}"
    shot = httpx.get(f"{base}/page_screenshots/1", headers=auth)
    assert shot.status_code == 200 and shot.content[:2] == b"\xff\xd8"
    assert httpx.get(f"{base}/page_screenshots/9", headers=auth).status_code == 404
    assert httpx.get(f"{base}/page-figures/0/fig.png", headers=auth).status_code == 404
