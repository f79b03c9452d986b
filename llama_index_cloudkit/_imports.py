"""Lazy imports of optional engines, with an install hint when one is missing."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

__all__ = ["require", "require_sdk"]


def require(module: str, extra: str, *, package: str | None = None) -> ModuleType:
    """Import ``module`` or raise an ImportError that names the extra to install.

    Example:
        >>> require("json", "local").__name__
        'json'
    """
    try:
        return importlib.import_module(module)
    except ImportError as exc:
        name = package or module.split(".")[0]
        raise ImportError(
            f"{name} is needed for this and is not installed: pip install 'llama-index-cloudkit[{extra}]'"
        ) from exc


def require_sdk(module: str = "llama_cloud_services") -> ModuleType:
    """Import the deprecated LlamaCloud SDK without its import-time DeprecationWarning.

    Only the adapter modules (``parse/llamacloud/llamaparse_v1.py`` and the v1 adapters of
    extract and retrieve) call this; the warning is ours to handle, not every user's to see on
    import.

    Example:
        >>> require_sdk().__name__
        'llama_cloud_services'
    """
    with warnings.catch_warnings():
        warnings.filterwarnings(
            "ignore",
            category=DeprecationWarning,
            message=r"This package \(llama-cloud-services\) is deprecated",
        )
        return require(module, "core", package="llama-cloud-services")
