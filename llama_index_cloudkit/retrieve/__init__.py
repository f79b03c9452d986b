"""Retrieval: hybrid presets on LlamaCloud or on a local embedded hybrid index."""
