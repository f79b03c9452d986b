"""The emulated current API (v2), one module per service, as in the product.

- :mod:`.parse`: Parse v2 (``/api/v2/parse``).
- :mod:`.files`: Files v2 (``/api/v1/beta/files``).
- :mod:`.extract`: Extract v2 (``/api/v2/extract``), saved configurations.
- :mod:`.retrieval`: Index v2 (``/api/v1/retrieval/retrieve``, ``/api/v1/indexes``).
- :mod:`.state`: the v2 state (``EmulatorState.v2``); :mod:`.jobs`: the v2 job lifecycle.

A third API generation is one more folder beside this one.
"""

__all__ = ["extract", "files", "jobs", "parse", "retrieval", "state"]
