"""Chunking: sections, token bounds from the embedding tokenizer, semantic cuts."""
