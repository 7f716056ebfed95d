"""Benchmarks (``make bench``); results go to bench/out/."""
