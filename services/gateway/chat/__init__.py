"""The chat path: the pipeline and its stages, the prompt, safety, the output guard."""
