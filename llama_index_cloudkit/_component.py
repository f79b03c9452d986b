"""LlamaIndex-style serialization for our plain pydantic configs (class_name, to_dict, ...)."""

from __future__ import annotations

import json
from typing import Any, TypeVar

from pydantic import BaseModel

__all__ = ["ComponentMixin"]

T = TypeVar("T", bound="ComponentMixin")


class ComponentMixin(BaseModel):
    """``class_name``, ``to_dict``, ``from_dict``, ``to_json``, ``from_json`` like BaseComponent.

    Secrets are fields marked ``exclude=True``: they never appear in the output.
    """

    @classmethod
    def class_name(cls) -> str:
        """The component name stored with the data."""
        return cls.__name__

    def to_dict(self, **kwargs: Any) -> dict[str, Any]:
        """A JSON-ready dict with ``class_name``."""
        data = self.model_dump(mode="json", **kwargs)
        data["class_name"] = self.class_name()
        return data

    def to_json(self, **kwargs: Any) -> str:
        """The JSON text of :meth:`to_dict`."""
        return json.dumps(self.to_dict(**kwargs))

    @classmethod
    def from_dict(cls: type[T], data: dict[str, Any], **kwargs: Any) -> T:
        """Rebuild from :meth:`to_dict` output (``kwargs`` override fields)."""
        values = {k: v for k, v in data.items() if k != "class_name"}
        return cls(**{**values, **kwargs})

    @classmethod
    def from_json(cls: type[T], text: str, **kwargs: Any) -> T:
        """Rebuild from :meth:`to_json` output."""
        return cls.from_dict(json.loads(text), **kwargs)
