"""Conversations: the store Protocol, SQLite and Redis stores, and the routes."""
