"""Offline evaluation: datasets (BEIR or a folder), metrics, and the retrieval evaluator."""
