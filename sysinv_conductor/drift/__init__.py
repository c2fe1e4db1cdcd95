"""Drift of applied applications: their releases' objects as helm deployed them, compared
with the live objects (docs/drift.md)."""
