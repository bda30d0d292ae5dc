"""Prediction: a trained run tags texts (plain text, CoNLL, JSON lines) and writes entities with their character spans (``texts``). Rule: predict.smk."""
