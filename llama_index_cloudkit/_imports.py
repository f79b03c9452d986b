"""Lazy imports of optional engines, with an install hint when one is missing."""

from __future__ import annotations

import importlib
import warnings
from types import ModuleType

__all__ = ["TESTING_INSTALL", "import_testing", "require", "require_sdk"]

# What to run when the emulator's web stack is missing (the ``[testing]`` extra).
TESTING_INSTALL = 'pip install "llama-index-cloudkit[testing]"'
# The top-level modules the ``[testing]`` extra brings.
_TESTING_MODULES = frozenset({"fastapi", "starlette", "uvicorn", "multipart", "python_multipart"})


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


def import_testing(module: str) -> ModuleType:
    """Import an emulator module; when the ``[testing]`` extra is missing, say so.

    The emulator (``llama_index_cloudkit.testing``) serves HTTP with fastapi and uvicorn, which
    only the ``[testing]`` extra installs. Any other missing module is re-raised as it is.

    Example:
        >>> import_testing("llama_index_cloudkit.testing.jobs").__name__
        'llama_index_cloudkit.testing.jobs'
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] not in _TESTING_MODULES:
            raise
        raise ImportError(
            f"The LlamaCloud emulator needs {exc.name}, which is not installed: {TESTING_INSTALL}"
        ) from exc
