"""Small retrieval corpora built from what this machine has installed (see build.py)."""
