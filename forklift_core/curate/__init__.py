"""Curate: the SQLite store of facts and pairs, and export to TRL's dataset formats."""
