"""Persistence behind small interfaces: the state store for resources (SQLite by default)."""
