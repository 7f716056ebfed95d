"""Cross-encoder fine-tuning from the packaged MiniLM backbone (``docent train reranker``)."""
