"""Parsing: CloudKitReader, its backends, and the neutral page model they share.

- :mod:`.reader`: :class:`~.reader.CloudKitReader` and ``file_extractor``.
- :mod:`.presets`: the parse preset table; :mod:`.cost`: page counts and cost estimates.
- :mod:`.model`, :mod:`.pages`, :mod:`.report`, :mod:`.cache`, :mod:`.inputs`: what both
  backends share.
- :mod:`.llamacloud`: the cloud backend (LlamaParse v1 and v2); :mod:`.local`: the offline one.

Public names live in those modules; import them from there (or from the package root).
"""

__all__: list[str] = []
