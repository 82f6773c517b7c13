"""Question families kept in one module each: facts, phrasings, answers, grading and negatives together."""
