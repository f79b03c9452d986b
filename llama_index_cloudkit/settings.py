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
| ``api_version`` | ``CLOUDKIT_API_VERSION`` | ``v1`` (the seed SDK's routes); ``v2`` (current API) |
| ``cache_dir`` | ``CLOUDKIT_CACHE_DIR`` | the platform's user cache dir + ``llama-index-cloudkit`` |
"""

from __future__ import annotations

import difflib
import functools
import inspect
import os
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, ParamSpec, TypeVar

import platformdirs
from pydantic import ConfigDict, Field, SecretStr, ValidationError, field_serializer, field_validator

from llama_index_cloudkit._component import ComponentMixin
from llama_index_cloudkit.errors import ConfigError, register_secret

__all__ = [
    "CONNECTION_FIELDS",
    "DEFAULT_BASE_URL",
    "EU_BASE_URL",
    "ApiVersion",
    "BackendName",
    "CloudKitSettings",
    "check_keywords",
    "checked_keywords",
    "config_error",
    "settings_with",
]

DEFAULT_BASE_URL = "https://api.cloud.llamaindex.ai"
EU_BASE_URL = "https://api.cloud.eu.llamaindex.ai"

BackendName = Literal["auto", "cloud", "local"]
ApiVersion = Literal["v1", "v2"]


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
    api_version: ApiVersion = Field(
        default_factory=_env("CLOUDKIT_API_VERSION", "v1"),
        description="v1: the routes llama-cloud-services calls; v2: LlamaCloud's current API "
        "(Parse v2 tiers, Extract v2, Index v2 retrieval).",
    )

    if not TYPE_CHECKING:  # type checkers keep pydantic's typed signature

        def __init__(self, **data: Any) -> None:
            check_keywords(data, type(self).model_fields, "CloudKitSettings")
            try:
                super().__init__(**data)
            except ValidationError as exc:
                raise config_error(
                    exc, "CloudKitSettings", hint="Fix the argument or the environment variable it comes from"
                ) from None

    @field_validator("api_key", mode="before")
    @classmethod
    def _blank_key_is_no_key(cls, value: Any) -> Any:
        if isinstance(value, str) and not value.strip():
            return None
        if isinstance(value, SecretStr) and not value.get_secret_value().strip():
            return None
        return value

    @field_validator("api_key", mode="after")
    @classmethod
    def _redact_the_key(cls, value: SecretStr | None) -> SecretStr | None:
        # Whatever its format, the configured key is scrubbed from every message and log line.
        if value is not None:
            register_secret(value.get_secret_value())
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


CONNECTION_FIELDS = ("api_key", "base_url", "project_name", "project_id", "organization_id")
"""Keywords every cloud-facing constructor accepts, like the seed's SDK, on top of ``settings=``."""


def config_error(error: ValidationError, where: str, *, hint: str = "Fix the argument") -> ConfigError:
    """A pydantic validation error of a constructor as a ConfigError naming its first bad field.

    Example:
        >>> from pydantic import BaseModel
        >>> class Options(BaseModel):
        ...     workers: int
        >>> try:
        ...     Options(workers="many")
        ... except ValidationError as exc:
        ...     print(config_error(exc, "Options").message)
        Options workers: Input should be a valid integer, unable to parse string as an integer
    """
    first = error.errors()[0]
    field = ".".join(str(part) for part in first["loc"]) or "arguments"
    message = str(first["msg"]).removeprefix("Value error, ")
    return ConfigError(f"{where} {field}: {message}", hint=hint)


def check_keywords(given: Iterable[str], valid: Iterable[str], where: str) -> None:
    """Refuse unknown keyword arguments, naming the closest valid one.

    Raises:
        ConfigError: one keyword is unknown ("did you mean ...?").

    Example:
        >>> check_keywords(["max_concurency"], ["max_concurrency", "preset"], "CloudKitReader")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: CloudKitReader got ... Did you mean max_concurrency?
    """
    choices = sorted(set(valid))
    for name in given:
        if name in choices:
            continue
        close = difflib.get_close_matches(name, choices, n=1, cutoff=0.6)
        raise ConfigError(
            f"{where} got an unknown keyword argument {name!r}",
            hint=f"Did you mean {close[0]}?" if close else f"Valid keywords: {', '.join(choices)}",
        )


_P = ParamSpec("_P")
_R = TypeVar("_R")
_NAMED = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)


def _keywords_of(func: Any, owner: Any) -> set[str]:
    """The keyword names ``func`` accepts (through what it forwards ``**kwargs`` to, if checked)."""
    func = getattr(func, "__func__", func)
    valid = getattr(func, "valid_keywords", None)
    if valid is not None:
        names: set[str] = valid(owner)
        return names
    return {p.name for p in inspect.signature(func).parameters.values() if p.kind in _NAMED}


def checked_keywords(
    forwards_to: str | None = None,
) -> Callable[[Callable[_P, _R]], Callable[_P, _R]]:
    """Refuse an unknown keyword with a ConfigError naming the closest valid one (not a TypeError).

    Decorates a constructor (``__init__``, a ``from_*`` or ``open`` classmethod, or a module
    function). One that takes ``**kwargs`` names the method of the same class it passes them to
    (``forwards_to="__init__"``); that method's keywords are then valid too.

    Example:
        >>> @checked_keywords()
        ... def open_store(path: str, *, collection: str = "cloudkit") -> str:
        ...     return collection
        >>> open_store("x", colection="docs")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ConfigError: open_store got ... Did you mean collection?
    """

    def decorate(func: Callable[_P, _R]) -> Callable[_P, _R]:
        named = {p.name for p in inspect.signature(func).parameters.values() if p.kind in _NAMED}
        named -= {"self", "cls"}
        where = func.__qualname__.removesuffix(".__init__")

        def valid(owner: Any) -> set[str]:
            if forwards_to is None:
                return set(named)
            return named | (_keywords_of(getattr(owner, forwards_to), owner) - {"self", "cls"})

        @functools.wraps(func)
        def wrapper(*args: _P.args, **kwargs: _P.kwargs) -> _R:
            check_keywords(kwargs, valid(args[0] if args else None), where)
            return func(*args, **kwargs)

        wrapper.valid_keywords = valid  # type: ignore[attr-defined]
        return wrapper

    return decorate


def settings_with(settings: CloudKitSettings | None, connection: Mapping[str, Any]) -> CloudKitSettings:
    """``settings`` (or the defaults) with connection keywords applied on top.

    ``connection`` may hold ``api_key``, ``base_url``, ``project_name``, ``project_id`` and
    ``organization_id``; values that are None are ignored. Unknown names raise ConfigError.

    Example:
        >>> settings_with(None, {"api_key": "llx-1", "base_url": None}).has_key
        True
    """
    check_keywords(connection, CONNECTION_FIELDS, "settings")
    updates = {name: value for name, value in connection.items() if value is not None}
    base = settings if settings is not None else CloudKitSettings()
    if not updates:
        return base
    return CloudKitSettings(**{**base.model_dump(), "api_key": base.api_key, **updates})
