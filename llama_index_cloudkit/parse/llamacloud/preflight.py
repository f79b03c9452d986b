"""Files refused before any upload: empty files and files whose first bytes say they are corrupt.

An upload is billed whether or not the service can read the file, so what can be told from a
few header bytes is told here, for free: a zero-byte file, or a file whose extension promises a
format with a fixed signature (PDF, the zip-based Office formats, PNG, JPEG) that its first bytes
do not carry. Anything else goes to the service: a valid file is never refused, and no more than
the first kilobyte is looked at.

Example:
    >>> refuse_unparseable(b"%PDF-1.7 ...", "report.pdf")
    >>> refuse_unparseable(b"<html>", "report.pdf")
    Traceback (most recent call last):
    ...
    llama_index_cloudkit.errors.ParseError: report.pdf is not a PDF: it does not start with %PDF- ...
"""

from __future__ import annotations

from pathlib import PurePath

from llama_index_cloudkit.errors import ParseError

__all__ = ["refuse_unparseable"]

_HEAD = 1024  # PDF readers accept the header anywhere in the first kilobyte

# extension -> (format name, signatures, how far into the file the signature may start)
_SIGNATURES: dict[str, tuple[str, tuple[bytes, ...], int]] = {
    ".pdf": ("a PDF", (b"%PDF-",), _HEAD),
    ".docx": ("a Word document", (b"PK\x03\x04",), 0),
    ".xlsx": ("an Excel workbook", (b"PK\x03\x04",), 0),
    ".pptx": ("a PowerPoint deck", (b"PK\x03\x04",), 0),
    ".png": ("a PNG image", (b"\x89PNG\r\n\x1a\n",), 0),
    ".jpg": ("a JPEG image", (b"\xff\xd8\xff",), 0),
    ".jpeg": ("a JPEG image", (b"\xff\xd8\xff",), 0),
}


def refuse_unparseable(data: bytes, file_name: str, label: str | None = None) -> None:
    """Raise if ``data`` cannot be parsed, judging from its size and first bytes only.

    Args:
        data: the file's bytes.
        file_name: its name (the extension says which signature to expect).
        label: how the file is named in the error (default ``file_name``).

    Raises:
        ParseError: an empty file, or one without the signature its extension promises.

    Example:
        >>> refuse_unparseable(b"", "notes.md")
        Traceback (most recent call last):
        ...
        llama_index_cloudkit.errors.ParseError: notes.md is empty (0 bytes) ...
    """
    label = label or file_name
    if not data:
        raise ParseError(
            f"{PurePath(file_name).name} is empty (0 bytes)",
            file=label,
            hint="Nothing was uploaded and no credit spent; check that the file was written completely",
        )
    expected = _SIGNATURES.get(PurePath(file_name).suffix.lower())
    if expected is None:
        return
    kind, signatures, within = expected
    head = bytes(data[: _HEAD + 8])
    found = any(head.find(s, 0, within + len(s)) >= 0 if within else head.startswith(s) for s in signatures)
    if not found:
        start = " or ".join(repr(s)[2:-1] for s in signatures)
        raise ParseError(
            f"{PurePath(file_name).name} is not {kind}: it does not start with {start}",
            file=label,
            hint="The file is corrupt or misnamed; nothing was uploaded and no credit spent",
        )
