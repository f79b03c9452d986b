"""Nothing paid for twice: a content-addressed result cache and a job journal, on disk.

- :class:`ParseCache` keeps finished results as JSON files named by the parse key
  (sha256 of the bytes + preset + options).
- :class:`~llama_index_cloudkit.cloud.journal.JobJournal` (sqlite, in the cloud core) records each
  job id **before** it is polled, so that a re-run re-attaches instead of paying again.

Example:
    >>> key = parse_key(b"%PDF...", "agentic", {"max_pages": 2})
    >>> len(key)
    64
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import tempfile
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

__all__ = ["ParseCache", "parse_key"]


logger = logging.getLogger(__name__)

KEY_VERSION = "1"


def parse_key(data: bytes, preset: str, options: Mapping[str, Any]) -> str:
    """The cache key of a parse: sha256 over the file bytes, the preset and the options.

    Example:
        >>> parse_key(b"x", "agentic", {}) == parse_key(b"x", "agentic", {})
        True
        >>> parse_key(b"x", "agentic", {}) == parse_key(b"x", "agentic_plus", {})
        False
    """
    digest = hashlib.sha256()
    digest.update(hashlib.sha256(data).digest())
    digest.update(
        json.dumps(
            {"v": KEY_VERSION, "preset": preset, "options": dict(options)}, sort_keys=True, default=str
        ).encode()
    )
    return digest.hexdigest()


class ParseCache:
    """Finished parse results as JSON files under ``root`` (written atomically).

    Example:
        >>> cache = ParseCache(Path(tempfile.mkdtemp()))
        >>> cache.put("k", {"pages": []}); cache.get("k")
        {'pages': []}
    """

    def __init__(self, root: Path) -> None:
        self.root = Path(root)

    def _path(self, key: str) -> Path:
        return self.root / key[:2] / f"{key}.json"

    def get(self, key: str) -> dict[str, Any] | None:
        """The cached result, or None (a file that holds no JSON object is set aside)."""
        path = self._path(key)
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            self.set_aside(key, f"not JSON: {exc}")
            return None
        if not isinstance(entry, dict):
            self.set_aside(key, f"holds {type(entry).__name__}, not a result")
            return None
        return entry

    def set_aside(self, key: str, reason: str) -> Path | None:
        """Move an entry that cannot be read as a result out of the way, with one warning.

        The file is renamed (``<key>.json.corrupt-<time>``, like the journal), never deleted, so
        it can be inspected; the next read misses and the result is fetched again.

        Example:
            >>> cache = ParseCache(Path(tempfile.mkdtemp()))
            >>> cache.put("k", {"pages": []})
            >>> cache.set_aside("k", "no pages").name.startswith("k.json.corrupt-"), cache.get("k")
            (True, None)
        """
        path = self._path(key)
        target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}")
        number = 1
        while target.exists():
            number += 1
            target = path.with_name(f"{path.name}.corrupt-{time.strftime('%Y%m%d-%H%M%S')}-{number}")
        try:
            os.replace(path, target)
        except FileNotFoundError:
            return None  # another caller set it aside first (and warned)
        except OSError as exc:
            logger.warning("cannot set aside corrupt cache entry %s (%s); removing it", path, exc)
            path.unlink(missing_ok=True)
            return None
        logger.warning(
            "corrupt cache entry %s (%s): set aside as %s; the file will be parsed again",
            path,
            reason,
            target.name,
        )
        return target

    def put(self, key: str, result: Mapping[str, Any]) -> None:
        """Store a result (atomic rename, so readers never see half a file)."""
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, temp = tempfile.mkstemp(dir=path.parent, suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            json.dump(result, out)
        os.replace(temp, path)
