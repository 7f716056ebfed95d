"""Training data written from a knowledge base: grounded SFT records and preference pairs.

``docent data sft`` and ``docent data prefs`` (docent_cli/data_cmd.py) read a folder of
documents, derive questions from its headings, definitions and procedures, and write records in
the exact prompt the gateway sends (:mod:`docentlib.answer_format`).
"""
