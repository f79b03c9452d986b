"""CloudKitSettings: argument > environment > default, auto backend, no key in any output."""

from __future__ import annotations

import pickle

import pytest

from llama_index_cloudkit import CloudKitSettings, ConfigError
from llama_index_cloudkit.settings import DEFAULT_BASE_URL

KEY = "llx-test-secret-key-1234567890"


def test_defaults_when_nothing_is_set() -> None:
    settings = CloudKitSettings()
    assert settings.api_key is None
    assert settings.base_url == DEFAULT_BASE_URL
    assert settings.project_name == "Default"
    assert settings.backend == "auto"


def test_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", KEY)
    monkeypatch.setenv("LLAMA_CLOUD_BASE_URL", "https://api.cloud.eu.llamaindex.ai/")
    monkeypatch.setenv("LLAMA_CLOUD_PROJECT_ID", "proj-env")
    monkeypatch.setenv("LLAMA_CLOUD_ORGANIZATION_ID", "org-env")
    monkeypatch.setenv("CLOUDKIT_BACKEND", "local")
    settings = CloudKitSettings()
    assert settings.require_key() == KEY
    assert settings.base_url == "https://api.cloud.eu.llamaindex.ai"
    assert (settings.project_id, settings.organization_id) == ("proj-env", "org-env")
    assert settings.backend == "local"


def test_argument_beats_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", KEY)
    monkeypatch.setenv("LLAMA_CLOUD_PROJECT_ID", "proj-env")
    monkeypatch.setenv("CLOUDKIT_BACKEND", "cloud")
    settings = CloudKitSettings(api_key="llx-from-argument", project_id="proj-arg", backend="local")
    assert settings.require_key() == "llx-from-argument"
    assert settings.project_id == "proj-arg"
    assert settings.resolved_backend() == "local"


def test_generic_environment_names_are_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("API_KEY", KEY)
    monkeypatch.setenv("BACKEND", "cloud")
    settings = CloudKitSettings()
    assert settings.api_key is None and settings.backend == "auto"


def test_auto_backend_is_local_without_key_and_cloud_with_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert CloudKitSettings().resolved_backend() == "local"
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", KEY)
    assert CloudKitSettings().resolved_backend() == "cloud"


def test_blank_key_counts_as_no_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LLAMA_CLOUD_API_KEY", "   ")
    assert CloudKitSettings().resolved_backend() == "local"


def test_cloud_without_key_says_how_to_set_one() -> None:
    with pytest.raises(ConfigError) as info:
        CloudKitSettings(backend="cloud").resolved_backend()
    assert "LLAMA_CLOUD_API_KEY" in str(info.value)
    assert "backend='local'" in str(info.value)


def test_bad_values_fail_at_construction_naming_the_field() -> None:
    with pytest.raises(ValueError, match="backend"):
        CloudKitSettings(backend="sometimes")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="base_url"):
        CloudKitSettings(base_url="api.cloud.llamaindex.ai")


def test_key_never_appears_in_repr_str_dump_json_or_pickle_text() -> None:
    settings = CloudKitSettings(api_key=KEY)
    outputs = [repr(settings), str(settings), str(settings.model_dump()), settings.model_dump_json()]
    assert all(KEY not in text for text in outputs)
    assert pickle.loads(pickle.dumps(settings)).require_key() == KEY


def test_settings_errors_are_config_errors_not_pydantic_ones() -> None:
    import pydantic

    with pytest.raises(ConfigError, match="base_url must start with http") as caught:
        CloudKitSettings(base_url="api.cloud.llamaindex.ai")
    assert not isinstance(caught.value, pydantic.ValidationError)
    with pytest.raises(ConfigError, match="Did you mean base_url"):
        CloudKitSettings(base_ur="https://api.cloud.llamaindex.ai")  # type: ignore[call-arg]
    with pytest.raises(ConfigError, match="backend"):
        CloudKitSettings(backend="clod")  # type: ignore[arg-type]
