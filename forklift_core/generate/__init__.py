"""Generate: facts from the index, grounded Q&A and preference pairs, splits and secret scanning."""
