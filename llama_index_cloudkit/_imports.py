"""Lazy imports of optional engines, with an install hint when one is missing."""

from __future__ import annotations

import importlib
from types import ModuleType

__all__ = ["require"]


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
