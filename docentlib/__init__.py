"""Docent's library: model code shared by the services, training, evaluation and tools.

Documents and their parsers, chunking, what each model reads of a passage, BM25 text
analysis, ranking and MaxSim scoring, precision rules, model resolution, datasets and ranking
metrics, domain errors, and a client of the gateway's REST API. It imports no service: the
boundary test (tests/test_boundaries.py) fails on any import from here into ``services``.
"""
