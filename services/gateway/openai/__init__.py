"""The OpenAI-compatible API over the same chat pipeline."""
