"""Pieces every trainer shares: config, data, model loading, the loop, logging, checkpoints."""
