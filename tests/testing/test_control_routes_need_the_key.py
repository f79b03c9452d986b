"""The emulator's control routes are behind the same key as the service's."""

from __future__ import annotations

import httpx

from llama_index_cloudkit.testing import FakeLlamaCloud


def test_reset_without_the_key_is_refused_and_resets_nothing() -> None:
    with FakeLlamaCloud() as fake:
        fake.state.create_parse_job(b"hello", "a.txt", form={}, query={})
        refused = httpx.post(f"{fake.base_url}/_fake/reset")
        assert refused.status_code == 401
        assert len(fake.state.parse_jobs) == 1
        done = httpx.post(f"{fake.base_url}/_fake/reset", headers={"Authorization": f"Bearer {fake.api_key}"})
        assert done.status_code == 200 and done.json() == {"reset": True}
        assert len(fake.state.parse_jobs) == 0
