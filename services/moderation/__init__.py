"""Moderation service: decides whether a text may pass, with a score per category."""
