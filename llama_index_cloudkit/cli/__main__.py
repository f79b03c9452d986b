"""``python -m llama_index_cloudkit.cli``: the same as the ``cloudkit`` command.

Example:
    $ python -m llama_index_cloudkit.cli --help
"""

from __future__ import annotations

from llama_index_cloudkit.cli import main

__all__: list[str] = []

main()
