"""Cross-encoder scorers behind :class:`~services.reranking.scorers.base.PairScorer`."""
