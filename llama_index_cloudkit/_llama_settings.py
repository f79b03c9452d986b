"""Reading what the user set on LlamaIndex's global ``Settings``, without resolving defaults.

``Settings.llm`` / ``Settings.embed_model`` are lazy properties: reading one while it is unset
builds an OpenAI client (and imports ``llama_index.llms.openai``). LlamaIndex has no public
"was it set?" API, so this module reads the private slots ``Settings._llm`` /
``Settings._embed_model`` in ONE place (:func:`explicit_setting`); a test pins their names so an
upstream rename fails CI. ``Settings.llm = None`` stores a ``MockLLM`` (and ``embed_model = None``
a ``MockEmbedding``): both mean "explicitly disabled" and read here as not set.
"""

from __future__ import annotations

from typing import Any

__all__ = ["SETTINGS_SLOTS", "explicit_embed_model", "explicit_llm", "explicit_setting"]

SETTINGS_SLOTS = {"llm": "_llm", "embed_model": "_embed_model"}


def explicit_setting(name: str) -> Any:
    """The object the user assigned to ``Settings.<name>``, or None (unset or disabled)."""
    from llama_index.core import Settings
    from llama_index.core.embeddings import MockEmbedding
    from llama_index.core.llms import MockLLM

    value = getattr(Settings, SETTINGS_SLOTS[name], None)
    if type(value) in (MockLLM, MockEmbedding):  # what ``= None`` stores; subclasses are the user's
        return None
    return value


def explicit_llm() -> Any:
    """``Settings.llm`` when the user set it, else None; never builds the OpenAI default."""
    return explicit_setting("llm")


def explicit_embed_model() -> Any:
    """``Settings.embed_model`` when the user set it, else None; never builds the OpenAI default."""
    return explicit_setting("embed_model")
