"""Ingest: turn a repository into a flat index of files, symbols, references and build facts."""
