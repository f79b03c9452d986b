"""Reader inputs: paths (local or fsspec), bytes and file objects; labels; progress bars."""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path, PurePath
from typing import IO, Any

from llama_index_cloudkit.errors import ConfigError, ParseError

__all__ = ["FileInput", "label_of", "os_error", "progress", "progress_bar", "read_input"]

FileInput = str | os.PathLike[str] | bytes | IO[bytes]


def label_of(item: FileInput, extra_info: Mapping[str, Any] | None) -> str:
    if isinstance(item, (str, os.PathLike)):
        return os.fspath(item)
    name = (extra_info or {}).get("file_name") or getattr(item, "name", None)
    return str(name) if name else "<bytes>"


def os_error(exc: OSError, label: str) -> ParseError:
    if isinstance(exc, FileNotFoundError):
        return ParseError("The file does not exist (or was removed before it was read)", file=label)
    return ParseError(f"The file cannot be read ({exc.strerror or exc})", file=label)


def read_input(
    item: FileInput, extra_info: Mapping[str, Any] | None, fs: Any | None
) -> tuple[bytes, str, str]:
    """Return (bytes, file name used to pick the engine, file path for metadata)."""
    if isinstance(item, (str, os.PathLike)):
        path = os.fspath(item)
        if fs is not None:
            with fs.open(path, "rb") as handle:
                data = handle.read()
        else:
            data = Path(path).read_bytes()
        return data, PurePath(path).name, path
    name = (extra_info or {}).get("file_name") or getattr(item, "name", None)
    if not name:
        raise ConfigError(
            "Bytes and file objects need a file name to pick a parser",
            hint="Pass extra_info={'file_name': 'report.pdf'}",
        )
    name = os.fspath(name)
    data = bytes(item) if isinstance(item, (bytes, bytearray, memoryview)) else item.read()
    return data, PurePath(name).name, name


def progress_bar(total: int, show: bool) -> Any:
    if not show or total < 2:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Parsing (LlamaParse)", unit="file")


def progress(inputs: list[FileInput], show: bool) -> Iterable[FileInput]:
    if not show or len(inputs) < 2:
        return inputs
    from tqdm.auto import tqdm

    return tqdm(inputs, desc="Parsing", unit="file")
