"""Evaluation: base vs tuned answers on the test split, scored for similarity, facts and hallucinations."""
