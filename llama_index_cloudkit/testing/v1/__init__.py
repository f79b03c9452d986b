"""The emulated v1 API, one module per service: routes and the service's state records.

- :mod:`.parse`: LlamaParse v1 (``/api/parsing``, ``/api/v1/parsing``).
- :mod:`.files`: files, presigned URLs, upload from URL, page screenshots and figures.
- :mod:`.extract`: LlamaExtract v1 (``/api/v1/extraction``).
- :mod:`.pipelines`: LlamaCloud Index v1 (``/api/v1/pipelines``).
"""

__all__ = ["extract", "files", "parse", "pipelines"]
