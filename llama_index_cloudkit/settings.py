"""Settings shared by every part: key, endpoint, project, backend choice, cache directory.

Constructor arguments win over environment variables, which win over defaults. The API key is a
``SecretStr``: it never shows in ``repr``, ``str``, ``model_dump`` or JSON.

| field | environment variable | default |
|---|---|---|
| ``api_key`` | ``LLAMA_CLOUD_API_KEY`` | none |
| ``base_url`` | ``LLAMA_CLOUD_BASE_URL`` | ``https://api.cloud.llamaindex.ai`` |
| ``project_name`` | ``LLAMA_CLOUD_PROJECT_NAME`` | ``Default`` |
| ``project_id`` | ``LLAMA_CLOUD_PROJECT_ID`` | none |
| ``organization_id`` | ``LLAMA_CLOUD_ORGANIZATION_ID`` | none |
| ``backend`` | ``CLOUDKIT_BACKEND`` | ``auto`` (cloud when a key is set, else local) |
| ``cache_dir`` | ``CLOUDKIT_CACHE_DIR`` | the platform's user cache dir + ``llama-index-cloudkit`` |
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import ConfigDict, Field, SecretStr, field_serializer, field_validator

from llama_index_cloudkit._component import ComponentMixin
from llama_index_cloudkit.errors import ConfigError

__all__ = ["DEFAULT_BASE_URL", "EU_BASE_URL", "BackendName", "CloudKitSettings"]

DEFAULT_BASE_URL = "https://api.cloud.llamaindex.ai"
EU_BASE_URL = "https://api.cloud.eu.llamaindex.ai"

BackendName = Literal["auto", "cloud", "local"]


def _env(name: str, default: str | None = None) -> Any:
    """A default factory that reads ``name`` from the environment when the model is built."""

    def read() -> str | None:
        value = os.environ.get(name)
        return value if value not in (None, "") else default

    return read


def _default_cache_dir() -> Path:
    configured = os.environ.get("CLOUDKIT_CACHE_DIR")
    return Path(configured) if configured else Path(platformdirs.user_cache_dir("llama-index-cloudkit"))


class CloudKitSettings(ComponentMixin):
    """Where LlamaCloud is, how to authenticate, and which backend to use.

    Example:
        >>> settings = CloudKitSettings(backend="local")
        >>> settings.resolved_backend()
        'local'
        >>> CloudKitSettings(api_key="llx-secret").resolved_backend()
        'cloud'
        >>> "llx-secret" in repr(CloudKitSettings(api_key="llx-secret"))
        False
    """

    model_config = ConfigDict(extra="forbid", validate_default=True)

    api_key: SecretStr | None = Field(
        default_factory=_env("LLAMA_CLOUD_API_KEY"),
        description="LlamaCloud API key (llx-...).",
        exclude=True,
    )
    base_url: str = Field(
        default_factory=_env("LLAMA_CLOUD_BASE_URL", DEFAULT_BASE_URL),
        description="LlamaCloud API root; the EU region is " + EU_BASE_URL + ".",
    )
    project_name: str = Field(
        default_factory=_env("LLAMA_CLOUD_PROJECT_NAME", "Default"),
    )
    project_id: str | None = Field(default_factory=_env("LLAMA_CLOUD_PROJECT_ID"))
    organization_id: str | None = Field(
        default_factory=_env("LLAMA_CLOUD_ORGANIZATION_ID"),
    )
    backend: BackendName = Field(
        default_factory=_env("CLOUDKIT_BACKEND", "auto"),
        description="auto: cloud when an API key is set, else local.",
    )
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
    )

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_no_key(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("base_url")
    @classmethod
    def _check_base_url(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if not value.startswith(("http://", "https://")):
            raise ValueError(
                f"base_url must start with http:// or https://, got {value!r} "
                f"(for example {DEFAULT_BASE_URL} or {EU_BASE_URL})"
            )
        return value

    @field_serializer("cache_dir")
    def _cache_dir_as_text(self, value: Path) -> str:
        return str(value)

    @property
    def has_key(self) -> bool:
        """Whether an API key is configured.

        Example:
            >>> CloudKitSettings(api_key="llx-1").has_key
            True
        """
        return self.api_key is not None

    def resolved_backend(self) -> Literal["cloud", "local"]:
        """The backend to use: ``auto`` becomes ``cloud`` with a key and ``local`` without.

        Raises:
            ConfigError: ``backend="cloud"`` without an API key.

        Example:
            >>> CloudKitSettings(backend="auto").resolved_backend()  # no key in the environment
            'local'
        """
        if self.backend == "local":
            return "local"
        if self.backend == "cloud":
            self.require_key()
            return "cloud"
        return "cloud" if self.has_key else "local"

    def require_key(self) -> str:
        """Return the API key's value, or raise a ConfigError that says how to set one.

        Example:
            >>> CloudKitSettings(api_key="llx-1").require_key()
            'llx-1'
        """
        if self.api_key is None:
            raise ConfigError(
                "The cloud backend needs a LlamaCloud API key, and none is set",
                hint=(
                    "Set the LLAMA_CLOUD_API_KEY environment variable or pass api_key=..., "
                    "get a key at https://cloud.llamaindex.ai, or use backend='local' to "
                    "work offline"
                ),
            )
        return self.api_key.get_secret_value()

    def cache_path(self, *parts: str) -> Path:
        """A path under the cache directory (not created).

        Example:
            >>> CloudKitSettings(cache_dir="/tmp/ck").cache_path("parse", "x.json").as_posix()
            '/tmp/ck/parse/x.json'
        """
        return self.cache_dir.joinpath(*parts)
