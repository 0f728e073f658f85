"""Drift: recent titles against the production model's training reference (docs/drift.md)."""
