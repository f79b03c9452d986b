"""Structured extraction: schemas checked up front, LlamaExtract or any LLM, as agent tools."""
