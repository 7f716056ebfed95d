"""Documents: discovery of files, the parsers that turn each format into markdown-shaped text."""
